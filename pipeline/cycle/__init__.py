"""The month-to-month memory: issue statuses across periods (history) and village answers
(feedback). May import `pipeline.outputs` (the workbook layout it reads back), `pipeline.store`,
`pipeline.ingest.read` (to open returned workbooks safely), `checks/`, `schemas/`."""

"""Use cases and the stages they are made of.

The faces (`cli.py`, `portal/`) call the use cases — `pipeline.run` (the monthly run) and
`pipeline.validate` (checking uploaded files) — and a few stage entry points (the answers of
`pipeline.cycle.feedback`, the data folder of `pipeline.settings`). The use cases compose the
stages in the order data flows: `ingest` → `check` → `reconcile` → `outputs`, with `cycle` (the
month-to-month memory) and `store` (database connections, the run lock). Stages import `checks/`
and `schemas/`, earlier stages and `store`, never a use case or a face; no module here prints
(progress goes through `pipeline.progress`).
"""

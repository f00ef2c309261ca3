"""Stage 1, ingest: spreadsheet files → canonical DuckDB tables (read, recognise, normalise, load).
May import `pipeline.store`, `checks.engine` (the table DDL) and `schemas/`; nothing of later stages."""

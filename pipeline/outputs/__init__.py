"""Stage 4, outputs: everything a run writes — issue lists (csv, xlsx, parquet), rejected rows,
run.json, village workbooks, summary.html, batch expectations — and the words and texts people
read (vocab, rule_texts). May import `pipeline.store`, `checks/`, `schemas/`."""

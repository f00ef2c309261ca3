"""Where a run keeps things safe: DuckDB connections made one way (duck), the data folder's run
lock and output-swap journal (runlock), the county's clock (clock), and the demo's database guard.
Imports nothing of the other stages."""

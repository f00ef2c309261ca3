"""Stage 3, reconcile: how each department's extract matches the registry (exact, fuzzy, unmatched,
invalid ID). May import `checks/` views' results and `schemas/`."""

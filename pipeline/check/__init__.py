"""Stage 2, check: the rule catalogue (`checks/`) run over the canonical tables, and which rules a
township lacking members or households must skip. May import `checks/`, `schemas/`."""

"""The slow checks (pandera contract, Great Expectations) run in a second process, off the run's
critical path; the main process never imports their libraries; results are the same either way."""
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from test_run_cycle import county

ROOT = Path(__file__).resolve().parents[1]

RUN_AND_REPORT_MODULES = """
import json, sys
from pathlib import Path
from pipeline.run import run
res = run(Path(sys.argv[1]), "2026-10", out=Path(sys.argv[2]), db=Path(sys.argv[3]))
print(json.dumps({m: m in sys.modules for m in ("pandas", "pandera", "great_expectations")}))
"""


def test_the_run_process_imports_neither_pandas_nor_gx(tmp_path):
    drop = county(tmp_path / "d")
    proc = subprocess.run([sys.executable, "-c", RUN_AND_REPORT_MODULES, drop, tmp_path / "o", tmp_path / "db.duckdb"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"pandas": False, "pandera": False,
                                                                "great_expectations": False}
    manifest = json.loads((tmp_path / "o" / "2026-10" / "run.json").read_text(encoding="utf-8"))
    assert manifest["expectations"]["status"] == "evaluated"
    assert (tmp_path / "o" / "2026-10" / "data_docs" / "index.html").is_file()


def test_in_process_and_sidecar_give_the_same_expectations(tmp_path, monkeypatch):
    from pipeline.run import run

    drop = county(tmp_path / "d")
    results = []
    for flag in ("0", "1"):
        monkeypatch.setenv("CARDCHECK_SIDECAR", flag)
        res = run(drop, "2026-10", out=tmp_path / f"o{flag}", db=tmp_path / f"db{flag}.duckdb")
        results.append(res.manifest["expectations"])
    assert results[0] == results[1]
    assert results[0]["evaluated"] > 0


def test_a_contract_breach_fails_the_run_before_the_database_commit(tmp_path, monkeypatch):
    """The loader must never produce a value outside its table's domain; if it ever does, the run
    stops as a defect of cardcheck (not of the input) and the database is not written."""
    import pipeline.run as R
    from pipeline.outputs import sidecar

    real = sidecar.export_contract

    def broken(con, folder, **kw):
        paths = real(con, folder, **kw)
        bad = Path(folder) / "bad_members.parquet"
        c = duckdb.connect()
        c.execute(f"COPY (SELECT * REPLACE ('外星人' AS relation) FROM read_parquet('{paths['members']}')) "
                  f"TO '{bad}' (FORMAT parquet)")
        paths["members"] = str(bad)
        return paths

    monkeypatch.setattr(R, "export_contract", broken)
    with pytest.raises(RuntimeError, match="post-load contract broken: members"):
        R.run(county(tmp_path / "d"), "2026-10", out=tmp_path / "o", db=tmp_path / "db.duckdb")
    assert not (tmp_path / "o" / "2026-10").exists()
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'").fetchone()[0] in (0, 1)
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'").fetchone()[0]:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_contract_sample_is_fixed_and_about_the_size_asked():
    """Large tables reach the contract as a fixed sample of their rows (by a hash of _rid)."""
    import duckdb

    from schemas.tables import contract_rows_sql

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT i AS _rid, i % 7 AS v, NULL AS _extra FROM range(10000) r(i)")
    sql = contract_rows_sql(con, "t", 1000)
    first = con.execute(f"SELECT list(_rid ORDER BY _rid) FROM ({sql})").fetchone()[0]
    assert 800 <= len(first) <= 1200
    assert con.execute(f"SELECT list(_rid ORDER BY _rid) FROM ({sql})").fetchone()[0] == first
    assert "_extra" not in [d[0] for d in con.execute(sql).description]
    assert con.execute(f"SELECT count(*) FROM ({contract_rows_sql(con, 't', 10000)})").fetchone()[0] == 10000


def test_contract_finds_untrimmed_text_as_the_loader_trims_it(tmp_path):
    """The contract reads Arrow-backed strings (pandas then matches with RE2, whose \\s is ASCII):
    an em space, U+3000 or a zero-width space around a value is still a breach (leading or
    trailing), an inner one or a clean value is not."""
    import duckdb

    from pipeline.outputs.sidecar import export_contract, run_contract
    from schemas.tables import TABLES

    con = duckdb.connect()
    from checks.engine import ensure_tables

    ensure_tables(con)
    cols = ", ".join(f'"{c}"' for c in TABLES["helpers"].names)
    row = {c: None for c in TABLES["helpers"].names}

    def with_name(name: str) -> list[str]:
        con.execute('DELETE FROM helpers')
        row.update(name=name, id_number="430624198001011234")
        con.execute(f"INSERT INTO helpers ({cols}, _rid) VALUES ({', '.join('?' * len(row))}, 1)", list(row.values()))
        return run_contract({"helpers": export_contract(con, tmp_path / name.encode().hex())["helpers"]})

    assert with_name("张三") == [] and with_name("张\u3000三") == []
    for bad in ("\u2003张三", "张三\u3000", "张三\u00a0", "张三\u200b"):
        problems = with_name(bad)
        assert problems and "not trimmed" in problems[0], bad
    # a space character the loader does not trim is data, not a breach of the loader's contract
    # (Python's \s took U+2028 and made such a value fail the run)
    assert with_name("张三\u2028") == []
    row.update(id_number="430624\u20281980010112")
    assert run_contract({"helpers": export_contract(con, tmp_path / "id")["helpers"]}) == []

"""The run as a county office meets it: exit codes, files not loaded, townships lacking a table,
the month-to-month lifecycle when a rule or a township was skipped, and the run lock/journal."""
import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from pipeline.store import runlock
from pipeline.run import RunError, run
from schemas.ids import make_id

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = ["县", "乡镇", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "性别"]
HOUSEHOLDS = ["县", "乡镇", "行政村", "户编号", "户主姓名", "家庭人口数", "贫困户属性", "脱贫属性"]


def pid(n: int, year: int = 1970) -> str:
    return make_id("430624", dt.date(year, 3, 1), n, True)


def write_xlsx(path: Path, rows) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    for i, r in enumerate(rows):
        ws.write_row(i, 0, r)
    wb.close()


def county(drop: Path, *, towns=("东镇", "西镇"), two_heads_in="西镇", broken_members_of=None,
           hukou=True) -> Path:
    """Two townships, three households each, one members file per township; in `two_heads_in`
    the first household has two 户主 (HH-01). `broken_members_of`: that township's members file
    lacks 证件号码 (SCH-01, not loaded)."""
    drop.mkdir(parents=True, exist_ok=True)
    hh = [HOUSEHOLDS]
    n = 0
    for t in towns:
        mem = [MEMBERS]
        for k in range(3):
            hid = f"{t}{k}"
            n += 1
            heads = 2 if (t == two_heads_in and k == 0) else 1
            mem.append(["湘阴县", t, "新村", hid, f"户主{n}", pid(n), "户主", "男"])
            if heads == 2:
                n += 1
                mem.append(["湘阴县", t, "新村", hid, f"户主{n}", pid(n), "户主", "男"])
            hh.append(["湘阴县", t, "新村", hid, f"户主{n - heads + 1}", heads, "一般贫困户", "已脱贫"])
        if t == broken_members_of:
            mem = [[c for c in r if c != "证件号码"] if i == 0 else r[:5] + r[6:] for i, r in enumerate(mem)]
        write_xlsx(drop / f"成员_{t}.xlsx", mem)
    write_xlsx(drop / "家庭情况.xlsx", hh)
    if hukou:
        # one hukou row for the first member only: XA-11 fires for every other member
        write_xlsx(drop / "户籍.xlsx", [["姓名", "公民身份号码", "户籍状态"], ["户主1", pid(1), "正常"]])
    return drop


def issues(out: Path, period: str) -> list[dict]:
    with open(out / period / "issues.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def resolved(out: Path, period: str) -> list[dict]:
    with open(out / period / "resolved.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def cli(*args, cwd=None, env_extra=None, timeout=180):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(cwd or ROOT)}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=timeout)


# ---------------------------------------------------------------------------- townships lacking a table

def test_township_whose_members_file_was_not_loaded_gets_no_flood_and_keeps_its_history(tmp_path):
    out, db = tmp_path / "out", tmp_path / "db.duckdb"
    run(county(tmp_path / "d1"), "2026-09", out=out, db=db)
    first = {i["issue_id"]: i for i in issues(out, "2026-09")}
    west_hh01 = [i for i in first.values() if i["rule_id"] == "HH-01" and i["township"] == "西镇"]
    assert len(west_hh01) == 1

    # 2026-10: 西镇's members file is broken (SCH-01): 西镇 lacks members
    res = run(county(tmp_path / "d2", broken_members_of="西镇"), "2026-10", out=out, db=db)
    assert res.exit_code == 1
    assert [x["township"] for x in res.manifest["townships_lacking"]] == ["西镇"]
    assert "HH-03" in res.manifest["townships_lacking"][0]["rules"]
    now = issues(out, "2026-10")
    assert not [i for i in now if i["township"] == "西镇" and i["rule_id"] in ("HH-03", "HH-01", "HH-02")]
    # its earlier issue of a skipped rule is neither current nor resolved
    assert west_hh01[0]["issue_id"] not in {i["issue_id"] for i in resolved(out, "2026-10")}
    assert res.manifest["rules"]["HH-01"]["skipped_townships"] == ["西镇"]

    # 2026-11: loaded again, the defect still there: persisting (its previous period is 2026-09)
    run(county(tmp_path / "d3"), "2026-11", out=out, db=db)
    again = {i["issue_id"]: i for i in issues(out, "2026-11")}
    assert again[west_hh01[0]["issue_id"]]["status"] == "persisting"


def test_rule_skipped_for_a_missing_table_comes_back_persisting_not_reopened(tmp_path):
    out, db = tmp_path / "out", tmp_path / "db.duckdb"
    run(county(tmp_path / "d1"), "2026-09", out=out, db=db)
    xa11 = {i["issue_id"] for i in issues(out, "2026-09") if i["rule_id"] == "XA-11"}
    assert xa11
    res = run(county(tmp_path / "d2", hukou=False), "2026-10", out=out, db=db)
    assert res.manifest["rules"]["XA-11"]["status"] == "skipped"
    assert not xa11 & {i["issue_id"] for i in resolved(out, "2026-10")}
    run(county(tmp_path / "d3"), "2026-11", out=out, db=db)
    st = {i["issue_id"]: i["status"] for i in issues(out, "2026-11") if i["rule_id"] == "XA-11"}
    assert set(st) == xa11 and set(st.values()) == {"persisting"}


# ---------------------------------------------------------------------------- exit codes and marks

def test_garbage_xlsx_beside_good_files_exits_1_and_is_named(tmp_path):
    drop = county(tmp_path / "d")
    (drop / "坏文件.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook at all")
    proc = cli("run", drop, "--period", "2026-10", "--out", tmp_path / "o", "--db", tmp_path / "db.duckdb",
               "--data", tmp_path / "data", "-q")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    bad = [l for l in proc.stderr.splitlines() if l.lstrip().startswith("✗")]
    assert len(bad) == 1 and "坏文件.xlsx" in bad[0]
    assert (tmp_path / "o" / "2026-10" / "issues.csv").is_file()         # the run still completed
    manifest = json.loads((tmp_path / "o" / "2026-10" / "run.json").read_text(encoding="utf-8"))
    assert [x["file"] for x in manifest["not_loaded"]] == ["坏文件.xlsx"]


def test_all_files_loaded_exits_0_with_marks(tmp_path):
    drop = county(tmp_path / "d")
    proc = cli("run", drop, "--period", "2026-10", "--out", tmp_path / "o", "--db", tmp_path / "db.duckdb",
               "--data", tmp_path / "data")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("✓") == 4 and "✗" not in proc.stderr
    assert "0 not loaded" in proc.stderr
    assert f"data folder: {tmp_path / 'data'}" in proc.stderr


def test_run_on_a_file_says_it_takes_a_folder(tmp_path):
    drop = county(tmp_path / "d")
    proc = cli("run", drop / "家庭情况.xlsx", "--period", "2026-10", "--data", tmp_path / "data")
    assert proc.returncode == 2
    assert "is a file" in proc.stderr and "validate" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------- period, params, paths

def test_full_width_period_is_normalised_not_a_new_period(tmp_path):
    out, db = tmp_path / "out", tmp_path / "db.duckdb"
    res = run(county(tmp_path / "d"), "２０２６－１１", out=out, db=db)
    assert res.out_dir == out / "2026-11" and res.manifest["period"] == "2026-11"
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT list(period) FROM runs").fetchone()[0] == ["2026-11"]
    con.close()
    for bad in ("2026-13", "2026-1", "26-11", "2026/11", "２０２６-１３"):
        with pytest.raises(RunError, match="YYYY-MM"):
            run(tmp_path / "d", bad, out=out, db=db)


@pytest.mark.parametrize("text,needle", [
    ("max_households_per_helper: -1\n", "greater than or equal to 1"),
    ("max_households_per_helper: true\n", "valid integer"),
    ("max_income_per_capita: .inf\n", "finite"),
    ("village_suspect_rate: .nan\n", "finite"),
    ("income_tolerance: {abs: x}\n", "income_tolerance.abs"),
    ("working_age: [60, 16]\n", "above the high end"),
    ("a: &a [1, 2]\nb: &b [*a, *a, *a]\nresponsible_units: {PAIR: *b}\n", "aliases"),
])
def test_bad_parameters_are_refused_in_one_line(tmp_path, text, needle):
    p = tmp_path / "p.yaml"
    p.write_text(text, encoding="utf-8")
    proc = cli("run", county(tmp_path / "d"), "--period", "2026-10", "--params", p, "--data", tmp_path / "data",
               "--out", tmp_path / "o", "--db", tmp_path / "db.duckdb")
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.splitlines() if l.startswith("cardcheck:")]
    assert len(lines) == 1 and needle in lines[0] and "internal error" not in lines[0]
    assert not (tmp_path / "db.duckdb").exists()


def test_db_path_is_quoted_not_pasted_into_sql(tmp_path):
    drop = county(tmp_path / "d")
    for name in ("inj.duckdb' AS store (READ_ONLY); --", "it's.duckdb"):
        db = tmp_path / name
        run(drop, "2026-10", out=tmp_path / "o", db=db)
        assert db.is_file()
        con = duckdb.connect(str(db), read_only=True)
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
        con.close()


def test_a_non_duckdb_file_is_refused_and_left_untouched(tmp_path):
    import sqlite3

    db = tmp_path / "county.sqlite"
    c = sqlite3.connect(db)
    c.execute("CREATE TABLE t (a)")
    c.commit()
    c.close()
    before = db.read_bytes()
    with pytest.raises(RunError, match="not a DuckDB database"):
        run(county(tmp_path / "d"), "2026-10", out=tmp_path / "o", db=db)
    assert db.read_bytes() == before
    from pipeline.store.duck import connect
    con = connect()
    assert con.execute("SELECT current_setting('autoinstall_known_extensions'), "
                       "current_setting('autoload_known_extensions')").fetchone() == (False, False)


def test_out_pointing_at_a_file_fails_before_any_work(tmp_path, monkeypatch):
    import pipeline.run as R

    (tmp_path / "o").write_text("x")
    monkeypatch.setattr(R, "ingest", lambda *a, **k: pytest.fail("read files before checking --out"))
    with pytest.raises(RunError, match="is a file"):
        run(county(tmp_path / "d"), "2026-10", out=tmp_path / "o", db=tmp_path / "db.duckdb")
    assert not (tmp_path / "db.duckdb").exists()


# ---------------------------------------------------------------------------- lock, journal, leftovers

def test_a_second_run_is_refused_while_the_lock_is_held_and_says_who(tmp_path):
    data = tmp_path / "data"
    with runlock.RunLock(data / "cardcheck.lock", "cardcheck run 2026-09"):
        with pytest.raises(RunError, match="cardcheck run 2026-09"):
            run(county(tmp_path / "d"), "2026-10", out=tmp_path / "o", db=tmp_path / "db.duckdb", data_dir=data)
    run(county(tmp_path / "d"), "2026-10", out=tmp_path / "o", db=tmp_path / "db.duckdb", data_dir=data)


KILL_BETWEEN_COMMIT_AND_SWAP = """
import os, sys
from pathlib import Path
from pipeline.store import runlock
import pipeline.run as R
runlock.swap_in = lambda *a, **k: os._exit(137)      # killed right after the database commit
R.run(Path(sys.argv[1]), "2026-10", out=Path(sys.argv[2]), db=Path(sys.argv[3]), data_dir=Path(sys.argv[4]))
"""


def test_a_run_killed_between_commit_and_swap_is_finished_by_the_next_command(tmp_path):
    out, db, data = tmp_path / "o", tmp_path / "db.duckdb", tmp_path / "data"
    drop = county(tmp_path / "d")
    run(drop, "2026-10", out=out, db=db, data_dir=data)               # last month's good outputs
    (out / "2026-10" / "marker").write_text("old")
    proc = subprocess.run([sys.executable, "-c", KILL_BETWEEN_COMMIT_AND_SWAP, drop, out, db, data],
                          cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 137, proc.stderr
    assert list((data / ".cardcheck").glob("swap-*.json"))              # the journal was left
    assert (out / "2026-10" / "marker").exists()                        # old outputs still in place
    said = runlock.recover(data / ".cardcheck")                         # what the next command does first
    assert said and "finished" in said[0]
    assert not (out / "2026-10" / "marker").exists()                    # the committed run's outputs are in
    manifest = json.loads((out / "2026-10" / "run.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(db), read_only=True)
    ids = [json.loads(m)["run_id"] for (m,) in con.execute("SELECT manifest FROM runs").fetchall()]
    con.close()
    assert ids == [manifest["run_id"]]
    assert not list((data / ".cardcheck").glob("swap-*.json"))
    runlock.remove_leftovers(out)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_journal_of_an_uncommitted_run_is_rolled_back(tmp_path):
    out, state = tmp_path / "o", tmp_path / "state"
    (out / "2026-10").mkdir(parents=True)
    (out / "2026-10" / "keep").write_text("old")
    tmp = runlock.tmp_output_dir(out, "2026-10")
    (tmp / "issues.csv").write_text("new")
    runlock.write_journal(state, "2026-10", run_id="never-committed", db=tmp_path / "db.duckdb", tmp=tmp,
                          final=out / "2026-10")
    said = runlock.recover(state)
    assert said and "removed" in said[0]
    assert (out / "2026-10" / "keep").exists() and not tmp.exists()


def test_leftovers_of_dead_runs_are_removed_and_live_ones_kept(tmp_path, monkeypatch):
    import tempfile

    out = tmp_path / "o"
    out.mkdir()
    spills = tmp_path / "tmp"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    dead = 2 ** 22 + 12345           # above the kernel's default pid_max: never a live process
    (out / f".2026-10.{dead}.abc").mkdir()
    (out / ".2026-10.old").mkdir()
    (out / f".2026-10.{os.getppid()}.live").mkdir()
    (spills / f"cardcheck-spill-{dead}-x").mkdir()
    (spills / f"cardcheck-spill-{os.getppid()}-y").mkdir()
    runlock.remove_leftovers(out)
    assert sorted(p.name for p in out.iterdir()) == [f".2026-10.{os.getppid()}.live"]
    assert [p.name for p in spills.iterdir()] == [f"cardcheck-spill-{os.getppid()}-y"]


# ---------------------------------------------------------------------------- signals, full disk

SIGNAL_DURING_READ = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)   # as at a terminal (a background job inherits SIG_IGN)
import pipeline.run as R
orig = R.ingest
SIG = getattr(signal, sys.argv[1])
def ingest(*a, **k):
    os.kill(os.getpid(), SIG)
    return orig(*a, **k)
R.ingest = ingest
sys.argv = ["cardcheck", *sys.argv[2:]]
import cli
cli.main()
"""


@pytest.mark.parametrize("sig,code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_interrupt_says_what_was_kept(tmp_path, sig, code):
    drop = county(tmp_path / "d")
    proc = subprocess.run([sys.executable, "-c", SIGNAL_DURING_READ, sig, "run", str(drop), "--period", "2026-10",
                           "--data", str(tmp_path / "data"), "-q"],
                          cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == code, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.startswith("cardcheck:")]
    assert lines == ["cardcheck: interrupted — nothing was changed: the earlier outputs and the database are "
                     "as they were"]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "data" / "reports" / "2026-10").exists()


def test_full_disk_names_the_location(tmp_path, monkeypatch):
    import errno

    from pipeline.outputs import report

    def full(con, folder):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "issues.csv"))

    monkeypatch.setattr(report, "write_issues", full)
    with pytest.raises(RunError, match=r"the disk is full: cannot write .*issues.csv; nothing was changed"):
        run(county(tmp_path / "d"), "2026-10", out=tmp_path / "o", db=tmp_path / "db.duckdb")


def test_full_disk_at_the_database_commit_says_so_and_leaves_it_unchanged(tmp_path, monkeypatch):
    from pipeline.cycle import history

    out, db = tmp_path / "o", tmp_path / "db.duckdb"
    run(county(tmp_path / "d"), "2026-09", out=out, db=db)

    def full(*a, **k):
        raise duckdb.IOException("IO Error: Could not write file: No space left on device")

    monkeypatch.setattr(history, "persist", full)
    with pytest.raises(RunError, match="disk is full: cannot write the database"):
        run(county(tmp_path / "d"), "2026-10", out=out, db=db)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT list(period) FROM runs").fetchone()[0] == ["2026-09"]
    con.close()
    assert not (out / "2026-10").exists()


POOL_INTERRUPTED = """
import os, signal, sys, tempfile
signal.signal(signal.SIGINT, signal.default_int_handler)   # as at a terminal (a background job inherits SIG_IGN)
from pathlib import Path
import duckdb
from pipeline.ingest.load import ingest
root = Path(sys.argv[1])
files = sorted(root.glob("*.xlsx"))
con = duckdb.connect()
n = {"files": 0}
def progress(rel):
    n["files"] += 1
    if n["files"] == 1:
        os.killpg(0, signal.SIGINT)          # Ctrl-C reaches the whole process group, readers included
try:
    ingest(con, files, root, parallel=True, progress=progress)
    import time; time.sleep(5)
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    sys.exit(130)
"""


POOL_KILLED = """
import multiprocessing, os, shutil, signal, sys
from pathlib import Path
import duckdb
import cli
from pipeline.ingest.load import ingest
root = Path(sys.argv[1])
first = sorted(root.glob("*.xlsx"))[0]
for k in range(12):                       # enough files that the pool is busy after the first
    shutil.copy(first, root / f"copy{k:02d}.xlsx")
def progress(rel):                        # the system kills the readers (as the OOM killer does)
    for p in multiprocessing.active_children():
        os.kill(p.pid, signal.SIGKILL)
try:
    ingest(duckdb.connect(), sorted(root.glob("*.xlsx")), root, parallel=True, progress=progress)
    print("no error")
except BaseException as exc:
    print(type(exc).__name__, "|", cli._message(exc))
"""


def test_a_reader_killed_by_the_system_is_named_not_an_internal_error(tmp_path):
    """A reader process killed from outside (the OOM killer) stops the run with one sentence about
    memory, exit 2 — not 'internal error … a defect of cardcheck' (failed before)."""
    drop = county(tmp_path / "d")
    proc = subprocess.run([sys.executable, "-c", POOL_KILLED, str(drop)], cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    name, _, message = proc.stdout.strip().partition(" | ")
    assert name == "BrokenProcessPool", proc.stdout + proc.stderr
    assert message.startswith("a process reading the files or writing the workbooks was stopped by the system")
    assert "nothing was changed" in message


def test_ctrl_c_stops_the_reader_pool_without_tracebacks(tmp_path):
    """Ctrl-C reaches the readers too: the interrupt comes out of ingest as one KeyboardInterrupt,
    with no traceback from any reader process (a guard; the readers now also ignore SIGINT and are
    stopped at once instead of finishing their files)."""
    drop = county(tmp_path / "d")
    proc = subprocess.run([sys.executable, "-c", POOL_INTERRUPTED, str(drop)], cwd=ROOT, start_new_session=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr

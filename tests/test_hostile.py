"""Broken and hostile input: refused with one line, quickly, never a traceback, never half an output."""
import json
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from pipeline.ingest.read import ReadError, read_file

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "import cli; cli.main()"]
HEADER = ["户编号", "姓名", "证件号码", "与户主关系"]


def cardcheck(*args, cwd=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, timeout=120)


def one_line_error(proc):
    """The lines of stderr that give a reason (`cardcheck: …`); the data-folder line and the file
    marks (✓ ! ✗) are information beside it."""
    lines = [l for l in proc.stderr.splitlines() if l.startswith("cardcheck:")]
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    return lines


def write_xlsx(path, rows):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    for i, r in enumerate(rows):
        ws.write_row(i, 0, r)
    wb.close()


def zip_bomb(path: Path, expanded_mib: int = 300) -> None:
    """An .xlsx whose sheet XML deflates from ~0.3 MiB to hundreds of MiB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            block = b" " * (1 << 20)
            for _ in range(expanded_mib):
                f.write(block)


def test_zip_bomb_refused_before_parsing(tmp_path):
    p = tmp_path / "bomb.xlsx"
    zip_bomb(p)
    t = time.perf_counter()
    with pytest.raises(ReadError, match="疑似恶意文件"):
        read_file(p)
    assert time.perf_counter() - t < 2


def test_lying_zip_sizes_refused(tmp_path):
    """A central directory that claims gigabytes is refused from the directory alone."""
    p = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<x/>")
    data = bytearray(p.read_bytes())
    # patch the uncompressed size of every central-directory entry to 3 GiB
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        struct.pack_into("<I", data, pos + 24, 3 * 1024**3)
        pos = data.find(b"PK\x01\x02", pos + 4)
    p.write_bytes(bytes(data))
    with pytest.raises(ReadError, match="解压后过大"):
        read_file(p)


def test_password_protected_workbook(tmp_path):
    """An encrypted OOXML workbook is an OLE container holding an EncryptedPackage stream."""
    p = tmp_path / "secret.xlsx"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
                  + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512)
    with pytest.raises(ReadError, match="密码"):
        read_file(p)


def test_many_empty_formatted_rows_are_fast_and_skipped(tmp_path):
    p = tmp_path / "m.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    fmt = wb.add_format({"bg_color": "#FFFF00"})
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, ["001", "张三", "430624198006150131", "户主"])
    for i in range(2, 300_000):
        ws.set_row(i, None, fmt)
    wb.close()
    import duckdb

    from pipeline.ingest.load import ingest
    t = time.perf_counter()
    reps = ingest(duckdb.connect(), [p], tmp_path)
    assert time.perf_counter() - t < 30
    assert reps[0].rows_read == reps[0].rows_loaded == 1


def test_formula_cells_are_read_as_values_never_evaluated(tmp_path):
    p = tmp_path / "m.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, ["001", "张三", "430624198006150131"])
    ws.write_formula(1, 3, '=CONCATENATE("户","主")', None, "户主")
    ws.write_row(2, 0, ["001", "", "430624198208200125", "配偶"])
    ws.write_string(2, 1, '=HYPERLINK("http://x")')           # a text cell, not a formula
    wb.close()
    import duckdb

    from pipeline.ingest.load import ingest
    con = duckdb.connect()
    ingest(con, [p], tmp_path)
    rows = con.execute("SELECT name, relation FROM members ORDER BY _row").fetchall()
    assert rows[0] == ("张三", "户主")                 # the cached value of the formula
    assert rows[1][0] == '=HYPERLINK("http://x")'     # text that looks like a formula stays text


@pytest.mark.parametrize("content,name", [
    (b"", "empty.xlsx"), (b"hello, not a workbook\n", "renamed.xlsx"),
    (b"PK\x03\x04\x14\x00truncated", "cut.xlsx"), (b"\x00\x01\x02binary", "x.csv"),
])
def test_validate_refuses_unusable_files_with_exit_2(tmp_path, content, name):
    p = tmp_path / name
    p.write_bytes(content)
    proc = cardcheck("validate", p, "--period", "2026-10")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    one_line_error(proc)
    assert "无法使用" in proc.stdout            # validate speaks plain Chinese (issue F)


def test_validate_unrecognised_header_exit_2_and_json_parses(tmp_path):
    p = tmp_path / "x.xlsx"
    write_xlsx(p, [["名称", "数量"], ["苹果", "3"]])
    proc = cardcheck("validate", p, "--format", "json", "--period", "2026-10")
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["exit_code"] == 2 and doc["files"][0]["usable"] is False


def test_run_refuses_a_drop_without_core_files(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    write_xlsx(drop / "x.xlsx", [["名称"], ["苹果"]])
    proc = cardcheck("run", drop, "--period", "2026-10", "--out", tmp_path / "out", "--db", tmp_path / "db.duckdb", "-q")
    assert proc.returncode == 2
    lines = one_line_error(proc)
    assert len(lines) == 1 and "members" in lines[0]
    assert not (tmp_path / "out" / "2026-10").exists()


@pytest.mark.parametrize("args,needle", [
    (["--period", "2026-13"], "period"), (["--period", "202610"], "period"),
    (["--period", "2026-10", "--params", "missing.yaml"], "parameters file"),
])
def test_run_bad_arguments_one_line(tmp_path, args, needle):
    drop = tmp_path / "drop"
    drop.mkdir()
    proc = cardcheck("run", drop, *args, "--out", tmp_path / "o", "--db", tmp_path / "d.duckdb", "-q")
    assert proc.returncode == 2
    lines = one_line_error(proc)
    assert len(lines) == 1 and needle in lines[0]


def test_bad_params_yaml(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("max_households_per_helper: [1, 2\n", encoding="utf-8")
    from checks.params import ParamError, load_params
    with pytest.raises(ParamError, match="YAML"):
        load_params(bad)
    bad.write_text("no_such_parameter: 3\n", encoding="utf-8")
    with pytest.raises(ParamError, match="unknown parameter"):
        load_params(bad)


def _tiny_drop(drop: Path, head: str = "张三"):
    drop.mkdir(parents=True, exist_ok=True)
    write_xlsx(drop / "members.xlsx", [HEADER + ["性别"], ["001", head, "430624198006150131", "户主", "男"]])
    write_xlsx(drop / "households.xlsx", [["户编号", "户主姓名", "家庭人口数", "贫困户属性", "脱贫属性"],
                                          ["001", head, "1", "一般贫困户", "已脱贫"]])


def test_failed_run_leaves_previous_outputs_and_database_intact(tmp_path, monkeypatch):
    import duckdb

    from pipeline.outputs import report
    from pipeline.run import run

    out, db = tmp_path / "out", tmp_path / "db.duckdb"
    _tiny_drop(tmp_path / "d1")
    run(tmp_path / "d1", "2026-10", out=out, db=db)
    before_files = {p.relative_to(out): p.read_bytes() for p in (out / "2026-10").rglob("*") if p.is_file()}
    con = duckdb.connect(str(db), read_only=True)
    before_db = (con.execute("SELECT count(*) FROM runs").fetchall(),
                 con.execute("SELECT head_name FROM households").fetchall(),
                 con.execute("SELECT count(*) FROM issue_history").fetchall())
    con.close()

    _tiny_drop(tmp_path / "d2", head="李四")          # different data, same period
    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(report, "write_rejected", boom)
    from pipeline.run import RunError
    with pytest.raises(RunError, match="nothing was changed"):       # an OSError is a condition, said in one line
        run(tmp_path / "d2", "2026-10", out=out, db=db)

    after_files = {p.relative_to(out): p.read_bytes() for p in (out / "2026-10").rglob("*") if p.is_file()}
    assert after_files == before_files
    assert not [p for p in out.iterdir() if p.name.startswith(".")]       # no half-written folder left
    con = duckdb.connect(str(db), read_only=True)
    assert (con.execute("SELECT count(*) FROM runs").fetchall(),
            con.execute("SELECT head_name FROM households").fetchall(),
            con.execute("SELECT count(*) FROM issue_history").fetchall()) == before_db


@pytest.mark.parametrize("failure", ["no members", "ingest raises"])
def test_failed_run_removes_its_spill_folder(tmp_path, monkeypatch, failure):
    """The run's DuckDB spill folder is removed however the run ends (refused or crashed)."""
    import tempfile

    import pipeline.run as R
    from pipeline.run import RunError, run

    spills = tmp_path / "tmp"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    drop = tmp_path / "drop"
    if failure == "no members":
        drop.mkdir()
        write_xlsx(drop / "x.xlsx", [["名称"], ["苹果"]])
        expected = RunError
    else:
        _tiny_drop(drop)
        def boom(*a, **k):
            raise OSError("disk full")
        monkeypatch.setattr(R, "ingest", boom)
        expected = RunError
    with pytest.raises(expected):
        run(drop, "2026-10", out=tmp_path / "out", db=tmp_path / "db.duckdb")
    assert not list(spills.glob("cardcheck-spill-*"))

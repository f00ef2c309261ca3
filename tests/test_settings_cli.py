"""The data folder is found the same way from any working folder; the CLI says which it uses;
the demo never replaces a real county's database; --version; the wheel holds every package."""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from pipeline.settings import SettingsError, resolve

ROOT = Path(__file__).resolve().parents[1]


def test_resolution_order(tmp_path):
    top = tmp_path / "county"
    sub = top / "work" / "deep"
    sub.mkdir(parents=True)
    (top / "cardcheck.toml").write_text('data = "store"\nreports = "out"\n', encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text('[paths]\ndata = "elsewhere"\n', encoding="utf-8")

    # 4. the nearest cardcheck.toml upward from the working folder, paths relative to the file
    s = resolve(cwd=sub, environ={})
    assert s.data == top / "store" and s.reports == top / "out"
    assert s.database == top / "store" / "clean" / "cardcheck.duckdb" and s.raw == top / "store" / "raw"
    # 3. $CARDCHECK_DATA beats the toml
    s = resolve(cwd=sub, environ={"CARDCHECK_DATA": str(tmp_path / "env")})
    assert s.data == tmp_path / "env" and s.reports == tmp_path / "env" / "reports"
    # 2. --data beats the environment
    s = resolve(data=Path("mine"), cwd=sub, environ={"CARDCHECK_DATA": "x"})
    assert s.data == sub / "mine"
    # 1. --config beats everything
    s = resolve(config=other, data=Path("mine"), cwd=sub, environ={"CARDCHECK_DATA": "x"})
    assert s.data == tmp_path / "elsewhere"
    # 5. else ./data
    assert resolve(cwd=tmp_path, environ={}).data == tmp_path / "data"


def test_bad_config_is_one_sentence(tmp_path):
    p = tmp_path / "cardcheck.toml"
    p.write_text("data = [1]\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="folder path"):
        resolve(cwd=tmp_path, environ={})
    p.write_text("dta = 'x'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown key 'dta'"):
        resolve(cwd=tmp_path, environ={})
    p.write_text("data = \n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        resolve(cwd=tmp_path, environ={})


def cardcheck(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})})


def test_every_command_says_its_data_folder_and_another_folder_finds_the_same_history(tmp_path):
    """Running from a subfolder of a county folder uses the county's data, not a new empty one."""
    top = tmp_path / "county"
    (top / "sub").mkdir(parents=True)
    (top / "cardcheck.toml").write_text('data = "data"\n', encoding="utf-8")
    proc = cardcheck("feedback", tmp_path / "nothing.xlsx", cwd=top / "sub")
    assert proc.returncode == 2
    assert f"data folder: {top / 'data'} (cardcheck.toml {top / 'cardcheck.toml'})" in proc.stderr
    assert "database not found" in proc.stderr
    assert not (top / "sub" / "data").exists()


def test_version():
    proc = cardcheck("--version", cwd=ROOT)
    assert proc.returncode == 0
    from pipeline.run import TOOL_VERSION
    assert proc.stdout.strip() == f"cardcheck {TOOL_VERSION}"


def test_demo_refuses_a_database_with_real_runs(tmp_path):
    from pipeline.store.demo_guard import DemoRefused, clear_demo_database

    db = tmp_path / "clean" / "cardcheck.duckdb"
    db.parent.mkdir()
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE runs (period VARCHAR, started_at VARCHAR, finished_at VARCHAR, status VARCHAR, "
                "tool_version VARCHAR, manifest VARCHAR)")
    con.execute("INSERT INTO runs VALUES ('2026-10', '', '', 'completed', '', ?)",
                [json.dumps({"drop": str(tmp_path / "raw" / "2026-10")})])
    con.close()
    with pytest.raises(DemoRefused, match="real data"):
        clear_demo_database(db, tmp_path / "raw" / "demo")
    assert db.exists()
    con = duckdb.connect(str(db))
    con.execute("UPDATE runs SET manifest = ?", [json.dumps({"drop": str(tmp_path / "raw" / "demo" / "2026-10")})])
    con.close()
    clear_demo_database(db, tmp_path / "raw" / "demo")
    assert not db.exists()


def test_validate_accepts_a_folder(tmp_path):
    import xlsxwriter

    folder = tmp_path / "uploads"
    folder.mkdir()
    for name in ("a.xlsx", "b.xlsx"):
        wb = xlsxwriter.Workbook(str(folder / name))
        ws = wb.add_worksheet()
        ws.write_row(0, 0, ["户编号", "户主姓名", "家庭人口数", "贫困户属性", "脱贫属性"])
        ws.write_row(1, 0, ["001", "张三", 1, "一般贫困户", "已脱贫"])
        wb.close()
    proc = cardcheck("validate", folder, "--format", "json", "--period", "2026-10", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert sorted(Path(f["file"]).name for f in doc["files"]) == ["a.xlsx", "b.xlsx"]


# ---------------------------------------------------------------------------- the wheel

def test_the_wheel_holds_every_package_and_data_file(tmp_path):
    """`pip install .` (not editable) must give a cardcheck that runs: every module and data file
    of the packages (those git tracks) is in the wheel, with the `cardcheck` entry point."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("cardcheck-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "pipeline", "checks", "schemas", "demo", "portal", "cli.py"],
                             cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:                                  # not a git checkout: every file on disk
        tracked = [str(p.relative_to(ROOT)) for d in ("pipeline", "checks", "schemas", "demo", "portal")
                   for p in (ROOT / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    missing = [f for f in tracked if f not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert "checks/rules/pair.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "cardcheck = cli:main" in zipfile.ZipFile(wheel).read(entry).decode()

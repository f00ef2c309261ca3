"""--engine spark without a JVM: which folders are county drops, the plain sentence when pyspark or
Java is missing, a bad --engine value. (The rules on Spark themselves: make check-spark.)"""
import builtins
import subprocess
import sys

import pytest

from checks import spark_engine
from pipeline.check.spark import county_drops


def test_a_drop_with_files_is_one_county(tmp_path):
    (tmp_path / "members.csv").write_text("x")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "a.csv").write_text("x")
    assert county_drops(tmp_path) == [(tmp_path.name, tmp_path)]


def test_a_folder_of_county_folders_is_read_county_by_county(tmp_path):
    for name in ("湘阴县", "汨罗市"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "members.csv").write_text("x")
    (tmp_path / "空文件夹").mkdir()                       # no files: not a county drop
    (tmp_path / ".hidden").mkdir()
    assert [n for n, _ in county_drops(tmp_path)] == ["汨罗市", "湘阴县"]


def test_missing_pyspark_is_one_plain_sentence(monkeypatch):
    real = builtins.__import__

    def no_pyspark(name, *a, **kw):
        if name.split(".")[0] == "pyspark":
            raise ImportError("No module named 'pyspark'")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    with pytest.raises(spark_engine.SparkUnavailable) as e:
        spark_engine.session()
    assert "pyspark is not installed" in str(e.value) and "\n" not in str(e.value)


def test_missing_java_is_one_plain_sentence(monkeypatch):
    pytest.importorskip("pyspark")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(spark_engine.SparkUnavailable) as e:
        spark_engine.session()
    assert str(e.value).startswith("Java is not installed")


def test_bad_engine_value_exits_2_in_one_line(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "members.csv").write_text("x")
    r = subprocess.run([sys.executable, "-m", "cli", "run", str(drop), "--period", "2026-10",
                        "--engine", "hadoop", "--data", str(tmp_path / "data")],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "--engine must be duckdb or spark" in r.stderr and "Traceback" not in r.stderr

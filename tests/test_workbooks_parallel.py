"""Village workbooks written by a pool of processes hold exactly what one process writes."""
from pathlib import Path

from python_calamine import CalamineWorkbook

import pipeline.outputs.workbooks as W
from wbutil import T1, T2, issue, issues_db, pid


def cells(path: Path) -> dict:
    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        grid = wb.get_sheet_by_name(name).to_python()
        if name == W.INFO_SHEET:          # 生成时间 and 工作簿编号 differ by design
            for r in (6, W.WORKBOOK_ID_ROW - 1):
                grid[r][1] = "*"
        out[name] = grid
    return out


def test_parallel_writers_write_the_same_cells(tmp_path, monkeypatch):
    rows = []
    for v in range(6):
        for k in range(3):
            hid = f"43062410{v:02d}{k:05d}"
            rows.append(issue("HH-01", hid, township=T1 if v % 2 else T2, village=f"村{v}",
                              id_number=pid(v * 10 + k), person_name=f"张{v}{k}", message=f"=HYPERLINK(\"x\") {hid}"))
    households = [(r["household_id"], "已脱贫", "无", 5000.0) for r in rows]
    monkeypatch.setattr(W, "PARALLEL_MIN_VILLAGES", 1)
    written = {}
    for writers in ("1", "2"):
        monkeypatch.setenv("CARDCHECK_WRITERS", writers)
        con = issues_db(rows, households)
        paths = W.write_all(con, tmp_path / writers, "2026-10")
        assert len(paths) == 6
        written[writers] = {p.relative_to(tmp_path / writers): cells(p) for p in paths}
        assert con.execute("SELECT count(*) FROM workbook_issues").fetchone()[0] == len(rows)
    assert written["1"] == written["2"]
    some = next(iter(written["2"].values()))[W.LIST_SHEET][1]
    assert any(isinstance(c, str) and c.startswith("=HYPERLINK") for c in some)   # text, not a formula


def test_writing_in_process_keeps_ctrl_c(tmp_path, monkeypatch):
    """The run's own process must keep its Ctrl-C handler after writing workbooks itself (the pool's
    writers ignore SIGINT; the run process must not)."""
    import signal

    monkeypatch.setenv("CARDCHECK_WRITERS", "1")
    before = signal.getsignal(signal.SIGINT)
    W.write_all(issues_db([issue("HH-01", "H1")], [("H1", "已脱贫", "无", 5000.0)]), tmp_path, "2026-10")
    assert signal.getsignal(signal.SIGINT) == before

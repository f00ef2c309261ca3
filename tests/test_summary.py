"""summary.html (pipeline.outputs.summary): self-contained, escaped, with the sections the county office reads."""
from __future__ import annotations

import re

import duckdb

from checks.engine import ISSUE_COLUMNS
from pipeline.cycle import history
from pipeline.outputs.summary import write_summary

EVIL = "<script>alert('x')</script>"


def _issue(issue_id, rule_id, rule_name, severity, status="new", village="新华村", flag=None):
    row = dict.fromkeys(ISSUE_COLUMNS)
    row.update(issue_id=issue_id, period="2026-10", rule_id=rule_id, rule_name=rule_name, severity=severity,
               status=status, first_seen="2026-10", county="湘阴县", township="东塘镇", village=village,
               household_id="H1", head_name=EVIL, person_name=EVIL)
    return {**row, "flag": flag}


def _con(with_store: bool):
    con = duckdb.connect()
    cols = ", ".join(f'"{c}" VARCHAR' for c in [*ISSUE_COLUMNS, "flag"])
    con.execute(f"CREATE TEMP TABLE issues_current ({cols})")
    con.execute(f"CREATE TEMP TABLE issues_resolved ({cols})")
    rows = [_issue("a1", "ID-01", "证件号码校验失败", "error"),
            _issue("a2", "ID-01", "证件号码校验失败", "error", status="persisting", flag="整改未见效"),
            _issue("a3", "XA-07", EVIL, "suspect", village=EVIL),
            _issue("a4", "HH-05", "配偶信息异常", "notice", status="waived")]
    for r in rows:
        con.execute(f"INSERT INTO issues_current VALUES ({', '.join('?' for _ in r)})", list(r.values()))
    if with_store:
        con.execute("ATTACH ':memory:' AS store")
        history.ensure(con, "store")
        for i, sev in enumerate(["error"] * 7 + ["suspect"] * 3):
            r = _issue(f"o{i}", "ID-01", "证件号码校验失败", sev)
            r["period"] = "2026-09"
            con.execute(f"INSERT INTO store.issue_history VALUES ({', '.join('?' for _ in r)})", list(r.values()))
        con.execute("INSERT INTO store.runs VALUES ('2026-09', 's', 'f', 'completed', '0.1.0', "
                    "'{\"totals\": {\"resolved\": 0}}')")
    return con


def _manifest():
    return {
        "period": "2026-10", "reference_date": "2026-10-31", "previous_period": "2026-09",
        "tool": "cardcheck", "tool_version": "0.1.0", "parameters": {"village_suspect_rate": 0.02},
        "files": [{"path": f"drop/{EVIL}.xlsx", "kind": "members", "sheet": EVIL, "header_row": 2,
                   "rows_read": 10, "rows_loaded": 9, "rows_rejected": 1, "rows_skipped": 1,
                   "status": "loaded", "problems": [EVIL]},
                  {"path": "说明.xlsx", "kind": None, "sheet": None, "header_row": None, "rows_read": 0,
                   "rows_loaded": 0, "rows_rejected": 0, "rows_skipped": 3, "status": "skipped",
                   "problems": ["no header row of any known table kind"]}],
        "rules": {"ID-01": {"status": "evaluated", "issues": 2}, "XA-07": {"status": "evaluated", "issues": 1},
                  "HH-05": {"status": "evaluated", "issues": 1},
                  "LOAN-01": {"status": "skipped", "reason": "缺少扶贫小额信贷表"}},
        "reconciliation": {"civil_affairs": {"rows": 10, "matched_exact": 7, "matched_fuzzy": 1,
                                             "unmatched": 1, "unmatched_invalid_id": 1}},
        "villages": [{"township": "东塘镇", "village": EVIL, "households": 10, "households_with_issues": 1,
                      "suspect_rate": 0.1, "flagged": True},
                     {"township": "东塘镇", "village": "新华村", "households": 100, "households_with_issues": 1,
                      "suspect_rate": 0.01, "flagged": False}],
        "totals": {"issues": 4, "by_severity": {"error": 2, "suspect": 1, "notice": 1},
                   "by_status": {"new": 2, "persisting": 1, "reopened": 0, "waived": 1}, "resolved": 3},
        "expectations": {"status": "evaluated", "evaluated": 2, "failed": 1, "skipped": 1,
                         "previous_period": "2026-09", "data_docs": "data_docs/index.html",
                         "results": [
                             {"name": "households.row_count", "title": "家庭情况表行数与上期相比变化不超过±20%",
                              "success": False, "skipped": False, "observed_text": "50 行（-50.0%）",
                              "expected": "80–120 行（上期 100 行）"},
                             {"name": "villages.households_min", "title": "每个村至少有 1 户", "success": False,
                              "skipped": False, "observed_text": "1 个村不符合", "expected": "每村 ≥ 1 户",
                              "details": {"villages": [f"东塘镇/{EVIL}（本期 0 户，上期 5 户）"]}},
                             {"name": "villages.growth", "title": "各村户数不超过上期的 3 倍", "success": None,
                              "skipped": True, "observed_text": "—", "note": "无上期运行记录，本期不比较"}]},
    }


def test_summary_is_self_contained_and_escaped(tmp_path):
    path = write_summary(_con(with_store=True), tmp_path, _manifest())
    assert path == tmp_path / "summary.html"
    page = path.read_text(encoding="utf-8")
    # no network: nothing external, no scripts at all, charts inline
    assert not re.search(r"https?://", page)
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert not re.search(r"""\bsrc\s*=""", page)
    assert "<svg" in page
    # every data value escaped
    assert "&lt;script&gt;" in page
    # the sections
    for text in ("问题概况", "各期趋势", "按规则统计", "各村疑似率", "部门数据比对", "文件读取情况",
                 "未执行的规则", "批量期望检查", "整改未见效", "需全面复核", "缺少扶贫小额信贷表",
                 "证件号码校验失败", "民政低保特困", "家庭情况表行数与上期相比变化不超过±20%",
                 "data_docs/index.html", "湘阴县"):
        assert text in page, text
    # the trend has the stored period and this one
    trend = page[page.index('id="trend"'):page.index('id="rules"')]
    assert "2026-09" in trend and "2026-10" in trend
    # flagged village listed before the unflagged one
    assert page.index("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</td>") < page.index("新华村</td>")


def test_summary_without_store_or_expectations(tmp_path):
    manifest = _manifest()
    del manifest["expectations"]
    manifest["reconciliation"] = {}
    page = write_summary(_con(with_store=False), tmp_path, manifest).read_text(encoding="utf-8")
    assert "本期未执行批量期望检查" in page
    assert "2026-10" in page and "&lt;script&gt;" in page


def test_banner_lists_files_not_loaded_and_townships_lacking(tmp_path):
    manifest = _manifest()
    manifest["not_loaded"] = [
        {"file": "drop/城西镇成员.csv", "sheet": None, "reason": "文件无法解码"},
        {"file": "drop/家庭.xlsx", "sheet": "Sheet2", "reason": "missing required column(s): 户编号, 户主姓名"},
    ]
    manifest["townships_lacking"] = [{"township": "城西镇", "lacks": "members", "rules": ["HH-01", "HH-03", "ID-01"]}]
    page = write_summary(_con(with_store=False), tmp_path, manifest).read_text(encoding="utf-8")
    banner = page[page.index('id="banner"'):page.index('id="overview"')]     # first thing in the page
    assert "有 2 个文件或工作表没有读入" in banner
    assert "城西镇成员.csv" in banner and "文件无法解码" in banner
    assert "工作表“Sheet2”" in banner and "缺少必需列：户编号、户主姓名" in banner
    assert "城西镇" in banner and "缺少家庭成员表" in banner and "HH-01" in banner
    assert "missing" not in banner


def test_no_banner_when_everything_loaded_or_manifest_is_old(tmp_path):
    page = write_summary(_con(with_store=False), tmp_path, _manifest()).read_text(encoding="utf-8")
    assert 'id="banner"' not in page
    m = _manifest()
    m.update(not_loaded=[], townships_lacking=[])
    assert 'id="banner"' not in write_summary(_con(with_store=False), tmp_path, m).read_text(encoding="utf-8")


def test_one_vocabulary_local_time_and_no_english(tmp_path):
    m = _manifest()
    m["finished_at"] = "2026-11-01T06:30:05+00:00"
    m["rules"]["HH-02"] = {"status": "skipped", "reason": "missing table: households"}
    page = write_summary(_con(with_store=True), tmp_path, m).read_text(encoding="utf-8")
    assert "疑点" not in page and "持续存在" not in page and "重新出现" not in page
    for word in ("错误", "疑似", "提示", "新发现", "仍存在", "再次出现", "核实无误", "已销号"):
        assert word in page, word
    assert "2026-11-01 14:30:05（北京时间）" in page              # UTC 06:30 is 14:30 in the county
    assert "缺少家庭情况表，本期未检查" in page
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", body)
    for word in ("civil_affairs", "village_suspect_rate", "households.row_count", "Great Expectations",
                 "missing table", "cardcheck"):
        assert word not in text, word


def test_bidi_and_control_characters_are_shown(tmp_path):
    m = _manifest()
    m["villages"][1]["village"] = "新\u202e华村\x07"
    page = write_summary(_con(with_store=False), tmp_path, m).read_text(encoding="utf-8")
    assert "\u202e" not in page and "\x07" not in page
    assert "新〔U+202E〕华村␇" in page

"""Reconciliation statistics per agency table (rules.md "Reconciliation rates")."""
import datetime as dt

from ruleutil import add, household, keys, member, new_db, pid, run

from pipeline.reconcile.stats import CLASSES, reconciliation_stats


def sub(id_number: str, k: int) -> str:
    c = id_number[k - 1]
    return id_number[:k - 1] + ("0" if c != "0" else "1") + id_number[k:]


def bad_check(id_number: str) -> str:
    return id_number[:17] + ("0" if id_number[17] != "0" else "1")


def _build():
    con = new_db()
    a, b, c, d = pid(1970, 1, 1), pid(1971, 2, 2), pid(1972, 3, 3), pid(1973, 4, 4)
    add(con, "households", [household("H1", "张三", size=4)])
    add(con, "members", [
        member("H1", "张三", a, "户主"),
        member("H1", "李四", sub(b, 12), "配偶"),   # typo: the hukou row of b is its candidate
        member("H1", "王五", sub(c, 11), "之子"),   # typo with two equally close candidates
        member("H1", "赵六", d[:6] + d[8:17], "之父"),   # 15-digit member ID
    ])
    other = sub(sub(c, 11), 14)
    add(con, "hukou", [
        dict(name="张三", id_number=a, hukou_status="正常"),               # exact
        dict(name="张三", id_number=a, hukou_status="正常", hukou_type="农业"),  # exact (2nd row)
        dict(name="李四", id_number=b, hukou_status="正常"),               # fuzzy (unique)
        dict(name="王五", id_number=c, hukou_status="正常"),               # ambiguous, valid: unmatched
        dict(name="王五", id_number=other, hukou_status="正常"),           # ambiguous, invalid ID
        dict(name="赵六", id_number=d, hukou_status="正常"),               # exact via 15→18
        dict(name="孙七", id_number=pid(1990, 5, 5), hukou_status="正常"),  # unmatched
        dict(name="周八", id_number=bad_check(pid(1991, 6, 6)), hukou_status="正常"),  # invalid
        dict(name="吴九", id_number="4.30624199106061E+17", hukou_status="正常"),     # invalid
        dict(name="郑十", id_number=None, hukou_status="正常"),            # no ID: invalid
    ])
    add(con, "payroll", [
        dict(name="张三", id_number=a, employer="县局", payroll_status="离职"),   # exact
        dict(name="李四", id_number=b, employer="县局", payroll_status="在职"),   # fuzzy
    ])
    return con, a, b


def test_stats_classify_every_row_once():
    con, a, b = _build()
    issues = run(con, only={"XA-10"})
    assert keys(issues, "XA-10") == {("H1", sub(b, 12))}       # the ambiguous typo stays silent
    stats = reconciliation_stats(con)
    assert list(stats) == ["hukou", "payroll"]                 # only tables with rows
    assert stats["hukou"] == dict(rows=10, matched_exact=3, matched_fuzzy=1, unmatched=2,
                                  unmatched_invalid_id=4)
    assert stats["payroll"] == dict(rows=2, matched_exact=1, matched_fuzzy=1, unmatched=0,
                                    unmatched_invalid_id=0)
    for s in stats.values():
        assert s["rows"] == sum(s[c] for c in CLASSES)


def test_invalid_agency_id_equal_to_invalid_member_id_is_not_an_exact_match():
    con = new_db()
    bad = bad_check(pid(1980, 7, 7))
    add(con, "households", [household("H1", "张三")])
    add(con, "members", [member("H1", "张三", bad, "户主")])
    add(con, "vehicles", [dict(owner="张三", id_number=bad, plate="湘F1", vehicle_type="小型轿车",
                               vehicle_status="正常")])
    run(con, only={"XA-03"})
    assert reconciliation_stats(con) == {"vehicles": dict(
        rows=1, matched_exact=0, matched_fuzzy=0, unmatched=0, unmatched_invalid_id=1)}


def test_no_agency_rows_gives_empty_stats():
    con = new_db()
    add(con, "households", [household("H1", "张三")])
    add(con, "members", [member("H1", "张三", pid(1980, 8, 8), "户主")])
    run(con, only={"XA-10"})
    assert reconciliation_stats(con) == {}


def test_civil_affairs_person_id_is_the_row_id_and_fuzzy_counts_in_its_table():
    con = new_db()
    a = pid(1950, 9, 9)
    add(con, "households", [household("H1", "张三")])
    add(con, "members", [member("H1", "张三", a, "户主")])
    add(con, "civil_affairs", [
        # the member is only the head of this row: the row's person is someone else
        dict(name="李四", id_number=pid(1952, 1, 1), head_id_number=a, aid_type="农村低保",
             start_on=dt.date(2020, 1, 1)),
        dict(name="张三", id_number=a, aid_type="农村低保", start_on=dt.date(2020, 1, 1)),
    ])
    run(con, only={"XA-09"})
    assert reconciliation_stats(con)["civil_affairs"] == dict(
        rows=2, matched_exact=1, matched_fuzzy=0, unmatched=1, unmatched_invalid_id=0)


def test_rows_are_loaded_rows_after_duplicates(tmp_path):
    """rules.md "Reconciliation rates": rows (loaded, after duplicates); the identity holds."""
    from pipeline.ingest.load import ingest

    a, b = pid(1960, 1, 1), pid(1961, 2, 2)
    (tmp_path / "members.csv").write_text(
        "户编号,姓名,证件号码,与户主关系\n001,张三,%s,户主\n001,李四,%s,配偶\n" % (a, sub(b, 12)),
        encoding="utf-8")
    (tmp_path / "households.csv").write_text(
        "户编号,户主姓名,家庭人口数,贫困户属性,脱贫属性\n001,张三,2,一般贫困户,已脱贫\n", encoding="utf-8")
    (tmp_path / "hukou.csv").write_text(
        "姓名,公民身份号码,户籍状态\n"
        f"张三,{a},正常\n张三,{a},正常\n"            # exact duplicate: one loaded row
        f"李四,{b},正常\n"                           # XA-10 candidate of 李四
        "王五,,正常\n"                               # no ID: rejected, not a loaded row
        f"赵六,{bad_check(pid(1970))},正常\n",       # invalid
        encoding="utf-8")
    con = new_db()
    reports = ingest(con, sorted(tmp_path.iterdir()), tmp_path)
    hk = [r for r in reports if r.kind == "hukou"][0]
    assert (hk.rows_read, hk.rows_loaded, hk.rows_rejected) == (5, 3, 2)
    run(con, only={"XA-10"})
    stats = reconciliation_stats(con)["hukou"]
    assert stats == dict(rows=3, matched_exact=1, matched_fuzzy=1, unmatched=0, unmatched_invalid_id=1)
    assert stats["rows"] == sum(stats[c] for c in CLASSES)


def test_fuzzy_candidate_with_an_invalid_agency_id_counts_as_fuzzy_once():
    con = new_db()
    a = pid(1960, 1, 1)
    add(con, "households", [household("H1", "张三")])
    add(con, "members", [member("H1", "张三", a, "户主")])
    add(con, "hukou", [dict(name="张三", id_number=sub(a, 10), hukou_status="正常")])  # typo on the agency side
    issues = run(con, only={"XA-10", "XA-11"})
    assert keys(issues, "XA-10") == {("H1", a)}
    assert reconciliation_stats(con)["hukou"] == dict(
        rows=1, matched_exact=0, matched_fuzzy=1, unmatched=0, unmatched_invalid_id=0)

from conftest import PERIOD, T_B, member_rows, members_xlsx


def test_upload_and_pages(world, login, tmp_path):
    c = login(world["town_b"])
    f = members_xlsx(tmp_path / "m.xlsx", member_rows(T_B, 5, start=100, bad=1))
    with open(f, "rb") as fh:
        r = c.post("/uploads/", {"files": fh, "period": PERIOD})
    assert r.status_code == 302, r.content.decode()[:2000]
    r = c.get(r["Location"])
    assert r.status_code == 200
    print(r.content.decode()[:6000])

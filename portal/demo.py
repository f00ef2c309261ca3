"""Demo accounts for `make serve-demo`: one per role on the demo county, passwords printed.

    python -m portal.demo [--data DIR | --config FILE] [--json FILE]

Accounts: demo_admin (县级管理员), demo_county (县级业务员), demo_township (the first township of
the latest run), demo_township2 (the second), demo_village (a village of the first township).
Running it again gives them new passwords. Demo accounts skip the change of password at first
login (they are for trying the portal, on generated data only).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def make_demo_accounts(s) -> list[dict]:
    from portal import conf

    conf.setup(s)
    from django.contrib.auth import get_user_model

    from portal import areas
    from portal.models import Account, Role
    from portal.views.accounts import make_account, one_time_password

    areas.refresh(force=True)
    towns = areas.townships()
    if not towns:
        raise SystemExit("no completed run in this data folder: run `cardcheck demo` first")
    t1, t2 = towns[0], towns[1] if len(towns) > 1 else towns[0]
    v1 = areas.villages_of(t1)[0]
    wanted = [("demo_admin", Role.ADMIN, "", ""), ("demo_county", Role.COUNTY, "", ""),
              ("demo_township", Role.TOWNSHIP, t1, ""), ("demo_township2", Role.TOWNSHIP, t2, ""),
              ("demo_village", Role.VILLAGE, t1, v1)]
    User = get_user_model()
    out = []
    for name, role, t, v in wanted:
        user = User.objects.filter(username=name).first()
        if user is None:
            user, pw = make_account(name, role, t, v, "make serve-demo")
        else:
            pw = one_time_password()
            user.set_password(pw)
            user.is_active = True
            user.save()
            Account.objects.filter(user=user).update(role=role, township=t, village=v)
        Account.objects.filter(user=user).update(must_change_password=False)
        from axes.utils import reset as axes_reset

        axes_reset(username=name)
        out.append({"username": name, "password": pw, "role": role, "role_label": Role(role).label,
                    "township": t, "village": v})
    return out


def main(argv=None) -> None:
    from portal.services import resolve_settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--config", type=Path)
    ap.add_argument("--json", type=Path, help="also write the accounts to this file")
    a = ap.parse_args(argv)
    s = resolve_settings(config=a.config, data=a.data)
    accounts = make_demo_accounts(s)
    print("demo accounts (generated data only):")
    for x in accounts:
        area = " ".join(p for p in (x["township"], x["village"]) if p) or "全县"
        print(f"  {x['username']:<16} {x['password']}   {x['role_label']}（{area}）")
    if a.json:
        a.json.write_text(json.dumps(accounts, ensure_ascii=False, indent=1), encoding="utf-8")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Derived relations shared by the rules (materialised once per run, in this order).

v_id       every distinct ID-like value of the drop (members, heads, helpers,
           pairings, borrowers, every agency ID column) with its facts: shape,
           birth date, check digit, validity, 18-digit matching form, gender, region.
           The check digit is the SQL macro id_check_digit (schemas.ids), per distinct value.
v_members  every member row joined to its ID facts, with age on R (valid IDs only).
v_hh       every household_id of households ∪ members with its township/village,
           head name and member counts (rules.md "Which households a rule visits").
v_head     the 户主 row of each household that has exactly one.
v_agency   one row per agency record: agency table, row id, its person ID and the
           facts of that ID, the record's name (for XA-10 and reconciliation).
"""
from checks.registry import view
from schemas.tables import AGENCY


def agency_rows(table: str, extra: str = "") -> str:
    """SQL: the rows of an agency table whose person ID is valid, with `id18`, its matching form
    (rules.md "Matched"). `extra` adds select expressions over the table alias `x`."""
    return (f"SELECT x.*, a.id18{', ' + extra if extra else ''} FROM {table} x "
            f"JOIN v_agency a ON a.agency = '{table}' AND a._rid = x._rid WHERE a.id_valid")


def _agency_ids() -> str:
    parts = []
    for t in AGENCY:
        parts.append(f"SELECT {t.person_col} AS v FROM {t.name}")
    parts.append("SELECT head_id_number FROM civil_affairs")
    return "\n    UNION ".join(parts)


def _agency_rows() -> str:
    name_col = {"vehicles": "owner", "businesses": "legal_rep", "real_estate": "owner",
                "housing": "head_name"}
    parts = []
    for t in AGENCY:
        name = name_col.get(t.name, "name")
        parts.append(f"SELECT '{t.name}' AS agency, _rid, {t.person_col} AS id_number, "
                     f"{name} AS name FROM {t.name}")
    return "\n    UNION ALL ".join(parts)


view("v_id", rf"""
WITH vals AS (
    SELECT id_number AS v FROM members
    UNION SELECT head_id_number FROM households
    UNION SELECT id_number FROM helpers
    UNION SELECT helper_id_number FROM pairings
    UNION SELECT borrower_id_number FROM loans
    UNION {_agency_ids()}
), s AS (
    SELECT v AS id_number,
           CASE WHEN regexp_full_match(v, '[0-9]{{17}}[0-9X]') THEN 18
                WHEN regexp_full_match(v, '[0-9]{{15}}') THEN 15 END AS id_shape
    FROM vals WHERE v IS NOT NULL AND v <> ''
), b AS (
    SELECT s.*,
           CASE id_shape WHEN 18 THEN substr(id_number, 7, 8)
                         WHEN 15 THEN '19' || substr(id_number, 7, 6) END AS birth_digits,
           CASE id_shape WHEN 18 THEN substr(id_number, 17, 1)
                         WHEN 15 THEN substr(id_number, 15, 1) END AS gender_digit,
           CASE id_shape WHEN 18 THEN id_check_digit(id_number) = substr(id_number, 18, 1) END AS check_ok,
           CASE id_shape WHEN 15 THEN substr(id_number, 1, 6) || '19' || substr(id_number, 7, 9) END AS body17
    FROM s
), c AS (
    SELECT b.*,
           CASE WHEN strftime(try_strptime(birth_digits, '%Y%m%d'), '%Y%m%d') = birth_digits
                THEN try_strptime(birth_digits, '%Y%m%d')::DATE END AS birth_real
    FROM b
), d AS (
    SELECT c.*,
           coalesce(birth_real <= $R AND birth_real >= DATE '1900-01-01', false) AS birth_ok
    FROM c
)
SELECT id_number, id_shape, birth_digits, gender_digit, check_ok, birth_real, birth_ok,
       coalesce((id_shape = 18 AND check_ok AND birth_ok) OR (id_shape = 15 AND birth_ok), false) AS id_valid,
       CASE WHEN id_shape = 18 AND check_ok AND birth_ok THEN id_number
            WHEN id_shape = 15 AND birth_ok THEN body17 || id_check_digit(body17) END AS id18,
       CASE WHEN gender_digit IS NULL THEN NULL
            WHEN CAST(gender_digit AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END AS id_gender,
       CASE WHEN id_shape IS NOT NULL
            THEN substr(id_number, 1, 6) IN (SELECT code FROM region_codes) END AS region_ok
FROM d
""")

view("v_members", r"""
SELECT m.*,
       f.id_shape, f.birth_digits, f.gender_digit, f.check_ok, f.birth_real, f.birth_ok,
       coalesce(f.id_valid, false) AS id_valid, f.id18, f.id_gender, f.region_ok,
       CASE WHEN f.id_valid THEN f.birth_real END AS birth,
       CASE WHEN f.id_valid
            THEN year($R) - year(f.birth_real)
                 - CASE WHEN month($R) < month(f.birth_real)
                          OR (month($R) = month(f.birth_real) AND day($R) < day(f.birth_real))
                        THEN 1 ELSE 0 END END AS age
FROM members m
LEFT JOIN v_id f USING (id_number)
""")

view("v_hh", r"""
WITH ids AS (
    SELECT household_id FROM households WHERE household_id IS NOT NULL
    UNION
    SELECT household_id FROM members WHERE household_id IS NOT NULL
), mgeo AS (   -- a village is the pair (township, village): vote on the pair
    SELECT household_id, township, village,
           min(county) AS county,
           count(*) AS n, max(CASE WHEN relation = '户主' THEN 1 ELSE 0 END) AS has_head,
           min(_rid) AS first_rid
    FROM members WHERE household_id IS NOT NULL
    GROUP BY household_id, township, village
), mgeo1 AS (
    SELECT * FROM mgeo
    QUALIFY row_number() OVER (PARTITION BY household_id
                               ORDER BY n DESC, has_head DESC, first_rid) = 1
), mstat AS (
    SELECT household_id, count(*) AS n_members,
           count(*) FILTER (WHERE relation = '户主') AS n_heads,
           min(name) FILTER (WHERE relation = '户主') AS head_member_name
    FROM members WHERE household_id IS NOT NULL GROUP BY household_id
), h1 AS (
    SELECT * FROM households WHERE household_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY _rid) = 1
)
SELECT ids.household_id,
       h1.household_id IS NOT NULL AS in_households,
       mstat.household_id IS NOT NULL AS in_members,
       CASE WHEN h1.household_id IS NOT NULL THEN h1.county ELSE mgeo1.county END AS county,
       CASE WHEN h1.household_id IS NOT NULL THEN h1.township ELSE mgeo1.township END AS township,
       CASE WHEN h1.household_id IS NOT NULL THEN h1.village ELSE mgeo1.village END AS village,
       coalesce(h1.head_name, mstat.head_member_name) AS head_name,
       coalesce(mstat.n_members, 0) AS n_members,
       coalesce(mstat.n_heads, 0) AS n_heads
FROM ids
LEFT JOIN h1 USING (household_id)
LEFT JOIN mgeo1 USING (household_id)
LEFT JOIN mstat USING (household_id)
""")

view("v_head", r"""
SELECT m.*
FROM v_members m
JOIN v_hh h USING (household_id)
WHERE h.n_heads = 1 AND m.relation = '户主'
""")

view("v_agency", rf"""
WITH a AS (
    {_agency_rows()}
)
SELECT a.agency, a._rid, a.id_number, a.name,
       coalesce(f.id_valid, false) AS id_valid, f.id18
FROM a LEFT JOIN v_id f USING (id_number)
""")

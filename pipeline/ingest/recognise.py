"""Find a sheet's header row and its table kind (inputs.md "Kind recognition").

One job: given a sheet's text rows, say where the header is (title rows above
it, a two-row header), which canonical table it is, and which file column holds
which canonical column — or why it cannot be recognised.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import eq, is_, itemgetter, not_

from pipeline.ingest.read import Sheet, cell_text, row_text
from schemas.headers import is_known, map_normed, norm_header
from schemas.tables import TABLES

HEADER_SCAN_ROWS = 40
MAX_EXTRAS = 256            # extra columns kept per sheet (a header wider than that is not a real export)
SKIP_PREFIXES = ("合计", "总计", "小计", "制表人", "填表人", "审核人", "备注")


@dataclass
class Layout:
    header_index: int                 # index into sheet.rows of the (lower) header row
    headers: list[str]                # the column names (two-row headers combined)
    header_rows: int = 1              # 1 or 2
    kind: str | None = None
    columns: dict[str, int] = field(default_factory=dict)    # canonical -> file column index
    extras: dict[str, int] = field(default_factory=dict)     # other header -> file column index
    problem: str | None = None        # unrecognised / ambiguous / missing columns (plain Chinese)
    dropped_extras: int = 0           # extra columns beyond MAX_EXTRAS, not kept
    missing: list[str] = field(default_factory=list)         # req headers missing (SCH-01)
    candidates: list[str] = field(default_factory=list)


def _merges_at(sheet: Sheet, rows: tuple[int, ...], width: int) -> list[tuple[int, int, int, int]]:
    """The merged ranges that touch the given rows, clipped to `width` columns, each once
    (only merges touching the header rows matter; a sheet may hold thousands)."""
    out = set()
    for (r0, c0), (r1, c1) in sheet.merged:
        if c0 < width and any(r0 <= r <= r1 for r in rows):
            out.add((r0, c0, r1, min(c1, width - 1)))
    return sorted(out)


def _fill_merged(sheet: Sheet, r: int, row: list, width: int, merges) -> list[str]:
    """Merged cells take their top-left value (for header rows)."""
    out = row_text(row)
    if len(out) < width:
        out += [""] * (width - len(out))
    for r0, c0, r1, c1 in merges:
        if r0 <= r <= r1:
            top = cell_text(sheet.rows[r0][c0]) if r0 < len(sheet.rows) and c0 < len(sheet.rows[r0]) else ""
            for c in range(c0, c1 + 1):
                if c != c0 or r != r0:
                    out[c] = top
    while out and out[-1] == "" and len(out) > len(row):
        out.pop()
    return out


def _known_count(cells: list[str]) -> int:
    return sum(1 for c in cells if c and is_known(c))


def find_header(sheet: Sheet) -> tuple[int, list[str], int] | None:
    """(index of the header row, column names, 1 or 2 header rows), or None."""
    best, best_score = None, 1   # need at least 2 known headers
    limit = min(len(sheet.rows), HEADER_SCAN_ROWS)
    for i in range(limit):
        row = row_text(sheet.rows[i])
        if not any(row):
            continue
        score = _known_count(row)
        if score > best_score:
            best, best_score = i, score
    if best is None:
        return None
    width = max(len(sheet.rows[best]), len(sheet.rows[best - 1]) if best > 0 else 0)
    merges = _merges_at(sheet, (best - 1, best), width) if sheet.merged else []
    lower = _fill_merged(sheet, best, sheet.rows[best], width, merges)
    headers, n_rows = lower, 1
    if best > 0:
        upper = _fill_merged(sheet, best - 1, sheet.rows[best - 1], width, merges)
        width = max(len(lower), len(upper))
        lower_p = lower + [""] * (width - len(lower))
        upper_p = upper + [""] * (width - len(upper))
        combined = [lo if norm_header(lo) else up for lo, up in zip(lower_p, upper_p)]
        if _known_count(combined) > _known_count(lower_p):
            headers, n_rows = combined, 2
    return best, headers, n_rows


def recognise(sheet: Sheet, kind: str | None = None) -> Layout | None:
    """The layout of a sheet, or None when no header row is found at all."""
    found = find_header(sheet)
    if found is None:
        return None
    idx, headers, n_rows = found
    lay = Layout(header_index=idx, headers=headers, header_rows=n_rows)
    tables = [TABLES[kind]] if kind else list(TABLES.values())
    normed = [norm_header(h) for h in headers]
    full, partial = [], []
    for t in tables:
        cols = map_normed(t, normed)
        req = t.required
        present_req = [c for c in req if c in cols]
        if len(present_req) == len(req):
            full.append((len(cols), t.name, cols))
        else:
            share = len(present_req) / len(req)
            partial.append((share, len(cols), t.name, cols, [c for c in req if c not in cols]))
    if full:
        full.sort(key=lambda x: -x[0])
        if len(full) > 1 and full[0][0] == full[1][0]:
            lay.candidates = [f[1] for f in full if f[0] == full[0][0]]
            lay.problem = _ambiguous(lay.candidates)
            return lay
        _, lay.kind, lay.columns = full[0]
    else:
        partial.sort(key=lambda x: (-x[0], -x[1]))
        # a kind named by the caller (validate --kind) is reported with its missing columns,
        # however few of them are present
        best = partial if kind else [p for p in partial if p[0] >= 0.5 and TABLES[p[2]].key_header in p[3]]
        if not best:
            lay.problem = "表头与任何一种数据表都对不上，未载入"
            return lay
        if len(best) > 1 and (best[0][0], best[0][1]) == (best[1][0], best[1][1]):
            lay.candidates = [best[0][2], best[1][2]]
            lay.problem = _ambiguous(lay.candidates)
            return lay
        share, _, lay.kind, lay.columns, lay.missing = best[0]
        t = TABLES[lay.kind]
        lay.problem = (f"按{t.title}表识别，缺少必需列：" + "、".join(t.col(m).header for m in lay.missing)
                       + "，未载入")
        return lay
    used = set(lay.columns.values())
    seen: dict[str, int] = {}
    for i, name in enumerate(normed):
        if i in used or not name:
            continue
        if len(lay.extras) >= MAX_EXTRAS:
            lay.dropped_extras += 1
            continue
        k = seen.get(name, 0)
        seen[name] = k + 1
        key = name + "_" * k
        while key in lay.extras:          # a header that itself ends in "_"
            key += "_"
        lay.extras[key] = i
    return lay


def _ambiguous(kinds: list[str]) -> str:
    return ("表头同时符合" + "和".join(f"“{TABLES[k].title}”" for k in kinds)
            + "，无法确定是哪一种表，未载入")


_STRIP = " \t\r\n\u3000\u00a0\u200b\ufeff"


def skip_rows(rows: list, start: int, header_norm: list[str] | None = None) -> dict[int, str]:
    """{index: reason} for the rows from `start` on that are not data rows (see is_skip_row).

    The hot path of every sheet: a fast pass over the first cells settles almost every row
    as data, and only the rest go through is_skip_row. A row is data for certain when its
    first cell is a non-negative number, or text that starts with neither a strip character
    nor a 合计-like prefix and cannot be a repeated header: it starts with a digit, or with a
    CJK ideograph (NFKC leaves those and their position alone) other than the first character
    of the header's first name. Each distinct first cell is judged once, and the judging runs
    at C speed (one regular expression over the distinct texts; see _unsure)."""
    h0 = next((h for h in header_norm if h), "") if header_norm else ""
    h0c = h0[:1] or "\x00"
    body = rows[start:]
    try:
        firsts = list(map(itemgetter(0), body))
    except IndexError:          # an empty row (text and streamed sheets)
        firsts = [r[0] if r else None for r in body]
    unsure = _unsure(set(firsts), h0c)
    if unsure is None:          # values the fast judge does not take (NaN, line breaks): one by one
        unsure = set(firsts) - _surely_data(set(firsts), h0c)
        maybe = [k for k, c in enumerate(firsts) if c in unsure or type(c) is bool]
    else:
        maybe = compress(range(len(firsts)), map(unsure.__contains__, firsts))
    out = {}
    for k in maybe:
        why = is_skip_row(rows[start + k], header_norm)
        if why:
            out[start + k] = why
    return out


def _surely_data(values: set, h0c: str) -> set:
    """The first cells (of `values`) that make a row data for certain, judged one by one."""
    strip, prefixes, inf = _STRIP, SKIP_PREFIXES, float("inf")
    return {c for c in values if
            (type(c) is str and c != "" and c[0] not in strip and not c.startswith(prefixes)
             and (c[0].isdigit() or ("\u4e00" <= c[0] <= "\u9fff" and c[0] != h0c)))
            or (type(c) is float and 0 <= c < inf) or (type(c) is int and c >= 0)}


_UNSURE_TEXT = {}


def _unsure(values: set, h0c: str) -> set | None:
    """The first cells (of `values`) that do not make a row data for certain: text that is empty
    or starts with anything but an ASCII digit or a CJK ideograph, or with the header's first
    character, or with a 合计-like prefix; a negative or infinite number; anything else (empty
    cells, booleans, dates). A subset of what _surely_data leaves (other Unicode digits are left
    unsure: is_skip_row judges them). None when a value needs the one-by-one judge (NaN, a text
    with a line break)."""
    vals = list(values)
    kinds = list(map(type, vals))
    if set(kinds) <= {str}:
        strs, others = vals, []
    else:
        is_str = list(map(is_, kinds, repeat(str)))
        strs, others = list(compress(vals, is_str)), list(compress(vals, map(not_, is_str)))
    joined = "\n".join(strs)
    if joined.count("\n") != max(len(strs) - 1, 0):
        return None
    pattern = _UNSURE_TEXT.get(h0c)
    if pattern is None:
        starts = "|".join(re.escape(p) for p in (h0c, *SKIP_PREFIXES))
        pattern = _UNSURE_TEXT[h0c] = re.compile(f"\n((?![0-9\u4e00-\u9fff])[^\n]*|(?:{starts})[^\n]*)")
    unsure = set(pattern.findall("\n" + joined)) if strs else set()
    if others and set(map(type, others)) <= {float, int}:      # a column of numbers: their range at once
        if not all(map(eq, others, others)):        # NaN
            return None
        if min(others) >= 0 and max(others) < float("inf"):
            others = []
    inf = float("inf")
    for c in others:
        t = type(c)
        if t is float:
            if c != c:
                return None
            if 0 <= c < inf:
                continue
        elif t is int and c >= 0:
            continue
        unsure.add(c)
    unsure.update((True, False))    # a set holds one of 0 / False (1 / True): bool cells are never sure
    return unsure


def is_skip_row(row: list[str], header_norm: list[str] | None = None) -> str | None:
    """Why a row after the header is not a data row ('empty', 'total', 'header'), else None."""
    first = None
    for c in row:
        if type(c) is not str:
            if c is None:
                continue
            c = cell_text(c)
        if c and c.strip(" \t\r\n\u3000\u00a0\u200b\ufeff"):
            first = c
            break
    if first is None:
        return "empty"
    s = first.strip(" \t\r\n\u3000\u00a0\u200b\ufeff")
    if s.startswith(SKIP_PREFIXES):
        return "total"
    if header_norm is not None and header_norm and not s[0].isdigit() and norm_header(s) in header_norm:
        # cheap pre-check above: only a row whose first cell is a header name can repeat the header
        n = [norm_header(c) for c in row_text(row)]
        while n and not n[-1]:
            n.pop()
        if n == header_norm:
            return "header"
    return None

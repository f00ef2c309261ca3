#!/usr/bin/env bash
# Open every village workbook headless in LibreOffice and convert it; fail if any
# conversion fails. A workbook LibreOffice cannot load (or would have to repair)
# produces no output, so this catches broken files before they reach a village.
#
#   bash bench/check_workbooks.sh [REPORTS_DIR ...]     (default: reports)
#
# Each workbook is converted to PDF (every sheet is rendered) and, per sheet, to CSV;
# the 问题清单 CSV must carry the issue_id header. LibreOffice is installed with
# apt-get when missing (needs root).
set -euo pipefail

roots=("$@")
[ ${#roots[@]} -gt 0 ] || roots=(reports)

if ! command -v soffice >/dev/null 2>&1; then
    echo "soffice not found: installing libreoffice-calc" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libreoffice-calc >/dev/null
fi

mapfile -d '' files < <(find "${roots[@]}" -path '*/villages/*' -type f -name '*.xlsx' -print0 2>/dev/null | sort -z)
if [ ${#files[@]} -eq 0 ]; then
    echo "no village workbooks under ${roots[*]} (*/villages/*.xlsx)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
profile="file://$work/profile"      # a private profile: no clash with a running LibreOffice
mkdir -p "$work/in" "$work/pdf" "$work/csv"
n=0
for f in "${files[@]}"; do           # plain ASCII names, so outputs map back to their workbook
    n=$((n + 1))
    cp -- "$f" "$work/in/wb$n.xlsx"
done

convert() {   # convert FORMAT OUTDIR: every workbook in one LibreOffice process
    timeout $((120 + 10 * n)) soffice -env:UserInstallation="$profile" --headless --norestore \
        --convert-to "$1" --outdir "$2" "$work"/in/*.xlsx >"$2/log" 2>&1 || true
}
convert pdf "$work/pdf"
# every sheet as UTF-8 CSV (sheet -1 = all sheets → wbN-<sheet>.csv)
convert 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1' "$work/csv"

failed=0
for i in $(seq 1 "$n"); do
    f=${files[$((i - 1))]}
    why=""
    if [ ! -s "$work/pdf/wb$i.pdf" ]; then
        why="PDF conversion failed"
    else
        for sheet in 说明 问题清单 按户汇总; do
            [ -s "$work/csv/wb$i-$sheet.csv" ] || { why="sheet $sheet missing after conversion"; break; }
        done
        if [ -z "$why" ] && ! head -n 1 "$work/csv/wb$i-问题清单.csv" | grep -q 'issue_id'; then
            why="问题清单 has no issue_id header after conversion"
        fi
    fi
    if [ -n "$why" ]; then
        echo "FAIL: $f: $why" >&2
        failed=$((failed + 1))
    fi
done
if [ "$failed" -gt 0 ]; then
    grep -i 'error' "$work/pdf/log" "$work/csv/log" >&2 || true
fi

if [ "$failed" -gt 0 ]; then
    echo "$failed of $n village workbooks failed to convert" >&2
    exit 1
fi
echo "all $n village workbooks open and convert in LibreOffice ($(soffice --version 2>/dev/null | head -n 1))"

#!/usr/bin/env bash
# Render an HTML report (summary.html, or a Data Docs page) in headless Chromium and take a
# screenshot; fail when Chromium produces none.
#
#   bench/check_report.sh REPORT.html [SCREENSHOT.png] [WIDTHxHEIGHT]
#
# Defaults: SCREENSHOT = REPORT with .png, size 1400x3000. Network is not needed (and not
# used: the page must be self-contained). Installs chromium (and a CJK font, without which
# Chinese renders as boxes) with apt-get when missing.
set -euo pipefail

report=${1:?usage: bench/check_report.sh REPORT.html [SCREENSHOT.png] [WIDTHxHEIGHT]}
shot=${2:-${report%.html}.png}
size=${3:-1400x3000}
[[ -f $report ]] || { echo "check_report: no such file: $report" >&2; exit 2; }

if [[ ! -x /usr/bin/chromium ]]; then
    echo "check_report: installing chromium" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if command -v fc-list >/dev/null && ! fc-list :lang=zh | grep -q .; then
    echo "check_report: installing a CJK font (fonts-noto-cjk)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null || true
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$shot"
url="file://$(realpath "$report")"
timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --screenshot="$(realpath -m "$shot")" --window-size="${size/x/,}" \
    --hide-scrollbars "$url" >/dev/null 2>"$profile/chromium.log" || true

if [[ ! -s $shot ]]; then
    echo "check_report: FAILED, no screenshot produced for $report" >&2
    tail -20 "$profile/chromium.log" >&2 || true
    exit 1
fi
echo "check_report: ok, $shot ($(stat -c %s "$shot") bytes)"

#!/bin/sh
# publish: the public page as a real browser shows it (Debian's chromium,
# headless): it renders, the search finds a holder typed without tone
# marks, and with JavaScript off the whole list is still there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
. "$(dirname "$0")/publish-fixture.sh"

if ! command -v chromium >/dev/null 2>&1; then
    echo "1..0 # SKIP chromium is not installed"
    exit 0
fi
make_published_fixture || echo "# fixture failed"
cat >"$T/req.csv" <<'CSV'
request_id,agency,handed_over_date,received_date
CB-01,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026
CB-02,Sở Tài chính tỉnh Lâm Đồng,12/02/2026,13/02/2026
CB-03,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026
CSV
ok "publish three certificates" publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" \
    --out "$T/www" --as-of 2026-02-23T09:00:00+07:00 "$T/req.csv"

browse() {  # URL [chromium options...]: the DOM after the scripts ran
    _u=$1; shift
    timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$T/chrome" "$@" --dump-dom "$_u" 2>/dev/null
}
# visible_rows DOM: the holders of the rows not hidden, in page order
visible_rows() {
    printf '%s' "$1" | python3 -c '
import sys, html.parser
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.rows = []; s.cur = None; s.hidden = 0; s.depth = []
    def handle_starttag(s, t, a):
        a = dict(a)
        if t == "section": s.depth.append("hidden" in a)
        if t == "tr" and "data-key" in a:
            s.cur = "hidden" in a or any(s.depth); s.name = None
        if t == "a" and s.cur is not None and s.name is None: s.name = ""
    def handle_endtag(s, t):
        if t == "section": s.depth.pop()
        if t == "a" and s.cur is not None and s.name == "": pass
        if t == "tr" and s.cur is not None:
            if not s.cur: s.rows.append(s.name)
            s.cur = None
    def handle_data(s, d):
        if s.cur is not None and s.name == "": s.name = d
p = P(); p.feed(sys.stdin.read()); print(" | ".join(p.rows))'
}
URL="file://$T/www/index.html"
dom=$(browse "$URL")
like "$dom" "<h1>Danh sách chứng thư số" "the page renders in the browser"
is "$(visible_rows "$dom")" "Đặng Đức Thuỷ | Nguyễn Thị Hoà | Trần Văn Bảo" "every holder is listed, grouped by agency"
like "$dom" '<form id="search" role="search">' "with JavaScript the search box is shown"
dom=$(browse "$URL?q=nguyen%20thi%20hoa")
is "$(visible_rows "$dom")" "Nguyễn Thị Hoà" "the search finds 'nguyen thi hoa' typed without tone marks"
like "$dom" "1 kết quả" "and counts one result"
dom=$(browse "$URL?q=DANG%20DUC%20THUY")
is "$(visible_rows "$dom")" "Đặng Đức Thuỷ" "capitals and đ typed as d find Đặng Đức Thuỷ"
dom=$(browse "$URL?q=t%C3%A0i%20ch%C3%ADnh")
is "$(visible_rows "$dom")" "Trần Văn Bảo" "a search with tone marks finds the agency's holder"
dom=$(browse "$URL?q=khong%20co%20ai")
is "$(visible_rows "$dom")" "" "a search that matches nobody hides every row"
like "$dom" '<p id="none">Không tìm thấy' "and says nothing was found"
# JavaScript off: headless chromium's --dump-dom needs scripting itself, so
# the page's own script is blocked by a Content-Security-Policy instead.
sed 's|<head>|<head><meta http-equiv="Content-Security-Policy" content="script-src '"'"'none'"'"'">|' \
    "$T/www/index.html" >"$T/www/nojs.html"
dom=$(browse "file://$T/www/nojs.html?q=nguyen")
is "$(visible_rows "$dom")" "Đặng Đức Thuỷ | Nguyễn Thị Hoà | Trần Văn Bảo" "with its script blocked the whole list is shown"
like "$dom" '<form id="search" role="search" hidden' "and the search box that cannot work is hidden"
dom=$(browse "file://$T/www/certs/1A2B.html")
like "$dom" 'href="1A2B.cer"' "the certificate's page links its DER file"
like "$dom" "23/02/2026 09:00" "and shows when it took effect"
shots=${CB_SCREENSHOTS:-$T}
mkdir -p "$shots"
timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T/chrome" \
    --window-size=1280,900 --screenshot="$shots/publish-index.png" "$URL?q=hoa" >/dev/null 2>&1
ok "a screenshot of the page is taken" sh -c "head -c 8 '$shots/publish-index.png' | od -c | grep -q 'P   N   G'"
done_testing

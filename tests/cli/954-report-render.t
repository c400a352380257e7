#!/bin/sh
# report's page as the office sees it: self-contained (no script, no file
# or address fetched, a strict Content-Security-Policy), a screenshot at
# 1280x800 and the A4 landscape print (chromium --print-to-pdf, then
# pdftoppm) both have something on them, and the print is A4 landscape.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report-fixture.sh"
need_samples
need_chromium
D=$(cat "$SAMPLES/as-of.txt")
night_on_samples "$T/state"
report -q --run "$R" --as-of "$D" -o "$T/report.html"
P=$T/report.html
ok "the page has the Content-Security-Policy default-src 'none'" \
    grep -q "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;\">" "$P"
is "$(grep -Eoi '<(script|link|img|iframe|object|embed)[ >]' "$P" | wc -l)" "0" "no script, stylesheet link, image or frame element"
is "$(grep -Eoi '(src|href)=' "$P" | wc -l)" "0" "no src or href attribute: nothing to fetch"
is "$(grep -Eoi 'url\(|@import|@font-face' "$P" | wc -l)" "0" "the stylesheet fetches nothing (no url(), @import, @font-face)"
ok "the page says its language is Vietnamese" grep -q '<html lang="vi">' "$P"
ok "the print stylesheet asks for A4 landscape" grep -q '@page{size:A4 landscape' "$P"
# 1.234 revoked certificates and nothing else: nothing to chase, no
# reason, no forecast (a run with empty lists to sort, once undefined
# behaviour that UBSan caught).
printf 'serial,subject_cn,subject_o,subject_ou,expiry_date,days_left,status\n' >"$T/many.csv"
awk 'BEGIN { for (i = 0; i < 1234; i++) printf "S%d,Ng%d,Sở Y tế,,2030-01-01,0,revoked\n", i, i }' >>"$T/many.csv"
exit_is 0 "an inventory of 1.234 revoked certificates gives a page" report -q --as-of 2029-12-01 --certs "$T/many.csv" -o "$T/many.html"
ok "numbers past a thousand are written the Vietnamese way (1.234)" grep -q 'id="n-revoked">1.234<' "$T/many.html"

chrome --window-size=1280,800 --screenshot="$T/screen.png" "file://$P"
ok "a screenshot at 1280x800 is taken" test -s "$T/screen.png"
ink=$(non_blank "$T/screen.png")
like "$ink" "^1280x800 " "the screenshot is 1280x800"
ok "the screenshot is not blank ($ink)" non_blank "$T/screen.png"

chrome --no-pdf-header-footer --print-to-pdf="$T/print.pdf" "file://$P"
ok "the page prints to PDF" test -s "$T/print.pdf"
like "$(pdfinfo "$T/print.pdf" | grep 'Page size')" "841\.[0-9]+ x 59[45]\.[0-9]+ pts \(A4\)" "the print is A4 landscape"
pdftoppm -r 50 -f 1 -l 1 "$T/print.pdf" "$T/page"
ok "the first printed page is not blank ($(non_blank "$T/page-1.ppm"))" non_blank "$T/page-1.ppm"
pages=$(pdfinfo "$T/print.pdf" | awk '/^Pages:/ {print $2}')
pdftoppm -r 50 -f "$pages" -l "$pages" "$T/print.pdf" "$T/last"
ok "the last printed page is not blank either" non_blank "$(ls "$T"/last-*.ppm)"
ok "the printed text has the to-do heading" sh -c "pdftotext '$T/print.pdf' - | grep -q 'Cần xử lý'"
done_testing

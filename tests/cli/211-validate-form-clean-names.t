#!/bin/sh
# validate-form writes each value cleaned (trimmed, one space between
# words, NFC) and checks names for letters and spaces only, with a cache
# of the values it has cleaned: a value met again, whether it was already
# clean or not, must get the same verdict and the same output bytes as the
# first time. Python's csv and unicodedata modules write the batch and work
# out the expected names and rejects on their own. Form 01 rows received
# Thursday 12/02/2026, run as of 20/02/2026. Bytes that are not UTF-8 are
# the reader's to reject, the whole record, naming the column.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
cat >"$T/gen.py" <<'EOF'
import csv, sys, unicodedata
cols = ["request_id", "form", "full_name", "birth_date", "id_number", "id_issue_date",
        "id_issue_place", "position", "agency", "province", "email", "phone",
        "confirmed_by", "received_date"]
nfd = lambda s: unicodedata.normalize("NFD", s)
names = [  # request id, full_name as written, the name out ("" when rejected)
    ("ok-nfc", "Nguyễn Văn An", "Nguyễn Văn An"),
    ("ok-nfd", nfd("Trần Thị Bình"), "Trần Thị Bình"),
    ("ok-nfc-again", "Trần Thị Bình", "Trần Thị Bình"),
    ("ok-nfd-again", nfd("Trần Thị Bình"), "Trần Thị Bình"),
    ("ok-spaces", "  Lê   Hoàng Cường ", "Lê Hoàng Cường"),
    ("ok-ascii", "Nguyen Van An", "Nguyen Van An"),
    ("ok-nfc-repeat", "Nguyễn Văn An", "Nguyễn Văn An"),
    ("bad-hyphen", "Nguyễn Văn-An", ""),
    ("bad-apostrophe", "Nguyễn O'Brien", ""),
    ("bad-digit", "Nguyễn Văn 2", ""),
    ("bad-control", "Nguyễn\x01Văn", ""),
    ("bad-control-again", "Nguyễn\x01Văn", ""),
    ("bad-not-utf8", "Nguy\udcffn Văn", "RECORD"),
    ("bad-not-utf8-again", "Nguy\udcffn Văn", "RECORD"),
]
with open(sys.argv[1], "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(cols)
    for k, (rid, name, _) in enumerate(names):
        w.writerow([rid, "01", name, "15/03/1990", "0680900012%02d" % k, "10/05/2021",
                    "Cục Cảnh sát QLHC về TTXH", "Chuyên viên", "Sở Tài chính", "Lâm Đồng",
                    "an@lamdong.gov.vn", "0912345678", "Trần Văn Bình", "12/02/2026"])
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for rid, name, out in names:
        # the law's rule (FORMS.md): letters and spaces; cleaned, then NFC
        if out and out != "RECORD":
            assert out == unicodedata.normalize("NFC", " ".join(name.split(" ")).strip()) or \
                   out == unicodedata.normalize("NFC", " ".join(name.split()))
        f.write("%s,%s\n" % (rid, out if out else "REJECTED"))
EOF
cat >"$T/got.py" <<'EOF'
import csv, sys
got = {}
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        got[r["request_id"]] = r["full_name"]
with open(sys.argv[2], newline="", encoding="utf-8", errors="surrogateescape") as f:
    for r in csv.DictReader(f):
        if r["reject_field"] == "full_name":
            got[r["request_id"]] = "REJECTED"
        elif r["reject_field"] == "" and "full_name" in r["reject_reason"]:
            got[r["request_id"]] = "RECORD"   # the reader's: the whole record, naming the column
        else:
            got[r["request_id"]] = "wrong field " + r["reject_field"]
with open(sys.argv[3], encoding="utf-8") as f:
    for line in f:
        rid = line.split(",", 1)[0]
        print("%s,%s" % (rid, got.get(rid, "MISSING")))
EOF
$PY "$T/gen.py" "$T/in.csv" "$T/want.txt" || echo "Bail out! the generator failed"

for run in 1 2; do
    validate-form -q --as-of 2026-02-20 --rejects "$T/rej$run.csv" -o "$T/out$run.csv" "$T/in.csv"
    is "$?" 0 "run $run: rejects are a normal outcome"
done
$PY "$T/got.py" "$T/out1.csv" "$T/rej1.csv" "$T/want.txt" >"$T/got.txt"
ok "each name is written cleaned in NFC, or rejected on full_name, as Python works it out" \
    cmp "$T/want.txt" "$T/got.txt"
diff "$T/want.txt" "$T/got.txt" | sed 's/^/# /'
ok "a second run writes the same bytes" cmp "$T/out1.csv" "$T/out2.csv"
ok "and the same rejects" cmp "$T/rej1.csv" "$T/rej2.csv"
like "$(grep '^bad-control-again,' "$T/rej1.csv")" "control characters" \
    "a control character met again is still named"
like "$(grep '^bad-not-utf8-again,' "$T/rej1.csv")" "full_name' is not valid UTF-8" \
    "bytes that are not UTF-8 met again are still named"

done_testing

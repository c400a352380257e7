#!/bin/sh
# validate-form's duplicate checks on a batch of 200,000 renewal requests
# (Form 03) with a few dozen planted repeats: the same request id, the same
# person (id_number), the same old certificate (old_serial, written in
# another case and with colons). Python's csv module reads the batch and
# works out on its own which rows must be rejected, for which column and
# naming which earlier line; a rejected row takes none of its keys, so a
# later row with one of them passes. Run as of 10/03/2026.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
cat >"$T/gen.py" <<'EOF'
import csv, random, sys
n = int(sys.argv[1])
rnd = random.Random(16)
cols = ["request_id", "form", "full_name", "id_number", "id_issue_date", "id_issue_place",
        "position", "agency", "province", "email", "phone", "old_serial", "old_not_after",
        "device_type", "confirmed_by", "received_date"]
names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Võ Minh Đức"]
agencies = ["Sở Y tế", "Sở Tài chính", "Sở Giáo dục và Đào tạo, tỉnh Lâm Đồng", "UBND tỉnh Lâm Đồng"]
rows = []
for i in range(n):
    rows.append(["HS-%07d" % i, "03", names[i % 5], "0681%02d%06d" % (50 + i % 40, i),
                 "%02d/%02d/2021" % (i % 28 + 1, i % 12 + 1), "Cục Cảnh sát QLHC về TTXH",
                 "Chuyên viên", agencies[i % 4], "Lâm Đồng", "u%d@lamdong.gov.vn" % i,
                 "09%08d" % i, "%X" % (0x100000 + i), "%02d/06/2026" % (i % 28 + 1), "TOKEN",
                 "Phạm Văn Dũng", "02/03/2026"])
# Planted repeats: each takes one key of an earlier row (some of them
# the key of a row that is itself a repeat).
for k, j in enumerate(sorted(rnd.sample(range(1000, n), 60))):
    src = rnd.randrange(0, j)
    kind = k % 3
    if kind == 0:
        rows[j][0] = rows[src][0]
    elif kind == 1:
        rows[j][3] = rows[src][3]
    else:
        s = rows[src][11].lower()
        rows[j][11] = ":".join(s[m:m + 2] for m in range(0, len(s), 2))
# A row rejected for its request id does not take its person: a later
# row with that person's number passes.
j0 = next(j for j in range(1000, n) if rows[j][0] != "HS-%07d" % j)
rows[j0 + 7][3] = rows[j0][3]
with open(sys.argv[2], "w") as f:
    print(j0 + 7 + 2, file=f)
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(cols)
w.writerows(rows)
EOF
cat >"$T/oracle.py" <<'EOF'
import csv, sys
seen = [{}, {}, {}]   # request id, person, serial (as a number) -> first line
fields = ["request_id", "id_number", "old_serial"]
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for line, row in enumerate(csv.DictReader(f), start=2):
        keys = [row["request_id"], row["id_number"], int(row["old_serial"].replace(":", ""), 16)]
        hits = [(fields[k], seen[k][keys[k]]) for k in range(3) if keys[k] in seen[k]]
        if hits:
            print("%d,%s,%d" % (line, hits[0][0], hits[0][1]))
        else:
            for k in range(3):
                seen[k][keys[k]] = line
EOF
cat >"$T/rejects.py" <<'EOF'
import csv, re, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        m = re.search(r"on line (\d+)", row["reject_reason"])
        print("%s,%s,%s" % (row["reject_line"], row["reject_field"], m.group(1) if m else "-"))
EOF

$PY "$T/gen.py" 200000 "$T/passes" >"$T/batch.csv"
$PY "$T/oracle.py" "$T/batch.csv" >"$T/want"
ok "200,000 requests with planted repeats are checked" \
    validate-form --as-of 2026-03-10 --rejects "$T/rej.csv" -o "$T/out.csv" -q "$T/batch.csv"
$PY "$T/rejects.py" "$T/rej.csv" >"$T/got"
is "$(wc -l <"$T/want" | tr -d ' ')" 60 "every planted repeat is a duplicate by Python's count"
is "$(cat "$T/got")" "$(cat "$T/want")" \
   "each repeat is rejected, for the first column repeated, naming the line that has it first"
is "$(($(wc -l <"$T/out.csv") - 1))" "$((200000 - 60))" "and every other request passes"
is "$(grep -c "^$(cat "$T/passes")," "$T/got")" 0 \
   "among them one with the identity number of a row rejected for its request id"

# The first thousand rows twice, as two files: every row of the second
# repeats the first file's, named by its line and file.
head -1001 "$T/batch.csv" >"$T/a.csv"
cp "$T/a.csv" "$T/b.csv"
ok "two inputs are checked as one batch" \
    validate-form --as-of 2026-03-10 --rejects "$T/rej2.csv" -o "$T/out2.csv" -q "$T/a.csv" "$T/b.csv"
is "$(($(wc -l <"$T/out2.csv") - 1))" 1000 "the first file passes (its rows are all different)"
is "$(($(wc -l <"$T/rej2.csv") - 1))" 1000 "and every row of the second is rejected"
like "$(sed -n 2p "$T/rej2.csv")" "request id HS-0000000 is already used on line 2 of .*a.csv" \
     "a row of the second input names the line and the file of the first"

done_testing

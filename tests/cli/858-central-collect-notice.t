#!/bin/sh
# Step 2 of procedure 1.010847: once the certificates are made, the Cục tells
# each managing agency when and where to collect its holders' key devices
# (central-issuance's tell-agencies stage, to the address in the agency
# registry), once per agency and request however often the batch is run.
# The letters are read back with Python's email package.
. "$(dirname "$0")/lib.sh"
need_samples
PL=$TOP/pipelines
D=$(cat "$SAMPLES/as-of.txt")

state() {  # DIR [registry]: a central state directory on the samples
    mkdir -p "$1/ca" "$1/batches/$D/forms"
    cp "$SAMPLES/issuing-ca.pem" "$1/ca/"
    install -m 0600 "$SAMPLES/issuing-ca-enc.key" "$1/ca/issuing-ca.key"
    install -m 0600 "$SAMPLES/ca-pass.txt" "$1/ca/issuing-ca.pass"
    cp "$SAMPLES/forms/issuance.csv" "$1/batches/$D/forms/"
    [ -z "${2:-}" ] || cp "$SAMPLES/agencies.csv" "$1/agencies.csv"
}

# What the letters say, per agency address: "ADDR<TAB>request ids" sorted.
letters() {  # MAILDIR
    python3 - "$1" <<'PY'
import email, email.policy, mailbox, re, sys
out = []
for key, msg in mailbox.Maildir(sys.argv[1], factory=None, create=False).items():
    m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    if "nhận thiết bị" not in m["Subject"] or "mời cơ quan" not in m["Subject"]:
        continue
    body = m.get_body(preferencelist=("plain",)).get_content()
    ids = sorted(re.findall(r"Mã hồ sơ: (\S+)", body))
    asks = "thời điểm có hiệu lực" in body and "Thời gian nhận: 8 giờ 00" in body
    out.append("%s\t%s\t%s" % (m["To"].addresses[0].addr_spec, " ".join(ids), "asks" if asks else "-"))
print("\n".join(sorted(out)))
PY
}

# The expectation, from the forms and the registry with Python's csv: each
# valid request's agency, by name or alias as the registry spells it.
expected() {  # VALID_CSV
    python3 - "$SAMPLES/agencies.csv" "$1" <<'PY'
import csv, sys, unicodedata
def key(s):
    return unicodedata.normalize("NFC", s).casefold().strip()
addr = {}
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    for n in [r["name"]] + [a for a in r["aliases"].split("|") if a]:
        addr[key(n)] = r["email"]
by = {}
for r in csv.DictReader(open(sys.argv[2], encoding="utf-8")):
    a = addr.get(key(r["agency"]))
    if a:
        by.setdefault(a, []).append(r["request_id"])
print("\n".join(sorted("%s\t%s\tasks" % (a, " ".join(sorted(ids))) for a, ids in by.items())))
PY
}

S=$T/state
state "$S" registry
ok "central-issuance runs with the agency registry" \
    run-pipeline --as-of "$D" --set state="$S" --set "collect_time=8 giờ 00 ngày làm việc kế tiếp" \
    "$PL/central-issuance.yaml"
want=$(expected "$S/batches/$D/valid.csv")
ok "some valid requests belong to agencies the registry gives an address" test -n "$want"
got=$(letters "$S/mail")
is "$got" "$want" "one letter per agency, to its address, naming each of its requests and asking for the effective time"

ok "the batch run again" \
    run-pipeline --as-of "$D" --set state="$S" --set "collect_time=8 giờ 00 ngày làm việc kế tiếp" \
    "$PL/central-issuance.yaml"
is "$(letters "$S/mail")" "$want" "sends no agency a second letter"

S2=$T/state2
state "$S2"
ok "without a registry the batch still runs" \
    run-pipeline --as-of "$D" --set state="$S2" "$PL/central-issuance.yaml"
is "$(letters "$S2/mail" 2>/dev/null)" "" "and no agency letter is sent (no address is known)"
ok "the holders are still told" test -s "$S2/batches/$D/issued-notices.csv"

done_testing

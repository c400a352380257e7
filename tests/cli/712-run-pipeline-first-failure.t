#!/bin/sh
# When a stage fails, run-pipeline names the cause: the first step in pipe
# order that failed of its own accord (its program, exit status and last
# stderr line), and exits with that step's status; a step that failed only
# because its input was cut short, or that was stopped because the next
# step had failed, is named as such. The nightly job with its CRL missing
# fails at scan-expiry (66), not at a later step's "empty input".
. "$(dirname "$0")/lib.sh"

cat >"$T/cut.yaml" <<'EOF2'
name: cut
stages:
  - name: list
    steps:
      - [sh, -c, 'echo "first: cannot open the certificates" >&2; exit 66']
      - [sh, -c, 'n=$(wc -c); [ "$n" -gt 0 ] || { echo "second: empty input" >&2; exit 65; }']
    output: OUT
EOF2
sed -i "s|OUT|$T/out/list.csv|" "$T/cut.yaml"
exit_is 66 "the run exits with the first failing step's status (66), not the later step's (65)" \
    run-pipeline --log "$T/cut.jsonl" "$T/cut.yaml"
like "$(cat "$T/.err")" "failed \(status 66\) at stage list: step sh exited 66: first: cannot open the certificates" \
    "the closing message names the stage, the step, its status and its last stderr line"
like "$(cat "$T/.err")" "failed after its input was cut short" "the later step is named as failing because its input was cut short"
ok "no partial output is left" test ! -e "$T/out/list.csv"
python3 - "$T/cut.jsonl" >"$T/fail.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "failure":
        print(r["stage"], r["step"], r["status"], r["line"], ",".join(r["input_cut_short"]))
PY
is "$(cat "$T/fail.txt")" "list sh 66 first: cannot open the certificates sh" "the run log has one failure record: the cause and the step whose input was cut short"

# A step that exits early closes its input: the step before it dies of
# SIGPIPE, which is not the cause.
cat >"$T/pipe.yaml" <<EOF2
name: pipe
stages:
  - name: early
    steps:
      - [sh, -c, 'while :; do echo serial,subject_cn; done']
      - [sh, -c, 'head -n 1 >/dev/null; echo "reader: bad header" >&2; exit 3']
    output: $T/out/early.csv
EOF2
exit_is 3 "a reader that fails early is the cause (3), not the writer it stopped (SIGPIPE)" \
    run-pipeline --log "$T/pipe.jsonl" "$T/pipe.yaml"
like "$(cat "$T/.err")" "at stage early: step sh exited 3: reader: bad header" "the message names the reader"
like "$(cat "$T/.err")" "stopped: the next step had failed" "the writer is named as stopped by the failing reader"

# The shipped nightly job without its CRL.
need_samples
D=$(cat "$SAMPLES/as-of.txt")
S=$T/state
mkdir -p "$S/ca" "$S/forms/incoming"
ln -s "$SAMPLES/certs" "$S/certs"
cp "$SAMPLES/roots.pem" "$SAMPLES/chain.pem" "$S/ca/"
cp "$SAMPLES/forms/renewal.csv" "$S/forms/incoming/"
exit_is 66 "a night with the CRL missing exits 66, scan-expiry's status" \
    run-pipeline --as-of "$D" --set state="$S" "$TOP/pipelines/nightly-renewal.yaml"
like "$(cat "$T/.err")" "failed \(status 66\) at stage scan: step scan-expiry exited 66: scan-expiry: .*crl.pem" \
    "the message blames scan-expiry and the missing CRL"
ok "the night is not committed: the forms stay in forms/incoming" test -f "$S/forms/incoming/renewal.csv"
ok "and no proposal list is made" test ! -e "$S/runs/$D/proposal.csv"
done_testing

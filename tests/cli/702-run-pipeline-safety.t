#!/bin/sh
# run-pipeline's promises around the run: --dry-run prints a script that
# does what the run does and runs nothing itself; two runs of a pipeline
# never overlap; a run stopped by SIGTERM stops its programs and leaves no
# half-written output.
. "$(dirname "$0")/lib.sh"
P=$TESTDATA/pipelines
PATH=$P/bin:$PATH
mkdir -p "$T/in"
printf 'b\na\nc\n' >"$T/in/in1.txt"
printf 'z\ny\n' >"$T/in/in2.txt"
D=2025-06-01

# --dry-run
exit_is 0 "--dry-run exits 0" run-pipeline --dry-run --as-of $D --set dir="$T" --log "$T/dry.jsonl" "$P/basic.yaml"
cp "$T/.out" "$T/script.sh"
ok "--dry-run runs nothing: no output" test ! -e "$T/out"
ok "--dry-run writes no log" test ! -e "$T/dry.jsonl"
like "$(cat "$T/script.sh")" "count-lines $T/in/in1.txt $T/in/in2.txt < /dev/null \| tee $T/out/$D/all.txt \| sort -r > $T/out/$D/sorted.txt" "the script shows the steps joined by pipes"
ok "the script runs under bash" bash "$T/script.sh"
mv "$T/out" "$T/out-dry"
ok "the real run" run-pipeline --as-of $D --set dir="$T" --log "$T/real.jsonl" "$P/basic.yaml"
for f in all.txt sorted.txt count.txt; do
    is "$(cat "$T/out/$D/$f")" "$(cat "$T/out-dry/$D/$f")" "--dry-run's script and the run give the same $f"
done
exit_is 65 "the dry-run script of a failing pipeline fails with the step's status" sh -c "run-pipeline --dry-run --set dir='$T' '$P/failing.yaml' | bash"

# The lock.
flock "$T/held.lock" sleep 3 &
holder=$!
sleep 0.5
exit_is 75 "a second run while the lock is held exits 75 (try again later)" run-pipeline --as-of $D --set dir="$T" --log "$T/l.jsonl" --lock "$T/held.lock" "$P/basic.yaml"
like "$(cat "$T/.err")" "another run holds the lock $T/held.lock" "and says which lock"
ok "and writes no log line" test ! -s "$T/l.jsonl"
wait $holder
exit_is 0 "once the other run is over the pipeline runs" run-pipeline --as-of $D --set dir="$T" --log "$T/l.jsonl" --lock "$T/held.lock" "$P/basic.yaml"
flock "$T/l.jsonl.lock" sleep 3 &
holder=$!
sleep 0.5
exit_is 75 "the default lock is the log's name with .lock" run-pipeline --as-of $D --set dir="$T" --log "$T/l.jsonl" "$P/basic.yaml"
wait $holder

# SIGTERM in the middle of a run.
rm -rf "$T/out" "$T/step.pid"
run-pipeline --as-of $D --set dir="$T" --log "$T/slow.jsonl" "$P/slow.yaml" >"$T/slow.out" 2>"$T/slow.err" &
rp=$!
i=0
while [ ! -s "$T/step.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
step=$(cat "$T/step.pid")
ok "the slow step is running" kill -0 "$step"
kill -TERM $rp
wait $rp
is "$?" "143" "the stopped run exits 128+15"
sleep 0.2
ok "the signal reached the running step" sh -c "! kill -0 $step 2>/dev/null"
ok "no output is left" test ! -e "$T/out/slow.txt"
ok "no tee copy is left" test ! -e "$T/out/kept.txt"
is "$(ls -A "$T/out" 2>/dev/null)" "" "no temporary file is left either"
like "$(tail -1 "$T/slow.jsonl")" '"event":"run_end","status":143,.*"signal":15' "the log says the run was stopped by SIGTERM"
like "$(cat "$T/slow.err")" "stopped by signal 15" "and so does stderr"
exit_is 0 "the lock is free again after a stopped run" flock -n "$T/slow.jsonl.lock" true
done_testing

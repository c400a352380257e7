#!/bin/sh
# run-pipeline on small pipelines of programs every machine has (cat, sort,
# wc, sh) and a stand-in that prints the contract's summary line: the steps
# run joined by pipes, outputs and tee copies appear whole, the run log says
# what ran and what it counted, a failing step fails its stage and stops the
# run, YAML mistakes are reported with their line and column.
. "$(dirname "$0")/lib.sh"
P=$TESTDATA/pipelines
PATH=$P/bin:$PATH
mkdir -p "$T/in"
printf 'b\na\nc\n' >"$T/in/in1.txt"
printf 'z\ny\n' >"$T/in/in2.txt"
D=2025-06-01
OUT=$T/out/$D

exit_is 0 "--help exits 0" run-pipeline --help
like "$(cat "$T/.out")" "--dry-run" "--help shows --dry-run"
like "$(run-pipeline --version)" "^run-pipeline certbatch " "--version names the program"
exit_is 64 "no pipeline file is a usage error" run-pipeline
exit_is 64 "--set without = is a usage error" run-pipeline --set dir "$P/basic.yaml"
exit_is 66 "a pipeline file that does not exist" run-pipeline "$T/nope.yaml"

exit_is 0 "a two-stage pipeline runs" run-pipeline --as-of $D --set dir="$T" --log "$T/run.jsonl" "$P/basic.yaml"
is "$(cat "$OUT/sorted.txt")" "$(printf 'z\ny\nc\nb\na')" "the output holds both files' lines, sorted in reverse"
is "$(cat "$OUT/all.txt")" "$(printf 'b\na\nc\nz\ny')" "the tee keeps the lines as they left the first step, files in name order"
is "$(tr -d ' ' <"$OUT/count.txt")" "5$OUT/sorted.txt" "the second stage read the first stage's output"
is "$(ls -a "$OUT" | grep -c tmp)" "0" "no temporary file is left next to the outputs"
like "$(cat "$T/.err")" "sorted +count-lines +0 +5 +5 +0" "the closing table shows the counts of the step's summary line"

L=$T/run.jsonl
ok "every log line is JSON" python3 -c '
import json, sys
for line in open(sys.argv[1]): json.loads(line)' "$L"
step_field() {  # stage step field
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("event") == "step" and r["stage"] == sys.argv[2] and r["step"] == sys.argv[3]:
        v = r[sys.argv[4]]
        print(" ".join(v) if isinstance(v, list) else v)' "$L" "$@"
}
is "$(step_field sorted count-lines command)" "count-lines $T/in/in1.txt $T/in/in2.txt" "the log has the command with the input files appended"
is "$(step_field sorted count-lines in)" "5" "the log has the records in from the summary line"
is "$(step_field sorted count-lines out)" "5" "and the records out"
is "$(step_field sorted count-lines rejected)" "0" "and the records rejected"
is "$(step_field sorted sort status)" "0" "the log has each step's exit status"
is "$(step_field sorted count-lines stage)" "sorted" "a step is logged under its stage"
like "$(grep '"event":"stderr"' "$L" | head -1)" '"step":"count-lines","line":"count-lines: 5 in, 5 out, 0 rejected' "a step's stderr goes to the log under the step's name"
like "$(head -1 "$L")" '"event":"run_start".*"vars":\{"today":"2025-06-01","dir":"' "the run's variables are logged, today as asked"
like "$(tail -1 "$L")" '"event":"run_end","status":0' "the run's end and status are logged"

# A failing step.
exit_is 65 "a failing step fails the run with its exit status" run-pipeline --as-of $D --set dir="$T" --log "$T/fail.jsonl" "$P/failing.yaml"
like "$(cat "$T/.err")" "line 2: this record is bad" "the failing step's last message is shown"
ok "the failed stage leaves no output, not even the part written" test ! -e "$T/out/broken.txt"
ok "the stage after a failed one does not run" test ! -e "$T/out/after.txt"
like "$(grep '"event":"stage_skipped"' "$T/fail.jsonl")" '"stage":"after"' "the skipped stage is logged"
like "$(grep '"event":"stderr"' "$T/fail.jsonl")" '"step":"sh","line":"line 2: this record is bad"' "the failing step's stderr is in the log"
exit_is 65 "with continue_on_error the run still reports the failure" run-pipeline --as-of $D --set dir="$T" --set keep_going=true --log "$T/fail2.jsonl" "$P/failing.yaml"
is "$(cat "$T/out/after.txt" 2>/dev/null)" "$(printf 'b\na\nc\nz\ny')" "with continue_on_error the later stage runs"

cat >"$T/noprog.yaml" <<'YAML'
name: noprog
stages:
  - steps: [no-such-program-here]
YAML
exit_is 127 "a program that does not exist fails like in a shell (127)" run-pipeline --log "$T/np.jsonl" "$T/noprog.yaml"
like "$(cat "$T/.err")" "cannot run no-such-program-here" "and says which"
cat >"$T/noinput.yaml" <<YAML
name: noinput
stages:
  - input: $T/in/missing.txt
    steps: [cat]
YAML
exit_is 66 "an input file that does not exist (66)" run-pipeline --log "$T/ni.jsonl" "$T/noinput.yaml"

# YAML mistakes: file, line and column.
exit_is 65 "an unknown key is a data error" run-pipeline --dry-run "$P/bad-key.yaml"
is "$(cat "$T/.err")" "run-pipeline: $P/bad-key.yaml:6:5: unknown key \"outptu\" in a stage (known: name, description, input, steps, tee, output, continue_on_error, parallel, hosts, merge)" "the unknown key is named with its line and column"
exit_is 65 "an undefined variable is a data error" run-pipeline --dry-run "$P/undefined-var.yaml"
is "$(cat "$T/.err")" "run-pipeline: $P/undefined-var.yaml:7:23: undefined variable \${nope}" "the undefined variable is named with its line and column"
printf 'name: x\nstages:\n  - steps: [cat\n' >"$T/broken.yaml"
exit_is 65 "YAML that does not parse is a data error" run-pipeline "$T/broken.yaml"
like "$(cat "$T/.err")" "broken.yaml:4:1: " "with its position"
printf 'name: x\nstages:\n  - steps: ["cat in.csv | sort"]\n' >"$T/pipe.yaml"
exit_is 65 "a shell pipe inside a step is refused" run-pipeline "$T/pipe.yaml"
done_testing

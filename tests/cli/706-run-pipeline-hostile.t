#!/bin/sh
# run-pipeline on hostile pipeline files (issue 13): a seven-line file of
# nested variables once wrote 9 GB under --dry-run and exited 0; 100,000
# nested [ took 75 s before the error. Each is now a data error (65) naming
# its line, and nothing runs.
. "$(dirname "$0")/lib.sh"

a=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
cat >"$T/bomb.yaml" <<EOF
name: bomb
vars:
  a: "$a"
  b: "\${a}\${a}\${a}\${a}\${a}\${a}\${a}\${a}\${a}\${a}"
  c: "\${b}\${b}\${b}\${b}\${b}\${b}\${b}\${b}\${b}\${b}"
  d: "\${c}\${c}\${c}\${c}\${c}\${c}\${c}\${c}\${c}\${c}"
  e: "\${d}\${d}\${d}\${d}\${d}\${d}\${d}\${d}\${d}\${d}"
  f: "\${e}\${e}\${e}\${e}\${e}\${e}\${e}\${e}\${e}\${e}"
  g: "\${f}\${f}\${f}\${f}\${f}\${f}\${f}\${f}\${f}\${f}"
stages:
  - steps: [ "touch $T/ran" ]
EOF
exit_is 65 "a bomb of nested variables is a data error" run-pipeline --dry-run "$T/bomb.yaml"
like "$(cat "$T/.err")" "bomb.yaml:8:[0-9]+: variable \\$\\{f\\} grows past 1 MB" "the message names the variable that grows past 1 MB, at its line (8)"
is "$(wc -c <"$T/.out")" 0 "nothing is printed of the plan"
exit_is 65 "without --dry-run too" run-pipeline "$T/bomb.yaml"
ok "and nothing ran" test ! -e "$T/ran"

python3 -c 'import sys; sys.stdout.write("name: deep\nstages: " + "[" * 100000 + "\n")' >"$T/deep.yaml"
exit_is 65 "100,000 nested [ are a data error" run-pipeline --dry-run "$T/deep.yaml"
like "$(cat "$T/.err")" "deep.yaml:2:[0-9]+: lists and mappings nest more than 64 deep" "which says how deep they may nest"

cat >"$T/twice.yaml" <<EOF
name: twice
stages:
  - name: s
    steps: [ "true" ]
    output: $T/a.csv
    output: $T/b.csv
EOF
exit_is 65 "a stage with output: twice is a data error" run-pipeline --dry-run "$T/twice.yaml"
is "$(cat "$T/.err")" "run-pipeline: $T/twice.yaml:6:5: \"output\" is given twice (first on line 5): keep one" \
    "naming the line of the second and of the first"

done_testing

# Shared helpers for the program tests (tests/cli/NNN-program-topic.t).
# Each test script sources this, runs the real binaries from $BIN on real
# files and prints TAP. Expectations come from the openssl CLI, the law text
# or a hand computation written in the test, never from our own output.
#
#   . "$(dirname "$0")/lib.sh"
#   ok  "name" command args...      passes when the command exits 0
#   is  "got" "expected" "name"     string equality
#   exit_is CODE "name" command...  passes when the command exits CODE
#   done_testing

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
SAMPLES=${CB_SAMPLES:-$TOP/samples/out}
TESTDATA=$TOP/tests/data
PATH=$BIN:$PATH
export LC_ALL=C.UTF-8 TZ=UTC
T=$(mktemp -d "${TMPDIR:-/tmp}/cbtest.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
_n=0
_failed=0

_result() {  # pass name
    _n=$((_n + 1))
    if [ "$1" = 1 ]; then
        echo "ok $_n - $2"
    else
        echo "not ok $_n - $2"
        _failed=$((_failed + 1))
    fi
}

ok() {
    _name=$1; shift
    if "$@" >"$T/.out" 2>"$T/.err"; then _result 1 "$_name"; else
        _result 0 "$_name"
        echo "#   command: $*"
        sed 's/^/#   stderr: /' "$T/.err" | head -20
    fi
}

is() {
    if [ "$1" = "$2" ]; then _result 1 "$3"; else
        _result 0 "$3"
        printf '%s\n' "$1" | head -20 | sed 's/^/#          got: /'
        printf '%s\n' "$2" | head -20 | sed 's/^/#     expected: /'
    fi
}

like() {  # got regex name
    if printf '%s' "$1" | grep -Eq -- "$2"; then _result 1 "$3"; else
        _result 0 "$3"
        printf '%s\n' "$1" | head -20 | sed 's/^/#          got: /'
        echo "#     expected to match: $2"
    fi
}

exit_is() {
    _want=$1; _name=$2; shift 2
    "$@" >"$T/.out" 2>"$T/.err"
    _got=$?
    if [ "$_got" = "$_want" ]; then _result 1 "$_name"; else
        _result 0 "$_name"
        echo "#   exit status $_got, expected $_want: $*"
        sed 's/^/#   stderr: /' "$T/.err" | head -20
    fi
}

skip() {  # name reason
    _n=$((_n + 1))
    echo "ok $_n - $1 # SKIP $2"
}

# csv_col FILE COLUMN: the values of one column (by header name), one per
# line, read with Miller (an independent CSV parser); fields with newlines
# are not for this.
csv_col() {
    mlr --icsv --onidx --ofs tab cut -f "$2" "$1"
}

need_samples() {
    if [ ! -f "$SAMPLES/.done" ]; then
        echo "1..0 # SKIP samples not built (make samples)"
        exit 0
    fi
}

done_testing() {
    echo "1..$_n"
    [ "$_failed" = 0 ]
}

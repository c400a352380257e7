#!/bin/sh
# The examples of README.md and of every man page run as written: each
# README `sh` block from the top of a checkout after `make samples` (with
# PATH=$PWD/bin:$PATH, as the README says), each man page's EXAMPLES in the
# sample directory, each in a fresh copy of the samples. A block that fails
# is shown with its output.
. "$(dirname "$0")/lib.sh"
need_samples

# A checkout-shaped workspace: the programs under test as bin/, the shipped
# pipelines and templates, and a private copy of the samples.
workspace() {  # DIR
    mkdir -p "$1/samples"
    cp -R "$SAMPLES" "$1/samples/out"
    ln -s "$BIN" "$1/bin"
    ln -s "$TOP/pipelines" "$1/pipelines"
    ln -s "$TOP/templates" "$1/templates"
}

run_block() {  # NAME DIR SCRIPT: run SCRIPT with sh -eu in DIR
    if (cd "$2" && PATH=$BIN:$PATH sh -eu "$3") >"$T/block.out" 2>&1; then
        _result 1 "$1"
    else
        _result 0 "$1"
        sed 's/^/#   script: /' "$3" | head -40
        sed 's/^/#   output: /' "$T/block.out" | tail -20
    fi
}

# README: the fenced blocks marked sh, in order.
awk -v dir="$T" '
    /^```sh[ \t]*$/ { n++; f = sprintf("%s/readme-%02d.sh", dir, n); inb = 1; next }
    /^```/ && inb   { inb = 0; close(f); next }
    inb             { print > f }
' "$TOP/README.md"
nblocks=0
for b in "$T"/readme-*.sh; do
    [ -f "$b" ] || continue
    nblocks=$((nblocks + 1))
    W=$T/w-readme-$nblocks
    workspace "$W"
    run_block "README example block $nblocks runs as written" "$W" "$b"
done
ok "README has runnable examples" test "$nblocks" -ge 2

# Man pages: the .nf/.fi and .EX/.EE blocks of EXAMPLES, roff escapes undone,
# one script a page.
for m in "$TOP"/man/*.1; do
    name=$(basename "$m" .1)
    s=$T/man-$name.sh
    awk '
        /^\.SH/ { ex = ($0 ~ /^\.SH "?EXAMPLES"?/); next }
        ex && /^\.(nf|EX)/ { code = 1; next }
        ex && /^\.(fi|EE)/ { code = 0; next }
        ex && code { print }
    ' "$m" | sed -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' -e 's/\\(dq/"/g' -e 's/\\&//g' \
                 -e 's/\\e/\\/g' >"$s"
    if [ ! -s "$s" ]; then
        _result 0 "$name(1) has examples"
        continue
    fi
    W=$T/w-man-$name
    workspace "$W"
    ln -s "$TOP/pipelines" "$W/samples/out/pipelines"
    run_block "$name(1): the examples run as written" "$W/samples/out" "$s"
    # What a reader copies from the rendered page is what ran: no typographic
    # hyphen or minus where a '-' was meant.
    txt=$(MANWIDTH=200 man -l "$m" 2>/dev/null | sed -n '/^EXAMPLES/,/^[A-Z]/p')
    case $txt in
    *‐* | *−* | *’*) _result 0 "$name(1): the rendered examples are plain ASCII punctuation" ;;
    *) _result 1 "$name(1): the rendered examples are plain ASCII punctuation" ;;
    esac
done
done_testing

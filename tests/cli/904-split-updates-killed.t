#!/bin/sh
# split-updates killed at each of its commit points (strace injects
# SIGKILL on the nth fsync, link, unlink, rename or write) and at random
# instants, then run again: the agency folders hold what one uninterrupted
# run delivers (same files, same bytes: sha256sum), the manifest routes
# every certificate the same way, and no temporary file is left. Reserved
# folder names (_unmatched, anything starting with '_') never receive a
# delivered certificate, whatever a request's agency_key says.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/split-updates-fixture.sh"

if ! strace -f -o /dev/null -e inject=getppid:error=EPERM:when=1 true 2>/dev/null; then
    echo "1..0 # SKIP strace cannot trace here (no ptrace)"
    exit 0
fi
CHECK="python3 $TOP/tests/cli/crash_check.py"
su_standard

route() {  # OUT [wrapper...]
    _o=$1
    shift
    "$@" split-updates --out "$_o" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" \
        --rejects "$_o.rej" -o "$_o.csv" "$T/update.pem" 2>"$_o.err"
}
tree() {  # the delivered files and their bytes
    (cd "$1" && find . -type f | sort | xargs -r sha256sum)
}
routes() {  # request, serial and path of each certificate, whatever the status says
    mlr --icsv --onidx --ofs , sort -f request_id,serial then cut -o -f request_id,serial,path "$1" | sed "s#$2##"
}

route "$T/clean"
tree "$T/clean" >"$T/clean.tree"
routes "$T/clean.csv" "$T/clean" >"$T/clean.routes"
is "$(wc -l <"$T/clean.tree" | tr -d ' ')" 4 "an uninterrupted run delivers the four certificates"

for sys in fsync link unlink rename write; do
    rm -rf "$T/count"
    route "$T/count" strace -f -qq -o "$T/trace" -e trace=$sys
    total=$(grep -c "$sys(" "$T/trace")
    bad=""
    n=1
    while [ $n -le "$total" ]; do
        rm -rf "$T/k" "$T/k.csv"
        route "$T/k" strace -f -qq -o /dev/null -e inject=$sys:signal=SIGKILL:when=$n
        route "$T/k"
        tree "$T/k" >"$T/k.tree"
        routes "$T/k.csv" "$T/k" >"$T/k.routes"
        if ! cmp -s "$T/k.tree" "$T/clean.tree" || ! cmp -s "$T/k.routes" "$T/clean.routes" ||
            ! $CHECK hidden "$T/k" "$T"/k/* >"$T/why"; then
            bad="$bad $n"
            { diff "$T/k.tree" "$T/clean.tree"; cat "$T/why"; } | sed "s/^/# $sys #$n: /" | head -5
        fi
        n=$((n + 1))
    done
    is "$bad" "" "killed at each of the $total ${sys}s, the re-run delivers what one uninterrupted run does, no temporary left"
done

bad=""
for i in 1 2 3 4 5 6; do
    rm -rf "$T/k" "$T/k.csv" "$T/pid"
    route "$T/k" sh -c 'echo $$ >"$0"; exec "$@"' "$T/pid" &
    sleep "0.0$(od -An -N1 -tu1 /dev/urandom | tr -d ' ' | cut -c1)"
    [ -s "$T/pid" ] && kill -KILL "$(cat "$T/pid")" 2>/dev/null
    wait
    route "$T/k"
    tree "$T/k" >"$T/k.tree"
    if ! cmp -s "$T/k.tree" "$T/clean.tree" || ! $CHECK hidden "$T/k" "$T"/k/* >"$T/why"; then
        bad="$bad $i"
        sed "s/^/# random #$i: /" "$T/why" | head -3
    fi
done
is "$bad" "" "killed at random instants, the re-run delivers what one uninterrupted run does"

# A temporary left by a dead run in an agency folder goes at the next run.
mkdir -p "$T/clean/sở-y-tế"
printf 'half a certificate' >"$T/clean/sở-y-tế/.split-updates.tmp.999999999.0"
route "$T/clean"
ok "a temporary a killed run left in an agency folder is removed by the re-run" \
    test ! -e "$T/clean/sở-y-tế/.split-updates.tmp.999999999.0"

# Reserved names.
sed -e 's/^R1,\(.*\),sở tài chính,/R1,\1,_unmatched,/' -e 's/^R3,\(.*\),sở y tế,/R3,\1,_riêng,/' \
    "$T/requests.csv" >"$T/reserved.csv"
split-updates --out "$T/res" --ca "$T/ca.pem" --requests "$T/reserved.csv" --old-certs "$T/old" \
    -o "$T/res.csv" "$T/update.pem" 2>"$T/res.err"
ok "a request whose agency_key is _unmatched is delivered" test -f "$T/res/unmatched/Nguyễn-Văn-An-2001.pem"
ok "... never into the reserved _unmatched folder" test ! -e "$T/res/_unmatched/Nguyễn-Văn-An-2001.pem"
ok "an agency_key starting with '_' loses it" test -f "$T/res/riêng/Lê-Văn-Cường-2003.pem"
is "$(ls "$T/res" | grep -c '^_')" 0 "no folder starting with '_' was made for a delivered certificate"

done_testing

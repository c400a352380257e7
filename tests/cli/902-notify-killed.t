#!/bin/sh
# notify --ledger killed at each of its commit points (strace injects
# SIGKILL on the nth fsync, syncfs, link, unlink or write) and at random instants,
# then run again: every letter delivered, at most the one in flight twice,
# each recorded once in the ledger; two runs at once never send a letter
# twice. Judged by tests/cli/crash_check.py (Python's mailbox and csv).
. "$(dirname "$0")/lib.sh"
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"

if ! strace -f -o /dev/null -e inject=getppid:error=EPERM:when=1 true 2>/dev/null; then
    echo "1..0 # SKIP strace cannot trace here (no ptrace)"
    exit 0
fi
CHECK="python3 $TOP/tests/cli/crash_check.py"

ids=""
{
    echo serial,subject_cn,email,expiry_date,days_left
    for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
        echo "S$i,Người $i,n$i@lamdong.gov.vn,2026-03-15,30"
    done
} >"$T/certs.csv"
ids=$(for i in 01 02 03 04 05 06 07 08 09 10 11 12; do printf 'n%s@lamdong.gov.vn,' $i; done | sed 's/,$//')

run() {  # DIR [wrapper...]
    _d=$1
    shift
    "$@" notify --template expiring --ledger "$_d/ledger.csv" --thresholds 60,30,7 --as-of 2026-02-13 \
        --maildir "$_d/md" "$T/certs.csv" >/dev/null 2>"$_d/stderr.txt"
}

rm -rf "$T/clean" && mkdir "$T/clean"
run "$T/clean"
ok "an uninterrupted run delivers each letter once" $CHECK maildir "$T/clean/md" "$T/clean/ledger.csv" "$ids"
run "$T/clean"
ok "and a second run sends none again" $CHECK maildir "$T/clean/md" "$T/clean/ledger.csv" "$ids"

for sys in fsync syncfs link unlink write; do
    rm -rf "$T/count" && mkdir "$T/count"
    run "$T/count" strace -f -qq -o "$T/trace" -e trace=$sys
    total=$(grep -c "$sys(" "$T/trace")
    # Every commit point (fsync, link, unlink); writes at 24 points spread over the run.
    step=1
    [ "$sys" = write ] && step=$(( (total + 23) / 24 ))
    bad=""
    n=1
    while [ $n -le "$total" ]; do
        rm -rf "$T/k" && mkdir "$T/k"
        run "$T/k" strace -f -qq -o /dev/null -e inject=$sys:signal=SIGKILL:when=$n
        run "$T/k"
        if ! $CHECK maildir "$T/k/md" "$T/k/ledger.csv" "$ids" 1 >"$T/why" 2>&1; then
            bad="$bad $n"
            sed "s/^/# $sys #$n: /" "$T/why" "$T/k/stderr.txt" | head -5
        fi
        n=$((n + step))
    done
    is "$bad" "" "killed at each of the $total ${sys}s, the re-run delivers the rest: at most the letter in flight twice"
done

bad=""
for i in 1 2 3 4 5 6; do
    rm -rf "$T/k" "$T/pid" && mkdir "$T/k"
    run "$T/k" sh -c 'echo $$ >"$0"; exec "$@"' "$T/pid" &
    sleep "0.0$(od -An -N1 -tu1 /dev/urandom | tr -d ' ' | cut -c1)"
    [ -s "$T/pid" ] && kill -KILL "$(cat "$T/pid")" 2>/dev/null
    wait
    run "$T/k"
    $CHECK maildir "$T/k/md" "$T/k/ledger.csv" "$ids" 1 >"$T/why" 2>&1 || { bad="$bad $i"; sed "s/^/# random #$i: /" "$T/why" | head -5; }
done
is "$bad" "" "killed at random instants, the re-run delivers the rest: at most the letter in flight twice"

# Two runs at once on one ledger: a slow sendmail keeps the first running.
cat >"$T/slow-sendmail" <<SH
#!/bin/sh
sleep 0.1
cat >>"$T/sent.txt"
echo ==== >>"$T/sent.txt"
SH
chmod +x "$T/slow-sendmail"
rm -f "$T/two.csv"
notify --template expiring --ledger "$T/two.csv" --sendmail="$T/slow-sendmail" "$T/certs.csv" >/dev/null 2>"$T/a.err" &
a=$!
i=0
while ! grep -qs '^To: ' "$T/sent.txt" && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
exit_is 75 "a second run on a ledger in use exits 75 (temporary failure)" \
    notify --template expiring --ledger "$T/two.csv" --sendmail="$T/slow-sendmail" "$T/certs.csv"
like "$(cat "$T/.err")" "in use by another run" "and says the ledger is in use"
wait $a
is "$(grep -c '^To: ' "$T/sent.txt")" 12 "the twelve letters went once each"
is "$(csv_col "$T/two.csv" recipient | wc -l | tr -d ' ')" 12 "and the ledger records each once"

done_testing

#!/bin/sh
# notify into a Maildir delivers a batch of letters at a time (one syncfs,
# one sync of new/) and records them in the ledger after: killed anywhere
# (strace injects SIGKILL at the nth syncfs, fsync, openat, linkat, unlinkat
# or write) and run again, every letter is in the Maildir exactly once, and
# in the ledger once; a letter that reached new/ before the kill is found
# again, even after the clerk's mail reader moved it to cur/. 1,100 letters
# make two batches. Both ways of writing a letter: an unnamed file in tmp/
# (O_TMPFILE, linked by its descriptor, or through /proc when that is
# refused) and, with CB_MAILDIR_NAMED_TMP=1, a name in tmp/. Judged by
# tests/cli/crash_check.py (Python's mailbox, csv).
. "$(dirname "$0")/lib.sh"
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"

if ! strace -f -o /dev/null -e inject=getppid:error=EPERM:when=1 true 2>/dev/null; then
    echo "1..0 # SKIP strace cannot trace here (no ptrace)"
    exit 0
fi
CHECK="python3 $TOP/tests/cli/crash_check.py"
N=1100
/usr/bin/python3 - "$N" >"$T/certs.csv" <<'PY'
import sys
print("serial,subject_cn,email,expiry_date,days_left")
for i in range(1, int(sys.argv[1]) + 1):
    print("S%04d,Người %d,n%04d@lamdong.gov.vn,2026-03-15,30" % (i, i, i))
PY
ids=$(csv_col "$T/certs.csv" email | paste -sd, -)

run() {  # DIR [wrapper...]
    _d=$1
    shift
    "$@" notify --template expiring --ledger "$_d/ledger.csv" --thresholds 60,30,7 --as-of 2026-02-13 \
        --maildir "$_d/md" "$T/certs.csv" >/dev/null 2>"$_d/stderr.txt"
}

rm -rf "$T/clean" && mkdir "$T/clean"
run "$T/clean"
ok "an uninterrupted run delivers each of the $N letters once" $CHECK maildir "$T/clean/md" "$T/clean/ledger.csv" "$ids"
run "$T/clean"
ok "and a second run sends none again" $CHECK maildir "$T/clean/md" "$T/clean/ledger.csv" "$ids"
is "$(ls "$T/clean/md/new" | grep -c '^certbatch\.')" "$N" "each letter's file is named after its notice"
is "$(ls -A "$T/clean/md/tmp")" "" "and nothing is left in tmp/"
mkdir "$T/proc"
run "$T/proc" strace -f -qq -o /dev/null -e inject=linkat:error=ENOENT:when=1
ok "a process that may not link a descriptor links the letters through /proc, each once" \
    $CHECK maildir "$T/proc/md" "$T/proc/ledger.csv" "$ids"
mkdir "$T/few"
(ulimit -n 300 && run "$T/few")
ok "allowed only 300 open files, notify delivers in smaller batches, each letter once" \
    $CHECK maildir "$T/few/md" "$T/few/ledger.csv" "$ids"

# Kill at the nth call of sys, run again, judge: exactly once. Each try
# has a directory of its own: removing thousands of files would slow the
# next ones' creation (ext4 does not reuse an inode freed moments ago).
tries=0
killed_at() {  # sys n
    tries=$((tries + 1))
    _k="$T/k$tries"
    mkdir "$_k"
    run "$_k" strace -f -qq -o /dev/null -e inject=$1:signal=SIGKILL:when=$2
    run "$_k"
    $CHECK maildir "$_k/md" "$_k/ledger.csv" "$ids" >"$T/why" 2>&1 ||
        { sed "s/^/# $1 #$2: /" "$T/why" "$_k/stderr.txt" | head -5; return 1; }
}

# The openat calls that create a file in tmp/ (O_TMPFILE, or a name), for
# the openat kills: their indexes among all the openats. With O_TMPFILE
# the first is the probe of whether the file system has it.
tmp_opens() {  # trace
    grep "^[0-9 ]*openat(" "$1" | grep -n . | grep -E 'O_TMPFILE|"[0-9]+\.M[0-9]+P' | cut -d: -f1
}

for way in O_TMPFILE named; do
    probe=""
    [ $way = named ] && export CB_MAILDIR_NAMED_TMP=1
    for sys in syncfs fsync openat linkat unlinkat write; do
        mkdir "$T/count-$way-$sys"
        run "$T/count-$way-$sys" strace -f -qq -o "$T/trace.$sys" -e trace=$sys
        total=$(grep -c "^[0-9 ]*$sys(" "$T/trace.$sys")
        # every sync; the first, the batch's last and the next batch's
        # first letter created and linked (and the probe); the first and
        # last unlink and write
        case $sys in
        syncfs | fsync) points=$(seq 1 "$total") ;;
        linkat) points="1 1024 1025" ;;
        openat)
            tmp_opens "$T/trace.$sys" >"$T/opens"
            [ $way = O_TMPFILE ] && probe=$(sed -n 1p "$T/opens") && sed -i 1d "$T/opens"
            points="${probe:-} $(sed -n '1p;1024p;1025p' "$T/opens")"
            ;;
        *) points="1 $((total / 2)) $total" ;;
        esac
        # an unnamed file is never unlinked
        [ $way.$sys = O_TMPFILE.unlinkat ] && { is "$total" 0 "an unnamed letter is never unlinked"; continue; }
        bad=""
        for n in $points; do
            [ "$n" -ge 1 ] && [ "$n" -le "$total" ] || continue
            killed_at $sys "$n" || bad="$bad $n"
        done
        [ "$total" -gt 0 ] || bad="no $sys at all"
        is "$bad" "" "letters in tmp/ ($way), killed at the ${sys}s ($total in a run), the re-run leaves each letter exactly once"
    done
    unset CB_MAILDIR_NAMED_TMP
done

# Killed after the first batch reached new/ and before the ledger took it:
# at the second fsync (the new ledger's header, then new/, before the
# ledger's rows); the clerk reads the letters meanwhile.
mkdir "$T/k"
run "$T/k" strace -f -qq -o /dev/null -e inject=fsync:signal=SIGKILL:when=2
is "$(ls "$T/k/md/new" | wc -l | tr -d ' ')" 1024 "killed before its ledger rows, the first batch is in new/"
is "$(csv_col "$T/k/ledger.csv" recipient | wc -l | tr -d ' ')" 0 "and not in the ledger"
/usr/bin/python3 - "$T/k/md" <<'PY'
import mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
for key in list(md.iterkeys()):
    msg = md.get_message(key)
    msg.set_subdir('cur')
    msg.add_flag('S')
    md[key] = msg
PY
is "$(ls "$T/k/md/cur" | wc -l | tr -d ' ')" 1024 "the mail reader moved them to cur/, read"
run "$T/k"
ok "the re-run sends the rest and none of those again" $CHECK maildir "$T/k/md" "$T/k/ledger.csv" "$ids"

# A digest per agency, killed between new/ and the ledger: the same.
/usr/bin/python3 - >"$T/digest.csv" <<'PY'
print("serial,subject_cn,email,expiry_date,days_left,agency")
for i in range(1, 41):
    print("D%03d,Người %d,office%02d@lamdong.gov.vn,2026-03-15,30,Sở %d" % (i, i, i % 20, i % 20))
PY
digest() {  # DIR [wrapper...]
    _d=$1
    shift
    "$@" notify --template expiring --digest-by email --ledger "$_d/ledger.csv" --as-of 2026-02-13 \
        --maildir "$_d/md" "$T/digest.csv" >/dev/null 2>"$_d/stderr.txt"
}
offices=$(csv_col "$T/digest.csv" email | sort -u | paste -sd, -)
rm -rf "$T/d" && mkdir "$T/d"
digest "$T/d" strace -f -qq -o /dev/null -e inject=fsync:signal=SIGKILL:when=2
digest "$T/d"
/usr/bin/python3 - "$T/d/md" "$T/d/ledger.csv" "$offices" >"$T/why" 2>&1 <<'PY'
import csv, mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
got = sorted(str(m['To']).split('<')[-1].strip('> ') for m in md)
want = sorted(sys.argv[3].split(','))
rows = list(csv.DictReader(open(sys.argv[2], encoding='utf-8')))
if got != want:
    print('letters:', got)
if len(rows) != 40 or len({(r['recipient'], r['event_key']) for r in rows}) != 40:
    print('ledger rows:', len(rows))
PY
is "$(cat "$T/why")" "" "a digest killed before its ledger rows goes once per office, its 40 notices recorded once"

done_testing

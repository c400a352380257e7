#!/bin/sh
# sign-batch killed at each of its commit points (strace injects SIGKILL on
# the nth fsync, link, rename, unlink or write) and at random instants,
# then run again with the same command: the state must be that of one
# uninterrupted run — every certificate the ledger holds in the output
# once, every new key with its PKCS#12 file and PIN, the manifest listing
# them all, no journal and no hidden file left. Judged by
# tests/cli/crash_check.py (Python's csv, the openssl CLI).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

if ! strace -f -o /dev/null -e inject=getppid:error=EPERM:when=1 true 2>/dev/null; then
    echo "1..0 # SKIP strace cannot trace here (no ptrace)"
    exit 0
fi
CHECK="python3 $TOP/tests/cli/crash_check.py"

make_ca >/dev/null 2>&1
for i in 1 2 3; do make_old_cert 0A1B2C3D4E5F600$i "Người Thứ $i" 400; done
cat >"$T/renew.csv" <<'CSV'
request_id,request_type,old_serial,full_name
GH-1,renew,0A1B2C3D4E5F6001,Người Thứ 1
GH-2,renew,0A1B2C3D4E5F6002,Người Thứ 2
GH-3,renew,0A1B2C3D4E5F6003,Người Thứ 3
GH-9,renew,DEADBEEF,Không Có
CSV
cat >"$T/issue.csv" <<'CSV'
request_id,form,full_name,id_number,position,agency,province,email,request_type,subject_type
CB-1,01,Nguyễn Thị Hoa,068190000123,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,Lâm Đồng,hoa@lamdong.gov.vn,issue,individual
CB-2,01,Trần Văn Bảo,068085000456,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,Lâm Đồng,bao@lamdong.gov.vn,issue,individual
CB-3,01,Lê Văn Cường,068085000457,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,Lâm Đồng,cuong@lamdong.gov.vn,issue,individual
CB-9,01,Không Thư,068085000458,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,Lâm Đồng,,issue,individual
CSV

# fresh DIR: a state directory holding the inputs and nothing else.
fresh() {
    rm -rf "$1" && mkdir -p "$1"
    cp "$T/ca.pem" "$T/ca.key" "$T/ca-pass.txt" "$T/renew.csv" "$T/issue.csv" "$1/"
    cp -r "$T/old" "$1/old"
}
# run DIR MODE [wrapper...]: the one command an operator runs, run from DIR.
run() {
    _d=$1 _m=$2
    shift 2
    if [ "$_m" = issue ]; then set -- "$@" sign-batch issue --key-alg ec-p256 --key-dir keys issue.csv
    else set -- "$@" sign-batch renew --old-certs old renew.csv; fi
    (cd "$_d" && "$@" --ca-cert ca.pem --ca-key ca.key --pass-file ca-pass.txt --ledger ledger.csv \
        --manifest man.csv --rejects rejects.csv -o out.pem >/dev/null 2>"$_d/stderr.txt")
}
ids_issue=CB-1,CB-2,CB-3
ids_renew=GH-1,GH-2,GH-3

for mode in renew issue; do
    eval ids=\$ids_$mode
    fresh "$T/clean"
    run "$T/clean" $mode
    ok "$mode: an uninterrupted run is judged whole" $CHECK sign-batch "$T/clean" $mode $ids
    run "$T/clean" $mode
    ok "$mode: and so is a second uninterrupted run of the same command" $CHECK sign-batch "$T/clean" $mode $ids
    is "$(cat "$T/clean/stderr.txt" | grep -c 'written out again')" 3 "$mode: the second run says the three were issued before"

    for sys in fsync link rename unlink write; do
        fresh "$T/count"
        run "$T/count" $mode strace -f -qq -o "$T/trace" -e trace=$sys
        total=$(grep -c "$sys(" "$T/trace")
        bad=""
        n=1
        while [ $n -le "$total" ]; do
            fresh "$T/k"
            run "$T/k" $mode strace -f -qq -o /dev/null -e inject=$sys:signal=SIGKILL:when=$n
            run "$T/k" $mode
            if ! $CHECK sign-batch "$T/k" $mode $ids >"$T/why" 2>&1; then
                bad="$bad $n"
                sed "s/^/# $sys #$n: /" "$T/why" | head -5
            fi
            n=$((n + 1))
        done
        is "$bad" "" "$mode: killed at each of the $total ${sys}s, the re-run ends in the state of one uninterrupted run"
    done

    # Random instants: a kill -9 somewhere in the run, a few times.
    bad=""
    for i in 1 2 3 4 5 6; do
        fresh "$T/k"
        rm -f "$T/pid"
        run "$T/k" $mode sh -c 'echo $$ >"$0"; exec "$@"' "$T/pid" &
        sleep "0.0$(od -An -N1 -tu1 /dev/urandom | tr -d ' ' | cut -c1)"
        [ -s "$T/pid" ] && kill -KILL "$(cat "$T/pid")" 2>/dev/null
        wait
        run "$T/k" $mode
        $CHECK sign-batch "$T/k" $mode $ids >"$T/why" 2>&1 || { bad="$bad $i"; sed "s/^/# random #$i: /" "$T/why" "$T/k/stderr.txt" | head -8; }
    done
    is "$bad" "" "$mode: killed at random instants, the re-run ends in the state of one uninterrupted run"
done

# A journal that a crash left after the commit is finished, and said so.
fresh "$T/j"
run "$T/j" issue strace -f -qq -o /dev/null -e inject=link:signal=SIGKILL:when=1
ok "killed at the first key file, the batch journal holds the keys" test -s "$T/j/ledger.csv.journal"
is "$(stat -c %a "$T/j/ledger.csv.journal")" 600 "the batch journal is mode 0600"
run "$T/j" issue
like "$(cat "$T/j/stderr.txt")" "finished the batch a previous run left half-done: 3 key files and 3 PINs written, 0 keys never committed" \
    "the re-run says it finished the half-published batch"
# Killed before the commit: the staged keys are rolled back.
fresh "$T/r"
run "$T/r" issue strace -f -qq -o /dev/null -e inject=fsync:signal=SIGKILL:when=4
like "$(cat "$T/r/ledger.csv")" '^request_id' "killed before the commit, the ledger holds no certificate"
run "$T/r" issue
like "$(cat "$T/r/stderr.txt")" "0 key files and 0 PINs written, 3 keys never committed rolled back" \
    "the re-run says it rolled the uncommitted keys back"
ok "and then issues the batch whole" $CHECK sign-batch "$T/r" issue $ids_issue

done_testing

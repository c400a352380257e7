#!/bin/sh
# A stage spread over two hosts for real: two sshd daemons on 127.0.0.1 on
# free high ports, a throw-away host key and login key, GNU parallel sending
# each input file to a host (--sshlogin, --transferfile) and the results
# joined in input order. The records must equal the one-host run's (the
# source column names the file as the host received it: its base name), and
# the input files must all still be there: a host that shares the state
# directory (here, the same machine) must never have its originals removed
# by the clean-up of the transferred copies.
. "$(dirname "$0")/lib.sh"
need_samples
for t in /usr/sbin/sshd ssh rsync parallel; do
    if ! command -v "$t" >/dev/null 2>&1; then
        echo "1..0 # SKIP $t is not installed (make deps)"; exit 0
    fi
done
D=$(cat "$SAMPLES/as-of.txt")
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$T/login_key"
cp "$T/login_key.pub" "$T/authorized_keys"
mkdir -p /run/sshd 2>/dev/null || true
me=$(id -un)
pids=""
: >"$T/ssh_config"
for n in 1 2; do
    port=$(free_port)
    cat >"$T/sshd$n.conf" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $T/host_key
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile $T/sshd$n.pid
SetEnv PATH=$BIN:/usr/bin:/bin
CONF
    /usr/sbin/sshd -D -f "$T/sshd$n.conf" -E "$T/sshd$n.log" &
    pids="$pids $!"
    cat >>"$T/ssh_config" <<CONF
Host node$n
  HostName 127.0.0.1
  Port $port
  User $me
  IdentityFile $T/login_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
CONF
done
trap 'kill $pids 2>/dev/null; rm -rf "$T"' EXIT INT TERM
export PARALLEL_SSH="ssh -F $T/ssh_config"
up=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    if ssh -F "$T/ssh_config" node1 true 2>/dev/null && ssh -F "$T/ssh_config" node2 true 2>/dev/null; then
        up=1; break
    fi
    sleep 0.5
done
if [ $up = 0 ]; then
    echo "1..0 # SKIP the test sshd daemons did not come up: $(cat "$T"/sshd*.log | tail -3 | tr '\n' ' ')"
    exit 0
fi
ok "both hosts answer over ssh with the programs on their PATH" \
    sh -c "ssh -F '$T/ssh_config' node1 command -v scan-expiry && ssh -F '$T/ssh_config' node2 command -v scan-expiry"

# Twenty certificate files, some expired, some revoked, as the province has.
mkdir -p "$T/certs"
ls "$SAMPLES"/certs/*.pem | head -n 20 | while read -r f; do cp "$f" "$T/certs/"; done
while read -r s; do cp "$SAMPLES/certs/$s.pem" "$T/certs/"; done <"$SAMPLES/revoked.txt"
n=$(ls "$T/certs" | wc -l)
exit_is 0 "the scan over two hosts runs" run-pipeline -q --as-of "$D" --set certs="$T/certs" \
    --set ca="$SAMPLES/ca-chain.pem" --set crl="$SAMPLES/crl.pem" --set dir="$T" \
    --log "$T/hosts.jsonl" "$TESTDATA/pipelines/scan-hosts.yaml"
is "$(ls "$T/certs" | wc -l | tr -d ' ')" "$n" "every input file is still in the certificate directory"
is "$(($(wc -l <"$T/hosts.csv") - 1))" "$n" "one record per certificate file"
cut_source() { mlr --icsv --ocsv cut -x -f source "$1"; }
ok "the records equal the one-host run's, in input order" sh -c "
    mlr --icsv --ocsv cut -x -f source '$T/hosts.csv' >'$T/h.csv' &&
    mlr --icsv --ocsv cut -x -f source '$T/one-host.csv' >'$T/o.csv' && cmp '$T/h.csv' '$T/o.csv'"
is "$(mlr --icsv --onidx cut -f source "$T/hosts.csv" | sed 's/#.*//' | tr '\n' ' ')" \
   "$(mlr --icsv --onidx cut -f source "$T/one-host.csv" | sed 's/#.*//; s|.*/||' | tr '\n' ' ')" \
   "each record's source is the base name of the file the host received"
is "$(mlr --icsv --onidx filter '$status == "revoked"' then count "$T/hosts.csv")" \
   "$(wc -l <"$SAMPLES/revoked.txt" | tr -d ' ')" "the hosts apply the CRL: the revoked certificates are revoked"
ok "both hosts ran jobs" sh -c "grep -q 'Accepted publickey' '$T/sshd1.log' && grep -q 'Accepted publickey' '$T/sshd2.log'"
done_testing

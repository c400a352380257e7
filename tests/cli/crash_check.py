#!/usr/bin/python3
"""Judges the state a program left after a crash and a re-run, for the
fault-injection tests (tests/cli/9xx-*.t), independently of certbatch: the
CSV files with Python's csv module, certificates and PKCS#12 files with the
openssl CLI, mailboxes with Python's mailbox module.

    crash_check.py sign-batch DIR MODE IDS    MODE issue|renew, IDS a,b,c
    crash_check.py maildir DIR LEDGER IDS [N] each letter once (N twice), all in the ledger
    crash_check.py hidden DIR...              no hidden temporary file

Prints one line per problem found and exits 1 when there is any."""
import csv
import mailbox
import os
import re
import subprocess
import sys

problems = []


def problem(msg):
    problems.append(msg)


def rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def openssl(*args, data=None):
    r = subprocess.run(['openssl', *args], input=data, capture_output=True)
    return r.returncode, r.stdout


def fingerprint(pem):
    rc, out = openssl('x509', '-noout', '-fingerprint', '-sha256', data=pem)
    if rc != 0:
        return None
    return out.decode().split('=', 1)[1].strip().replace(':', '')


def pem_blocks(path):
    text = open(path, 'rb').read()
    return re.findall(rb'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n', text, re.S)


def hidden(*dirs):
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if name.startswith('.') or name.endswith('.tmp') or '.tmp.' in name:
                problem(f'{d}/{name}: a hidden or temporary file was left')


def sign_batch(d, mode, ids):
    want = set(ids.split(','))
    ledger = rows(f'{d}/ledger.csv')
    got = [r['request_id'] for r in ledger]
    if sorted(got) != sorted(want):
        problem(f'the ledger holds {sorted(got)}, expected each of {sorted(want)} once')
    by_sha = {r['sha256'].upper(): r for r in ledger}
    certs = pem_blocks(f'{d}/out.pem') if os.path.exists(f'{d}/out.pem') else []
    if len(certs) != len(want):
        problem(f'the output holds {len(certs)} certificates, expected {len(want)}')
    seen = set()
    for pem in certs:
        fp = fingerprint(pem)
        if fp not in by_sha:
            problem(f'a certificate in the output is not in the ledger ({fp})')
        if fp in seen:
            problem(f'a certificate is in the output twice ({fp})')
        seen.add(fp)
        rc, _ = openssl('verify', '-CAfile', f'{d}/ca.pem', data=pem)
        if rc != 0:
            problem('a certificate in the output does not verify under the CA')
    man = rows(f'{d}/man.csv') if os.path.exists(f'{d}/man.csv') else []
    if sorted(r['request_id'] for r in man) != sorted(want):
        problem(f'the manifest lists {sorted(r["request_id"] for r in man)}, expected {sorted(want)}')
    if sorted(r['serial'] for r in man) != sorted(r['serial'] for r in ledger):
        problem('the manifest serials are not the ledger serials')
    if os.path.exists(f'{d}/ledger.csv.journal'):
        problem('the batch journal was left')
    hidden(d, f'{d}/keys')
    if mode != 'issue':
        return
    pins = rows(f'{d}/keys/pins.csv') if os.path.exists(f'{d}/keys/pins.csv') else []
    pin_of = {}
    for r in pins:
        if r['request_id'] in pin_of:
            problem(f'{r["request_id"]} has two PIN rows')
        pin_of[r['request_id']] = r['pin']
    for r in ledger:
        rid = r['request_id']
        p12 = f'{d}/keys/{rid}.p12'
        if not os.path.exists(p12):
            problem(f'{rid}: issued, but no PKCS#12 file')
            continue
        if os.stat(p12).st_mode & 0o777 != 0o600:
            problem(f'{rid}: the PKCS#12 file is not mode 0600')
        if rid not in pin_of:
            problem(f'{rid}: issued, but no PIN row')
            continue
        rc, out = openssl('pkcs12', '-in', p12, '-passin', 'pass:' + pin_of[rid], '-nokeys', '-clcerts')
        if rc != 0:
            problem(f'{rid}: the PIN does not open the PKCS#12 file')
        elif fingerprint(out) != r['sha256'].upper():
            problem(f'{rid}: the PKCS#12 holds another certificate than the ledger names')
    extra = set(pin_of) - set(got)
    if extra:
        problem(f'PIN rows for requests never issued: {sorted(extra)}')


def maildir(d, ledger, ids, extra='0'):
    """Each letter in the Maildir once, at most `extra` of them twice (the
    one in flight when the run was killed), and each in the ledger once."""
    want = sorted(ids.split(','))
    md = mailbox.Maildir(d, factory=None, create=False)
    got = sorted(str(m['To']).split('<')[-1].strip('> ') for m in md)
    missing = sorted(set(want) - set(got))
    if missing:
        problem(f'letters never delivered: {missing}')
    twice = len(got) - len(set(got))
    if twice > int(extra):
        problem(f'{twice} letters delivered twice, at most {extra} may be')
    if set(got) - set(want):
        problem(f'letters nobody asked for: {sorted(set(got) - set(want))}')
    if os.listdir(f'{d}/tmp'):
        problem(f'{d}/tmp: a letter was left half-delivered')
    sent = sorted(r['recipient'] for r in rows(ledger))
    if sent != want:
        problem(f'the ledger records {sent}, expected each of {want} once')


def main():
    kind = sys.argv[1]
    if kind == 'sign-batch':
        sign_batch(*sys.argv[2:5])
    elif kind == 'maildir':
        maildir(*sys.argv[2:6])
    elif kind == 'hidden':
        hidden(*sys.argv[2:])
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


main()

#!/usr/bin/python3
"""Runs the path-validation cases of x509-limbo (a copy in
/work/shared/testdata/limbo, or the file given) through scan-expiry --ca
--chain --crl and counts the verdicts that agree with the suite's.

    python3 tests/limbo/run-limbo.py [limbo.json] [-v]

Applicable are the cases whose verdict is RFC 5280 path validation as
scan-expiry does it: chain building, signatures, basicConstraints,
pathLenConstraint, keyUsage, key identifiers, validity and CRLs. Left out,
and counted apart: host names and name constraints (scan-expiry matches no
peer name), extended key usage, a maximum chain depth, the webpki::
namespace (a browser profile, not RFC 5280), and validity cases that need an
instant finer than the as-of day. Limbo's trusted certificates are anchors
whatever they are, so --partial-chain is given. A leaf scan-expiry calls valid or
expiring is SUCCESS; any other status is FAILURE."""
import ast
import csv
import datetime
import io
import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("CB_BIN", os.path.join(TOP, "bin"))
LIMBO = "/work/shared/testdata/limbo/limbo.json"

LEFT_OUT_PREFIXES = ("webpki::", "rfc5280::nc::", "rfc5280::san::", "rfc5280::eku::",
                     "pathological::nc-dos", "cve::cve-2025-61727")
LEFT_OUT_IDS = {"rfc5280::validity::notbefore-exact", "rfc5280::validity::notafter-exact",
                "rfc5280::validity::notbefore-fractional", "rfc5280::validity::notafter-fractional",
                "rfc5280::validity::expired-1-second", "rfc5280::validity::expired-5-seconds",
                "rfc5280::validity::not-yet-valid-1-second", "rfc5280::validity::not-yet-valid-5-seconds",
                "rfc5280::ca-as-leaf-wrong-san"}


def pem_list(v):
    if isinstance(v, str):
        v = ast.literal_eval(v) if v.startswith("[") else [v]
    return list(v or [])


def applicable(tc):
    if tc["id"].startswith(LEFT_OUT_PREFIXES) or tc["id"] in LEFT_OUT_IDS:
        return False
    if tc["extended_key_usage"] or tc["max_chain_depth"] is not None or tc["signature_algorithms"]:
        return False
    return True


def run_case(tc, work):
    def write(name, pems):
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write("".join(p if p.endswith("\n") else p + "\n" for p in pems))
        return path
    ca = write("ca.pem", pem_list(tc["trusted_certs"]))
    chain = write("chain.pem", pem_list(tc["untrusted_intermediates"]))
    leaf = write("leaf.pem", [tc["peer_certificate"]])
    # limbo's trusted certificates are anchors as they are, self-signed or not
    args = [os.path.join(BIN, "scan-expiry"), "--all", "-q", "--partial-chain", "--ca", ca, "--chain", chain]
    crls = pem_list(tc.get("crls"))
    if crls:
        args += ["--crl", write("crls.pem", crls)]
    when = tc["validation_time"] or datetime.datetime.now(datetime.timezone.utc).isoformat()
    day = datetime.datetime.fromisoformat(when).astimezone(
        datetime.timezone(datetime.timedelta(hours=7))).date().isoformat()
    args += ["--as-of", day, leaf]
    p = subprocess.run(args, capture_output=True, text=True)
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    if p.returncode != 0 or len(rows) != 1:
        return "FAILURE", "exit %d: %s" % (p.returncode, p.stderr.strip()[:160])
    st = rows[0]["status"]
    return ("SUCCESS" if st in ("valid", "expiring") else "FAILURE"), st + " " + rows[0]["trust_problem"]


def main():
    files = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv
    cases = json.load(open(files[0] if files else LIMBO))["testcases"]
    right = judged = 0
    with tempfile.TemporaryDirectory() as work:
        for tc in cases:
            if not applicable(tc):
                continue
            judged += 1
            got, why = run_case(tc, work)
            if got == tc["expected_result"]:
                right += 1
            elif verbose:
                print("WRONG %s: expected %s, got %s (%s)" % (tc["id"], tc["expected_result"], got, why))
    print("limbo: %d of %d applicable cases right (%d cases in the file)" % (right, judged, len(cases)))


if __name__ == "__main__":
    main()

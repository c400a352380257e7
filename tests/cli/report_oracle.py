#!/usr/bin/python3
"""Recomputes every figure of report's page from the same CSV files with
Python's csv module, and compares it with the page's text as a browser
rendered it (chromium --dump-dom). Prints one TAP-like line per check:
"ok<TAB>name" or "not ok<TAB>name<TAB>detail"; report-fixture.sh turns them
into the test's TAP.

The rules are the ones report(1) states: days left = expiry_date - as-of
(below 0 expired) for valid/expiring/expired, the other statuses as
written; "to chase" = valid with 0..60 days and an old_serial on no valid
request, proposal row or non-rejected ledger row; forecast week = days//7
for the first 26 weeks, the 8 agencies with most certificates in them and
the rest; agencies grouped by agency_key, else by the agency name folded
(case, NFC, UBND, spaces around dashes).

usage: report_oracle.py DOM AS_OF --certs F [--valid F] [--rejects F]
                        [--proposal F] [--ledger F] [--notices F]...
"""
import argparse
import csv
import datetime
import html.parser
import re
import sys
import unicodedata

VOID = {"meta", "br", "link", "img", "input", "hr", "area", "base", "col", "embed", "source", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag=None):
        for c in self.children:
            if isinstance(c, Node):
                if tag is None or c.tag == tag:
                    yield c
                yield from c.all(tag)

    def by_id(self, i):
        for n in self.all():
            if n.attrs.get("id") == i:
                return n
        return None


class Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def vn(n):
    return f"{n:,}".replace(",", ".")


def akey(s):
    s = unicodedata.normalize("NFC", s).casefold()
    s = re.sub(r"\bubnd\b", "ủy ban nhân dân", s)
    s = re.sub(r"\s*-\s*", "-", s)
    return " ".join(s.split())


def serial(s):
    s = s.replace(":", "").strip().upper().lstrip("0")
    return s if re.fullmatch(r"[0-9A-F]*", s) else ""


def rows(path):
    if not path:
        return []
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def day(s):
    s = s.strip()
    if re.fullmatch(r"\d{4}-\d\d-\d\d", s):
        return datetime.date.fromisoformat(s)
    d, m, y = s.split("/")
    return datetime.date(int(y), int(m), int(d))


class Checker:
    def __init__(self):
        self.failed = 0

    def eq(self, got, want, name):
        if got == want:
            print(f"ok\t{name}")
        else:
            self.failed += 1
            print(f"not ok\t{name}\tgot {got!r}, expected {want!r}")


def table_rows(dom, tid, key_attr):
    t = dom.by_id(tid)
    out = {}
    if t is None:
        return out
    for tr in t.all("tr"):
        if key_attr in tr.attrs:
            cells = {}
            for c in tr.children:
                if isinstance(c, Node) and "data-k" in c.attrs:
                    cells[c.attrs["data-k"]] = c.text().strip()
            out[tr.attrs[key_attr]] = cells
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dom")
    ap.add_argument("as_of")
    ap.add_argument("--certs", required=True)
    ap.add_argument("--valid")
    ap.add_argument("--rejects")
    ap.add_argument("--proposal")
    ap.add_argument("--ledger")
    ap.add_argument("--notices", action="append", default=[])
    a = ap.parse_args()
    today = datetime.date.fromisoformat(a.as_of)
    b = Builder()
    with open(a.dom, encoding="utf-8") as f:
        b.feed(f.read())
    dom = b.root
    ck = Checker()

    certs, valid, rejects = rows(a.certs), rows(a.valid), rows(a.rejects)
    proposal, ledger = rows(a.proposal), rows(a.ledger)

    def req_key(r):
        return r.get("agency_key") or akey(r.get("agency", ""))

    on_file = {serial(r.get("old_serial", "")) for r in valid + proposal}
    # The ledger (state/requests.csv): a request's last event says whether it
    # is on file (anything but a rejection).
    evcol = next((c for c in ("event", "status", "state") if ledger and c in ledger[0]), None)

    def reqkey(r):
        return r.get("request_id") or "#" + serial(r.get("old_serial", ""))

    last = {}
    for r in ledger:
        last[reqkey(r)] = r
    on_file |= {serial(r.get("old_serial", "")) for r in last.values() if r[evcol] != "rejected"}
    on_file.discard("")

    n = dict(total=0, valid=0, le60=0, le30=0, le7=0, expired=0, revoked=0, untrusted=0, nyv=0)
    agencies = {}
    due = []

    def ag(k):
        return agencies.setdefault(k, dict(holders=0, due60=0, received=0, rejected=0, proposed=0,
                                           renewed=0, delivered=0, weeks=[0] * 26))

    for c in certs:
        st = c["status"]
        n["total"] += 1
        if st in ("valid", "expiring", "expired"):
            d = (day(c["expiry_date"]) - today).days
            if d < 0:
                n["expired"] += 1
                continue
            g = ag(akey(c["subject_o"]))
            n["valid"] += 1
            g["holders"] += 1
            if d <= 60:
                n["le60"] += 1
                g["due60"] += 1
                if serial(c["serial"]) not in on_file:
                    due.append((d, c["serial"], day(c["expiry_date"])))
            n["le30"] += d <= 30
            n["le7"] += d <= 7
            if d // 7 < 26:
                g["weeks"][d // 7] += 1
        else:
            n[{"revoked": "revoked", "untrusted": "untrusted", "not_yet_valid": "nyv"}[st]] += 1
    for r in valid:
        ag(req_key(r))["received"] += 1
    for r in rejects:
        g = ag(akey(r["agency"]))
        g["received"] += 1
        g["rejected"] += 1
    for r in proposal:
        ag(req_key(r))["proposed"] += 1
    # Renewals and deliveries once per request, for the ledger's agency, else
    # the agency of the certificate renewed, else none ("").
    cert_agency = {}
    for c in certs:
        cert_agency.setdefault(serial(c["serial"]), akey(c["subject_o"]))
    done = set()
    for r in ledger:
        if r[evcol] in ("renewed", "delivered") and (r[evcol], reqkey(r)) not in done:
            done.add((r[evcol], reqkey(r)))
            k = r.get("agency_key") or akey(r.get("agency", ""))
            if not k:
                k = cert_agency.get(serial(r.get("old_serial", "")), "")
            ag(k)[r[evcol]] += 1

    def card(i):
        e = dom.by_id(i)
        return e.text().strip() if e is not None else None

    for k, i in [("total", "n-total"), ("valid", "n-valid"), ("le60", "n-le60"), ("le30", "n-le30"),
                 ("le7", "n-le7"), ("expired", "n-expired"), ("revoked", "n-revoked"),
                 ("untrusted", "n-untrusted")]:
        ck.eq(card(i), vn(n[k]), f"count {i}")
    ck.eq(card("n-not-yet-valid"), vn(n["nyv"]) if n["nyv"] else None, "count n-not-yet-valid")
    if a.notices:
        sent = sum(1 for p in a.notices for r in rows(p) if r["status"] == "sent")
        ck.eq(card("n-notices-sent"), vn(sent), "notices sent")
    ck.eq(card("as-of"), today.strftime("%d/%m/%Y"), "the report's day as DD/MM/YYYY")

    # To chase, soonest first.
    ck.eq(card("n-due"), vn(len(due)), "holders to chase: how many")
    page_due = []
    t = dom.by_id("due")
    for tr in (t.all("tr") if t is not None else []):
        if "data-serial" in tr.attrs:
            cells = {c.attrs["data-k"]: c.text().strip() for c in tr.children
                     if isinstance(c, Node) and "data-k" in c.attrs}
            page_due.append((tr.attrs["data-serial"], cells))
    want_due = {s: (vn(d), e.strftime("%d/%m/%Y")) for d, s, e in due}
    got_due = {s: (c.get("days"), c.get("expiry")) for s, c in page_due}
    ck.eq(got_due, want_due, "holders to chase: the certificates, their days left and expiry dates")
    days_seq = [int(c["days"].replace(".", "")) for _, c in page_due]
    ck.eq(days_seq, sorted(days_seq), "holders to chase: soonest first")
    ck.eq([c.get("seq") for _, c in page_due], [vn(i + 1) for i in range(len(page_due))],
          "holders to chase: numbered 1..N")
    if not due:
        ck.eq(dom.by_id("due-none") is not None, True, "no holder to chase: the page says so")

    # Rejected last night, in file order.
    ck.eq(card("n-rejected"), vn(len(rejects)), "rejected requests: how many")
    rj = table_rows(dom, "rejected", "data-request")
    ck.eq({k: (v.get("line"), v.get("reason")) for k, v in rj.items()},
          {r["request_id"]: (r.get("reject_line", ""), r["reject_reason"]) for r in rejects},
          "rejected requests: each with its line and reason")

    # Per agency.
    got_ag = table_rows(dom, "agencies", "data-agency")
    cols = ["holders", "due60", "received", "rejected", "proposed", "renewed", "delivered"]
    want_ag = {k: {c: (vn(g[c]) if a.ledger or c not in ("renewed", "delivered") else "—")
                   for c in cols} for k, g in agencies.items()}
    ck.eq(sorted(got_ag), sorted(want_ag), "per agency: one row for each agency")
    for k in sorted(want_ag):
        ck.eq(got_ag.get(k), want_ag[k], f"per agency: {k or '(no agency)'}")

    # Forecast: the top 8 and the rest, week by week.
    inwin = {k: sum(g["weeks"]) for k, g in agencies.items() if sum(g["weeks"]) > 0}
    top = sorted(inwin, key=lambda k: (-inwin[k], k.encode()))[:8]
    rest = [k for k in inwin if k not in top]
    fd = dom.by_id("forecast-data")
    heads = [th.attrs.get("data-agency") for th in fd.all("th") if "data-agency" in th.attrs] if fd else []
    ck.eq(heads, top + ([""] if rest else []), "forecast: the 8 agencies with most, then the rest")
    weeks = {}
    for tr in (fd.all("tr") if fd else []):
        if "data-week" in tr.attrs:
            weeks[int(tr.attrs["data-week"])] = [c.text().strip() for c in tr.children
                                                 if isinstance(c, Node) and c.tag == "td"]
    want_w = {}
    for w in range(26):
        v = [agencies[k]["weeks"][w] for k in top]
        if rest:
            v.append(sum(agencies[k]["weeks"][w] for k in rest))
        v.append(sum(g["weeks"][w] for g in agencies.values()))
        want_w[w] = [vn(x) for x in v]
    ck.eq(weeks, want_w, "forecast: certificates per week and agency, 26 weeks")

    # Reasons by the column at fault.
    want_r = {}
    for r in rejects:
        want_r[r.get("reject_field", "")] = want_r.get(r.get("reject_field", ""), 0) + 1
    got_r = table_rows(dom, "reasons", "data-field")
    ck.eq({k: v.get("count") for k, v in got_r.items()}, {k: vn(v) for k, v in want_r.items()},
          "rejections grouped by the column at fault")
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())

# Helpers for the report tests (tests/cli/95x-report-*.t), sourced after
# lib.sh: a night run on the samples, the page as headless chromium
# renders it, and the Python oracle's checks as TAP.

# chromium, headless, with its profile under $T (tests run side by side),
# on the real clock: under libfaketime (make check-later) it does not start.
chrome() {
    env -u LD_PRELOAD -u FAKETIME chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$T/chrome" --no-first-run "$@" 2>/dev/null
}

need_chromium() {
    if ! command -v chromium >/dev/null 2>&1; then
        echo "1..0 # SKIP chromium not installed (make deps)"
        exit 0
    fi
}

# dump_dom PAGE OUT: the document as the browser built it.
dump_dom() {
    chrome --dump-dom "file://$1" >"$2"
}

# oracle DOM AS_OF ARGS...: each of report_oracle.py's checks as one test.
oracle() {
    /usr/bin/python3 "$TOP/tests/cli/report_oracle.py" "$@" >"$T/.oracle" 2>"$T/.oracle-err"
    if [ ! -s "$T/.oracle" ]; then
        _result 0 "the oracle ran"
        sed 's/^/#   /' "$T/.oracle-err"
        return
    fi
    while IFS='	' read -r status name detail; do
        if [ "$status" = ok ]; then _result 1 "$name"; else
            _result 0 "$name"
            echo "#   $detail" | cut -c1-2000
        fi
    done <"$T/.oracle"
}

# night_on_samples STATE: the shipped nightly pipeline on a state directory
# made from the samples (as tests/cli/704 does); sets R to its run directory.
night_on_samples() {
    _s=$1; shift
    mkdir -p "$_s/ca" "$_s/forms/incoming"
    ln -s "$SAMPLES/certs" "$_s/certs"
    cp "$SAMPLES/roots.pem" "$SAMPLES/chain.pem" "$_s/ca/" && cp "$SAMPLES/crls.pem" "$_s/ca/crl.pem"
    cp "$SAMPLES/forms/renewal.csv" "$_s/forms/incoming/"
    _office=$(mlr --icsv --onidx filter '$kind == "organization" && $revoked == "no"' then head -n 1 then cut -f serial "$SAMPLES/manifest.csv")
    cp "$SAMPLES/certs/$_office.pem" "$_s/ca/office-signer.pem"
    install -m 0600 "$SAMPLES/keys/$_office.key" "$_s/ca/office-signer.key"
    : >"$_s/ca/office-signer.pass"
    run-pipeline --as-of "$D" --set state="$_s" "$@" "$TOP/pipelines/nightly-renewal.yaml" >"$T/night.out" 2>"$T/night.err"
    R=$_s/runs/$D
}

# non_blank PNG|PPM: exits 0 when the picture has enough ink (python3
# reads PNG with zlib, PPM as it is).
non_blank() {
    /usr/bin/python3 "$TOP/tests/cli/report_ink.py" "$1"
}

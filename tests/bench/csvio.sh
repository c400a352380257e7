#!/bin/sh
# Benchmark: cb_csv_reader against a bare libcsv parse loop, in the same run,
# on generated 200 MB files of 220-byte request rows with UTF-8 Vietnamese
# names: (a) rows without quotes, like the sample forms, which the reader
# splits itself; (b) every row with a quoted field holding a comma, which
# goes through libcsv. Prints MB/s of each and the ratios; Miller
# (mlr --icsv --ocsv cat) is shown for scale when installed. Target: the
# reader at least half the bare loop's rate, so validate-form can reach
# 3x Miller (about 195 MB/s).
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
MB=${CB_BENCH_MB:-200}
CFLAGS="-std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2"

cc $CFLAGS -o "$W/baseline" "$TOP/tests/bench/csv-baseline.c" -lcsv
# The reader links the library `make` built (lib/ by layer, one -I each).
INC=$(for d in "$TOP"/lib/*/; do printf ' -I%s' "$d"; done)
cc $CFLAGS $INC -o "$W/reader" "$TOP/tests/bench/csv-reader.c" "$TOP/build/opt/libcertbatch.a" \
    -lcrypto -lcsv -lyaml -lutf8proc -lldap -llber \
    $(pkg-config --libs gmime-3.0 libcurl libzip libxml-2.0 xlsxwriter) -lm

# Rows padded to exactly 220 bytes with their LF; $1 = 1 quotes the agency.
gen() {
    awk -v mb="$MB" -v quoted="$1" 'BEGIN {
        print "request_id,form,full_name,birth_date,id_number,position,agency,province,email,phone,note"
        n = int(mb * 1000000 / 220)
        split("Nguyễn Văn An|Trần Thị Bình|Lê Hoàng Cường|Phạm Thu Dung|Võ Minh Đức", names, "|")
        agency = quoted ? "\"Sở Y tế, tỉnh Lâm Đồng\"" : "Sở Y tế tỉnh Lâm Đồng"
        for (i = 1; i <= n; i++) {
            row = sprintf("HS-%07d,03,%s,%02d/%02d/19%02d,0%011d,Chuyên viên,%s,Lâm Đồng,u%d@lamdong.gov.vn,09%08d,",
                          i, names[i % 5 + 1], i % 28 + 1, i % 12 + 1, 50 + i % 50, i * 7919 % 100000000000, agency, i, i % 100000000)
            while (length(row) < 219) row = row "x"
            print substr(row, 1, 219)
        }
    }'
}

# CPU seconds (user + system), best of three: the machine may be shared,
# and CPU time is what the reader costs; the file is in the page cache
# after the generation.
# Without GNU time (Debian package "time"), wall-clock seconds instead.
cpu() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%U %S" -o "$W/time" "$@" >"$W/out" 2>/dev/null
        awk '{ print $1 + $2 }' "$W/time"
    else
        t0=$(date +%s.%N); "$@" >"$W/out" 2>/dev/null; t1=$(date +%s.%N)
        echo "$t0 $t1" | awk '{ print $2 - $1 }'
    fi
}
best() {
    b=1e9
    for k in 1 2 3; do
        t=$(cpu "$@")
        b=$(echo "$b $t" | awk '{ print ($2 < $1) ? $2 : $1 }')
    done
    echo "$b"
}
mbs() { echo "$size $1" | awk '{ printf "%.0f", $1 / 1e6 / $2 }'; }
ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }

for quoted in 0 1; do
    gen $quoted >"$W/rows.csv"
    size=$(wc -c <"$W/rows.csv")
    rows=$(($(wc -l <"$W/rows.csv") - 1))
    if [ $quoted = 0 ]; then kind="no quotes (like the sample forms)"; else kind="a quoted field in every row"; fi
    echo "input: $rows rows, $size bytes, $kind"
    tb=$(best "$W/baseline" "$W/rows.csv"); nb=$(cat "$W/out")
    tr=$(best "$W/reader" "$W/rows.csv"); nr=$(cat "$W/out")
    echo "  bare libcsv loop:   $(mbs "$tb") MB/s ($nb; ${tb} s CPU)"
    echo "  cb_csv_reader:      $(mbs "$tr") MB/s ($nr; ${tr} s CPU)"
    if command -v mlr >/dev/null 2>&1; then
        tm=$(cpu mlr --icsv --ocsv cat "$W/rows.csv")
        echo "  miller 6 (cat):     $(mbs "$tm") MB/s (${tm} s CPU, all its threads)"
        echo "  reader / miller:    $(ratio "$tm" "$tr")"
    fi
    echo "  reader / bare loop: $(ratio "$tb" "$tr")"
done

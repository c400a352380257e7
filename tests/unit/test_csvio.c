/* Unit tests for lib/records/csvio.c: the CSV reader (header by name, BOM, line
 * ends, quoting, start lines, malformed records and recovery, size limit,
 * several files) and the writer (minimal quoting, round trip).
 *
 * Each input is written to a file in a temporary directory and read back;
 * the records are summed up in a transcript, "LINE=f1|f2" for a record and
 * "LINE!" for a malformed one, separated by spaces, with CR and LF inside
 * fields shown as \r and \n. The expected transcripts are written by hand
 * from the input text. */
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csvio.h"
#include "tap.h"

static char dir[] = "/tmp/cb-test-csvio-XXXXXX";
static char last_msgs[4096];   /* the messages of MALFORMED records, "; "-separated */
static int last_open_code;     /* err.code when the reader could not open */
static int last_end;           /* CB_CSV_EOF or CB_CSV_FATAL */
static char last_fatal[1100];

static char *path_of(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void put_file(const char *name, const char *data, size_t len)
{
    FILE *fp = fopen(path_of(name), "wb");
    if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        perror(name);
        exit(2);
    }
}

static void put_str(const char *name, const char *data)
{
    put_file(name, data, strlen(data));
}

struct sbuf {
    char *s;
    size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* Reads every record of the opened reader into a transcript. */
static char *drain(cb_csv_reader *r)
{
    struct sbuf b = {0};
    sb_str(&b, "");
    last_msgs[0] = '\0';
    last_fatal[0] = '\0';
    cb_record *rec = cb_record_new();
    cb_err err = {0};
    for (;;) {
        int st = cb_csv_reader_next(r, rec, &err);
        if (st == CB_CSV_EOF || st == CB_CSV_FATAL) {
            last_end = st;
            if (st == CB_CSV_FATAL)
                snprintf(last_fatal, sizeof last_fatal, "%d %s", err.code, err.msg);
            break;
        }
        char num[32];
        snprintf(num, sizeof num, "%s%ld%s", b.n ? " " : "", rec->line, st == CB_CSV_MALFORMED ? "!" : "=");
        sb_str(&b, num);
        if (st == CB_CSV_MALFORMED) {
            size_t l = strlen(last_msgs);
            snprintf(last_msgs + l, sizeof last_msgs - l, "%s%s", l ? "; " : "", err.msg);
            continue;
        }
        for (size_t i = 0; i < rec->n; i++) {
            if (i)
                sb_str(&b, "|");
            const char *f = cb_record_get(rec, (int)i);
            for (size_t k = 0; k < cb_record_len(rec, (int)i); k++) {
                if (f[k] == '\n')
                    sb_str(&b, "\\n");
                else if (f[k] == '\r')
                    sb_str(&b, "\\r");
                else
                    sb_add(&b, f + k, 1);
            }
        }
    }
    cb_record_free(rec);
    return b.s;
}

/* The transcript of one file's content; "OPEN <code>" when it cannot be
 * opened. */
static char *read_text_limit(const char *data, size_t len, size_t limit)
{
    put_file("in.csv", data, len);
    char *files[] = {path_of("in.csv")};
    cb_err err = {0};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, limit, &err);
    if (r == NULL) {
        last_open_code = err.code;
        char *s = malloc(64);
        snprintf(s, 64, "OPEN %d", err.code);
        return s;
    }
    char *t = drain(r);
    cb_csv_reader_close(r);
    return t;
}

static char *read_text(const char *data)
{
    return read_text_limit(data, strlen(data), 0);
}

#define is_csv(data, want, ...) do { \
    char *t_ = read_text(data); \
    is_str(t_, want, __VA_ARGS__); \
    free(t_); \
} while (0)

/* Sheets saved from Excel in locales with a decimal comma use ';', and
 * "Unicode text" uses tabs: the header line says which (issue 17). */
static void test_delimiters(void)
{
    is_csv("a;b;c\n1;2,5;3\n", "2=1|2,5|3", "';' found from the header: a comma in a field is text");
    is_csv("a\tb\n1\t2\n", "2=1|2", "tab found from the header");
    is_csv("\"x;y\",b,c\n1,2,3\n", "2=1|2|3", "a ';' inside a quoted header label does not count");
    is_csv("\"a,b\";c\n\"1,2\";3\n", "2=1,2|3", "';' with quoted fields holding commas");
    is_csv("a\n1\n", "2=1", "one column: ','");
    put_str("semi.csv", "a,b;c\n1,2;3\n");
    char *files[] = {path_of("semi.csv")};
    cb_err err = {0};
    cb_csv_opts o = {.delimiter = ';'};
    cb_csv_reader *r = cb_csv_reader_open_opts(files, 1, &o, &err);
    char *t = r ? drain(r) : NULL;
    is_str(t ? t : "", "2=1,2|3", "a delimiter given is used whatever the header has most of");
    free(t);
    cb_csv_reader_close(r);
    put_str("p1.csv", "a;b\n1;2\n");
    put_str("p2.csv", "a,b\n3,4\n");
    char *two[] = {path_of("p1.csv"), path_of("p2.csv")};
    cb_csv_opts o0 = {0};
    r = cb_csv_reader_open_opts(two, 2, &o0, &err);
    t = r ? drain(r) : NULL;
    is_str(t ? t : "", "2=1|2 2=3|4", "each file's delimiter is its own");
    free(t);
    cb_csv_reader_close(r);
    is_int(cb_csv_delimiter_parse(";"), ';', "--delimiter ';'");
    is_int(cb_csv_delimiter_parse("tab"), '\t', "--delimiter tab");
    is_int(cb_csv_delimiter_parse("|"), 0, "--delimiter '|' is not one of them");
}

/* Several runs' outputs concatenated: each part's header line is a header,
 * not a record; a row that only resembles the header is data. */
static void test_repeated_header(void)
{
    is_csv("a,b\n1,2\na,b\n3,4\n", "2=1|2 4=3|4", "a line equal to the header is the next part's header");
    is_csv("a,b\na,b\n", "", "a header repeated with no records gives none");
    is_csv("a,b\na,B\na\n", "2=a|B 3=a", "a row differing from the header in case or count is data");
}

static void test_header(void)
{
    put_str("h.csv", "serial,subject_cn,days_left\n0A,An,3\n");
    char *files[] = {path_of("h.csv")};
    cb_err err = {0};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, &err);
    ok(r != NULL, "open a CSV file");
    const cb_header *h = cb_csv_reader_header(r);
    is_int(h->n, 3, "the header has 3 columns");
    is_int(cb_header_find(h, "days_left"), 2, "column days_left found by name");
    is_int(cb_header_find(h, "serial"), 0, "column serial found by name");
    is_str(cb_csv_reader_name(r), files[0], "the reader names the file");
    cb_record *rec = cb_record_new();
    is_int(cb_csv_reader_next(r, rec, &err), CB_CSV_RECORD, "a record");
    is_str(cb_record_get(rec, cb_header_find(h, "subject_cn")), "An", "its subject_cn by name");
    is_int(rec->line, 2, "it starts on line 2");
    is_int(cb_csv_reader_next(r, rec, &err), CB_CSV_EOF, "then end of input");
    is_int(cb_csv_reader_next(r, rec, &err), CB_CSV_EOF, "and end of input again when asked again");
    cb_record_free(rec);
    cb_csv_reader_close(r);

    char *t = read_text("\xEF\xBB\xBFserial,name\n01,B\n");
    is_str(t, "2=01|B", "a file with a UTF-8 BOM reads like one without");
    free(t);
    put_str("bom.csv", "\xEF\xBB\xBFserial,name\n");
    char *bf[] = {path_of("bom.csv")};
    r = cb_csv_reader_open(bf, 1, 0, &err);
    ok(r && strcmp(cb_csv_reader_header(r)->names[0], "serial") == 0, "the BOM is not part of the first column's name");
    cb_csv_reader_close(r);

    is_csv("a,a\n1,2\n", "OPEN 65", "a header naming a column twice is a data error");
    put_str("dup.csv", "serial,name,serial\n");
    char *df[] = {path_of("dup.csv")};
    ok(cb_csv_reader_open(df, 1, 0, &err) == NULL && strstr(err.msg, "'serial'") && strstr(err.msg, ":1:"),
       "the message names the column and the line: %s", err.msg);
    is_csv("n\xe1me,b\n1,2\n", "OPEN 65", "a header that is not UTF-8 is a data error");
}

static void test_line_ends(void)
{
    is_csv("a,b\n1,2\n3,4\n", "2=1|2 3=3|4", "LF line ends");
    is_csv("a,b\r\n1,2\r\n3,4\r\n", "2=1|2 3=3|4", "CRLF line ends");
    is_csv("a,b\r1,2\r3,4\r", "2=1|2 3=3|4", "lone CR line ends (old Mac)");
    is_csv("a,b\n1,2\r\n3,4\r5,6", "2=1|2 3=3|4 4=5|6", "mixed line ends, no line end at the end");
    is_csv("a,b\n1,2", "2=1|2", "last record without a line end");
    is_csv("a,b\n\n1,2\n\n\n3,4\n\n", "3=1|2 6=3|4", "blank lines are skipped and counted");
    is_csv("a,b\r\n\r\n1,2\r\n\r\n\r\n3,4\r\n", "3=1|2 6=3|4", "blank CRLF lines are skipped and counted");
    is_csv("a,b\r\r1,2\r\r\r3,4\r", "3=1|2 6=3|4", "blank CR lines are skipped and counted");
    is_csv("a,b\n,\n1,2\n", "2=| 3=1|2", "a record of empty fields before another record is a record");
    /* issue 17: Excel saves the empty rows below the data as ",,,," */
    is_csv("a,b\n1,2\n,\n,\r\n\n,\n", "2=1|2", "rows of empty fields at the end of the data are blank lines");
    is_csv("a,b\n,\n,\n3,4\n,\n", "2=| 3=| 4=3|4", "rows of empty fields before a record are records, in order");
    is_csv("a;b;c\n1;2;3\n;;\n;;\n", "2=1|2|3", "the same with ';'");
    is_csv("a\n\"\"\n", "2=", "a quoted empty field is a record");
}

static void test_quoting(void)
{
    is_csv("a,b\n\"x,y\",2\n", "2=x,y|2", "a quoted field with a comma");
    is_csv("a,b\n\"say \"\"hi\"\"\",2\n", "2=say \"hi\"|2", "doubled quotes are one quote");
    is_csv("a,b\n\"line1\nline2\",z\nlast,1\n", "2=line1\\nline2|z 4=last|1",
           "a quoted newline: the record starts on line 2, the next on line 4");
    is_csv("a,b\r\n\"l1\r\nl2\r\nl3\",z\r\nlast,1\r\n", "2=l1\\r\\nl2\\r\\nl3|z 5=last|1",
           "quoted CRLFs are kept and counted as lines");
    is_csv("a,b\n1,2\n\n\"m\n\nn\",3\n\n4,5\n", "2=1|2 4=m\\n\\nn|3 8=4|5",
           "start lines with blank lines and a multi-line record in between");
    is_csv("a,b\n  x , y \n", "2=  x | y ", "spaces around fields are kept");
    is_csv("a,b\n\"Sở Y tế, Lâm Đồng\",\"Đà Lạt\"\n", "2=Sở Y tế, Lâm Đồng|Đà Lạt", "Vietnamese text in quotes");
}

static void test_malformed(void)
{
    is_csv("a,b\n1,2,3\n4,5\n", "2! 3=4|5", "more fields than the header: malformed, and the next record is read on its line");
    ok(strstr(last_msgs, "3 fields") && strstr(last_msgs, "2"), "the reason counts the fields: %s", last_msgs);
    is_csv("a,b\n\"x\ny\",2,3\n4,5\n", "2! 4=4|5", "a multi-line record with too many fields: the next one keeps its line");

    cb_err err = {0};
    put_str("few.csv", "a,b,c\n1\n");
    char *ff[] = {path_of("few.csv")};
    cb_csv_reader *r = cb_csv_reader_open(ff, 1, 0, &err);
    cb_record *rec = cb_record_new();
    is_int(cb_csv_reader_next(r, rec, &err), CB_CSV_RECORD, "fewer fields than the header is a record");
    is_str(cb_record_get(rec, 0), "1", "its first field");
    ok(strcmp(cb_record_get(rec, 1), "") == 0 && strcmp(cb_record_get(rec, 2), "") == 0,
       "the missing fields read as empty");
    cb_csv_reader_close(r);

    is_csv("name,agency\nAn,S\xe1 Y t\xe1\nBinh,ok\n", "2! 3=Binh|ok", "bytes that are not UTF-8: malformed, reading goes on");
    ok(strstr(last_msgs, "'agency'") != NULL, "the reason names the column: %s", last_msgs);
    is_csv("name,agency\nAn,\xc0\xaf\n", "2!", "an overlong UTF-8 encoding is not UTF-8");
    is_csv("name,agency\nAn,\xed\xa0\x80\n", "2!", "a UTF-16 surrogate encoded in UTF-8 is not UTF-8");
    is_csv("name,agency\nAn,\xe1\xba\n", "2!", "a truncated UTF-8 sequence is not UTF-8");
    is_csv("name,agency\nAn,\xf0\x9f\x98\x80\n", "2=An|\xf0\x9f\x98\x80", "a 4-byte UTF-8 character is fine");

    /* The validator's edges (RFC 3629), each after more than eight ASCII
     * bytes and before more: good and bad sequences. */
    static const struct {
        const char *bytes, *what;
        int good;
    } seq[] = {
        {"\xdf\xbf", "U+07FF, the last 2-byte character", 1},
        {"\xe0\xa0\x80", "U+0800, the first 3-byte character", 1},
        {"\xed\x9f\xbf", "U+D7FF, just below the surrogates", 1},
        {"\xef\xbf\xbf", "U+FFFF", 1},
        {"\xf0\x90\x80\x80", "U+10000, the first 4-byte character", 1},
        {"\xf4\x8f\xbf\xbf", "U+10FFFF, the last character", 1},
        {"\xc1\xbf", "an overlong 2-byte form (C1)", 0},
        {"\xe0\x9f\xbf", "an overlong 3-byte form", 0},
        {"\xf0\x8f\xbf\xbf", "an overlong 4-byte form", 0},
        {"\xf4\x90\x80\x80", "above U+10FFFF", 0},
        {"\xf8\x88\x80\x80\x80", "a 5-byte form", 0},
        {"\x80", "a lone continuation byte", 0},
        {"\xe1\x80", "a 3-byte character cut short before ASCII", 0},
        {"\xc3", "a lead byte at the end of the field", 0},
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        char in[128], want[128];
        snprintf(in, sizeof in, "a,b\nabcdefghij%s%s,x\n", seq[i].bytes,
                 seq[i].bytes[strlen(seq[i].bytes) - 1] == '\xc3' ? "" : "klmnopqrst");
        if (seq[i].good)
            snprintf(want, sizeof want, "2=abcdefghij%sklmnopqrst|x", seq[i].bytes);
        else
            snprintf(want, sizeof want, "2!");
        is_csv(in, want, "%s is %s", seq[i].what, seq[i].good ? "UTF-8" : "not UTF-8");
    }

    /* What a rejected non-UTF-8 record holds must itself be valid UTF-8. */
    put_str("bad.csv", "name,agency\nAn\xff,S\xe1 Y\n");
    char *bf[] = {path_of("bad.csv")};
    r = cb_csv_reader_open(bf, 1, 0, &err);
    is_int(cb_csv_reader_next(r, rec, &err), CB_CSV_MALFORMED, "a record with bad bytes in two columns is malformed");
    ok(strstr(err.msg, "'name'") != NULL, "the reason names the first bad column: %s", err.msg);
    is_str(cb_record_get(rec, 0), "An?", "the bad byte of name is shown as ?");
    is_str(cb_record_get(rec, 1), "S? Y", "the bad byte of agency is shown as ?");
    is_int(rec->line, 2, "on line 2");
    cb_csv_reader_close(r);
    cb_record_free(rec);
}

static void test_unclosed_quote(void)
{
    is_csv("a,b\n1,2\n\"3,4\n5,6\n7,8\n", "2=1|2 3! 4=5|6 5=7|8",
           "a quote never closed: malformed at its line, the lines after it are read");
    ok(strstr(last_msgs, "never closed") != NULL, "the reason says the quote is never closed: %s", last_msgs);
    is_csv("a,b\r\n1,2\r\n\"3,4\r\n5,6\r\n7,8\r\n", "2=1|2 3! 4=5|6 5=7|8",
           "a quote never closed, CRLF file");
    is_csv("a,b\r1,2\r\"3,4\r5,6\r7,8\r", "2=1|2 3! 4=5|6 5=7|8",
           "a quote never closed, lone-CR file");
    is_csv("a,b\n1,\"2\n", "2!", "a quote never closed on the last line");
    is_csv("a,b\n1,\"2", "2!", "a quote never closed, no line end at all");
    is_csv("a,b\n\"x\ny\",1\n\"3,4\n\n5,6\n", "2=x\\ny|1 4! 6=5|6",
           "a quote never closed after a multi-line record, with a blank line after it");
    is_csv("a,b\n\"3,4\n\"5,6\n7,8\n", "2! 3! 4=7|8", "two quotes never closed in a row");
}

static void test_limit(void)
{
    char buf[4096];
    char xs[201];
    memset(xs, 'x', 200);
    xs[200] = '\0';
    snprintf(buf, sizeof buf, "a,b\n1,2\n%s,y\n3,4\n", xs);
    char *t = read_text_limit(buf, strlen(buf), 64);
    is_str(t, "2=1|2 3! 4=3|4", "a 202-byte line over a 64-byte limit is malformed, reading goes on");
    ok(strstr(last_msgs, "64") != NULL, "the reason gives the limit: %s", last_msgs);
    free(t);
    t = read_text_limit(buf, strlen(buf), 0);
    ok(strncmp(t, "2=1|2 3=xxx", 11) == 0, "the same line is fine under the default limit");
    free(t);

    /* An opening quote early in a large file: without the limit the field
     * would swallow everything; with it, the record is malformed and the
     * lines after its first are read again. */
    size_t n = (size_t)snprintf(buf, sizeof buf, "a,b\n\"open,1\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "k%d,v%d\n", i, i);
    t = read_text_limit(buf, n, 64);
    ok(strncmp(t, "2! 3=k0|v0 4=k1|v1 ", 19) == 0, "an open quote hitting the limit: malformed at line 2, line 3 on is read");
    ok(strstr(t, " 42=k39|v39") != NULL && t[strlen(t) - 1] == '9', "down to the last line, 42");
    free(t);
}

/* Recovery over more than one read buffer (64 KiB). */
static void test_limit_large(void)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    n += (size_t)snprintf(buf + n, cap - n, "a,b\n1,2\n");
    memset(buf + n, 'x', 200000);   /* one 200,000-byte line, over three buffers */
    n += 200000;
    n += (size_t)snprintf(buf + n, cap - n, ",y\n3,4\n");
    char *t = read_text_limit(buf, n, 1000);
    is_str(t, "2=1|2 3! 4=3|4", "a 200 kB line over a 1000-byte limit: malformed, the next line is read on line 4");
    free(t);

    /* A quote opened on line 2 and never closed, 20,000 lines (about
     * 200 kB) before the end: everything after line 2 is read again. */
    n = (size_t)snprintf(buf, cap, "a,b\n\"open,1\n");
    for (int i = 0; i < 20000; i++)
        n += (size_t)snprintf(buf + n, cap - n, "key%05d,v%d\n", i, i);
    t = read_text_limit(buf, n, 0);
    ok(strncmp(t, "2! 3=key00000|v0 4=key00001|v1 ", 31) == 0, "a quote never closed 200 kB before the end: malformed at line 2, line 3 on is read");
    ok(strstr(t, " 20002=key19999|v19999") != NULL && strcmp(t + strlen(t) - 6, "v19999") == 0,
       "down to the last line, 20002");
    size_t recs = 0;
    for (const char *q = t; (q = strchr(q, '=')) != NULL; q++)
        recs++;
    is_int(recs, 20000, "all 20,000 records after the broken one come back");
    free(t);
    free(buf);
}

static void test_empty_and_missing(void)
{
    /* DESIGN.md: "An input with no bytes at all is zero records". */
    is_csv("", "", "an empty file is zero records, not an error");
    is_int(last_end, CB_CSV_EOF, "it ends at once, normally");
    put_str("empty.csv", "");
    char *ef[] = {path_of("empty.csv")};
    cb_err ee = {0};
    cb_csv_reader *er = cb_csv_reader_open(ef, 1, 0, &ee);
    ok(er != NULL && cb_csv_reader_empty(er) && cb_csv_reader_header(er)->n == 0,
       "the reader says the input was empty, and its header has no column");
    cb_csv_reader_close(er);
    is_csv("\xEF\xBB\xBF", "", "a file holding only a BOM is empty too");
    /* Found by fuzzing (tests/fuzz/regress/csv/double-bom.csv): the
     * second BOM began the first column's name, so the header written back
     * out began with a BOM and read back as another name. */
    is_csv("\xEF\xBB\xBF\xEF\xBB\xBF" "aa,U\n<\n", "2=<", "two BOMs are both stripped");
    is_csv("\r\xEF\xBB\xBF" "H\nx\n", "3=x", "a BOM after a blank line is no part of the header (tests/fuzz/regress/csv/bom-after-blank.csv)");
    put_str("bom3.csv", "\r\xEF\xBB\xBF" "H\nx\n");
    char *b3[] = {path_of("bom3.csv")};
    er = cb_csv_reader_open(b3, 1, 0, &ee);
    ok(er != NULL && strcmp(cb_csv_reader_header(er)->names[0], "H") == 0, "the first column is 'H'");
    cb_csv_reader_close(er);
    put_str("bom2.csv", "\xEF\xBB\xBF\xEF\xBB\xBF" "aa,U\n<\n");
    char *b2[] = {path_of("bom2.csv")};
    er = cb_csv_reader_open(b2, 1, 0, &ee);
    ok(er != NULL && strcmp(cb_csv_reader_header(er)->names[0], "aa") == 0, "the first column is 'aa'");
    cb_csv_reader_close(er);
    is_csv("\n\n", "OPEN 65", "a file of blank lines has bytes but no header: a data error");
    put_str("a.csv", "a\n1\n");
    char *e3[] = {path_of("empty.csv"), path_of("a.csv"), path_of("empty.csv")};
    er = cb_csv_reader_open(e3, 3, 0, &ee);
    char *et = er ? drain(er) : NULL;
    ok(er != NULL && !cb_csv_reader_empty(er) && strcmp(cb_csv_reader_header(er)->names[0], "a") == 0 &&
       et != NULL && strcmp(et, "2=1") == 0 && last_end == CB_CSV_EOF,
       "an empty file before and after a file with a header: that file's header and records");
    free(et);
    cb_csv_reader_close(er);
    is_csv("a,b\n", "", "a file with a header only gives end of input at once");
    is_int(last_end, CB_CSV_EOF, "and that is EOF, not an error");
    is_csv("a,b", "", "a header without a line end, nothing else");
    /* Excel's "Unicode text" export: UTF-16LE with its BOM. */
    put_file("utf16.csv", "\xff\xfe" "a\0,\0b\0\n\0" "1\0,\0" "2\0\n\0", 18);
    char *uf[] = {path_of("utf16.csv")};
    cb_err e16 = {0};
    ok(cb_csv_reader_open(uf, 1, 0, &e16) == NULL && e16.code == EX_DATAERR,
       "a UTF-16 file is refused at its header, a data error");
    ok(strstr(e16.msg, "UTF-16") && strstr(e16.msg, "CSV UTF-8"), "the message says UTF-16 and how to save the sheet: %s", e16.msg);
    put_str("latin1.csv", "h\xe9,b\n1,2\n");
    char *lf[] = {path_of("latin1.csv")};
    ok(cb_csv_reader_open(lf, 1, 0, &e16) == NULL && strstr(e16.msg, ":1: the header row is not UTF-8"),
       "a Latin-1 header: %s", e16.msg);
    put_str("hq.csv", "\"a,b\n1,2\n");
    char *hq[] = {path_of("hq.csv")};
    ok(cb_csv_reader_open(hq, 1, 0, &e16) == NULL && strstr(e16.msg, "header row cannot be read") &&
       strstr(e16.msg, "never closed"), "a header with a quote never closed says why: %s", e16.msg);

    char *files[] = {path_of("does-not-exist.csv")};
    cb_err err = {0};
    ok(cb_csv_reader_open(files, 1, 0, &err) == NULL, "a missing file cannot be opened");
    is_int(err.code, EX_NOINPUT, "a missing file is EX_NOINPUT (66)");
    ok(strstr(err.msg, "does-not-exist.csv") != NULL, "the message names the file: %s", err.msg);
}

/* Hostile input (issue 13): NUL bytes, UTF-16 without a BOM, a header of
 * a hundred thousand columns. */
static void test_hostile(void)
{
    static const char nul[] = "email,name\nh@lamdong.gov.vn\0evil@x.com,A\nok@x.vn,B\n";
    char *t = read_text_limit(nul, sizeof nul - 1, 0);
    is_str(t, "2! 3=ok@x.vn|B", "a record with a NUL byte in a field is malformed; the next one reads");
    ok(strstr(last_msgs, "'email'") && strstr(last_msgs, "NUL"), "the reason names the column and the NUL: %s", last_msgs);
    free(t);
    static const char nulq[] = "a,b\n\"x\0\ny\",2\n";
    t = read_text_limit(nulq, sizeof nulq - 1, 0);
    is_str(t, "2!", "a NUL inside a quoted field spanning lines too");
    free(t);

    cb_err err = {0};
    put_file("nulhdr.csv", "em\0ail,name\nx,y\n", 17);
    char *nf[] = {path_of("nulhdr.csv")};
    ok(cb_csv_reader_open(nf, 1, 0, &err) == NULL && err.code == EX_DATAERR && strstr(err.msg, ":1:") &&
       strstr(err.msg, "NUL"), "a NUL in a header name is refused, not cut: %s", err.msg);

    static const char le[] = "a\0,\0b\0\n\0" "1\0,\0" "2\0\n\0";
    static const char be[] = "\0a\0,\0b\0\n" "\0" "1\0,\0" "2\0\n";
    put_file("u16le.csv", le, sizeof le - 1);
    put_file("u16be.csv", be, sizeof be - 1);
    char *lf[] = {path_of("u16le.csv")}, *bf[] = {path_of("u16be.csv")};
    ok(cb_csv_reader_open(lf, 1, 0, &err) == NULL && strstr(err.msg, "UTF-16"),
       "UTF-16LE without a BOM is reported as UTF-16: %s", err.msg);
    ok(cb_csv_reader_open(bf, 1, 0, &err) == NULL && strstr(err.msg, "UTF-16"),
       "UTF-16BE without a BOM too: %s", err.msg);

    struct sbuf b = {0};
    for (int i = 0; i < 100000; i++) {
        char col[16];
        snprintf(col, sizeof col, "%sc%d", i ? "," : "", i);
        sb_str(&b, col);
    }
    sb_str(&b, "\n1\n");
    put_file("wide.csv", b.s, b.n);
    char *wf[] = {path_of("wide.csv")};
    ok(cb_csv_reader_open(wf, 1, 0, &err) == NULL && err.code == EX_DATAERR && strstr(err.msg, "100000 columns") &&
       strstr(err.msg, "1024"), "a header of 100,000 columns is refused: %s", err.msg);
    free(b.s);
    b = (struct sbuf){0};
    for (int i = 0; i < CB_CSV_MAX_COLUMNS; i++) {
        char col[16];
        snprintf(col, sizeof col, "%sc%d", i ? "," : "", i);
        sb_str(&b, col);
    }
    sb_str(&b, "\n");
    for (int i = 0; i < 300000; i++)
        sb_str(&b, ",");
    sb_str(&b, "\n");
    put_file("wide2.csv", b.s, b.n);
    char *w2[] = {path_of("wide2.csv")};
    cb_csv_reader *r = cb_csv_reader_open(w2, 1, 0, &err);
    ok(r != NULL, "a header of exactly %d columns is read", CB_CSV_MAX_COLUMNS);
    t = r ? drain(r) : NULL;
    ok(t && strcmp(t, "2!") == 0 && strstr(last_msgs, "300001 fields"), "a record of 300,001 fields is malformed: %.60s", last_msgs);
    free(t);
    cb_csv_reader_close(r);
    free(b.s);
}

static void test_several_files(void)
{
    put_str("f1.csv", "a,b,c\n1,2,3\n");
    put_str("f2.csv", "\xEF\xBB\xBF" "c,a,b\r\n\r\n6,4,5\r\n9,7,8\r\n");
    put_str("f3.csv", "b\nonly-b\n");
    put_str("f4.csv", "a,zz\n1,2\n");
    put_str("f5.csv", "a,b,c\n");
    char *files[] = {path_of("f1.csv"), path_of("f2.csv"), path_of("f5.csv"), path_of("f3.csv")};
    cb_err err = {0};
    cb_csv_reader *r = cb_csv_reader_open(files, 4, 0, &err);
    ok(r != NULL, "open four files as one stream");
    cb_record *rec = cb_record_new();
    cb_csv_reader_next(r, rec, &err);
    is_str(cb_csv_reader_name(r), files[0], "the first record comes from the first file");
    cb_csv_reader_next(r, rec, &err);
    is_str(cb_csv_reader_name(r), files[1], "the second from the second file");
    is_int(rec->line, 3, "on its line in that file (3)");
    cb_csv_reader_close(r);
    cb_record_free(rec);

    r = cb_csv_reader_open(files, 4, 0, &err);
    char *t = drain(r);
    is_str(t, "2=1|2|3 3=4|5|6 4=7|8|9 2=|only-b",
           "a later file's columns in another order are mapped by name; missing columns are empty");
    is_int(last_end, CB_CSV_EOF, "the stream ends normally");
    is_int(cb_csv_reader_header(r)->n, 3, "the stream's header is the first file's");
    free(t);
    cb_csv_reader_close(r);

    char *bad[] = {path_of("f1.csv"), path_of("f4.csv")};
    r = cb_csv_reader_open(bad, 2, 0, &err);
    t = drain(r);
    is_str(t, "2=1|2|3", "the first file's records come before the problem");
    is_int(last_end, CB_CSV_FATAL, "a later file with a column the first lacks is fatal");
    ok(strstr(last_fatal, "'zz'") != NULL && strncmp(last_fatal, "65 ", 3) == 0,
       "a data error naming the column: %s", last_fatal);
    free(t);
    cb_csv_reader_close(r);

    char *missing[] = {path_of("f1.csv"), path_of("nope.csv")};
    r = cb_csv_reader_open(missing, 2, 0, &err);
    t = drain(r);
    is_int(last_end, CB_CSV_FATAL, "a later missing file is fatal");
    ok(strncmp(last_fatal, "66 ", 3) == 0, "with EX_NOINPUT: %s", last_fatal);
    free(t);
    cb_csv_reader_close(r);

    char *empty2[] = {path_of("f1.csv"), path_of("empty.csv")};
    put_str("empty.csv", "");
    r = cb_csv_reader_open(empty2, 2, 0, &err);
    t = drain(r);
    is_str(t, "2=1|2|3", "a later empty file adds no record");
    is_int(last_end, CB_CSV_EOF, "and is no error");
    free(t);
    cb_csv_reader_close(r);
}

static void test_stdin(void)
{
    put_str("stdin.csv", "a,b\n1,2\n");
    fflush(stdin);
    int saved = dup(0);
    int fd = open(path_of("stdin.csv"), O_RDONLY);
    dup2(fd, 0);
    close(fd);
    clearerr(stdin);
    cb_err err = {0};
    cb_csv_reader *r = cb_csv_reader_open(NULL, 0, 0, &err);
    ok(r != NULL, "no file reads standard input");
    is_str(r ? cb_csv_reader_name(r) : "", "stdin", "named stdin in messages");
    char *t = r ? drain(r) : NULL;
    is_str(t, "2=1|2", "its records are read");
    free(t);
    cb_csv_reader_close(r);
    dup2(saved, 0);
    close(saved);
    clearerr(stdin);
}

/* Line ends that fall on the reader's 64 KiB buffer boundary. */
static void test_buffer_boundary(void)
{
    const size_t B = 64 * 1024;
    for (int variant = 0; variant < 3; variant++) {
        /* variant 0: lone CR ends the line whose CR is the buffer's last
         * byte; 1: a blank CRLF line split across the boundary; 2: a CRLF
         * record line split across it. */
        size_t cap = 2 * B;
        char *s = malloc(cap);
        const char *eol = variant == 0 ? "\r" : "\r\n";
        size_t n = (size_t)snprintf(s, cap, "a%s", eol);
        long line = 2;
        while (n < B - 40) {
            n += (size_t)snprintf(s + n, cap - n, "row%ld%s", line, eol);
            line++;
        }
        /* Pad one line so that its CR is at offset B-1. */
        size_t want_cr = B - 1;
        if (variant == 1) {
            /* a row line, then the blank line's CR at B-1, its LF at B */
            size_t pad = want_cr - n - 2;   /* "p...p\r\n" ends at want_cr */
            memset(s + n, 'p', pad);
            n += pad;
            memcpy(s + n, "\r\n", 2);
            n += 2;
            line++;
            memcpy(s + n, "\r\n", 2);   /* the blank line: CR at B-1 */
            n += 2;
            line++;
        } else {
            size_t pad = want_cr - n;
            memset(s + n, 'p', pad);
            n += pad;
            memcpy(s + n, eol, strlen(eol));
            n += strlen(eol);
            line++;
        }
        long next_line = line;
        n += (size_t)snprintf(s + n, cap - n, "after%s", eol);
        n += (size_t)snprintf(s + n, cap - n, "last%s", eol);
        char *t = read_text_limit(s, n, 0);
        char want[64];
        snprintf(want, sizeof want, " %ld=after %ld=last", next_line, next_line + 1);
        size_t tl = strlen(t), wl = strlen(want);
        ok(tl > wl && strcmp(t + tl - wl, want) == 0,
           "%s at the 64 KiB buffer boundary: the next records keep their lines (%s)",
           variant == 0 ? "a lone CR" : variant == 1 ? "a blank CRLF line" : "a CRLF", want);
        if (!(tl > wl && strcmp(t + tl - wl, want) == 0))
            printf("#   got tail: %s\n", tl > 40 ? t + tl - 40 : t);
        free(t);
        free(s);
    }
}

/* libcsv itself, fed the whole text at once, is the oracle for the fields
 * of well-formed input: the reader's line-by-line feeding and its own
 * split of quote-free lines must give the same records. */
struct oracle {
    struct sbuf b;
    int fields_in_rec;
};

static void or_field(void *s, size_t len, void *ctx)
{
    struct oracle *o = ctx;
    if (o->fields_in_rec++)
        sb_str(&o->b, "|");
    sb_add(&o->b, s ? s : "", s ? len : 0);
}

static void or_record(int term, void *ctx)
{
    struct oracle *o = ctx;
    (void)term;
    sb_str(&o->b, "\x1e");
    o->fields_in_rec = 0;
}

static int keep_spaces(unsigned char c)
{
    (void)c;
    return 0;
}

static void test_against_libcsv(void)
{
    static const char *const pieces[] = {"a", "b", " ", "\t", "é", "Đồng", "x9", ""};
    static const char *const eols[] = {"\n", "\r\n", "\r"};
    unsigned seed = 12345;
#define RND(n) ((seed = seed * 1103515245u + 12345u) >> 16) % (n)
    for (int round = 0; round < 20; round++) {
        struct sbuf in = {0};
        const char *eol = eols[round % 3];
        sb_str(&in, "c0,c1,c2,c3,c4,c5");
        sb_str(&in, eol);
        int rows = 2000 + (int)RND(1000);
        for (int i = 0; i < rows; i++) {
            if (RND(20) == 0)
                sb_str(&in, eol);   /* a blank line */
            int nf = 1 + (int)RND(6);
            for (int f = 0; f < nf; f++) {
                if (f)
                    sb_str(&in, ",");
                int quoted = RND(8) == 0;
                if (quoted)
                    sb_str(&in, "\"");
                int np = (int)RND(5);
                for (int k = 0; k < np; k++) {
                    sb_str(&in, pieces[RND(8)]);
                    if (quoted) {
                        int x = (int)RND(6);
                        sb_str(&in, x == 0 ? "," : x == 1 ? "\"\"" : x == 2 ? eol : "");
                    }
                }
                if (quoted)
                    sb_str(&in, "\"");
            }
            if (nf == 1 && in.s[in.n - 1] != '"' && (in.n == 0 || in.s[in.n - 1] == eol[strlen(eol) - 1]))
                sb_str(&in, "z");   /* a lone empty field would be a blank line */
            sb_str(&in, eol);
        }
        struct oracle o = {{0}, 0};
        sb_str(&o.b, "");
        cb_record *rec = cb_record_new();
        /* Oracle */
        {
            struct csv_parser p;
            csv_init(&p, 0);
            csv_set_space_func(&p, keep_spaces);
            csv_parse(&p, in.s, in.n, or_field, or_record, &o);
            csv_fini(&p, or_field, or_record, &o);
            csv_free(&p);
        }
        /* Reader, same shape of transcript */
        put_file("diff.csv", in.s, in.n);
        char *files[] = {path_of("diff.csv")};
        cb_err err = {0};
        cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, &err);
        struct sbuf got = {0};
        sb_str(&got, "");
        const cb_header *h = r ? cb_csv_reader_header(r) : NULL;
        for (size_t i = 0; h && i < h->n; i++) {
            if (i)
                sb_str(&got, "|");
            sb_str(&got, h->names[i]);
        }
        sb_str(&got, "\x1e");
        int st;
        while (r && (st = cb_csv_reader_next(r, rec, &err)) == CB_CSV_RECORD) {
            for (size_t i = 0; i < rec->n; i++) {
                if (i)
                    sb_str(&got, "|");
                sb_add(&got, cb_record_get(rec, (int)i), cb_record_len(rec, (int)i));
            }
            sb_str(&got, "\x1e");
        }
        int same = r && st == CB_CSV_EOF && strcmp(got.s, o.b.s) == 0;
        ok(same, "random file %d (%d rows, %s line ends, some quoted fields): the same records as libcsv in one go",
           round + 1, rows, round % 3 == 0 ? "LF" : round % 3 == 1 ? "CRLF" : "CR");
        if (!same) {
            size_t k = 0;
            while (got.s[k] && got.s[k] == o.b.s[k])
                k++;
            printf("#   differ at byte %zu: got '%.40s' want '%.40s'\n", k, got.s + k, o.b.s + k);
        }
        cb_csv_reader_close(r);
        cb_record_free(rec);
        free(got.s);
        free(o.b.s);
        free(in.s);
    }
#undef RND
}

/* What the writer writes for these fields (one record). */
static char *write_one(const char *const *fields, size_t n)
{
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    cb_csv_write_fields(&w, fields, n);
    fclose(fp);
    return out;
}

static void test_writer(void)
{
    const char *plain[] = {"abc", "Đà Lạt", "a b", ""};
    char *o = write_one(plain, 4);
    is_str(o, "abc,Đà Lạt,a b,\n", "plain fields are not quoted, the line ends with LF");
    free(o);
    const char *comma[] = {"a,b", "x"};
    o = write_one(comma, 2);
    is_str(o, "\"a,b\",x\n", "a field with a comma is quoted");
    free(o);
    const char *quote[] = {"say \"hi\""};
    o = write_one(quote, 1);
    is_str(o, "\"say \"\"hi\"\"\"\n", "a field with quotes is quoted and its quotes doubled");
    free(o);
    const char *nl[] = {"l1\nl2", "c\rr", "x"};
    o = write_one(nl, 3);
    is_str(o, "\"l1\nl2\",\"c\rr\",x\n", "fields with LF or CR are quoted");
    free(o);
    const char *empty1[] = {""};
    o = write_one(empty1, 1);
    is_str(o, "\"\"\n", "a record of one empty field is written \"\" (a blank line would be skipped)");
    free(o);
    const char *sp[] = {" lead", "trail ", "'x'", "x\ty"};
    o = write_one(sp, 4);
    is_str(o, " lead,trail ,'x',x\ty\n", "spaces, apostrophes and tabs are not quoted");
    free(o);

    /* Round trip: header and awkward records written, then read back. */
    const char *hdr[] = {"id", "text", "more"};
    const char *rows[][3] = {
        {"1", "a,b", "\"q\""},
        {"2", "line1\nline2", "cr\rlf\r\n"},
        {"3", "", ""},
        {"4", "\"", ",,,"},
        {"5", "Sở Tài chính tỉnh Lâm Đồng", " spaced "},
        {"6", "\n", "\"\"\n\"\""},
    };
    size_t nrows = sizeof rows / sizeof rows[0];
    FILE *fp = fopen(path_of("rt.csv"), "wb");
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    cb_header *h = cb_header_new();
    for (int i = 0; i < 3; i++)
        cb_header_add(h, hdr[i]);
    ok(cb_csv_write_header(&w, h) == 0, "write a header");
    cb_record *rec = cb_record_new();
    int wr = 0;
    for (size_t i = 0; i < nrows; i++) {
        cb_record_clear(rec);
        for (int k = 0; k < 3; k++)
            cb_record_set_str(rec, k, rows[i][k]);
        wr |= cb_csv_write_record(&w, rec, 3);
    }
    cb_record_clear(rec);
    cb_record_set_str(rec, 0, "7");   /* fewer fields than columns */
    wr |= cb_csv_write_record(&w, rec, 3);
    fclose(fp);
    ok(wr == 0, "write awkward records");
    cb_err err = {0};
    char *files[] = {path_of("rt.csv")};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, &err);
    int same = r != NULL && cb_csv_reader_header(r)->n == 3;
    for (size_t i = 0; same && i < nrows; i++) {
        same = cb_csv_reader_next(r, rec, &err) == CB_CSV_RECORD && rec->n == 3;
        for (int k = 0; same && k < 3; k++)
            same = strcmp(cb_record_get(rec, k), rows[i][k]) == 0;
        if (!same)
            printf("#   row %zu differs\n", i + 1);
    }
    ok(same, "what the writer wrote reads back equal, field for field");
    ok(cb_csv_reader_next(r, rec, &err) == CB_CSV_RECORD && strcmp(cb_record_get(rec, 0), "7") == 0 &&
       strcmp(cb_record_get(rec, 2), "") == 0, "a short record is written with empty fields");
    is_int(cb_csv_reader_next(r, rec, &err), CB_CSV_EOF, "and nothing else");
    cb_csv_reader_close(r);
    fp = fopen(path_of("rt.csv"), "rb");
    char all[1024];
    size_t n = fread(all, 1, sizeof all - 1, fp);
    all[n] = '\0';
    fclose(fp);
    const char *head = "id,text,more\n1,\"a,b\",\"\"\"q\"\"\"\n";
    ok(strncmp(all, head, strlen(head)) == 0, "the written text is as expected");
    ok(strstr(all, "\n3,,\n") != NULL, "empty fields are written empty, unquoted");
    ok(strstr(all, "\n7,,\n") != NULL, "the short record");
    cb_record_free(rec);
    cb_header_free(h);
}

int main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_header();
    test_repeated_header();
    test_line_ends();
    test_delimiters();
    test_quoting();
    test_malformed();
    test_unclosed_quote();
    test_limit();
    test_limit_large();
    test_empty_and_missing();
    test_hostile();
    test_several_files();
    test_stdin();
    test_buffer_boundary();
    test_against_libcsv();
    test_writer();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return done_testing();
}

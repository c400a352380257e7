/* Unit tests for lib/records/filter.c, the driver every program runs on: records in
 * = out + rejected (+ filtered) in the summary line, -o and --rejects
 * written whole or not at all, --strict, -q, --lang, the error idiom
 * `prog: FILE:LINE: message`, and the exit codes of DESIGN.md. The
 * expected files are written out by hand here. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filter.h"
#include "tap.h"
#include "tmpfiles.h"

/* The step under test: keeps rows with an e-mail, rejects the others,
 * drops rows whose kind is "skip", fails on "boom", and at the end (with
 * total set) writes a line of its own. */
typedef struct step_state {
    int c_email, c_kind;
    int total;
    int fail_begin;
    unsigned long seen;
} step_state;

static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    step_state *s = ctx;
    if (s->fail_begin)
        return cb_err_set(err, EX_DATAERR, "no column 'email'");
    s->c_email = cb_header_find(in, "email");
    s->c_kind = cb_header_find(in, "kind");
    return s->total ? 0 : cb_filter_set_header(f, in);
}

static int process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    step_state *s = ctx;
    const char *kind = cb_record_get(rec, s->c_kind);
    s->seen++;
    if (strcmp(kind, "boom") == 0)
        return cb_err_set(err, EX_SOFTWARE, "the step broke");
    if (strcmp(kind, "skip") == 0) {
        cb_filter_drop(f);
        return 0;
    }
    if (*cb_record_get(rec, s->c_email) == '\0') {
        cb_filter_reject(f, rec, "email", "no e-mail address");
        return 0;
    }
    if (s->total) {
        cb_filter_count_out(f);
        return 0;
    }
    cb_filter_emit(f, rec);
    return 0;
}

static int end(void *ctx, cb_filter *f, cb_err *err)
{
    step_state *s = ctx;
    (void)err;
    if (s->total)
        fprintf(cb_filter_output(f), "total\n%lu\n", f->run.out);
    return 0;
}

static const cb_filter_step step = {begin, process, end};

/* Runs the driver as a program would, with diagnostics in *diag. */
static int run(char **argv, int argc, step_state *s, char **diag)
{
    static cb_filter f;
    size_t len;
    FILE *d = open_memstream(diag, &len);
    cb_filter_init(&f, "prog", d);
    static const struct option opts[] = {CB_FILTER_OPTIONS, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1)
        if (cb_filter_option(&f, c, optarg) != CB_FILTER_OPT_TAKEN) {
            fclose(d);
            return EX_USAGE;
        }
    cb_filter_run(&f, argv + optind, argc - optind, NULL, &step, s);
    int rc = cb_filter_finish(&f);
    fclose(d);
    return rc;
}

/* The summary line without its time, which varies. */
static const char *summary(const char *diag)
{
    static char buf[512];
    const char *p = strstr(diag, "prog: ");
    const char *last = NULL;
    for (; p; p = strstr(p + 1, "prog: "))
        last = p;
    if (last == NULL)
        return "(none)";
    snprintf(buf, sizeof buf, "%s", last);
    char *t = strstr(buf, " (");
    if (t)
        *t = '\0';
    return buf;
}

static const char *input_csv =
    "id,kind,email\n"
    "1,a,an@x.gov.vn\n"
    "2,a,\n"
    "3,skip,c@x.gov.vn\n"
    "4,a,\"d@x.gov.vn\"\n";

static void test_counts_and_files(void)
{
    tmp_put("in.csv", input_csv);
    char *argv[] = {"prog", "-o", tmp_path("out.csv"), "--rejects", tmp_path("rej.csv"),
                    tmp_path("in.csv"), NULL};
    step_state s = {0};
    char *diag = NULL;
    int rc = run(argv, 6, &s, &diag);
    is_int(rc, EX_OK, "a run with a reject exits 0 (rejects are a normal outcome)");
    is_str(tmp_content(tmp_path("out.csv")), "id,kind,email\n1,a,an@x.gov.vn\n4,a,d@x.gov.vn\n",
           "-o holds the header and the rows kept");
    is_str(tmp_content(tmp_path("rej.csv")),
           "id,kind,email,reject_line,reject_field,reject_reason\n2,a,,3,email,no e-mail address\n",
           "--rejects holds the row whole, its line, the field and the reason");
    is_str(summary(diag), "prog: 4 in, 2 out, 1 rejected, 1 filtered",
           "the summary line: 4 in = 2 out + 1 rejected + 1 filtered");
    free(diag);

    char *again[] = {"prog", "-o", tmp_path("out.csv"), "--rejects", tmp_path("rej.csv"),
                     tmp_path("in.csv"), NULL};
    step_state s2 = {0};
    rc = run(again, 6, &s2, &diag);
    is_int(rc, EX_OK, "run twice: exits 0 again");
    is_str(tmp_content(tmp_path("out.csv")), "id,kind,email\n1,a,an@x.gov.vn\n4,a,d@x.gov.vn\n",
           "run twice: the same output");
    free(diag);
}

static void test_diagnostics_and_options(void)
{
    char *argv[] = {"prog", "-o", tmp_path("o2.csv"), tmp_path("in.csv"), NULL};
    step_state s = {0};
    char *diag = NULL;
    run(argv, 4, &s, &diag);
    char want[1024];
    snprintf(want, sizeof want, "prog: %s:3: email: no e-mail address\n", tmp_path("in.csv"));
    ok(strncmp(diag, want, strlen(want)) == 0,
       "without --rejects a reject is one line: prog: FILE:LINE: field: reason");
    free(diag);

    char *strict[] = {"prog", "--strict", "-q", "-o", tmp_path("o3.csv"), tmp_path("in.csv"), NULL};
    step_state s2 = {0};
    int rc = run(strict, 6, &s2, &diag);
    is_int(rc, EX_DATAERR, "--strict: a reject exits 65");
    ok(strstr(diag, " in, ") == NULL, "-q: no summary line");
    is_str(tmp_content(tmp_path("o3.csv")), "id,kind,email\n1,a,an@x.gov.vn\n4,a,d@x.gov.vn\n",
           "--strict still writes the output whole");
    free(diag);

    char *lang[] = {"prog", "--lang", "fr", tmp_path("in.csv"), NULL};
    rc = run(lang, 4, &s2, &diag);
    is_int(rc, EX_USAGE, "--lang fr is a usage error");
    is_str(diag, "prog: --lang: 'fr' is neither en nor vi\n", "and says so");
    free(diag);

    static cb_filter f;
    cb_filter_init(&f, "prog", stderr);
    is_int(cb_filter_option(&f, CB_FILTER_OPT_LANG, "vi"), CB_FILTER_OPT_TAKEN, "--lang vi is taken");
    is_int(f.lang, CB_LANG_VI, "and sets Vietnamese");
    is_int(cb_filter_option(&f, 'x', NULL), CB_FILTER_OPT_NOT_MINE, "a program's own option is left to it");
}

/* A program's loop over cb_filter_getopt sees only its own options, and
 * a repeatable option stops at its limit with a usage message. */
static void test_getopt_and_lists(void)
{
    static cb_filter f;
    char *diag = NULL;
    size_t len;
    FILE *d = open_memstream(&diag, &len);
    cb_filter_init(&f, "prog", d);
    static const struct option opts[] = {
        CB_FILTER_OPTIONS, {"item", required_argument, NULL, 'i'}, {NULL, 0, NULL, 0},
    };
    char *argv[] = {"prog", "-q", "--item", "a", "-o", "out.csv", "--item", "b", "--item", "c",
                    "--lang", "vi", "--item", "d", "file.csv", NULL};
    const char *items[2];
    int n = 0, c, mine = 0, over = 0;
    optind = 1;
    while ((c = cb_filter_getopt(&f, 15, argv, "o:q", opts)) != -1) {
        mine += c == 'i';
        if (c == 'i' && cb_filter_list_add(&f, items, &n, 2, "--item", optarg) < 0)
            over++;
    }
    is_int(mine, 4, "the program sees its own options only");
    ok(f.quiet && f.output && strcmp(f.output, "out.csv") == 0 && f.lang == CB_LANG_VI,
       "the driver's options are taken in passing");
    ok(n == 2 && strcmp(items[0], "a") == 0 && strcmp(items[1], "b") == 0, "a list keeps its first values");
    is_int(over, 2, "the values past its limit are refused");
    is_int(optind, 14, "the operands are left after the options");
    char *bad[] = {"prog", "--lang", "fr", NULL};
    optind = 1;
    is_int(cb_filter_getopt(&f, 3, bad, "o:q", opts), CB_FILTER_GETOPT_BAD, "a bad --lang is reported as such");
    fclose(d);
    ok(strstr(diag, "prog: too many --item options\n") != NULL, "too many values: prog: too many --item options");
    ok(strstr(diag, "prog: --lang: 'fr' is neither en nor vi\n") != NULL, "and the bad --lang said why");
    free(diag);
}

static void test_failures_keep_old_files(void)
{
    tmp_put("old.csv", "old contents\n");
    tmp_put("boom.csv", "id,kind,email\n1,a,an@x.gov.vn\n2,boom,b@x.gov.vn\n3,a,c@x.gov.vn\n");
    char *argv[] = {"prog", "-o", tmp_path("old.csv"), "--rejects", tmp_path("oldrej.csv"),
                    tmp_path("boom.csv"), NULL};
    step_state s = {0};
    char *diag = NULL;
    int rc = run(argv, 6, &s, &diag);
    is_int(rc, EX_SOFTWARE, "a step that fails gives its exit code");
    char want[1024];
    snprintf(want, sizeof want, "prog: %s:3: the step broke\n", tmp_path("boom.csv"));
    ok(strstr(diag, want) != NULL, "reported as prog: FILE:LINE: message");
    is_int(s.seen, 2, "the run stops at the failing record");
    is_str(summary(diag), "prog: 2 in, 1 out, 1 rejected", "the lost record counts as rejected");
    is_str(tmp_content(tmp_path("old.csv")), "old contents\n", "-o keeps its old contents");
    is_str(tmp_content(tmp_path("oldrej.csv")), "(missing)", "--rejects is not created");
    free(diag);

    char *missing[] = {"prog", "-o", tmp_path("new.csv"), tmp_path("nowhere.csv"), NULL};
    rc = run(missing, 4, &s, &diag);
    is_int(rc, EX_NOINPUT, "a missing input exits 66");
    is_str(tmp_content(tmp_path("new.csv")), "(missing)", "and creates no output");
    ok(strstr(diag, " in, ") == NULL, "and prints no summary (nothing was read)");
    free(diag);

    step_state bad = {.fail_begin = 1};
    char *hdr[] = {"prog", "-o", tmp_path("new.csv"), tmp_path("in.csv"), NULL};
    rc = run(hdr, 4, &bad, &diag);
    is_int(rc, EX_DATAERR, "a header the step cannot use exits 65");
    snprintf(want, sizeof want, "prog: %s:1: no column 'email'\n", tmp_path("in.csv"));
    ok(strstr(diag, want) != NULL, "reported at line 1, the header");
    is_str(tmp_content(tmp_path("new.csv")), "(missing)", "and creates no output");
    ok(strstr(diag, " in, ") == NULL, "and prints no summary");
    free(diag);

    char *nodir[] = {"prog", "-o", tmp_path("nodir/o.csv"), tmp_path("in.csv"), NULL};
    step_state s3 = {0};
    rc = run(nodir, 4, &s3, &diag);
    is_int(rc, EX_CANTCREAT, "-o into a missing directory exits 73");
    free(diag);

    char *full[] = {"prog", "-q", "-o", "/dev/full", "--rejects", tmp_path("fullrej.csv"),
                    tmp_path("in.csv"), NULL};
    step_state s4 = {0};
    rc = run(full, 7, &s4, &diag);
    is_int(rc, EX_IOERR, "an output that cannot be written exits 74");
    ok(strstr(diag, "prog: cannot write") != NULL, "and says so");
    is_str(tmp_content(tmp_path("fullrej.csv")), "(missing)", "and the rejects file is not committed");
    free(diag);
}

/* --rejects /dev/null, as an operator writes to throw the rejects away:
 * renaming a temporary file over it (as root) replaced the device with a
 * regular file for the whole machine. */
static void test_rejects_to_a_device(void)
{
    char *argv[] = {"prog", "-q", "-o", tmp_path("dn.csv"), "--rejects", "/dev/null",
                    tmp_path("in.csv"), NULL};
    step_state s = {0};
    char *diag = NULL;
    int rc = run(argv, 7, &s, &diag);
    struct stat st;
    is_int(rc, EX_OK, "--rejects /dev/null: exit 0");
    ok(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null is still a character device");
    free(diag);
}

static void test_malformed_and_end(void)
{
    tmp_put("mal.csv", "id,kind,email\n1,a,an@x.gov.vn\n2,a,b@x.gov.vn,extra\n3,a,\xff\n");
    char *argv[] = {"prog", "-o", tmp_path("tot.csv"), "--rejects", tmp_path("malrej.csv"),
                    tmp_path("mal.csv"), NULL};
    step_state s = {.total = 1};
    char *diag = NULL;
    int rc = run(argv, 6, &s, &diag);
    is_int(rc, EX_OK, "malformed records are rejects, not a failure");
    is_int(s.seen, 1, "the step sees only the well-formed record");
    is_str(summary(diag), "prog: 3 in, 1 out, 2 rejected", "3 in = 1 out + 2 rejected");
    is_str(tmp_content(tmp_path("tot.csv")), "total\n1\n", "end() writes what the step held");
    const char *rej = tmp_content(tmp_path("malrej.csv"));
    ok(strstr(rej, ",3,,") != NULL && strstr(rej, ",4,,") != NULL,
       "each malformed record is in --rejects with its line");
    free(diag);

    tmp_put("empty.csv", "id,kind,email\n");
    char *empty[] = {"prog", "-o", tmp_path("e.csv"), tmp_path("empty.csv"), NULL};
    step_state s2 = {0};
    rc = run(empty, 4, &s2, &diag);
    is_int(rc, EX_OK, "a header and no rows: exit 0");
    is_str(tmp_content(tmp_path("e.csv")), "id,kind,email\n", "the output is the header alone");
    is_str(summary(diag), "prog: 0 in, 0 out, 0 rejected", "0 in, 0 out, 0 rejected");
    free(diag);
}

int main(void)
{
    if (tmp_start("filter") < 0)
        return 1;
    test_counts_and_files();
    test_diagnostics_and_options();
    test_getopt_and_lists();
    test_failures_keep_old_files();
    test_rejects_to_a_device();
    test_malformed_and_end();
    if (tmp_finish() < 0)
        return 1;
    return done_testing();
}

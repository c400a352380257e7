/* Unit tests for lib/records/rejects.c: the rejects file carries each record's
 * columns plus reject_line, reject_field and reject_reason, is written
 * atomically and has its header even when nothing was rejected; without a
 * file each reject is one diagnostic line `prog: FILE:LINE: reason`. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rejects.h"
#include "tap.h"

static char dir[] = "/tmp/cb-test-rejects-XXXXXX";

static char *path_of(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static const char *content(const char *path)
{
    static char buf[2048];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return "(missing)";
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static cb_header *form_header(void)
{
    cb_header *h = cb_header_new();
    cb_header_add(h, "request_id");
    cb_header_add(h, "full_name");
    cb_header_add(h, "email");
    return h;
}

static void test_diagnostics(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *diag = open_memstream(&out, &len);
    cb_rejects rj;
    cb_err err = {0};
    is_int(cb_rejects_open(&rj, "validate-form", NULL, diag, &err), 0, "rejects without a file");
    cb_header *h = form_header();
    cb_rejects_set_header(&rj, h);
    cb_record *rec = cb_record_new();
    cb_record_set_str(rec, 0, "HS-1");
    cb_rejects_add(&rj, rec, "forms.csv", 7, NULL, "the record has 4 fields, the header has 3");
    cb_rejects_add(&rj, rec, "forms.csv", 9, "", "a quoted field opened on this line is never closed");
    cb_rejects_add(&rj, NULL, "stdin", 12, NULL, "column 'email' is not valid UTF-8 text");
    is_int(rj.count, 3, "three rejects counted");
    is_int(cb_rejects_close(&rj, &err), 0, "close");
    fclose(diag);
    is_str(out,
           "validate-form: forms.csv:7: the record has 4 fields, the header has 3\n"
           "validate-form: forms.csv:9: a quoted field opened on this line is never closed\n"
           "validate-form: stdin:12: column 'email' is not valid UTF-8 text\n",
           "each reject is one line: prog: FILE:LINE: reason");
    free(out);

    diag = open_memstream(&out, &len);
    cb_rejects_open(&rj, "validate-form", NULL, diag, &err);
    cb_rejects_add(&rj, rec, "forms.csv", 3, "email", "the domain is not gov.vn");
    cb_rejects_close(&rj, &err);
    fclose(diag);
    is_str(out, "validate-form: forms.csv:3: email: the domain is not gov.vn\n",
           "a reject naming a column says which one before the reason");
    free(out);
    is_int(entries(), 0, "without --rejects no file is written");
    cb_record_free(rec);
    cb_header_free(h);
}

static void test_file(void)
{
    cb_rejects rj;
    cb_err err = {0};
    const char *p = path_of("rejects.csv");
    is_int(cb_rejects_open(&rj, "validate-form", p, stderr, &err), 0, "rejects to a file");
    cb_header *h = form_header();
    is_int(cb_rejects_set_header(&rj, h), 0, "set the records' header");
    cb_header_add(h, "later");   /* the rejects keep their own copy */
    cb_record *rec = cb_record_new();
    cb_record_set_str(rec, 0, "HS-1");
    cb_record_set_str(rec, 1, "Nguyễn Văn An");
    cb_record_set_str(rec, 2, "an@example.com");
    cb_rejects_add(&rj, rec, "forms.csv", 2, "email", "the domain is not gov.vn, nor a subdomain");
    cb_record_clear(rec);
    cb_record_set_str(rec, 0, "HS-2");
    cb_record_set_str(rec, 1, "Trần \"Bé\"\nThị");
    cb_rejects_add(&rj, rec, "forms.csv", 3, NULL, "full_name has a line break");
    cb_rejects_add(&rj, NULL, "forms.csv", 5, NULL, "a quoted field opened on this line is never closed");
    ok(!rj.to_file || access(p, F_OK) != 0, "the rejects file appears only when closed");
    is_int(cb_rejects_close(&rj, &err), 0, "close");
    is_str(content(p),
           "request_id,full_name,email,reject_line,reject_field,reject_reason\n"
           "HS-1,Nguyễn Văn An,an@example.com,2,email,\"the domain is not gov.vn, nor a subdomain\"\n"
           "HS-2,\"Trần \"\"Bé\"\"\nThị\",,3,,full_name has a line break\n"
           ",,,5,,a quoted field opened on this line is never closed\n",
           "the file has the record's columns then reject_line, reject_field, reject_reason");
    is_int(entries(), 1, "only the rejects file is in the directory");

    /* What was written reads back as CSV with the same columns. */
    char *files[] = {(char *)p};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, &err);
    ok(r != NULL, "the rejects file reads back as CSV");
    const cb_header *rh = cb_csv_reader_header(r);
    is_int(rh->n, 6, "with 6 columns");
    cb_csv_reader_next(r, rec, &err);
    cb_csv_reader_next(r, rec, &err);
    is_str(cb_record_get(rec, 1), "Trần \"Bé\"\nThị", "an awkward field comes back whole");
    is_str(cb_record_get(rec, cb_header_find(rh, "reject_line")), "3", "reject_line");
    cb_csv_reader_close(r);
    cb_record_free(rec);
    cb_header_free(h);
    unlink(p);

    is_int(cb_rejects_open(&rj, "validate-form", p, stderr, &err), 0, "a rejects file with no rejects");
    h = form_header();
    cb_rejects_set_header(&rj, h);
    cb_rejects_close(&rj, &err);
    is_str(content(p), "request_id,full_name,email,reject_line,reject_field,reject_reason\n",
           "still has its header");
    is_int(rj.count, 0, "nothing counted");
    unlink(p);
    cb_header_free(h);

    cb_rejects_open(&rj, "scan-expiry", p, stderr, &err);
    cb_rejects_add(&rj, NULL, "bundle.pem", 40, NULL, "certificate 3 cannot be parsed");
    cb_rejects_close(&rj, &err);
    is_str(content(p), "reject_line,reject_field,reject_reason\n40,,certificate 3 cannot be parsed\n",
           "without a records' header, only the three reject columns");
    unlink(p);

    cb_rejects_open(&rj, "validate-form", p, stderr, &err);
    h = form_header();
    cb_rejects_set_header(&rj, h);
    cb_rejects_add(&rj, NULL, "forms.csv", 2, NULL, "x");
    cb_rejects_abort(&rj);
    is_int(entries(), 0, "an aborted rejects file leaves nothing");
    cb_header_free(h);

    is_int(cb_rejects_open(&rj, "validate-form", "/nonexistent-dir-for-cb-test/r.csv", stderr, &err), -1,
           "a rejects file in a missing directory cannot be opened");
    is_int(err.code, EX_CANTCREAT, "EX_CANTCREAT (73)");
}

int main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_diagnostics();
    test_file();
    rmdir(dir);
    return done_testing();
}

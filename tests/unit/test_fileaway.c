/* Unit tests for lib/pipeline/fileaway.c: a file moves into the directory
 * under its name, a second of that name becomes NAME.2, one with the same
 * content already there is not kept twice, a file already in the
 * directory stays, and the files of a read list move too. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileaway.h"
#include "filter.h"
#include "tap.h"
#include "tmpfiles.h"

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

int main(void)
{
    if (tmp_start("fileaway") < 0)
        return 1;
    cb_err err = {0};
    char to[4400];
    mkdir(tmp_path("in"), 0755);
    tmp_put("in/f.csv", "one\n");
    is_int(cb_file_away_one(tmp_path("in/f.csv"), tmp_path("done"), to, sizeof to, &err), -1,
           "a directory that does not exist is an error");
    mkdir(tmp_path("done"), 0755);
    is_int(cb_file_away_one(tmp_path("in/f.csv"), tmp_path("done"), to, sizeof to, &err), 0, "a file moves");
    ok(!exists(tmp_path("in/f.csv")) && strcmp(tmp_content(tmp_path("done/f.csv")), "one\n") == 0,
       "and is only in the directory");
    tmp_put("in/f.csv", "two\n");
    cb_file_away_one(tmp_path("in/f.csv"), tmp_path("done"), to, sizeof to, &err);
    is_str(tmp_content(tmp_path("done/f.csv.2")), "two\n", "a second file of that name is kept as NAME.2");
    tmp_put("in/f.csv", "two\n");
    cb_file_away_one(tmp_path("in/f.csv"), tmp_path("done"), to, sizeof to, &err);
    ok(!exists(tmp_path("in/f.csv")) && !exists(tmp_path("done/f.csv.3")) && strstr(to, "f.csv.2") != NULL,
       "the same content again is not kept twice");
    cb_file_away_one(tmp_path("done/f.csv"), tmp_path("done"), to, sizeof to, &err);
    ok(exists(tmp_path("done/f.csv")) && !exists(tmp_path("done/f.csv.3")), "a file already there stays");

    tmp_put("in/g.csv", "g\n");
    tmp_put("in/h.csv", "h\n");
    char list[4096];
    snprintf(list, sizeof list, "file\n%s\n%s\n", tmp_path("in/h.csv"), tmp_path("in/gone.csv"));
    tmp_put("read.csv", list);
    static cb_filter f;
    char *diag = NULL;
    size_t len;
    FILE *d = open_memstream(&diag, &len);
    cb_filter_init(&f, "requests", d);
    f.output = tmp_path("moved.csv");
    char *files[] = {tmp_path("in/g.csv")};
    cb_file_away(&f, files, 1, tmp_path("read.csv"), tmp_path("done/2026-12-01"));
    is_int(cb_filter_finish(&f), EX_OK, "file-away exits 0");
    fclose(d);
    ok(exists(tmp_path("done/2026-12-01/g.csv")) && exists(tmp_path("done/2026-12-01/h.csv")),
       "the files named and those of the list move, into a directory made for them");
    char want[4096];
    snprintf(want, sizeof want, "file,moved_to\n%s,%s\n%s,%s\n", tmp_path("in/g.csv"),
             tmp_path("done/2026-12-01/g.csv"), tmp_path("in/h.csv"), tmp_path("done/2026-12-01/h.csv"));
    is_str(tmp_content(tmp_path("moved.csv")), want, "the output says what moved where");
    ok(strstr(diag, "requests: 2 in, 2 out, 0 rejected") != NULL, "a name of the list no longer there is passed over");
    free(diag);
    if (tmp_finish() < 0)
        return 1;
    return done_testing();
}

/* Filing input files away: see fileaway.h. */
#include "fileaway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "atomic.h"
#include "csvio.h"

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int same_content(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = getc(fa), cb = getc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* 1 when path is already in dir. */
static int already_in(const char *path, const char *dir)
{
    char *a = realpath(path, NULL), *d = realpath(dir, NULL);
    const char *slash = a ? strrchr(a, '/') : NULL;
    int here = a && d && slash && (size_t)(slash - a) == strlen(d) && !strncmp(a, d, strlen(d));
    free(a);
    free(d);
    return here;
}

/* path to the free name to; link then unlink never replaces a file that
 * appeared meanwhile; where links are not supported, rename after the
 * check of the caller. */
static int move_to(const char *path, const char *dir, const char *to, cb_err *err)
{
    int moved = link(path, to) == 0 ? unlink(path) == 0
                : (errno == EPERM || errno == ENOTSUP || errno == EXDEV) && rename(path, to) == 0;
    if (!moved || cb_fsync_dir(dir, NULL) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot move %s to %s", path, dir);
    return 0;
}

int cb_file_away_one(const char *path, const char *dir, char *to, size_t n, cb_err *err)
{
    if (already_in(path, dir)) {
        snprintf(to, n, "%s", path);
        return 0;
    }
    for (int k = 1; k < 1000; k++) {
        if (k == 1)
            snprintf(to, n, "%s/%s", dir, base_name(path));
        else
            snprintf(to, n, "%s/%s.%d", dir, base_name(path), k);
        if (access(to, F_OK) != 0)
            return move_to(path, dir, to, err);
        if (!same_content(path, to))
            continue;
        if (unlink(path) != 0)
            return cb_err_sys(err, EX_IOERR, "cannot remove %s", path);
        return 0;
    }
    return cb_err_set(err, EX_CANTCREAT, "%s: too many files of that name in %s", path, dir);
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static void names_free(names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static int names_add(names *s, const char *name)
{
    if (cb_array_grow(&s->v, s->n, &s->cap, sizeof *s->v, 16) < 0 || (s->v[s->n] = strdup(name)) == NULL)
        return -1;
    s->n++;
    return 0;
}

/* The files named in a list that are still where they were read. */
static int read_list(const char *path, names *s, cb_err *err)
{
    char *files[1] = {(char *)path};
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        return 0;
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    if (r == NULL)
        return -1;
    int col = cb_header_find(cb_csv_reader_header(r), "file"), rc = 0;
    cb_record *rec = cb_record_new();
    while (rec && col >= 0 && rc == 0 && cb_csv_reader_next(r, rec, err) == CB_CSV_RECORD)
        if (access(cb_record_get(rec, col), F_OK) == 0 && names_add(s, cb_record_get(rec, col)) < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
    if (rec == NULL || col < 0)
        rc = cb_err_set(err, rec ? EX_DATAERR : EX_OSERR, "%s: no column file", path);
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return rc;
}

/* Where the files left from is synced too: after a crash each is in one
 * of the two places, never none. */
static void sync_sources(const names *s)
{
    for (size_t i = 0; i < s->n; i++) {
        char *dir = strdup(s->v[i]), *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash)
            *slash = '\0';
        cb_fsync_dir(slash ? dir : ".", NULL);
        free(dir);
    }
}

static int move_all(cb_filter *f, const names *s, const char *dir, cb_record *row)
{
    cb_err err = {0};
    for (size_t i = 0; i < s->n; i++) {
        char to[4400];
        cb_filter_in(f);
        if (cb_file_away_one(s->v[i], dir, to, sizeof to, &err) < 0) {
            cb_filter_fail(f, &err);
            continue;
        }
        if (cb_record_set_str(row, 0, s->v[i]) < 0 || cb_record_set_str(row, 1, to) < 0)
            return cb_filter_stop(f, NULL, 0, &(cb_err){.code = EX_OSERR, .msg = "out of memory"});
        cb_filter_emit(f, row);
    }
    sync_sources(s);
    return f->rc;
}

static int open_output(cb_filter *f, const char *dir, cb_err *err)
{
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.", dir);
    cb_header *h = cb_header_new();
    int rc = h && cb_header_add(h, "file") >= 0 && cb_header_add(h, "moved_to") >= 0 &&
                     cb_filter_set_header(f, h) == 0
                 ? 0 : cb_err_set(err, EX_OSERR, "out of memory");
    cb_header_free(h);
    if (rc == 0 && cb_mkdir_parent(probe, err) < 0)
        rc = -1;
    return rc;
}

int cb_file_away(cb_filter *f, char *const *files, int n, const char *list, const char *dir)
{
    cb_err err = {0};
    names s = {0};
    cb_record *row = cb_record_new();
    int rc = row ? 0 : cb_err_set(&err, EX_OSERR, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++)
        if (names_add(&s, files[i]) < 0)
            rc = cb_err_set(&err, EX_OSERR, "out of memory");
    if (rc == 0 && list && read_list(list, &s, &err) < 0)
        rc = -1;
    if (rc == 0)
        rc = open_output(f, dir, &err);
    if (rc < 0)
        cb_filter_fail(f, &err);
    else if (cb_filter_open_outputs(f) == 0)
        move_all(f, &s, dir, row);
    names_free(&s);
    cb_record_free(row);
    return f->rc;
}

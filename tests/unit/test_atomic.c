/* Unit tests for lib/core/atomic.c: a file written through cb_atomic appears
 * only when committed, with the mode asked for whatever the umask, leaves
 * nothing behind when aborted, and with no_replace never overwrites; and
 * cb_output writes standard output when given no file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "tap.h"

static char dir[] = "/tmp/cb-test-atomic-XXXXXX";

static char *path_of(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

/* Number of entries in the test directory, dot files included. */
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

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static const char *content(const char *path)
{
    static char buf[256];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return "(missing)";
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void clean(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(path_of(e->d_name));
    closedir(d);
}

static void test_commit(void)
{
    cb_atomic a;
    cb_err err = {0};
    const char *out = path_of("out.csv");
    is_int(cb_atomic_open(&a, out, 0644, &err), 0, "open an atomic file");
    fputs("serial\n01\n", a.fp);
    fflush(a.fp);
    ok(!exists(out), "before commit the file does not exist under its name");
    is_int(entries(), 1, "only the temporary file is in the directory");
    ok(strncmp(a.tmp, dir, strlen(dir)) == 0 && a.tmp[strlen(dir)] == '/', "the temporary file is in the same directory");
    is_int(cb_atomic_commit(&a, 0, &err), 0, "commit");
    ok(exists(out), "after commit the file exists");
    is_str(content(out), "serial\n01\n", "with everything written");
    is_int(entries(), 1, "and no temporary file is left");
    is_int(mode_of(out), 0644, "mode 0644");

    is_int(cb_atomic_open(&a, out, 0644, &err), 0, "open the same name again");
    fputs("new\n", a.fp);
    is_str(content(out), "serial\n01\n", "while writing, readers still see the old file");
    is_int(cb_atomic_commit(&a, 0, &err), 0, "commit replaces");
    is_str(content(out), "new\n", "the file now has the new content");
    is_int(entries(), 1, "still one file");
    clean();

    /* A name without a directory part: written in the current directory. */
    char cwd[1024];
    if (getcwd(cwd, sizeof cwd) == NULL)
        cwd[0] = '\0';
    if (chdir(dir) == 0) {
        is_int(cb_atomic_write_file("plain.txt", "x", 1, 0644, 0, &err), 0, "a bare file name is written in the current directory");
        is_str(content(path_of("plain.txt")), "x", "with its content");
        is_int(entries(), 1, "and nothing else");
        if (chdir(cwd) != 0)
            perror("chdir");
    }
    clean();
}

static void test_modes(void)
{
    cb_err err = {0};
    mode_t old = umask(077);
    is_int(cb_atomic_write_file(path_of("a.pem"), "x", 1, 0644, 0, &err), 0, "write with umask 077");
    is_int(mode_of(path_of("a.pem")), 0644, "mode 0644 is kept under umask 077");
    umask(0);
    is_int(cb_atomic_write_file(path_of("b.key"), "k", 1, 0600, 0, &err), 0, "write a key with umask 000");
    is_int(mode_of(path_of("b.key")), 0600, "mode 0600 is kept under umask 000");
    umask(022);
    is_int(cb_atomic_write_file(path_of("c.key"), "k", 1, 0600, 0, &err), 0, "write a key with umask 022");
    is_int(mode_of(path_of("c.key")), 0600, "mode 0600 under umask 022");
    cb_atomic a;
    umask(0);
    cb_atomic_open(&a, path_of("d.key"), 0600, &err);
    is_int(mode_of(a.tmp), 0600, "the temporary file of a key is 0600 from the start");
    cb_atomic_abort(&a);
    umask(old);
    clean();
}

static void test_abort(void)
{
    cb_atomic a;
    cb_err err = {0};
    is_int(cb_atomic_open(&a, path_of("gone.csv"), 0644, &err), 0, "open");
    fputs("half a file", a.fp);
    cb_atomic_abort(&a);
    ok(!exists(path_of("gone.csv")), "abort: the file never appears");
    is_int(entries(), 0, "abort: no temporary file is left");
    cb_atomic_abort(&a);
    ok(1, "abort twice is harmless");

    cb_atomic_write_file(path_of("keep.csv"), "old\n", 4, 0644, 0, &err);
    cb_atomic_open(&a, path_of("keep.csv"), 0644, &err);
    fputs("new\n", a.fp);
    cb_atomic_abort(&a);
    is_str(content(path_of("keep.csv")), "old\n", "abort leaves an existing file as it was");
    is_int(entries(), 1, "and nothing beside it");
    clean();

    is_int(cb_atomic_open(&a, "/nonexistent-dir-for-cb-test/x.csv", 0644, &err), -1,
           "a file in a missing directory cannot be opened");
    is_int(err.code, EX_CANTCREAT, "that is EX_CANTCREAT (73)");
    ok(strstr(err.msg, "/nonexistent-dir-for-cb-test/x.csv") != NULL, "the message names the file: %s", err.msg);
    ok(a.path == NULL && a.tmp == NULL && a.fp == NULL, "a failed open holds nothing");
    cb_atomic_abort(&a);
    ok(1, "abort after a failed open is harmless");
}

static void test_no_replace(void)
{
    cb_err err = {0};
    const char *p = path_of("01AB.pem");
    is_int(cb_atomic_write_file(p, "first\n", 6, 0600, 1, &err), 0, "no_replace creates a new file");
    is_str(content(p), "first\n", "with its content");
    err = (cb_err){0};
    errno = 0;
    is_int(cb_atomic_write_file(p, "second\n", 7, 0644, 1, &err), -1, "no_replace refuses an existing file");
    is_int(err.code, EX_CANTCREAT, "with EX_CANTCREAT (73)");
    is_int(errno, EEXIST, "and errno EEXIST");
    is_str(content(p), "first\n", "the existing file is untouched");
    is_int(mode_of(p), 0600, "its mode too");
    is_int(entries(), 1, "no temporary file is left");

    cb_atomic a;
    cb_atomic_open(&a, path_of("race.pem"), 0644, &err);
    fputs("ours\n", a.fp);
    cb_atomic_write_file(path_of("race.pem"), "theirs\n", 7, 0644, 0, &err);
    is_int(cb_atomic_commit(&a, 1, &err), -1, "a file that appeared while writing is not replaced");
    is_str(content(path_of("race.pem")), "theirs\n", "the other writer's file stays");
    is_int(entries(), 2, "no temporary file is left after the failed commit");
    cb_atomic_abort(&a);
    ok(1, "abort after a failed commit is harmless");
    clean();
}

static void test_output(void)
{
    cb_output o;
    cb_err err = {0};
    /* Standard output goes to a file for the time of the test, so the TAP
     * stream stays clean. */
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path_of("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    close(fd);
    int r1 = cb_output_open(&o, NULL, 0644, &err);
    int to_stdout = o.fp == stdout && !o.is_file;
    fputs("to stdout\n", o.fp);
    int r2 = cb_output_close(&o, &err);
    cb_output_open(&o, "-", 0644, &err);
    int dash = o.fp == stdout;
    fputs("dash\n", o.fp);
    cb_output_close(&o, &err);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    is_int(r1, 0, "cb_output with no file opens");
    ok(to_stdout, "and writes standard output");
    is_int(r2, 0, "closing it flushes");
    ok(dash, "\"-\" is standard output too");
    is_str(content(path_of("stdout.txt")), "to stdout\ndash\n", "what was written reached standard output");
    unlink(path_of("stdout.txt"));

    const char *p = path_of("o.csv");
    is_int(cb_output_open(&o, p, 0644, &err), 0, "cb_output with -o FILE");
    ok(o.is_file && o.fp != stdout, "writes a file");
    fputs("x\n", o.fp);
    ok(!exists(p), "which appears only on close");
    is_int(cb_output_close(&o, &err), 0, "close");
    is_str(content(p), "x\n", "the file has what was written");
    cb_output_open(&o, p, 0644, &err);
    fputs("y\n", o.fp);
    cb_output_abort(&o);
    is_str(content(p), "x\n", "an aborted output leaves the old file");
    is_int(entries(), 1, "and no temporary file");
    clean();
}

static void test_fsync_dir(void)
{
    cb_err err = {0};
    ok(cb_fsync_dir(dir, &err) == 0, "a directory is synced");
    ok(cb_fsync_parent(path_of("not-yet")) == 0, "the directory that holds a path is synced");
    ok(cb_fsync_dir(path_of("missing"), &err) < 0 && err.code == EX_IOERR &&
       strstr(err.msg, "cannot sync") != NULL, "a missing directory is an I/O error that names it");
    ok(cb_fsync_dir(path_of("missing"), NULL) < 0, "and without a cb_err it still fails");
}

int main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_commit();
    test_modes();
    test_abort();
    test_no_replace();
    test_output();
    test_fsync_dir();
    clean();
    rmdir(dir);
    /* -o /dev/null: a device is written in place, never replaced by a
     * renamed regular file (it was, when run as root). */
    {
        cb_output dn;
        cb_err e2 = {0};
        struct stat st;
        ok(cb_output_open(&dn, "/dev/null", 0644, &e2) == 0, "cb_output opens /dev/null");
        fputs("discarded\n", dn.fp);
        ok(cb_output_close(&dn, &e2) == 0, "and closes it");
        ok(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null is still a character device");
        /* The same through the lower layer every ledger, manifest, log and
         * tee uses: cb_atomic_open/commit and cb_atomic_write_file. */
        cb_atomic at;
        ok(cb_atomic_open(&at, "/dev/null", 0644, &e2) == 0 && at.in_place, "cb_atomic_open writes /dev/null in place");
        fputs("discarded\n", at.fp);
        ok(cb_atomic_commit(&at, 0, &e2) == 0, "and commits without renaming");
        ok(cb_atomic_write_file("/dev/null", "x", 1, 0644, 0, &e2) == 0, "cb_atomic_write_file to /dev/null");
        ok(cb_atomic_write_file("/dev/null", "x", 1, 0600, 1, &e2) < 0 && e2.code == EX_CANTCREAT,
           "a file that must not be replaced is not written over a device");
        ok(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null is still a character device after all that");
    }
    return done_testing();
}

/* Atomic file writes: see atomic.h. */
#include "atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fsync of a directory: 0, or -1 with errno. */
static int sync_dir_fd(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int cb_fsync_dir(const char *dir, cb_err *err)
{
    if (sync_dir_fd(dir) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot sync %s", dir);
    return 0;
}

int cb_fsync_parent(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return -1;
    int rc = sync_dir_fd(dirname(copy));
    int saved = errno;
    free(copy);
    errno = saved;
    return rc;
}

int cb_atomic_open(cb_atomic *a, const char *path, mode_t mode, cb_err *err)
{
    memset(a, 0, sizeof *a);
    a->path = strdup(path);
    size_t n = strlen(path) + 64;
    a->tmp = malloc(n);
    if (a->path == NULL || a->tmp == NULL) {
        cb_atomic_abort(a);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        a->fp = fopen(path, "w");
        if (a->fp == NULL) {
            cb_err_sys(err, EX_CANTCREAT, "cannot open %s", path);
            cb_atomic_abort(a);
            return -1;
        }
        free(a->tmp);
        a->tmp = NULL;
        a->in_place = 1;
        return 0;
    }
    /* The temporary name is hidden and carries the pid, so two programs
     * writing the same file never share it. */
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        snprintf(a->tmp, n, "%.*s.%s.tmp.%ld.%u", dirlen, path, path + dirlen, (long)getpid(), attempt);
        int fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd >= 0) {
            fchmod(fd, mode);   /* the umask must not widen or narrow key files */
            a->fp = fdopen(fd, "w");
            if (a->fp == NULL) {
                close(fd);
                unlink(a->tmp);
                break;
            }
            return 0;
        }
        if (errno != EEXIST)
            break;
    }
    cb_err_sys(err, EX_CANTCREAT, "cannot create %s", path);
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    return -1;
}

int cb_atomic_commit(cb_atomic *a, int no_replace, cb_err *err)
{
    if (a->fp == NULL)
        return cb_err_set(err, EX_SOFTWARE, "atomic file not open");
    int bad = fflush(a->fp) != 0 || ferror(a->fp) || (!a->in_place && fsync(fileno(a->fp)) != 0);
    if (fclose(a->fp) != 0)
        bad = 1;
    a->fp = NULL;
    if (bad) {
        cb_err_sys(err, EX_IOERR, "cannot write %s", a->path);
        cb_atomic_abort(a);
        return -1;
    }
    if (a->in_place) {
        int exists = no_replace;
        if (exists) {
            errno = EEXIST;
            cb_err_sys(err, EX_CANTCREAT, "cannot create %s", a->path);
        }
        free(a->path);
        a->path = NULL;
        return exists ? -1 : 0;
    }
    if (no_replace) {
        /* link() fails when the name exists: no window where another file
         * could be replaced. */
        if (link(a->tmp, a->path) != 0) {
            int e = errno;
            cb_err_sys(err, e == EEXIST ? EX_CANTCREAT : EX_IOERR, "cannot create %s", a->path);
            cb_atomic_abort(a);
            errno = e;
            return -1;
        }
        unlink(a->tmp);
    } else if (rename(a->tmp, a->path) != 0) {
        cb_err_sys(err, EX_CANTCREAT, "cannot rename to %s", a->path);
        cb_atomic_abort(a);
        return -1;
    }
    cb_fsync_parent(a->path);
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    return 0;
}

void cb_atomic_abort(cb_atomic *a)
{
    if (a->fp != NULL) {
        fclose(a->fp);
        a->fp = NULL;
    }
    if (a->tmp != NULL)
        unlink(a->tmp);
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
}

/* The pid of a temporary's name ".NAME.tmp.PID.N" when its NAME is name
 * (any NAME when name is NULL), else 0. */
static long temp_owner(const char *entry, const char *name)
{
    if (entry[0] != '.')
        return 0;
    if (name && strncmp(entry + 1, name, strlen(name)) != 0)
        return 0;
    const char *t = name ? entry + 1 + strlen(name) : strstr(entry + 1, ".tmp.");
    if (t == NULL || strncmp(t, ".tmp.", 5) != 0)
        return 0;
    char *end;
    long pid = strtol(t + 5, &end, 10);
    if (pid <= 0 || *end != '.')
        return 0;
    const char *n = end + 1;
    if (*n == '\0' || n[strspn(n, "0123456789")] != '\0')
        return 0;
    return pid;
}

int cb_atomic_sweep(const char *dir, const char *name, cb_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        return cb_err_sys(err, EX_IOERR, "cannot read the directory %s", dir);
    }
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long pid = temp_owner(de->d_name, name);
        /* A live writer's temporary is its own business. */
        if (pid == 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    /* Best effort: the removals are a clean-up, not state. */
    if (removed)
        cb_fsync_dir(dir, NULL);
    return removed;
}

int cb_atomic_sweep_path(const char *path, cb_err *err)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return cb_atomic_sweep(".", path, err);
    char *dir = strndup(path, (size_t)(slash - path) + (slash == path));
    if (dir == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    int rc = cb_atomic_sweep(dir, slash + 1, err);
    free(dir);
    return rc;
}

int cb_atomic_write_file(const char *path, const void *data, size_t len, mode_t mode,
                         int no_replace, cb_err *err)
{
    cb_atomic a;
    if (cb_atomic_open(&a, path, mode, err) < 0)
        return -1;
    if (len && fwrite(data, 1, len, a.fp) != len) {
        cb_err_sys(err, EX_IOERR, "cannot write %s", path);
        cb_atomic_abort(&a);
        return -1;
    }
    return cb_atomic_commit(&a, no_replace, err);
}

int cb_output_open(cb_output *o, const char *path, mode_t mode, cb_err *err)
{
    memset(o, 0, sizeof *o);
    if (path == NULL || strcmp(path, "-") == 0) {
        o->fp = stdout;
        return 0;
    }
    /* A device or a pipe (-o /dev/null, -o /dev/stderr, a FIFO) is written
     * in place: renaming a temporary file over it would replace the device
     * itself with a regular file. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        o->fp = fopen(path, "w");
        if (o->fp == NULL)
            return cb_err_sys(err, EX_CANTCREAT, "cannot open %s", path);
        o->is_device = 1;
        return 0;
    }
    if (cb_atomic_open(&o->at, path, mode, err) < 0)
        return -1;
    o->fp = o->at.fp;
    o->is_file = 1;
    return 0;
}

int cb_output_close(cb_output *o, cb_err *err)
{
    if (o->is_file) {
        o->fp = NULL;
        return cb_atomic_commit(&o->at, 0, err);
    }
    if (o->fp == NULL)
        return 0;
    int bad = fflush(o->fp) != 0 || ferror(o->fp);
    if (o->is_device && fclose(o->fp) != 0)
        bad = 1;
    o->fp = NULL;
    if (bad)
        return cb_err_sys(err, EX_IOERR, o->is_device ? "cannot write the output" : "cannot write to standard output");
    return 0;
}

void cb_output_abort(cb_output *o)
{
    if (o->is_file)
        cb_atomic_abort(&o->at);
    else if (o->is_device && o->fp)
        fclose(o->fp);
    else if (o->fp)
        fflush(o->fp);
    o->fp = NULL;
}

void cb_guard_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int n = open("/dev/null", O_RDONLY);
            if (n >= 0 && n != fd) {
                dup2(n, fd);
                close(n);
            }
        }
}

int cb_read_all(FILE *fp, unsigned char **data, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    if (b == NULL)
        return -1;
    for (;;) {
        if (n + 1 >= cap) {
            unsigned char *p = realloc(b, cap * 2);
            if (p == NULL) {
                free(b);
                errno = ENOMEM;
                return -1;
            }
            b = p;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        int e = errno;
        free(b);
        errno = e ? e : EIO;
        return -1;
    }
    b[n] = '\0';
    *data = b;
    *len = n;
    return 0;
}

int cb_mkdir_parent(const char *path, cb_err *err)
{
    char *dir = strdup(path);
    if (dir == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *q = dir + 1; ; q++) {
        if (*q == '/' || *q == '\0') {
            char saved = *q;
            *q = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                cb_err_sys(err, EX_CANTCREAT, "cannot create directory %s", dir);
                free(dir);
                return -1;
            }
            *q = saved;
            if (saved == '\0')
                break;
        }
    }
    free(dir);
    return 0;
}

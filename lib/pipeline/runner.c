/* Running a pipeline: see runner.h. */
#include "runner.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <utf8proc.h>

#include "atomic.h"
#include "date.h"

/* How long children get between the forwarded signal and SIGKILL. */
#define KILL_GRACE_SECONDS 10.0

static void sb_add(cb_buf *b, const char *s, size_t n)
{
    (void)cb_buf_add(b, s, n);   /* a log line cut short beats a crash */
}

static void sb_str(cb_buf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_fmt(cb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_fmt(cb_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string; bytes that are not UTF-8 (a program's stderr may hold
 * anything) become U+FFFD so every log line stays valid JSON. */
static void sb_json(cb_buf *b, const char *s, size_t n)
{
    sb_add(b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            char esc[8];
            if (ch == '"' || ch == '\\') {
                esc[0] = '\\';
                esc[1] = (char)ch;
                sb_add(b, esc, 2);
            } else if (ch == '\n') {
                sb_add(b, "\\n", 2);
            } else if (ch == '\t') {
                sb_add(b, "\\t", 2);
            } else if (ch < 0x20 || ch == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", ch);
                sb_add(b, esc, 6);
            } else {
                sb_add(b, (const char *)&ch, 1);
            }
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t used =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (used <= 0) {
            sb_add(b, "\xef\xbf\xbd", 3);
            i++;
        } else {
            sb_add(b, s + i, (size_t)used);
            i += (size_t)used;
        }
    }
    sb_add(b, "\"", 1);
}

static void sb_jstr(cb_buf *b, const char *key, const char *val)
{
    sb_fmt(b, ",\"%s\":", key);
    if (val == NULL)
        sb_str(b, "null");
    else
        sb_json(b, val, strlen(val));
}

static double now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Starts a log record with its time, run id and pipeline name. */
static void log_begin(cb_runner *r, cb_buf *b, const char *event)
{
    char when[32];
    cb_instant_format((int64_t)time(NULL), when);
    sb_str(b, "{\"time\":");
    sb_json(b, when, strlen(when));
    sb_jstr(b, "run", r->run_id);
    sb_jstr(b, "pipeline", r->p->name);
    sb_jstr(b, "event", event);
}

/* One record, one write(): O_APPEND keeps concurrent lines whole. */
static void log_end(cb_runner *r, cb_buf *b)
{
    sb_str(b, "}\n");
    if (r->log_fd >= 0 && b->s != NULL) {
        ssize_t w = write(r->log_fd, b->s, b->len);
        /* A full disk must not stop the certificates' run, but the run
         * must not end as if its log were whole (the program exits 74). */
        if (w != (ssize_t)b->len && r->log_errno == 0)
            r->log_errno = w < 0 ? errno : ENOSPC;
    }
    free(b->s);
    *b = (cb_buf){0};
}

int cb_parse_summary(const char *line, const char *prog, long counts[4])
{
    while (*line == '\r')
        line++;
    const char *colon = strstr(line, ": ");
    if (colon == NULL || colon == line)
        return 0;
    if (prog != NULL && (strlen(prog) != (size_t)(colon - line) || strncmp(line, prog, strlen(prog))))
        return 0;
    for (const char *q = line; q < colon; q++)
        if (*q == ' ')
            return 0;
    const char *s = colon + 2;
    long v[4] = {0, 0, 0, 0};
    static const char *const words[] = {" in, ", " out, ", " rejected"};
    for (int i = 0; i < 3; i++) {
        char *end;
        if (*s < '0' || *s > '9')
            return 0;
        v[i] = strtol(s, &end, 10);
        if (strncmp(end, words[i], strlen(words[i])) != 0)
            return 0;
        s = end + strlen(words[i]);
    }
    if (strncmp(s, ", ", 2) == 0) {
        char *end;
        s += 2;
        if (*s < '0' || *s > '9')
            return 0;
        v[3] = strtol(s, &end, 10);
        if (strncmp(end, " filtered", 9) != 0)
            return 0;
        s = end + 9;
    }
    if (strncmp(s, " (", 2) != 0)
        return 0;
    memcpy(counts, v, sizeof v);
    return 1;
}

int cb_lock_take(const char *path, cb_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return cb_err_sys(err, EX_CANTCREAT, "cannot create lock file %s", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        close(fd);
        if (e == EWOULDBLOCK) {
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            return cb_err_set(err, EX_TEMPFAIL, "another run holds the lock %s%s%s%s", path,
                              *pid ? " (pid " : "", pid, *pid ? ")" : "");
        }
        errno = e;
        return cb_err_sys(err, EX_IOERR, "cannot lock %s", path);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        /* The pid is only for the message; the lock itself is held. */
    }
    return fd;
}

int cb_runner_init(cb_runner *r, const cb_pipeline *p, FILE *diag, cb_err *err)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->diag = diag;
    r->log_fd = -1;
    r->wake_fd = -1;
    char when[32];
    cb_instant_format((int64_t)time(NULL), when);
    snprintf(r->run_id, sizeof r->run_id, "%.19s-%ld", when, (long)getpid());
    const char *tmp = getenv("TMPDIR");
    size_t n = strlen(tmp && *tmp ? tmp : "/tmp") + 32;
    r->workdir = malloc(n);
    if (r->workdir == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    snprintf(r->workdir, n, "%s/run-pipeline.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(r->workdir) == NULL) {
        cb_err_sys(err, EX_CANTCREAT, "cannot create a work directory in %s", tmp ? tmp : "/tmp");
        free(r->workdir);
        r->workdir = NULL;
        return -1;
    }
    r->cause = -1;
    return 0;
}

void cb_runner_free(cb_runner *r)
{
    if (r->workdir != NULL) {
        /* Only files we (or GNU parallel, for us) put there. */
        DIR *d = opendir(r->workdir);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", r->workdir, e->d_name);
                unlink(path);
            }
            closedir(d);
        }
        rmdir(r->workdir);
        free(r->workdir);
    }
    free(r->results);
    memset(r, 0, sizeof *r);
}

static size_t add_result(cb_runner *r, const cb_stage *sg, const char *step)
{
    cb_step_result *t = realloc(r->results, (r->nresults + 1) * sizeof *t);
    if (t == NULL)
        return (size_t)-1;
    r->results = t;
    t[r->nresults] = (cb_step_result){.stage = sg->name, .step = step, .status = -1,
                                      .in = -1, .out = -1, .rejected = -1, .filtered = -1};
    return r->nresults++;
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

static int has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* The stage's input files now: globs expanded (sorted, as the shell does),
 * plain names checked. */
static int stage_files(const cb_runner *r, const cb_stage *sg, int dry, char ***files,
                       size_t *nfiles, cb_err *err)
{
    *files = NULL;
    *nfiles = 0;
    size_t cap = 0;
    if (sg->input_kind == CB_INPUT_STAGE) {
        const cb_stage *from = &r->p->stages[sg->input_stage];
        char path[4096];
        if (from->output)
            snprintf(path, sizeof path, "%s", from->output);
        else
            snprintf(path, sizeof path, "%s/%s.out", r->workdir, from->name);
        if (access(path, R_OK) != 0)
            return cb_err_sys(err, EX_NOINPUT, "stage %s: the output of stage %s (%s)", sg->name,
                              from->name, path);
        *files = calloc(2, sizeof **files);
        if (*files == NULL || ((*files)[0] = strdup(path)) == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        *nfiles = 1;
        return 0;
    }
    if (sg->input_kind != CB_INPUT_FILES)
        return 0;
    for (size_t i = 0; i < sg->ninputs; i++) {
        glob_t g;
        char **names;
        size_t count;
        const char *one[1] = {sg->inputs[i]};
        memset(&g, 0, sizeof g);
        if (has_glob(sg->inputs[i])) {
            int rc = glob(sg->inputs[i], 0, NULL, &g);
            if (rc != 0 && rc != GLOB_NOMATCH) {
                globfree(&g);
                return cb_err_set(err, EX_IOERR, "stage %s: cannot expand %s", sg->name,
                                  sg->inputs[i]);
            }
            names = g.gl_pathv;
            count = rc == 0 ? g.gl_pathc : 0;
        } else {
            /* A dry run lists files an earlier stage has yet to write. */
            if (!dry && access(sg->inputs[i], R_OK) != 0)
                return cb_err_sys(err, EX_NOINPUT, "stage %s: input %s", sg->name, sg->inputs[i]);
            names = (char **)one;
            count = 1;
        }
        for (size_t j = 0; j < count; j++) {
            if (*nfiles + 2 > cap) {
                cap = cap ? cap * 2 : 16;
                char **t = realloc(*files, cap * sizeof *t);
                if (t == NULL) {
                    globfree(&g);
                    return cb_err_set(err, EX_OSERR, "out of memory");
                }
                *files = t;
            }
            (*files)[(*nfiles)++] = strdup(names[j]);
            (*files)[*nfiles] = NULL;
        }
        if (has_glob(sg->inputs[i]))
            globfree(&g);
    }
    return 0;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* One process of a stage: a step to exec, or a tee copying into a file. */
typedef struct plink {
    char **argv;            /* NULL for a tee */
    int tee_fd;
    size_t result;          /* index into r->results; -1 for a tee */
    const cb_stage *par;    /* the parallel link: its stderr carries these steps' summaries */
    size_t par_first;       /* result index of par's first step */
    pid_t pid;
    int err_fd;
    cb_buf line;
    double t0;
    int done, status;
} plink;

/* Descriptors of the runner never leak into the programs it runs: dup2
 * onto 0, 1, 2 is the only way in. */
static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static int wait_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 128;
}

static void child_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
}

static void tee_main(int in, int out, int file)
{
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = 3; fd < max; fd++)
        if (fd != in && fd != out && fd != file)
            close(fd);
    signal(SIGPIPE, SIG_IGN);
    char chunk[65536];
    int downstream = 1, bad = 0;
    for (;;) {
        ssize_t n = read(in, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            bad |= n < 0;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(file, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                _exit(74);
            }
            off += w;
        }
        /* When the next step has gone the stage fails anyway; reading on
         * lets the step before finish rather than die of SIGPIPE. */
        for (ssize_t off = 0; downstream && off < n;) {
            ssize_t w = write(out, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                downstream = 0;
                bad = 1;
            } else {
                off += w;
            }
        }
    }
    _exit(bad ? 74 : 0);
}

static void record_counts(cb_runner *r, size_t idx, const long c[4])
{
    cb_step_result *res = &r->results[idx];
    if (res->in < 0)
        res->in = res->out = res->rejected = res->filtered = 0;
    res->in += c[0];
    res->out += c[1];
    res->rejected += c[2];
    res->filtered += c[3];
}

static void step_line(cb_runner *r, plink *lk, const char *text, size_t n)
{
    cb_step_result *res = &r->results[lk->result];
    cb_buf b = {0};
    log_begin(r, &b, "stderr");
    sb_jstr(&b, "stage", res->stage);
    sb_jstr(&b, "step", lk->par ? "parallel" : res->step);
    sb_str(&b, ",\"line\":");
    sb_json(&b, text, n);
    log_end(r, &b);
    if (r->echo)
        fprintf(r->diag, "%s/%s: %.*s\n", res->stage, lk->par ? "parallel" : res->step, (int)n,
                text);
    char *line = strndup(text, n);
    if (line == NULL)
        return;
    long c[4];
    if (lk->par) {
        /* One summary line per job: they add up to the step's counts. */
        for (size_t i = 0; i < lk->par->nsteps; i++) {
            const char *argv0 = lk->par->steps[i].argv[0];
            const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
            if (cb_parse_summary(line, base, c)) {
                record_counts(r, lk->par_first + i, c);
                break;
            }
        }
    } else {
        const char *argv0 = lk->argv[0];
        const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
        if (cb_parse_summary(line, base, c)) {
            res->in = res->out = res->rejected = res->filtered = -1;
            record_counts(r, lk->result, c);
        }
    }
    if (!cb_parse_summary(line, NULL, c))
        snprintf(res->last_err, sizeof res->last_err, "%s", line);
    free(line);
}

static void read_err(cb_runner *r, plink *lk)
{
    char chunk[4096];
    ssize_t n = read(lk->err_fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        if (lk->line.len > 0)
            step_line(r, lk, lk->line.s, lk->line.len);
        free(lk->line.s);
        lk->line = (cb_buf){0};
        close(lk->err_fd);
        lk->err_fd = -1;
        return;
    }
    sb_add(&lk->line, chunk, (size_t)n);
    char *start = lk->line.s;
    char *nl;
    while ((nl = memchr(start, '\n', lk->line.len - (size_t)(start - lk->line.s))) != NULL) {
        step_line(r, lk, start, (size_t)(nl - start));
        start = nl + 1;
    }
    size_t rest = lk->line.len - (size_t)(start - lk->line.s);
    memmove(lk->line.s, start, rest);
    lk->line.len = rest;
    if (rest > 65536) {   /* a step writing no newline must not fill memory */
        step_line(r, lk, lk->line.s, rest);
        lk->line.len = 0;
    }
}

static void log_step(cb_runner *r, const plink *lk, size_t idx, char **argv, size_t nfiles,
                     char **files)
{
    const cb_step_result *res = &r->results[idx];
    cb_buf b = {0};
    log_begin(r, &b, "step");
    sb_jstr(&b, "stage", res->stage);
    sb_jstr(&b, "step", res->step);
    sb_str(&b, ",\"command\":[");
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            sb_str(&b, ",");
        sb_json(&b, argv[i], strlen(argv[i]));
    }
    for (size_t i = 0; i < nfiles; i++) {
        sb_str(&b, ",");
        sb_json(&b, files[i], strlen(files[i]));
    }
    sb_str(&b, "]");
    sb_fmt(&b, ",\"status\":%d,\"seconds\":%.3f", res->status, res->seconds);
    if (res->in >= 0)
        sb_fmt(&b, ",\"in\":%ld,\"out\":%ld,\"rejected\":%ld,\"filtered\":%ld", res->in, res->out,
               res->rejected, res->filtered);
    else
        sb_str(&b, ",\"in\":null,\"out\":null,\"rejected\":null,\"filtered\":null");
    if (lk->par)
        sb_str(&b, ",\"parallel\":true");
    log_end(r, &b);
}

/* Runs links as one pipeline: in_fd feeds the first (-1: /dev/null), the
 * last writes to out_fd, files are appended to the first link's argv.
 * Returns the pipefail status (the last failing link's), or -1 with err. */
static int run_links(cb_runner *r, plink *lk, size_t n, char **files, size_t nfiles, int in_fd,
                     int out_fd, cb_err *err)
{
    int (*pipes)[2] = calloc(n, sizeof *pipes);
    int errp[2] = {-1, -1};
    pid_t pgid = 0;
    size_t started = 0;
    int rc = 0;
    if (pipes == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < n; i++)
        pipes[i][0] = pipes[i][1] = -1;
    for (size_t i = 0; i + 1 < n; i++)
        if (cloexec_pipe(pipes[i]) != 0) {
            rc = cb_err_sys(err, EX_OSERR, "pipe");
            goto out;
        }
    int devnull = -1;
    if (in_fd < 0) {
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        in_fd = devnull;
    }
    for (size_t i = 0; i < n; i++) {
        plink *l = &lk[i];
        l->err_fd = -1;
        errp[0] = errp[1] = -1;
        if (l->argv != NULL && cloexec_pipe(errp) != 0) {
            rc = cb_err_sys(err, EX_OSERR, "pipe");
            break;
        }
        int from = i == 0 ? in_fd : pipes[i - 1][0];
        int to = i + 1 == n ? out_fd : pipes[i][1];
        fflush(NULL);
        l->t0 = now_mono();
        pid_t pid = fork();
        if (pid < 0) {
            rc = cb_err_sys(err, EX_OSERR, "fork");
            close(errp[0]);
            close(errp[1]);
            break;
        }
        if (pid == 0) {
            setpgid(0, pgid);
            child_signals();
            if (l->argv == NULL)
                tee_main(from, to, l->tee_fd);
            if (dup2(from, 0) < 0 || dup2(to, 1) < 0 || dup2(errp[1], 2) < 0)
                _exit(71);
            size_t argc = 0;
            while (l->argv[argc])
                argc++;
            char **argv = calloc(argc + nfiles + 1, sizeof *argv);
            if (argv == NULL)
                _exit(71);
            memcpy(argv, l->argv, argc * sizeof *argv);
            if (i == 0 && nfiles > 0)
                memcpy(argv + argc, files, nfiles * sizeof *argv);
            if (l->par)
                setenv("PARALLEL_SHELL", "/bin/bash", 1);
            execvp(argv[0], argv);
            dprintf(2, "run-pipeline: cannot run %s: %s\n", argv[0], strerror(errno));
            _exit(errno == ENOENT ? 127 : 126);
        }
        if (pgid == 0)
            pgid = pid;
        setpgid(pid, pgid);   /* both sides, so no signal finds it outside */
        l->pid = pid;
        started++;
        if (l->argv != NULL) {
            close(errp[1]);
            l->err_fd = errp[0];
        }
    }
    for (size_t i = 0; i + 1 < n; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
        pipes[i][0] = pipes[i][1] = -1;
    }
    if (devnull >= 0)
        close(devnull);
    if (rc < 0 && pgid > 0)
        kill(-pgid, SIGTERM);   /* a half-built pipeline must not run */

    double killed_at = 0;
    int alive = (int)started;
    while (alive > 0) {
        struct pollfd pfd[n + 1];
        plink *who[n + 1];
        nfds_t np = 0;
        for (size_t i = 0; i < started; i++)
            if (lk[i].err_fd >= 0) {
                pfd[np] = (struct pollfd){.fd = lk[i].err_fd, .events = POLLIN};
                who[np++] = &lk[i];
            }
        nfds_t nerr = np;
        if (r->wake_fd >= 0)
            pfd[np++] = (struct pollfd){.fd = r->wake_fd, .events = POLLIN};
        int ready = poll(pfd, np, nerr ? 200 : 20);
        if (ready > 0) {
            for (nfds_t k = 0; k < nerr; k++)
                if (pfd[k].revents)
                    read_err(r, who[k]);
            if (np > nerr && pfd[nerr].revents) {
                char drain[64];
                ssize_t d = read(r->wake_fd, drain, sizeof drain);
                (void)d;
            }
        }
        if (r->stop != NULL && *r->stop && pgid > 0) {
            double t = now_mono();
            if (killed_at == 0) {
                r->stopped_by = (int)*r->stop;
                kill(-pgid, r->stopped_by);
                killed_at = t;
            } else if (t - killed_at > KILL_GRACE_SECONDS) {
                kill(-pgid, SIGKILL);
                killed_at = t + 1e9;
            }
        }
        for (size_t i = 0; i < started; i++) {
            int st;
            if (lk[i].done || waitpid(lk[i].pid, &st, WNOHANG) != lk[i].pid)
                continue;
            lk[i].done = 1;
            lk[i].status = wait_status(st);
            alive--;
            if (lk[i].argv != NULL) {
                cb_step_result *res = &r->results[lk[i].result];
                res->ran = 1;
                res->status = lk[i].status;
                res->seconds = now_mono() - lk[i].t0;
            }
        }
    }
    /* Whatever is left (a background grandchild may still hold a pipe). */
    for (size_t i = 0; i < started; i++)
        while (lk[i].err_fd >= 0) {
            struct pollfd p1 = {.fd = lk[i].err_fd, .events = POLLIN};
            if (poll(&p1, 1, 0) <= 0) {
                if (lk[i].line.len)
                    step_line(r, &lk[i], lk[i].line.s, lk[i].line.len);
                free(lk[i].line.s);
                lk[i].line = (cb_buf){0};
                close(lk[i].err_fd);
                lk[i].err_fd = -1;
                break;
            }
            read_err(r, &lk[i]);
        }
    if (rc == 0)
        for (size_t i = 0; i < started; i++)
            if (lk[i].status != 0)
                rc = lk[i].status;
    if (rc == 0 && r->stopped_by)
        rc = 128 + r->stopped_by;
out:
    for (size_t i = 0; i < n; i++) {
        if (pipes[i][0] >= 0)
            close(pipes[i][0]);
        if (pipes[i][1] >= 0)
            close(pipes[i][1]);
    }
    free(pipes);
    return rc;
}

/* The argv for a parallel stage: its steps as one bash pipeline per input
 * file, each job's stdout and stderr kept in resdir/<job number> and
 * resdir/<job number>.err, so they can be joined in input order.
 *
 * Over hosts, each job runs in a fresh directory of its own on the host
 * (--workdir ...), the input file is sent there under its base name (the
 * input is given as DIR/./NAME, see parallel_inputs) and --cleanup removes
 * only that copy: the original is never a transferred file, so a host that
 * shares the state directory (or the local host itself) cannot lose it. The
 * job reads the copy where there is one (so records it writes name the
 * file by its base name), else the file itself by its own name (the local
 * host ':' transfers nothing). */
static char **parallel_argv(const cb_stage *sg, const char *resdir)
{
    cb_buf cmd = {0};
    sb_str(&cmd, "set -o pipefail; ");
    if (sg->nhosts)
        sb_str(&cmd, "f={/}; [ -e \"$f\" ] || { f={}; f=${f/\\/.\\///}; }; ");
    for (size_t i = 0; i < sg->nsteps; i++) {
        if (i)
            sb_str(&cmd, " | ");
        for (size_t j = 0; j < sg->steps[i].argc; j++) {
            char *q = cb_shell_quote(sg->steps[i].argv[j]);
            if (j)
                sb_str(&cmd, " ");
            sb_str(&cmd, q ? q : "''");
            free(q);
        }
        if (i == 0)
            sb_str(&cmd, sg->nhosts ? " \"$f\"" : " {}");
    }
    char jobs[16];
    snprintf(jobs, sizeof jobs, "%d", sg->parallel);
    size_t cap = 18 + 2 * sg->nhosts;
    char **argv = calloc(cap, sizeof *argv);
    if (argv == NULL) {
        free(cmd.s);
        return NULL;
    }
    cb_buf res = {0};
    sb_str(&res, resdir);
    sb_str(&res, "/{#}");
    size_t k = 0;
    argv[k++] = strdup("parallel");
    argv[k++] = strdup("--will-cite");
    argv[k++] = strdup("-j");
    argv[k++] = strdup(jobs);
    argv[k++] = strdup("--results");
    argv[k++] = res.s;
    argv[k++] = strdup("--halt");
    argv[k++] = strdup("now,fail=1");
    for (size_t i = 0; i < sg->nhosts; i++) {
        argv[k++] = strdup("--sshlogin");
        argv[k++] = strdup(sg->hosts[i]);
    }
    if (sg->nhosts) {
        argv[k++] = strdup("--workdir");
        argv[k++] = strdup("...");
        argv[k++] = strdup("--transferfile");
        argv[k++] = strdup("{}");
        argv[k++] = strdup("--cleanup");
    }
    argv[k++] = cmd.s ? cmd.s : strdup("");
    argv[k++] = strdup(":::");
    argv[k] = NULL;
    return argv;
}

/* The input files as a parallel stage over hosts passes them: DIR/./NAME,
 * so that GNU parallel sends each to the job's directory as NAME. Without
 * hosts, a copy of the list. NULL when out of memory. */
static char **parallel_inputs(const cb_stage *sg, char **files, size_t nfiles)
{
    char **v = calloc(nfiles + 1, sizeof *v);
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < nfiles; i++) {
        const char *slash = strrchr(files[i], '/');
        cb_buf b = {0};
        if (!sg->nhosts) {
            sb_str(&b, files[i]);
        } else if (slash == NULL) {
            sb_str(&b, "./");
            sb_str(&b, files[i]);
        } else {
            sb_add(&b, files[i], (size_t)(slash - files[i]));
            sb_str(&b, "/./");
            sb_str(&b, slash + 1);
        }
        if ((v[i] = b.s) == NULL) {
            cb_free_words(v);
            return NULL;
        }
    }
    return v;
}

/* Joins the jobs' results in input order; a CSV header repeated at the top
 * of each result is kept once, so the join equals the serial output. Each
 * job's stderr goes to the log, its summary lines to the steps' counts. */
static int join_results(cb_runner *r, plink *lk, const char *resdir, size_t njobs,
                        const char *joined, cb_err *err)
{
    /* Without joined (a job failed) only the stderr is kept, for the log. */
    FILE *out = joined ? fopen(joined, "w") : NULL;
    if (joined && out == NULL)
        return cb_err_sys(err, EX_CANTCREAT, "%s", joined);
    char *line = NULL, *header = NULL;
    size_t lcap = 0;
    int first_line_seen = 0, rc = 0;
    char name[4300];
    for (size_t job = 1; job <= njobs; job++) {
        snprintf(name, sizeof name, "%s/%zu.err", resdir, job);
        FILE *in = fopen(name, "r");
        ssize_t len;
        if (in != NULL) {
            while ((len = getline(&line, &lcap, in)) > 0)
                step_line(r, lk, line, (size_t)len - (line[len - 1] == '\n'));
            fclose(in);
            unlink(name);
        }
        snprintf(name, sizeof name, "%s/%zu.seq", resdir, job);
        unlink(name);
        snprintf(name, sizeof name, "%s/%zu", resdir, job);
        in = out ? fopen(name, "r") : NULL;
        if (in == NULL) {
            if (out)
                rc = cb_err_sys(err, EX_IOERR, "the result of job %zu", job);
            unlink(name);
            continue;
        }
        int first = 1;
        while ((len = getline(&line, &lcap, in)) > 0) {
            if (first && !first_line_seen) {
                header = strdup(line);
                first_line_seen = 1;
            } else if (first && header && strcmp(line, header) == 0 &&
                       strncmp(header, "-----BEGIN", 10) != 0) {
                first = 0;
                continue;
            }
            first = 0;
            fwrite(line, 1, (size_t)len, out);
        }
        fclose(in);
        unlink(name);
    }
    rmdir(resdir);
    free(line);
    free(header);
    if (out && fclose(out) != 0 && rc == 0)
        rc = cb_err_sys(err, EX_IOERR, "%s", joined);
    return rc;
}

static int copy_fd(int from, int to)
{
    char chunk[65536];
    ssize_t n;
    while ((n = read(from, chunk, sizeof chunk)) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, chunk + off, (size_t)(n - off));
            if (w <= 0)
                return -1;
            off += w;
        }
    return n < 0 ? -1 : 0;
}

static void log_stage(cb_runner *r, const cb_stage *sg, const char *event, char **files,
                      size_t nfiles, int status, const char *note)
{
    cb_buf b = {0};
    log_begin(r, &b, event);
    sb_jstr(&b, "stage", sg->name);
    if (files != NULL) {
        sb_str(&b, ",\"inputs\":[");
        for (size_t i = 0; i < nfiles; i++) {
            if (i)
                sb_str(&b, ",");
            sb_json(&b, files[i], strlen(files[i]));
        }
        sb_str(&b, "]");
    }
    if (status >= 0)
        sb_fmt(&b, ",\"status\":%d", status);
    if (note != NULL)
        sb_jstr(&b, "message", note);
    log_end(r, &b);
}

/* Runs one stage; returns its status (0 done) or -1 with err. */
/* Whether a step after i failed other than by SIGPIPE. */
static int later_failed(const cb_runner *r, size_t i, size_t end)
{
    for (size_t k = i + 1; k < end; k++)
        if (r->results[k].ran && r->results[k].status != 0 && r->results[k].status != 128 + SIGPIPE)
            return 1;
    return 0;
}

static void log_failure(cb_runner *r, size_t first, size_t end, size_t cause)
{
    const cb_step_result *c = &r->results[cause];
    cb_buf b = {0};
    log_begin(r, &b, "failure");
    sb_jstr(&b, "stage", c->stage);
    sb_jstr(&b, "step", c->step);
    sb_fmt(&b, ",\"status\":%d", c->status);
    sb_jstr(&b, "line", c->last_err);
    sb_str(&b, ",\"input_cut_short\":[");
    for (size_t i = first, k = 0; i < end; i++)
        if (r->results[i].blame == CB_BLAME_INPUT_CUT) {
            sb_str(&b, k++ ? "," : "");
            sb_json(&b, r->results[i].step, strlen(r->results[i].step));
        }
    sb_str(&b, "]");
    log_end(r, &b);
}

/* A failed stage's steps are blamed in pipe order (enum cb_blame); the
 * stage fails with its cause's status, not with the status of a step that
 * only lost its input. */
static int blame_stage(cb_runner *r, size_t first, size_t end, int status)
{
    size_t cause = (size_t)-1;
    for (size_t i = first; i < end; i++) {
        cb_step_result *s = &r->results[i];
        if (!s->ran || s->status == 0)
            continue;
        if (cause == (size_t)-1 && s->status == 128 + SIGPIPE && later_failed(r, i, end))
            s->blame = CB_BLAME_OUTPUT_CLOSED;
        else if (cause == (size_t)-1)
            s->blame = CB_BLAME_CAUSE, cause = i;
        else
            s->blame = CB_BLAME_INPUT_CUT;
    }
    if (cause == (size_t)-1)
        return status;
    if (r->cause < 0)
        r->cause = (long)cause;
    log_failure(r, first, end, cause);
    return r->results[cause].status;
}

int cb_runner_cause(const cb_runner *r, char *buf, size_t n)
{
    if (n > 0)
        buf[0] = '\0';
    if (r->cause < 0)
        return 0;
    const cb_step_result *c = &r->results[r->cause];
    snprintf(buf, n, "stage %s: step %s exited %d%s%s", c->stage, c->step, c->status,
             c->last_err[0] ? ": " : "", c->last_err);
    return 1;
}

static int run_stage(cb_runner *r, size_t index, cb_err *err)
{
    const cb_stage *sg = &r->p->stages[index];
    char **files = NULL;
    size_t nfiles = 0;
    size_t nlinks = sg->nsteps + sg->ntees;
    plink *lk = calloc(nlinks + sg->nmerge + 1, sizeof *lk);
    cb_atomic *tees = calloc(sg->ntees + 1, sizeof *tees);
    cb_atomic out_at = {0};
    int out_fd = 1, work_fd = -1, status = -1, out_open = 0;
    size_t tees_open = 0;
    size_t first = r->nresults;
    char path[4096];
    if (lk == NULL || tees == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < sg->nsteps; i++)
        if (add_result(r, sg, sg->steps[i].name) == (size_t)-1) {
            cb_err_set(err, EX_OSERR, "out of memory");
            goto done;
        }
    for (size_t i = 0; i < sg->nmerge; i++)
        if (add_result(r, sg, sg->merge[i].name) == (size_t)-1) {
            cb_err_set(err, EX_OSERR, "out of memory");
            goto done;
        }
    if (stage_files(r, sg, 0, &files, &nfiles, err) < 0)
        goto done;
    log_stage(r, sg, "stage_start", files ? files : (char *[]){NULL}, nfiles, -1, NULL);

    for (size_t i = 0; i < sg->ntees; i++) {
        if (cb_mkdir_parent(sg->tees[i].path, err) < 0 ||
            cb_atomic_open(&tees[i], sg->tees[i].path, 0644, err) < 0)
            goto done;
        tees_open++;
    }
    if (sg->output != NULL) {
        if (cb_mkdir_parent(sg->output, err) < 0 || cb_atomic_open(&out_at, sg->output, 0644, err) < 0)
            goto done;
        out_open = 1;
        out_fd = fileno(out_at.fp);
    } else if (sg->feeds_later) {
        snprintf(path, sizeof path, "%s/%s.out", r->workdir, sg->name);
        work_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (work_fd < 0) {
            cb_err_sys(err, EX_CANTCREAT, "%s", path);
            goto done;
        }
        out_fd = work_fd;
    } else {
        fflush(stdout);
    }
    int in_fd = sg->input_kind == CB_INPUT_STDIN ? 0 : -1;

    if (sg->parallel && nfiles > 0) {
        char resdir[4200], joined[4200];
        snprintf(resdir, sizeof resdir, "%s/%s.jobs", r->workdir, sg->name);
        snprintf(joined, sizeof joined, "%s/%s.joined", r->workdir, sg->name);
        int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd < 0) {
            cb_err_sys(err, EX_OSERR, "/dev/null");
            goto done;
        }
        char **pargv = parallel_argv(sg, resdir);
        char **pfiles = parallel_inputs(sg, files, nfiles);
        if (pargv == NULL || pfiles == NULL) {
            cb_free_words(pargv);
            cb_free_words(pfiles);
            close(null_fd);
            cb_err_set(err, EX_OSERR, "out of memory");
            goto done;
        }
        lk[0] = (plink){.argv = pargv, .result = first, .par = sg, .par_first = first};
        status = run_links(r, lk, 1, pfiles, nfiles, -1, null_fd, err);
        cb_free_words(pfiles);
        close(null_fd);
        if (status >= 0 && join_results(r, &lk[0], resdir, nfiles, status == 0 ? joined : NULL, err) < 0)
            status = -1;
        for (size_t i = 0; i < sg->nsteps; i++) {
            r->results[first + i].ran = r->results[first].ran;
            r->results[first + i].status = lk[0].status;
            r->results[first + i].seconds = r->results[first].seconds;
        }
        if (status == 0) {
            for (size_t i = 0; i < sg->nsteps; i++)
                log_step(r, &lk[0], first + i, sg->steps[i].argv, 0, NULL);
        } else if (status > 0) {
            log_step(r, &lk[0], first, pargv, nfiles, files);
        }
        cb_free_words(pargv);
        lk[0].argv = NULL;
        if (status < 0)
            goto done;
        if (status != 0)
            goto finish;
        if (sg->nmerge == 0) {
            int jfd = open(joined, O_RDONLY | O_CLOEXEC);
            if (jfd < 0 || copy_fd(jfd, out_fd) < 0) {
                if (jfd >= 0)
                    close(jfd);
                cb_err_sys(err, EX_IOERR, "cannot copy the joined results of stage %s", sg->name);
                status = -1;
                goto done;
            }
            close(jfd);
            goto finish;
        }
        for (size_t i = 0; i < sg->nmerge; i++)
            lk[i] = (plink){.argv = sg->merge[i].argv, .result = first + sg->nsteps + i};
        char *jfiles[2] = {joined, NULL};
        status = run_links(r, lk, sg->nmerge, jfiles, 1, -1, out_fd, err);
        for (size_t i = 0; i < sg->nmerge; i++)
            log_step(r, &lk[i], first + sg->nsteps + i, sg->merge[i].argv, i == 0, jfiles);
        goto finish;
    }

    /* Serial: the steps, with a tee process after each tee'd step. */
    size_t k = 0;
    for (size_t i = 0; i < sg->nsteps; i++) {
        lk[k++] = (plink){.argv = sg->steps[i].argv, .result = first + i};
        for (size_t t = 0; t < sg->ntees; t++)
            if (sg->tees[t].after == i)
                lk[k++] = (plink){.tee_fd = fileno(tees[t].fp), .result = (size_t)-1};
    }
    if (sg->parallel) {
        /* No input file matched: the serial run over nothing, merge steps after. */
        for (size_t i = 0; i < sg->nmerge; i++)
            lk[k++] = (plink){.argv = sg->merge[i].argv, .result = first + sg->nsteps + i};
    }
    status = run_links(r, lk, k, files, nfiles, in_fd, out_fd, err);
    for (size_t i = 0, s = 0; i < k; i++)
        if (lk[i].argv != NULL) {
            log_step(r, &lk[i], lk[i].result, lk[i].argv, s == 0 ? nfiles : 0, files);
            s++;
        }

finish:
    if (status > 0 && r->stopped_by == 0)
        status = blame_stage(r, first, r->nresults, status);
    if (status == 0 && r->stopped_by == 0) {
        for (size_t i = 0; i < tees_open; i++)
            if (cb_atomic_commit(&tees[i], 0, err) < 0) {
                status = -1;
                goto done;
            }
        tees_open = 0;
        if (out_open) {
            out_open = 0;
            if (cb_atomic_commit(&out_at, 0, err) < 0) {
                status = -1;
                goto done;
            }
        }
    }
    if (status >= 0)
        log_stage(r, sg, "stage_end", NULL, 0, status,
                  r->stopped_by ? "interrupted: outputs removed"
                  : status ? "failed: outputs removed" : NULL);
done:
    for (size_t i = 0; i < tees_open; i++)
        cb_atomic_abort(&tees[i]);
    if (out_open)
        cb_atomic_abort(&out_at);
    if (work_fd >= 0)
        close(work_fd);
    if (out_fd == 1)
        fflush(stdout);
    free(tees);
    free(lk);
    free_list(files, nfiles);
    return status;
}

int cb_runner_run(cb_runner *r, cb_err *err)
{
    const cb_pipeline *p = r->p;
    double t0 = now_mono();
    cb_buf b = {0};
    log_begin(r, &b, "run_start");
    sb_jstr(&b, "file", p->file);
    sb_str(&b, ",\"vars\":{");
    for (size_t i = 0; i < p->nvars; i++) {
        if (i)
            sb_str(&b, ",");
        sb_json(&b, p->vars[i].name, strlen(p->vars[i].name));
        sb_str(&b, ":");
        sb_json(&b, p->vars[i].value, strlen(p->vars[i].value));
    }
    sb_fmt(&b, "},\"pid\":%ld", (long)getpid());
    log_end(r, &b);

    int result = 0, failed = 0;
    for (size_t i = 0; i < p->nstages; i++) {
        const cb_stage *sg = &p->stages[i];
        if (r->stopped_by || (r->stop && *r->stop)) {
            if (!r->stopped_by)
                r->stopped_by = (int)*r->stop;
            break;
        }
        if (failed) {
            log_stage(r, sg, "stage_skipped", NULL, 0, -1, "an earlier stage failed");
            continue;
        }
        cb_err serr = {0};
        int st = run_stage(r, i, &serr);
        if (st < 0) {
            /* The stage could not start or finish (an input missing, an
             * output not writable): a failure of the stage like any other. */
            log_stage(r, sg, "stage_end", NULL, 0, serr.code, serr.msg);
            if (result == 0) {
                result = serr.code ? serr.code : EX_SOFTWARE;
                *err = serr;
            }
            fprintf(r->diag, "run-pipeline: %s\n", serr.msg);
            if (!sg->continue_on_error)
                failed = 1;
            continue;
        }
        if (st != 0) {
            if (result == 0)
                result = st;
            if (!sg->continue_on_error)
                failed = 1;
        }
    }
    if (r->stopped_by)
        result = 128 + r->stopped_by;
    log_begin(r, &b, "run_end");
    sb_fmt(&b, ",\"status\":%d,\"seconds\":%.3f", result, now_mono() - t0);
    if (r->stopped_by)
        sb_fmt(&b, ",\"signal\":%d", r->stopped_by);
    log_end(r, &b);
    return result;
}

static void fmt_count(char *buf, size_t n, long v)
{
    if (v < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%ld", v);
}

void cb_runner_table(const cb_runner *r, FILE *out)
{
    int ws = 5, wt = 4;
    for (size_t i = 0; i < r->nresults; i++) {
        int a = (int)strlen(r->results[i].stage), b = (int)strlen(r->results[i].step);
        ws = a > ws ? a : ws;
        wt = b > wt ? b : wt;
    }
    fprintf(out, "%-*s  %-*s  %8s  %8s  %8s  %8s  %8s\n", ws, "stage", wt, "step", "status", "in",
            "out", "rejected", "seconds");
    for (size_t i = 0; i < r->nresults; i++) {
        const cb_step_result *s = &r->results[i];
        char st[32], in[24], o[24], rj[24], sec[24];
        if (!s->ran)
            snprintf(st, sizeof st, "not run");
        else if (s->status > 128)
            snprintf(st, sizeof st, "signal %d", s->status - 128);
        else
            snprintf(st, sizeof st, "%d", s->status);
        fmt_count(in, sizeof in, s->in);
        fmt_count(o, sizeof o, s->out);
        fmt_count(rj, sizeof rj, s->rejected);
        if (s->ran)
            snprintf(sec, sizeof sec, "%.1f", s->seconds);
        else
            snprintf(sec, sizeof sec, "-");
        fprintf(out, "%-*s  %-*s  %8s  %8s  %8s  %8s  %8s\n", ws, s->stage, wt, s->step, st, in,
                o, rj, sec);
        if (s->blame == CB_BLAME_INPUT_CUT)
            fprintf(out, "%-*s  %-*s  failed after its input was cut short by an earlier step\n", ws,
                    "", wt, "");
        else if (s->blame == CB_BLAME_OUTPUT_CLOSED)
            fprintf(out, "%-*s  %-*s  stopped: the next step had failed\n", ws, "", wt, "");
        else if (s->ran && s->status != 0 && s->last_err[0])
            fprintf(out, "%-*s  %-*s  %s%s\n", ws, "", wt, "",
                    s->blame == CB_BLAME_CAUSE ? "the cause: " : "", s->last_err);
    }
}

static void put_words(FILE *out, char **argv)
{
    for (size_t j = 0; argv[j]; j++) {
        char *q = cb_shell_quote(argv[j]);
        fprintf(out, "%s%s", j ? " " : "", q ? q : "''");
        free(q);
    }
}

static void put_files(FILE *out, char **files, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        char *q = cb_shell_quote(files[j]);
        fprintf(out, " %s", q ? q : "''");
        free(q);
    }
}

/* mkdir -p for the directory of path, unless *made is that directory. */
static void put_parent(FILE *out, const char *path, char **made)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (slash == NULL || slash == path)
        return;
    char *dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL || (*made && !strcmp(*made, dir))) {
        free(dir);
        return;
    }
    char *q = cb_shell_quote(dir);
    fprintf(out, "mkdir -p %s\n", q ? q : "''");
    free(q);
    free(*made);
    *made = dir;
}

int cb_runner_dry_run(const cb_pipeline *p, FILE *out, cb_err *err)
{
    cb_runner r = {.p = p, .log_fd = -1, .wake_fd = -1, .workdir = (char *)"$work"};
    fprintf(out, "#!/bin/bash\n# run-pipeline --dry-run: pipeline %s from %s\n", p->name, p->file);
    for (size_t i = 0; i < p->nvars; i++)
        fprintf(out, "#   %s=%s\n", p->vars[i].name, p->vars[i].value);
    fprintf(out, "set -o pipefail\nwork=$(mktemp -d) || exit 73\ntrap 'rm -rf \"$work\"' EXIT\nrc=0\n");
    for (size_t i = 0; i < p->nstages; i++) {
        const cb_stage *sg = &p->stages[i];
        char **files = NULL;
        size_t nfiles = 0;
        fprintf(out, "\n# stage %s\n", sg->name);
        if (sg->input_kind == CB_INPUT_STAGE) {
            const cb_stage *from = &p->stages[sg->input_stage];
            files = calloc(2, sizeof *files);
            if (files == NULL)
                return cb_err_set(err, EX_OSERR, "out of memory");
            char path[4096];
            if (from->output)
                snprintf(path, sizeof path, "%s", from->output);
            else
                snprintf(path, sizeof path, "%s/%s.out", "$work", from->name);
            files[0] = strdup(path);
            nfiles = 1;
        } else if (stage_files(&r, sg, 1, &files, &nfiles, err) < 0) {
            free_list(files, nfiles);
            return -1;
        }
        char *made = NULL;
        for (size_t t = 0; t <= sg->ntees; t++)
            put_parent(out, t < sg->ntees ? sg->tees[t].path : sg->output, &made);
        free(made);
        char target[4200] = "";
        if (sg->output) {
            char *q = cb_shell_quote(sg->output);
            snprintf(target, sizeof target, " > %s", q ? q : "''");
            free(q);
        } else if (sg->feeds_later) {
            snprintf(target, sizeof target, " > \"$work/%s.out\"", sg->name);
        }
        const char *on_fail = sg->continue_on_error ? "rc=$?" : "exit $?";
        if (sg->parallel && nfiles > 0) {
            char resdir[512];
            snprintf(resdir, sizeof resdir, "$work/%s.jobs", sg->name);
            char **pargv = parallel_argv(sg, resdir);
            fputs("PARALLEL_SHELL=/bin/bash ", out);
            for (size_t j = 0; pargv[j]; j++) {
                char *q = cb_shell_quote(pargv[j]);
                if (!strncmp(pargv[j], "$work/", 6)) {
                    free(q);
                    q = cb_shell_quote(pargv[j] + 5);
                    fprintf(out, " \"$work\"%s", q ? q : "''");
                } else {
                    fprintf(out, "%s%s", j ? " " : "", q ? q : "''");
                }
                free(q);
            }
            cb_free_words(pargv);
            char **pfiles = parallel_inputs(sg, files, nfiles);
            put_files(out, pfiles ? pfiles : files, nfiles);
            cb_free_words(pfiles);
            fprintf(out, " > /dev/null &&\n");
            char *qn = cb_shell_quote(sg->name);
            fprintf(out, "awk 'FNR == 1 && NR > 1 && $0 == h && h !~ /^-----BEGIN/ { next } "
                         "NR == 1 { h = $0 } { print }' \"$work\"/%s.jobs/{1..%zu}",
                    qn ? qn : "''", nfiles);
            free(qn);
            for (size_t m = 0; m < sg->nmerge; m++) {
                fputs(" | ", out);
                put_words(out, sg->merge[m].argv);
            }
            fprintf(out, "%s || %s\n", target, on_fail);
            free_list(files, nfiles);
            continue;
        }
        for (size_t s = 0; s < sg->nsteps; s++) {
            if (s)
                fputs(" | ", out);
            put_words(out, sg->steps[s].argv);
            if (s == 0) {
                put_files(out, files, nfiles);
                if (sg->input_kind != CB_INPUT_STDIN)
                    fputs(" < /dev/null", out);
            }
            for (size_t t = 0; t < sg->ntees; t++)
                if (sg->tees[t].after == s) {
                    char *q = cb_shell_quote(sg->tees[t].path);
                    fprintf(out, " | tee %s", q ? q : "''");
                    free(q);
                }
        }
        for (size_t m = 0; sg->parallel && m < sg->nmerge; m++) {
            fputs(" | ", out);
            put_words(out, sg->merge[m].argv);
        }
        fprintf(out, "%s || %s\n", target, on_fail);
        free_list(files, nfiles);
    }
    fputs("exit $rc\n", out);
    if (fflush(out) != 0 || ferror(out))
        return cb_err_sys(err, EX_IOERR, "cannot write the dry-run script");
    return 0;
}

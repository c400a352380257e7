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

/* The child's side of a link: its descriptors, then the tee or the
 * program (the first link gets the files after its argv). Never returns. */
static void exec_link(const plink *l, int from, int to, int err_w, char **files, size_t nfiles,
                      pid_t pgid)
{
    setpgid(0, pgid);
    child_signals();
    if (l->argv == NULL)
        tee_main(from, to, l->tee_fd);
    if (dup2(from, 0) < 0 || dup2(to, 1) < 0 || dup2(err_w, 2) < 0)
        _exit(71);
    size_t argc = 0;
    while (l->argv[argc])
        argc++;
    char **argv = calloc(argc + nfiles + 1, sizeof *argv);
    if (argv == NULL)
        _exit(71);
    memcpy(argv, l->argv, argc * sizeof *argv);
    if (nfiles > 0)
        memcpy(argv + argc, files, nfiles * sizeof *argv);
    if (l->par)
        setenv("PARALLEL_SHELL", "/bin/bash", 1);
    execvp(argv[0], argv);
    dprintf(2, "run-pipeline: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

/* The links of one pipeline as they are started. */
typedef struct links {
    plink *lk;
    size_t n, started;
    int (*pipes)[2];
    pid_t pgid;
} links;

/* Starts link i reading from and writing to: 0, or -1 with err. */
static int spawn_link(links *ls, size_t i, int from, int to, char **files, size_t nfiles, cb_err *err)
{
    plink *l = &ls->lk[i];
    int errp[2] = {-1, -1};
    l->err_fd = -1;
    if (l->argv != NULL && cloexec_pipe(errp) != 0)
        return cb_err_sys(err, EX_OSERR, "pipe");
    fflush(NULL);
    l->t0 = now_mono();
    pid_t pid = fork();
    if (pid < 0) {
        cb_err_sys(err, EX_OSERR, "fork");
        close(errp[0]);
        close(errp[1]);
        return -1;
    }
    if (pid == 0)
        exec_link(l, from, to, errp[1], files, i == 0 ? nfiles : 0, ls->pgid);
    if (ls->pgid == 0)
        ls->pgid = pid;
    setpgid(pid, ls->pgid);   /* both sides, so no signal finds it outside */
    l->pid = pid;
    ls->started++;
    if (l->argv != NULL) {
        close(errp[1]);
        l->err_fd = errp[0];
    }
    return 0;
}

/* Starts every link, joined by pipes; a half-built pipeline is stopped. */
static int spawn_links(links *ls, char **files, size_t nfiles, int in_fd, int out_fd, cb_err *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i + 1 < ls->n; i++)
        if (cloexec_pipe(ls->pipes[i]) != 0)
            return cb_err_sys(err, EX_OSERR, "pipe");
    int devnull = in_fd < 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
    if (in_fd < 0)
        in_fd = devnull;
    for (size_t i = 0; rc == 0 && i < ls->n; i++)
        rc = spawn_link(ls, i, i == 0 ? in_fd : ls->pipes[i - 1][0], i + 1 == ls->n ? out_fd : ls->pipes[i][1],
                        files, nfiles, err);
    for (size_t i = 0; i + 1 < ls->n; i++) {
        close(ls->pipes[i][0]);
        close(ls->pipes[i][1]);
        ls->pipes[i][0] = ls->pipes[i][1] = -1;
    }
    if (devnull >= 0)
        close(devnull);
    if (rc < 0 && ls->pgid > 0)
        kill(-ls->pgid, SIGTERM);   /* a half-built pipeline must not run */
    return rc;
}

/* Reads what the links wrote on stderr, and the wake pipe. */
static void poll_links(cb_runner *r, links *ls)
{
    struct pollfd pfd[ls->n + 1];
    plink *who[ls->n + 1];
    nfds_t np = 0;
    for (size_t i = 0; i < ls->started; i++)
        if (ls->lk[i].err_fd >= 0) {
            pfd[np] = (struct pollfd){.fd = ls->lk[i].err_fd, .events = POLLIN};
            who[np++] = &ls->lk[i];
        }
    nfds_t nerr = np;
    if (r->wake_fd >= 0)
        pfd[np++] = (struct pollfd){.fd = r->wake_fd, .events = POLLIN};
    if (poll(pfd, np, nerr ? 200 : 20) <= 0)
        return;
    for (nfds_t k = 0; k < nerr; k++)
        if (pfd[k].revents)
            read_err(r, who[k]);
    if (np > nerr && pfd[nerr].revents) {
        char drain[64];
        ssize_t d = read(r->wake_fd, drain, sizeof drain);
        (void)d;
    }
}

/* A stop asked for (a signal to run-pipeline): passed on to the links,
 * then SIGKILL after the grace period. */
static void stop_if_asked(cb_runner *r, pid_t pgid, double *killed_at)
{
    if (r->stop == NULL || !*r->stop || pgid <= 0)
        return;
    double t = now_mono();
    if (*killed_at == 0) {
        r->stopped_by = (int)*r->stop;
        kill(-pgid, r->stopped_by);
        *killed_at = t;
    } else if (t - *killed_at > KILL_GRACE_SECONDS) {
        kill(-pgid, SIGKILL);
        *killed_at = t + 1e9;
    }
}

/* The links that ended since last time, their results filled: how many. */
static int reap_links(cb_runner *r, links *ls)
{
    int reaped = 0;
    for (size_t i = 0; i < ls->started; i++) {
        plink *l = &ls->lk[i];
        int st;
        if (l->done || waitpid(l->pid, &st, WNOHANG) != l->pid)
            continue;
        l->done = 1;
        l->status = wait_status(st);
        reaped++;
        if (l->argv != NULL) {
            cb_step_result *res = &r->results[l->result];
            res->ran = 1;
            res->status = l->status;
            res->seconds = now_mono() - l->t0;
        }
    }
    return reaped;
}

/* Until every link has ended: their stderr read, a stop passed on. */
static void supervise_links(cb_runner *r, links *ls)
{
    double killed_at = 0;
    int alive = (int)ls->started;
    while (alive > 0) {
        poll_links(r, ls);
        stop_if_asked(r, ls->pgid, &killed_at);
        alive -= reap_links(r, ls);
    }
}

/* Whatever is left on the links' stderr (a background grandchild may
 * still hold a pipe): read what is there, then closed. */
static void drain_links(cb_runner *r, links *ls)
{
    for (size_t i = 0; i < ls->started; i++) {
        plink *l = &ls->lk[i];
        while (l->err_fd >= 0) {
            struct pollfd p1 = {.fd = l->err_fd, .events = POLLIN};
            if (poll(&p1, 1, 0) <= 0) {
                if (l->line.len)
                    step_line(r, l, l->line.s, l->line.len);
                free(l->line.s);
                l->line = (cb_buf){0};
                close(l->err_fd);
                l->err_fd = -1;
                break;
            }
            read_err(r, l);
        }
    }
}

/* Runs links as one pipeline: in_fd feeds the first (-1: /dev/null), the
 * last writes to out_fd, files are appended to the first link's argv.
 * Returns the pipefail status (the last failing link's), or -1 with err. */
static int run_links(cb_runner *r, plink *lk, size_t n, char **files, size_t nfiles, int in_fd,
                     int out_fd, cb_err *err)
{
    links ls = {.lk = lk, .n = n, .pipes = calloc(n, sizeof *ls.pipes)};
    if (ls.pipes == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < n; i++)
        ls.pipes[i][0] = ls.pipes[i][1] = -1;
    int rc = spawn_links(&ls, files, nfiles, in_fd, out_fd, err);
    supervise_links(r, &ls);
    drain_links(r, &ls);
    int failed = 0;   /* pipefail: the last failing link's status */
    for (size_t i = 0; i < ls.started; i++)
        if (lk[i].status != 0)
            failed = lk[i].status;
    if (rc == 0)
        rc = failed;
    if (rc == 0 && r->stopped_by)
        rc = 128 + r->stopped_by;
    for (size_t i = 0; i < n; i++) {
        if (ls.pipes[i][0] >= 0)
            close(ls.pipes[i][0]);
        if (ls.pipes[i][1] >= 0)
            close(ls.pipes[i][1]);
    }
    free(ls.pipes);
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

/* One stage's run: its links, its outputs (tees, the output file or the
 * work file a later stage reads) and the results it fills from first. */
typedef struct stage_run {
    const cb_stage *sg;
    char **files;
    size_t nfiles, first, tees_open, tees_committed;
    plink *lk;
    cb_atomic *tees, out_at;
    int out_fd, work_fd, out_open;
} stage_run;

/* The stage's results, its input files and its stage_start line. */
static int stage_prepare(cb_runner *r, stage_run *s, cb_err *err)
{
    const cb_stage *sg = s->sg;
    s->lk = calloc(sg->nsteps + sg->ntees + sg->nmerge + 1, sizeof *s->lk);
    s->tees = calloc(sg->ntees + 1, sizeof *s->tees);
    if (s->lk == NULL || s->tees == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < sg->nsteps + sg->nmerge; i++) {
        const char *name = i < sg->nsteps ? sg->steps[i].name : sg->merge[i - sg->nsteps].name;
        if (add_result(r, sg, name) == (size_t)-1)
            return cb_err_set(err, EX_OSERR, "out of memory");
    }
    if (stage_files(r, sg, 0, &s->files, &s->nfiles, err) < 0)
        return -1;
    log_stage(r, sg, "stage_start", s->files ? s->files : (char *[]){NULL}, s->nfiles, -1, NULL);
    return 0;
}

/* The tees and where the stage writes: its output (atomic), a work file
 * for a later stage, or stdout. */
static int stage_open_outputs(cb_runner *r, stage_run *s, cb_err *err)
{
    const cb_stage *sg = s->sg;
    for (size_t i = 0; i < sg->ntees; i++) {
        if (cb_mkdir_parent(sg->tees[i].path, err) < 0 ||
            cb_atomic_open(&s->tees[i], sg->tees[i].path, 0644, err) < 0)
            return -1;
        s->tees_open++;
    }
    if (sg->output != NULL) {
        if (cb_mkdir_parent(sg->output, err) < 0 || cb_atomic_open(&s->out_at, sg->output, 0644, err) < 0)
            return -1;
        s->out_open = 1;
        s->out_fd = fileno(s->out_at.fp);
    } else if (sg->feeds_later) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.out", r->workdir, sg->name);
        s->work_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (s->work_fd < 0)
            return cb_err_sys(err, EX_CANTCREAT, "%s", path);
        s->out_fd = s->work_fd;
    } else {
        fflush(stdout);
    }
    return 0;
}

/* A parallel stage's jobs: GNU parallel over the files, each step's
 * result that of the parallel link, the jobs' outputs joined. */
static int parallel_jobs(cb_runner *r, stage_run *s, const char *resdir, const char *joined, cb_err *err)
{
    const cb_stage *sg = s->sg;
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0)
        return cb_err_sys(err, EX_OSERR, "/dev/null");
    char **pargv = parallel_argv(sg, resdir);
    char **pfiles = parallel_inputs(sg, s->files, s->nfiles);
    int status = -1;
    if (pargv == NULL || pfiles == NULL)
        cb_err_set(err, EX_OSERR, "out of memory");
    else {
        s->lk[0] = (plink){.argv = pargv, .result = s->first, .par = sg, .par_first = s->first};
        status = run_links(r, s->lk, 1, pfiles, s->nfiles, -1, null_fd, err);
    }
    cb_free_words(pfiles);
    close(null_fd);
    if (pargv == NULL || pfiles == NULL) {
        cb_free_words(pargv);
        return -1;
    }
    if (status >= 0 && join_results(r, &s->lk[0], resdir, s->nfiles, status == 0 ? joined : NULL, err) < 0)
        status = -1;
    for (size_t i = 0; i < sg->nsteps; i++) {
        r->results[s->first + i].ran = r->results[s->first].ran;
        r->results[s->first + i].status = s->lk[0].status;
        r->results[s->first + i].seconds = r->results[s->first].seconds;
    }
    for (size_t i = 0; status == 0 && i < sg->nsteps; i++)
        log_step(r, &s->lk[0], s->first + i, sg->steps[i].argv, 0, NULL);
    if (status > 0)
        log_step(r, &s->lk[0], s->first, pargv, s->nfiles, s->files);
    cb_free_words(pargv);
    s->lk[0].argv = NULL;
    return status;
}

/* A parallel stage: the jobs, then the joined results copied out or read
 * by the merge steps. */
static int stage_parallel(cb_runner *r, stage_run *s, cb_err *err)
{
    const cb_stage *sg = s->sg;
    char resdir[4200], joined[4200];
    snprintf(resdir, sizeof resdir, "%s/%s.jobs", r->workdir, sg->name);
    snprintf(joined, sizeof joined, "%s/%s.joined", r->workdir, sg->name);
    int status = parallel_jobs(r, s, resdir, joined, err);
    if (status != 0)
        return status;
    if (sg->nmerge == 0) {
        int jfd = open(joined, O_RDONLY | O_CLOEXEC);
        int rc = jfd < 0 ? -1 : copy_fd(jfd, s->out_fd);
        if (jfd >= 0)
            close(jfd);
        return rc < 0 ? cb_err_sys(err, EX_IOERR, "cannot copy the joined results of stage %s", sg->name) : 0;
    }
    for (size_t i = 0; i < sg->nmerge; i++)
        s->lk[i] = (plink){.argv = sg->merge[i].argv, .result = s->first + sg->nsteps + i};
    char *jfiles[2] = {joined, NULL};
    status = run_links(r, s->lk, sg->nmerge, jfiles, 1, -1, s->out_fd, err);
    for (size_t i = 0; i < sg->nmerge; i++)
        log_step(r, &s->lk[i], s->first + sg->nsteps + i, sg->merge[i].argv, i == 0, jfiles);
    return status;
}

/* A serial stage: the steps, with a tee process after each tee'd step. */
static int stage_serial(cb_runner *r, stage_run *s, cb_err *err)
{
    const cb_stage *sg = s->sg;
    size_t k = 0;
    for (size_t i = 0; i < sg->nsteps; i++) {
        s->lk[k++] = (plink){.argv = sg->steps[i].argv, .result = s->first + i};
        for (size_t t = 0; t < sg->ntees; t++)
            if (sg->tees[t].after == i)
                s->lk[k++] = (plink){.tee_fd = fileno(s->tees[t].fp), .result = (size_t)-1};
    }
    /* A parallel stage whose input matched no file: the serial run over
     * nothing, merge steps after. */
    for (size_t i = 0; sg->parallel && i < sg->nmerge; i++)
        s->lk[k++] = (plink){.argv = sg->merge[i].argv, .result = s->first + sg->nsteps + i};
    int in_fd = sg->input_kind == CB_INPUT_STDIN ? 0 : -1;
    int status = run_links(r, s->lk, k, s->files, s->nfiles, in_fd, s->out_fd, err);
    for (size_t i = 0, n = 0; i < k; i++)
        if (s->lk[i].argv != NULL) {
            log_step(r, &s->lk[i], s->lk[i].result, s->lk[i].argv, n == 0 ? s->nfiles : 0, s->files);
            n++;
        }
    return status;
}

/* A stage that ran: who is blamed for a failure, the outputs committed
 * when it succeeded (else removed, later), its stage_end line. */
static int stage_finish(cb_runner *r, stage_run *s, int status, cb_err *err)
{
    if (status > 0 && r->stopped_by == 0)
        status = blame_stage(r, s->first, r->nresults, status);
    if (status == 0 && r->stopped_by == 0) {
        for (; s->tees_committed < s->tees_open; s->tees_committed++)
            if (cb_atomic_commit(&s->tees[s->tees_committed], 0, err) < 0)
                return -1;
        if (s->out_open) {
            s->out_open = 0;
            if (cb_atomic_commit(&s->out_at, 0, err) < 0)
                return -1;
        }
    }
    log_stage(r, s->sg, "stage_end", NULL, 0, status,
              r->stopped_by ? "interrupted: outputs removed" : status ? "failed: outputs removed" : NULL);
    return status;
}

static void stage_close(stage_run *s)
{
    for (size_t i = s->tees_committed; i < s->tees_open; i++)
        cb_atomic_abort(&s->tees[i]);
    if (s->out_open)
        cb_atomic_abort(&s->out_at);
    if (s->work_fd >= 0)
        close(s->work_fd);
    if (s->out_fd == 1)
        fflush(stdout);
    free(s->tees);
    free(s->lk);
    free_list(s->files, s->nfiles);
}

static int run_stage(cb_runner *r, size_t index, cb_err *err)
{
    stage_run s = {.sg = &r->p->stages[index], .first = r->nresults, .out_fd = 1, .work_fd = -1};
    int status = -1;
    if (stage_prepare(r, &s, err) == 0 && stage_open_outputs(r, &s, err) == 0) {
        status = s.sg->parallel && s.nfiles > 0 ? stage_parallel(r, &s, err) : stage_serial(r, &s, err);
        if (status >= 0)
            status = stage_finish(r, &s, status, err);
    }
    stage_close(&s);
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

/* The files a stage of the script reads: the output of the stage it
 * reads from (a file, or its work file), else its input's files. */
static int dry_files(cb_runner *r, const cb_stage *sg, char ***files, size_t *nfiles, cb_err *err)
{
    if (sg->input_kind != CB_INPUT_STAGE)
        return stage_files(r, sg, 1, files, nfiles, err);
    const cb_stage *from = &r->p->stages[sg->input_stage];
    if ((*files = calloc(2, sizeof **files)) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    char path[4096];
    if (from->output)
        snprintf(path, sizeof path, "%s", from->output);
    else
        snprintf(path, sizeof path, "%s/%s.out", "$work", from->name);
    (*files)[0] = strdup(path);
    *nfiles = 1;
    return 0;
}

/* Where a stage of the script writes: " > FILE", its work file, or
 * nothing (stdout). */
static void dry_target(const cb_stage *sg, char *target, size_t n)
{
    target[0] = '\0';
    if (sg->output) {
        char *q = cb_shell_quote(sg->output);
        snprintf(target, n, " > %s", q ? q : "''");
        free(q);
    } else if (sg->feeds_later) {
        snprintf(target, n, " > \"$work/%s.out\"", sg->name);
    }
}

/* A parallel stage: GNU parallel into the jobs' directory, the jobs'
 * results joined as join_results does, the merge steps after. */
static void dry_parallel(FILE *out, const cb_stage *sg, char **files, size_t nfiles)
{
    char resdir[512];
    snprintf(resdir, sizeof resdir, "$work/%s.jobs", sg->name);
    char **pargv = parallel_argv(sg, resdir);
    fputs("PARALLEL_SHELL=/bin/bash ", out);
    for (size_t j = 0; pargv && pargv[j]; j++) {
        int in_work = !strncmp(pargv[j], "$work/", 6);
        char *q = cb_shell_quote(in_work ? pargv[j] + 5 : pargv[j]);
        if (in_work)
            fprintf(out, " \"$work\"%s", q ? q : "''");
        else
            fprintf(out, "%s%s", j ? " " : "", q ? q : "''");
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
}

/* A serial stage: the steps piped, the tees after theirs. */
static void dry_serial(FILE *out, const cb_stage *sg, char **files, size_t nfiles)
{
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
}

static int dry_stage(cb_runner *r, const cb_stage *sg, FILE *out, cb_err *err)
{
    char **files = NULL;
    size_t nfiles = 0;
    fprintf(out, "\n# stage %s\n", sg->name);
    if (dry_files(r, sg, &files, &nfiles, err) < 0) {
        free_list(files, nfiles);
        return -1;
    }
    char *made = NULL;
    for (size_t t = 0; t <= sg->ntees; t++)
        put_parent(out, t < sg->ntees ? sg->tees[t].path : sg->output, &made);
    free(made);
    char target[4200];
    dry_target(sg, target, sizeof target);
    if (sg->parallel && nfiles > 0)
        dry_parallel(out, sg, files, nfiles);
    else
        dry_serial(out, sg, files, nfiles);
    fprintf(out, "%s || %s\n", target, sg->continue_on_error ? "rc=$?" : "exit $?");
    free_list(files, nfiles);
    return 0;
}

int cb_runner_dry_run(const cb_pipeline *p, FILE *out, cb_err *err)
{
    cb_runner r = {.p = p, .log_fd = -1, .wake_fd = -1, .workdir = (char *)"$work"};
    fprintf(out, "#!/bin/bash\n# run-pipeline --dry-run: pipeline %s from %s\n", p->name, p->file);
    for (size_t i = 0; i < p->nvars; i++)
        fprintf(out, "#   %s=%s\n", p->vars[i].name, p->vars[i].value);
    fprintf(out, "set -o pipefail\nwork=$(mktemp -d) || exit 73\ntrap 'rm -rf \"$work\"' EXIT\nrc=0\n");
    for (size_t i = 0; i < p->nstages; i++)
        if (dry_stage(&r, &p->stages[i], out, err) < 0)
            return -1;
    fputs("exit $rc\n", out);
    if (fflush(out) != 0 || ferror(out))
        return cb_err_sys(err, EX_IOERR, "cannot write the dry-run script");
    return 0;
}

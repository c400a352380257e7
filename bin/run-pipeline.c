/* run-pipeline: runs a pipeline YAML file (the nightly renewal, the return of
 * updates, the central issuance) the way an operator would in a shell, but
 * without a shell: steps joined by pipes, a failing step failing its stage,
 * a JSON Lines log of what ran and what it counted, one run at a time, and
 * nothing half-written left behind when a run is interrupted. The model is
 * lib/pipeline.c, the execution lib/runner.c; this file is the options, the
 * lock, the signals and the closing table. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_err.h"
#include "date.h"
#include "pipeline.h"
#include "atomic.h"
#include "runner.h"

static volatile sig_atomic_t stop_signal;
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    stop_signal = sig;
    if (wake_pipe[1] >= 0) {
        ssize_t w = write(wake_pipe[1], "!", 1);
        (void)w;
    }
    errno = saved;
}

static void usage(FILE *fp)
{
    fputs("usage: run-pipeline [--dry-run] [--set NAME=VALUE]... [--as-of DATE] [--log FILE]\n"
          "                    [--lock FILE] [-q] [-v] PIPELINE.yaml\n"
          "       run-pipeline --help | --version\n"
          "\n"
          "  --dry-run          print the equivalent bash script; run nothing\n"
          "  --set NAME=VALUE   override a variable of the pipeline (repeatable)\n"
          "  --as-of DATE       the day ${today} means (default: today in UTC+07:00)\n"
          "  --log FILE         JSON Lines run log (default: the pipeline's log:, else NAME.jsonl)\n"
          "  --lock FILE        lock file (default: the pipeline's lock:, else LOG.lock)\n"
          "  -q                 no closing table\n"
          "  -v                 copy each step's stderr to stderr as it comes\n",
          fp);
}

static int die(int code, const char *msg)
{
    fprintf(stderr, "run-pipeline: %s\n", msg);
    return code;
}

/* The programs installed beside run-pipeline run before any of the same
 * name on PATH: under cron's PATH=/usr/bin:/bin an install in /opt finds
 * its own programs, and a checkout's bin/ (or build/san/bin) runs its own
 * build. The steps inherit PATH, GNU parallel's jobs included. */
static void prefer_own_programs(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL || slash == self)
        return;
    *slash = '\0';
    const char *old = getenv("PATH");
    size_t len = strlen(self) + (old ? strlen(old) : 0) + 2;
    char *path = malloc(len);
    if (path == NULL)
        return;
    snprintf(path, len, "%s%s%s", self, old && *old ? ":" : "", old ? old : "");
    setenv("PATH", path, 1);
    free(path);
}

/* The programs must never find 0, 1 or 2 closed: a pipe would take the
 * number and a step would write its records into it. */
static void ensure_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
            _exit(EX_OSERR);
}

typedef struct opts {
    int dry, quiet, echo;
    const char *as_of, *log_path, *lock_path, *file;
    cb_var *sets;
    size_t nsets;
} opts;

/* The options; -1 to go on, else the exit code (--help, --version, a
 * usage error). */
static int parse_options(int argc, char **argv, opts *o)
{
    enum { OPT_DRY = 256, OPT_SET, OPT_ASOF, OPT_LOG, OPT_LOCK, OPT_HELP, OPT_VERSION };
    static const struct option lo[] = {
        {"dry-run", no_argument, NULL, OPT_DRY},  {"set", required_argument, NULL, OPT_SET},
        {"as-of", required_argument, NULL, OPT_ASOF}, {"log", required_argument, NULL, OPT_LOG},
        {"lock", required_argument, NULL, OPT_LOCK}, {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "qv", lo, NULL)) != -1) {
        char *eq = c == OPT_SET ? strchr(optarg, '=') : NULL;
        switch (c) {
        case OPT_DRY: o->dry = 1; break;
        case OPT_SET:
            if (eq == NULL || eq == optarg) {
                fprintf(stderr, "run-pipeline: --set wants NAME=VALUE, not \"%s\"\n", optarg);
                return EX_USAGE;
            }
            *eq = '\0';
            o->sets[o->nsets++] = (cb_var){.name = optarg, .value = eq + 1};
            break;
        case OPT_ASOF: o->as_of = optarg; break;
        case OPT_LOG: o->log_path = optarg; break;
        case OPT_LOCK: o->lock_path = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'v': o->echo = 1; break;
        case OPT_HELP: usage(stdout); return EX_OK;
        case OPT_VERSION: printf("run-pipeline certbatch %s\n", CB_VERSION); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (argc - optind != 1) {
        usage(stderr);
        return EX_USAGE;
    }
    o->file = argv[optind];
    return -1;
}

/* The run's state: the log (--log, the pipeline's log:, else NAME.jsonl)
 * and the lock beside it (--lock, lock:, else LOG.lock), taken. */
typedef struct state {
    const char *log_path, *lock_path;
    char def_log[1024], def_lock[1100];
    int lock_fd, log_fd;
} state;

static int open_state(const cb_pipeline *p, const opts *o, state *st, cb_err *err)
{
    st->log_path = o->log_path ? o->log_path : p->log;
    if (st->log_path == NULL) {
        snprintf(st->def_log, sizeof st->def_log, "%s.jsonl", p->name);
        st->log_path = st->def_log;
    }
    st->lock_path = o->lock_path ? o->lock_path : p->lock;
    if (st->lock_path == NULL) {
        snprintf(st->def_lock, sizeof st->def_lock, "%s.lock", st->log_path);
        st->lock_path = st->def_lock;
    }
    if (cb_mkdir_parent(st->log_path, err) < 0 || cb_mkdir_parent(st->lock_path, err) < 0 ||
        (st->lock_fd = cb_lock_take(st->lock_path, err)) < 0)
        return -1;
    st->log_fd = open(st->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (st->log_fd < 0) {
        close(st->lock_fd);
        return cb_err_sys(err, EX_CANTCREAT, "cannot open the run log %s", st->log_path);
    }
    return 0;
}

/* INT, TERM and HUP stop the run; the wake pipe tells the runner's poll. */
static void catch_signals(void)
{
    if (pipe(wake_pipe) == 0) {
        for (int i = 0; i < 2; i++)
            fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
        fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* The closing lines: how the run ended, and whether its log is whole. */
static int report(cb_runner *r, const cb_pipeline *p, int status, const cb_err *err, const opts *o,
                  const state *st)
{
    char cause[512];
    if (!o->quiet)
        cb_runner_table(r, stderr);
    if (status < 0)
        status = die(err->code ? err->code : EX_SOFTWARE, err->msg);
    else if (r->stopped_by)
        fprintf(stderr, "run-pipeline: %s: stopped by signal %d; no partial output kept; log %s\n",
                p->name, r->stopped_by, st->log_path);
    else if (status != 0 && cb_runner_cause(r, cause, sizeof cause))
        fprintf(stderr, "run-pipeline: %s: failed (status %d) at %s; log %s\n", p->name, status, cause,
                st->log_path);
    else if (status != 0)
        fprintf(stderr, "run-pipeline: %s: failed (status %d); log %s\n", p->name, status, st->log_path);
    else if (!o->quiet && r->log_errno == 0)
        fprintf(stderr, "run-pipeline: %s: done; log %s\n", p->name, st->log_path);
    if (r->log_errno != 0 || (fsync(st->log_fd) != 0 && errno != EINVAL)) {
        fprintf(stderr, "run-pipeline: %s: cannot write the run log %s: %s\n", p->name, st->log_path,
                strerror(r->log_errno ? r->log_errno : errno));
        status = cb_exit_worst(status, EX_IOERR);
    }
    return status;
}

/* Runs p with the state taken; the exit code. */
static int run(cb_pipeline *p, const opts *o, cb_err *err)
{
    state st;
    if (open_state(p, o, &st, err) < 0)
        return die(err->code, err->msg);
    catch_signals();
    cb_runner r;
    int status;
    if (cb_runner_init(&r, p, stderr, err) < 0) {
        status = die(err->code, err->msg);
    } else {
        r.log_fd = st.log_fd;
        r.wake_fd = wake_pipe[0];
        r.stop = &stop_signal;
        r.echo = o->echo;
        status = report(&r, p, cb_runner_run(&r, err), err, o, &st);
        cb_runner_free(&r);
    }
    close(st.log_fd);
    close(st.lock_fd);
    return status;
}

int main(int argc, char **argv)
{
    cb_var sets[argc];
    opts o = {.sets = sets};
    cb_err err = {0};
    ensure_std_fds();
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    prefer_own_programs();
    cb_date today;
    char today_iso[16];
    if (cb_today(o.as_of, &today, &err) < 0)
        return die(EX_USAGE, err.msg);
    cb_date_format(today, today_iso);
    cb_pipeline p;
    if (cb_pipeline_load(&p, o.file, today_iso, o.sets, o.nsets, &err) < 0)
        return die(err.code, err.msg);
    if (o.dry)
        rc = cb_runner_dry_run(&p, stdout, &err) < 0 ? die(err.code, err.msg) : EX_OK;
    else
        rc = run(&p, &o, &err);
    cb_pipeline_free(&p);
    return rc > 255 ? EX_SOFTWARE : rc;
}

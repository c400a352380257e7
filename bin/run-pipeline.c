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

/* The programs must never find 0, 1 or 2 closed: a pipe would take the
 * number and a step would write its records into it. */
static void ensure_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
            _exit(EX_OSERR);
}

int main(int argc, char **argv)
{
    enum { OPT_DRY = 256, OPT_SET, OPT_ASOF, OPT_LOG, OPT_LOCK, OPT_HELP, OPT_VERSION };
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, OPT_DRY},  {"set", required_argument, NULL, OPT_SET},
        {"as-of", required_argument, NULL, OPT_ASOF}, {"log", required_argument, NULL, OPT_LOG},
        {"lock", required_argument, NULL, OPT_LOCK}, {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0},
    };
    int dry = 0, quiet = 0, echo = 0;
    const char *as_of = NULL, *log_path = NULL, *lock_path = NULL;
    cb_var sets[argc];
    size_t nsets = 0;
    cb_err err = {0};

    ensure_std_fds();
    int c;
    while ((c = getopt_long(argc, argv, "qv", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DRY: dry = 1; break;
        case OPT_SET: {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg) {
                fprintf(stderr, "run-pipeline: --set wants NAME=VALUE, not \"%s\"\n", optarg);
                return EX_USAGE;
            }
            *eq = '\0';
            sets[nsets++] = (cb_var){.name = optarg, .value = eq + 1};
            break;
        }
        case OPT_ASOF: as_of = optarg; break;
        case OPT_LOG: log_path = optarg; break;
        case OPT_LOCK: lock_path = optarg; break;
        case 'q': quiet = 1; break;
        case 'v': echo = 1; break;
        case OPT_HELP: usage(stdout); return EX_OK;
        case OPT_VERSION: printf("run-pipeline certbatch %s\n", CB_VERSION); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (argc - optind != 1) {
        usage(stderr);
        return EX_USAGE;
    }
    const char *file = argv[optind];

    cb_date today;
    char today_iso[16];
    if (cb_today(as_of, &today, &err) < 0)
        return die(EX_USAGE, err.msg);
    cb_date_format(today, today_iso);

    cb_pipeline p;
    if (cb_pipeline_load(&p, file, today_iso, sets, nsets, &err) < 0)
        return die(err.code, err.msg);
    if (dry) {
        int rc = cb_runner_dry_run(&p, stdout, &err) < 0 ? die(err.code, err.msg) : EX_OK;
        cb_pipeline_free(&p);
        return rc;
    }

    char def_log[1024], def_lock[1100];
    if (log_path == NULL)
        log_path = p.log;
    if (log_path == NULL) {
        snprintf(def_log, sizeof def_log, "%s.jsonl", p.name);
        log_path = def_log;
    }
    if (lock_path == NULL)
        lock_path = p.lock;
    if (lock_path == NULL) {
        snprintf(def_lock, sizeof def_lock, "%s.lock", log_path);
        lock_path = def_lock;
    }
    if (cb_mkdir_parent(log_path, &err) < 0 || cb_mkdir_parent(lock_path, &err) < 0) {
        cb_pipeline_free(&p);
        return die(err.code, err.msg);
    }
    int lock_fd = cb_lock_take(lock_path, &err);
    if (lock_fd < 0) {
        cb_pipeline_free(&p);
        return die(err.code, err.msg);
    }
    int log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        cb_err_sys(&err, EX_CANTCREAT, "cannot open the run log %s", log_path);
        cb_pipeline_free(&p);
        return die(err.code, err.msg);
    }

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

    cb_runner r;
    if (cb_runner_init(&r, &p, stderr, &err) < 0) {
        cb_pipeline_free(&p);
        return die(err.code, err.msg);
    }
    r.log_fd = log_fd;
    r.wake_fd = wake_pipe[0];
    r.stop = &stop_signal;
    r.echo = echo;
    int status = cb_runner_run(&r, &err);
    if (!quiet)
        cb_runner_table(&r, stderr);
    if (status < 0)
        status = die(err.code ? err.code : EX_SOFTWARE, err.msg);
    else if (r.stopped_by)
        fprintf(stderr, "run-pipeline: %s: stopped by signal %d; no partial output kept; log %s\n",
                p.name, r.stopped_by, log_path);
    else if (status != 0)
        fprintf(stderr, "run-pipeline: %s: failed (status %d); log %s\n", p.name, status,
                log_path);
    else if (!quiet && r.log_errno == 0)
        fprintf(stderr, "run-pipeline: %s: done; log %s\n", p.name, log_path);
    if (r.log_errno != 0 || (fsync(log_fd) != 0 && errno != EINVAL)) {
        fprintf(stderr, "run-pipeline: %s: cannot write the run log %s: %s\n", p.name, log_path,
                strerror(r.log_errno ? r.log_errno : errno));
        status = cb_exit_worst(status, EX_IOERR);
    }
    cb_runner_free(&r);
    cb_pipeline_free(&p);
    close(log_fd);
    close(lock_fd);
    return status > 255 ? EX_SOFTWARE : status;
}

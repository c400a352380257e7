/* Unit tests for lib/pipeline/runner.c: pipelines written here, of programs every
 * machine has (sh, sort, cat), run for real: the steps joined by pipes,
 * outputs and tee copies written whole and only when their stage
 * succeeds, the counts of each step's summary line, a failing stage
 * stopping the run (or not, with continue_on_error), a run stopped by a
 * signal, the --dry-run script, the lock and mkdir -p. The expected
 * contents are written out by hand. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline.h"
#include "atomic.h"
#include "runner.h"
#include "tap.h"
#include "tmpfiles.h"

/* Loads the YAML with ${dir} set to the test's directory. */
static int load(cb_pipeline *p, const char *yaml)
{
    cb_err err = {0};
    cb_var set = {"dir", tmp_dir};
    int rc = cb_pipeline_parse(p, "t.yaml", yaml, strlen(yaml), "2025-06-01", &set, 1, &err);
    if (rc < 0)
        printf("# %s\n", err.msg);
    return rc;
}

/* Runs p; the runner is kept for its results; diagnostics in *diag. */
static int run(cb_runner *r, const cb_pipeline *p, volatile sig_atomic_t *stop, char **diag)
{
    size_t len;
    FILE *d = open_memstream(diag, &len);
    cb_err err = {0};
    int rc = cb_runner_init(r, p, d, &err);
    if (rc == 0) {
        r->stop = stop;
        rc = cb_runner_run(r, &err);
    }
    fclose(d);
    return rc;
}

static const cb_step_result *result_of(const cb_runner *r, const char *step)
{
    for (size_t i = 0; i < r->nresults; i++)
        if (strcmp(r->results[i].step, step) == 0)
            return &r->results[i];
    return NULL;
}

/* A step that passes its lines on and says so as the contract's programs
 * do: "sh: N in, N out, 0 rejected". */
#define COUNTING "[sh, -c, 'n=0; while read -r l; do echo \"$l\"; n=$((n+1)); done; " \
                 "echo \"sh: $n in, $n out, 0 rejected (0.0 s)\" >&2']"

static void test_two_stages(void)
{
    tmp_put("in/a.txt", "b\na\nc\n");
    tmp_put("in/b.txt", "z\n");
    const char *yaml =
        "name: two\n"
        "stages:\n"
        "  - name: sorted\n"
        "    input: [\"${dir}/in/*.txt\"]\n"
        "    steps:\n"
        "      - [cat]\n"
        "      - " COUNTING "\n"
        "      - [sort]\n"
        "    tee:\n"
        "      sh: ${dir}/out/tee.txt\n"
        "    output: ${dir}/out/sorted.txt\n"
        "  - name: reversed\n"
        "    input: {stage: sorted}\n"
        "    steps:\n"
        "      - sort -r\n"
        "    output: ${dir}/out/reversed.txt\n";
    cb_pipeline p;
    if (load(&p, yaml) < 0) {
        ok(0, "the two-stage pipeline loads");
        return;
    }
    cb_runner r;
    char *diag = NULL;
    is_int(run(&r, &p, NULL, &diag), 0, "a pipeline whose steps all succeed exits 0");
    is_str(tmp_content(tmp_path("out/sorted.txt")), "a\nb\nc\nz\n", "the steps are joined by pipes, files in name order");
    is_str(tmp_content(tmp_path("out/tee.txt")), "b\na\nc\nz\n", "the tee keeps the records as they left its step");
    is_str(tmp_content(tmp_path("out/reversed.txt")), "z\nc\nb\na\n", "the second stage reads the first one's output");
    const cb_step_result *s = result_of(&r, "sh");
    ok(s != NULL && s->ran && s->status == 0, "the counting step ran and succeeded");
    ok(s != NULL && s->in == 4 && s->out == 4 && s->rejected == 0, "its summary line gave 4 in, 4 out, 0 rejected");
    const cb_step_result *c = result_of(&r, "cat");
    ok(c != NULL && c->in == -1, "a step without a summary line has no counts");
    char *table = NULL;
    size_t len;
    FILE *fp = open_memstream(&table, &len);
    cb_runner_table(&r, fp);
    fclose(fp);
    ok(strstr(table, "sorted") != NULL && strstr(table, "reversed") != NULL, "the closing table names the stages");
    free(table);
    cb_runner_free(&r);
    free(diag);

    /* run twice: the same outputs, nothing left beside them */
    is_int(run(&r, &p, NULL, &diag), 0, "run twice: exits 0 again");
    is_str(tmp_content(tmp_path("out/sorted.txt")), "a\nb\nc\nz\n", "run twice: the same output");
    cb_runner_free(&r);
    free(diag);

    char *script = NULL;
    fp = open_memstream(&script, &len);
    cb_err err = {0};
    is_int(cb_runner_dry_run(&p, fp, &err), 0, "--dry-run writes a script");
    fclose(fp);
    ok(strstr(script, "| sort") != NULL, "the script joins the steps with pipes");
    ok(strstr(script, tmp_path("in/a.txt")) != NULL, "with the input files expanded");
    free(script);
    cb_pipeline_free(&p);
}

static void test_failure(void)
{
    const char *yaml =
        "name: failing\n"
        "vars:\n"
        "  go_on: \"false\"\n"
        "stages:\n"
        "  - name: broken\n"
        "    input: [\"${dir}/in/a.txt\"]\n"
        "    steps:\n"
        "      - [sh, -c, 'head -n 1; echo \"line 2: this record is bad\" >&2; exit 65']\n"
        "    output: ${dir}/out/broken.txt\n"
        "    continue_on_error: ${go_on}\n"
        "  - name: after\n"
        "    input: [\"${dir}/in/a.txt\"]\n"
        "    steps:\n"
        "      - [cat]\n"
        "    output: ${dir}/out/after.txt\n";
    tmp_put("out/broken.txt", "old\n");
    cb_pipeline p;
    if (load(&p, yaml) < 0) {
        ok(0, "the failing pipeline loads");
        return;
    }
    cb_runner r;
    char *diag = NULL;
    is_int(run(&r, &p, NULL, &diag), 65, "a step exiting 65 fails the run with 65");
    is_str(tmp_content(tmp_path("out/broken.txt")), "old\n", "the failed stage's output keeps its old contents");
    is_str(tmp_content(tmp_path("out/after.txt")), "(missing)", "the stage after it does not run");
    const cb_step_result *s = result_of(&r, "sh");
    ok(s != NULL && strstr(s->last_err, "this record is bad") != NULL, "the step's last error line is kept");
    cb_runner_free(&r);
    free(diag);
    cb_pipeline_free(&p);

    cb_err err = {0};
    cb_var sets[] = {{"dir", tmp_dir}, {"go_on", "true"}};
    if (cb_pipeline_parse(&p, "t.yaml", yaml, strlen(yaml), "2025-06-01", sets, 2, &err) < 0) {
        ok(0, "the failing pipeline loads with go_on");
        return;
    }
    is_int(run(&r, &p, NULL, &diag), 65, "continue_on_error: the run still says it failed");
    is_str(tmp_content(tmp_path("out/after.txt")), "b\na\nc\n", "but the next stage runs");
    cb_runner_free(&r);
    free(diag);
    cb_pipeline_free(&p);
}

static void test_stopped(void)
{
    const char *yaml =
        "name: stopped\n"
        "stages:\n"
        "  - name: one\n"
        "    input: [\"${dir}/in/a.txt\"]\n"
        "    steps:\n"
        "      - [cat]\n"
        "    output: ${dir}/out/stopped.txt\n";
    cb_pipeline p;
    if (load(&p, yaml) < 0) {
        ok(0, "the pipeline loads");
        return;
    }
    volatile sig_atomic_t stop = SIGTERM;
    cb_runner r;
    char *diag = NULL;
    is_int(run(&r, &p, &stop, &diag), 128 + SIGTERM, "a run stopped by SIGTERM exits 143");
    is_str(tmp_content(tmp_path("out/stopped.txt")), "(missing)", "and writes no output");
    cb_runner_free(&r);
    free(diag);
    cb_pipeline_free(&p);
}

static void test_lock_and_dirs(void)
{
    cb_err err = {0};
    const char *lock = tmp_path("state/run.lock");
    is_int(cb_mkdir_parent(lock, &err), 0, "mkdir -p of a lock's directory");
    struct stat st;
    ok(stat(tmp_path("state"), &st) == 0 && S_ISDIR(st.st_mode), "the directory exists");
    is_int(cb_mkdir_parent(lock, &err), 0, "and again: it exists already");
    int fd = cb_lock_take(lock, &err);
    ok(fd >= 0, "the lock is taken");
    pid_t pid = fork();
    if (pid == 0) {
        cb_err e2 = {0};
        int fd2 = cb_lock_take(lock, &e2);
        _exit(fd2 < 0 && e2.code == EX_TEMPFAIL ? 0 : 1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "another process finds it held (EX_TEMPFAIL)");
    close(fd);
    fd = cb_lock_take(lock, &err);
    ok(fd >= 0, "once released it can be taken again");
    close(fd);
}

int main(void)
{
    if (tmp_start("runner") < 0)
        return 1;
    mkdir(tmp_path("in"), 0755);
    mkdir(tmp_path("out"), 0755);
    test_two_stages();
    test_failure();
    test_stopped();
    test_lock_and_dirs();
    if (tmp_finish() < 0)
        return 1;
    return done_testing();
}

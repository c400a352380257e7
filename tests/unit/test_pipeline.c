/* Unit tests for the pipeline model (lib/pipeline/pipeline.c) and the pure parts of
 * the runner (summary lines): words, quoting, variables, and the file, line
 * and column of every error, each position counted by hand in the YAML
 * written here. */
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "runner.h"
#include "tap.h"

static int load(cb_pipeline *p, const char *yaml, cb_err *err)
{
    memset(err, 0, sizeof *err);
    return cb_pipeline_parse(p, "t.yaml", yaml, strlen(yaml), "2025-06-01", NULL, 0, err);
}

static void words(void)
{
    char **argv;
    size_t argc, at;
    const char *why;
    ok(cb_split_words("scan-expiry  --days 60\t--all", &argv, &argc, &at, &why) == 0,
       "blanks separate words");
    is_int(argc, 4, "four words");
    is_str(argv[1], "--days", "second word");
    ok(argv[4] == NULL, "vector ends with NULL");
    cb_free_words(argv);

    ok(cb_split_words("notify --from 'Sở TT&TT <a@b.gov.vn>' \"x \\\"y\\\"\" a\\ b", &argv, &argc,
                      &at, &why) == 0,
       "quotes and backslashes");
    is_str(argv[2], "Sở TT&TT <a@b.gov.vn>", "single quotes keep & and <> literally");
    is_str(argv[3], "x \"y\"", "double quotes allow \\\"");
    is_str(argv[4], "a b", "backslash escapes a blank");
    cb_free_words(argv);

    ok(cb_split_words("scan-expiry certs | notify", &argv, &argc, &at, &why) < 0,
       "a pipe in a step is refused");
    is_int(at, 18, "at the byte of the |");
    ok(cb_split_words("cat > out.csv", &argv, &argc, &at, &why) < 0, "a redirection is refused");
    ok(cb_split_words("echo $(id)", &argv, &argc, &at, &why) < 0,
       "command substitution is refused");
    ok(cb_split_words("echo 'open", &argv, &argc, &at, &why) < 0, "an unclosed quote is refused");
    ok(cb_split_words("   ", &argv, &argc, &at, &why) < 0, "an empty step is refused");
}

static void quoting(void)
{
    char *q = cb_shell_quote("/srv/certs/a.pem");
    is_str(q, "/srv/certs/a.pem", "a plain path is left as it is");
    free(q);
    q = cb_shell_quote("it's here");
    is_str(q, "'it'\\''s here'", "a quote inside is closed, escaped and reopened");
    free(q);
    q = cb_shell_quote("");
    is_str(q, "''", "the empty word is ''");
    free(q);
    q = cb_shell_quote("${x}");
    is_str(q, "'${x}'", "a dollar is quoted");
    free(q);
}

static void variables(void)
{
    cb_pipeline p;
    cb_err err;
    const char *yaml = "name: nightly\n"
                       "vars:\n"
                       "  state: /var/lib/cb\n"
                       "  out: ${state}/out/${today}\n"
                       "stages:\n"
                       "  - name: scan\n"
                       "    input: ${state}/certs/*.pem\n"
                       "    steps:\n"
                       "      - scan-expiry --as-of ${today} --days \"6${zero}\"\n"
                       "      - [sort, \"-t,\", -k1,1]\n"
                       "    output: ${out}/expiring.csv\n"
                       "    tee: {scan-expiry: \"${out}/all.csv\"}\n"
                       "vars_are_done: no\n";
    ok(load(&p, yaml, &err) < 0, "an unknown key at the top is an error");
    is_str(err.msg,
           "t.yaml:13:1: unknown key \"vars_are_done\" (known: name, description, vars, log, "
           "lock, stages)",
           "the error names file, line 13 and column 1");

    yaml = "name: nightly\n"
           "vars:\n"
           "  state: /var/lib/cb\n"
           "  out: ${state}/out/${today}\n"
           "stages:\n"
           "  - name: scan\n"
           "    input: ${state}/certs/*.pem\n"
           "    steps:\n"
           "      - scan-expiry --as-of ${today} --days \"6${zero}\"\n";
    ok(load(&p, yaml, &err) < 0, "an undefined variable is an error");
    is_str(err.msg, "t.yaml:9:47: undefined variable ${zero}",
           "the error points at the ${ of the undefined variable");

    cb_var sets[] = {{"zero", "0"}, {"state", "/srv/cb"}};
    memset(&err, 0, sizeof err);
    ok(cb_pipeline_parse(&p, "t.yaml", yaml, strlen(yaml), "2025-06-01", sets, 2, &err) == 0,
       "--set defines a variable and overrides another");
    is_str(cb_pipeline_var(&p, "out"), "/srv/cb/out/2025-06-01",
           "a variable built from others and ${today}");
    is_str(p.stages[0].inputs[0], "/srv/cb/certs/*.pem", "input pattern substituted");
    is_str(p.stages[0].steps[0].argv[2], "2025-06-01", "${today} in a step");
    is_str(p.stages[0].steps[0].argv[4], "60", "variable inside double quotes");
    is_str(p.stages[0].steps[0].name, "scan-expiry", "a step is named after its program");
    is_int(p.stages[0].steps[0].line, 9, "the step keeps its line");
    cb_pipeline_free(&p);

    yaml = "name: x\nvars:\n  a: ${b}\n  b: ${a}\nstages: [{steps: [cat]}]\n";
    ok(load(&p, yaml, &err) < 0, "variables referring to each other are an error");
    ok(strstr(err.msg, "refers to itself") != NULL, "the cycle is named");

    yaml = "name: x\nstages:\n  - steps: ['echo $${not_a_var}']\n";
    ok(load(&p, yaml, &err) == 0, "$${...} escapes a variable");
    is_str(p.stages[0].steps[0].argv[1], "${not_a_var}", "and is passed on literally");
    cb_pipeline_free(&p);
}

static void structure(void)
{
    cb_pipeline p;
    cb_err err;
    const char *yaml = "name: two\n"
                       "stages:\n"
                       "  - name: a\n"
                       "    input: [one.csv, 'two *.csv']\n"
                       "    steps:\n"
                       "      - name: first\n"
                       "        run: [cat]\n"
                       "      - sort\n"
                       "    tee:\n"
                       "      first: keep.csv\n"
                       "    continue_on_error: true\n"
                       "  - name: b\n"
                       "    input: {stage: a}\n"
                       "    parallel: 1\n"
                       "    steps: [wc -l]\n";
    ok(load(&p, yaml, &err) < 0, "parallel over an earlier stage is refused");
    is_str(err.msg, "t.yaml:14:15: parallel runs the steps once per input file: give input files",
           "at the value of parallel");

    yaml = "name: two\n"
           "stages:\n"
           "  - name: a\n"
           "    input: [one.csv, 'two *.csv']\n"
           "    steps:\n"
           "      - name: first\n"
           "        run: [cat]\n"
           "      - sort\n"
           "    tee:\n"
           "      first: keep.csv\n"
           "    continue_on_error: true\n"
           "  - name: b\n"
           "    input: {stage: a}\n"
           "    steps: [wc -l]\n"
           "  - name: c\n"
           "    input: '-'\n"
           "    parallel: 4\n"
           "    steps: [cat]\n";
    ok(load(&p, yaml, &err) < 0, "parallel over stdin is refused");

    yaml = "name: two\n"
           "stages:\n"
           "  - name: a\n"
           "    input: [one.csv, 'two *.csv']\n"
           "    steps:\n"
           "      - name: first\n"
           "        run: [cat]\n"
           "      - sort\n"
           "    tee:\n"
           "      first: keep.csv\n"
           "    continue_on_error: true\n"
           "  - name: b\n"
           "    input: {stage: a}\n"
           "    steps: [wc -l]\n";
    ok(load(&p, yaml, &err) == 0, "a two-stage pipeline loads");
    is_int(p.nstages, 2, "two stages");
    is_int(p.stages[0].ninputs, 2, "two input patterns");
    is_str(p.stages[0].inputs[1], "two *.csv", "a quoted pattern keeps its blank");
    is_str(p.stages[0].steps[0].name, "first", "a named step");
    is_int(p.stages[0].ntees, 1, "one tee");
    is_int(p.stages[0].tees[0].after, 0, "the tee follows the first step");
    ok(p.stages[0].continue_on_error, "continue_on_error read");
    ok(p.stages[0].feeds_later, "stage a feeds stage b");
    is_int(p.stages[1].input_kind, CB_INPUT_STAGE, "stage b reads a stage");
    is_int(p.stages[1].input_stage, 0, "stage a");
    cb_pipeline_free(&p);

    ok(load(&p, "name: x\nstages:\n  - steps: [cat]\n    continue_on_error: maybe\n", &err) < 0,
       "a boolean that is not true or false");
    is_str(err.msg, "t.yaml:4:24: continue_on_error must be true or false, not \"maybe\"",
           "names the value and its column");
    ok(load(&p, "name: x\nstages:\n  - steps: cat\n", &err) < 0, "steps that are not a list");
    is_str(err.msg, "t.yaml:3:12: steps must be a list of steps, not a single value",
           "says what was expected");
    ok(load(&p, "name: x\nstages:\n  - steps: [cat]\n    tee: {sort: a.csv}\n", &err) < 0,
       "a tee naming a step the stage lacks");
    is_str(err.msg, "t.yaml:4:11: tee names step \"sort\", which this stage does not have",
           "at the step name");
    ok(load(&p, "name: x\nstages:\n  - steps: [cat]\n    input: {stage: later}\n", &err) < 0,
       "input from a stage that does not come before");
    ok(load(&p, "name: x\nstages:\n  - steps: ['cat | sort']\n", &err) < 0,
       "a shell pipe inside a step");
    is_str(err.msg,
           "t.yaml:3:18: shell operators (| & ; < > ( ) ` $( ) are not supported: write each "
           "program as its own step, and use input, output and tee for files",
           "at the column of the |");
    ok(load(&p, "name: x\nstages:\n  - steps: [cat]\n    oops: 1\n", &err) < 0,
       "an unknown stage key");
    ok(strncmp(err.msg, "t.yaml:4:5: unknown key \"oops\" in a stage", 41) == 0,
       "unknown stage key at line 4 column 5");
    ok(load(&p, "name: x\nstages:\n  - steps: [cat\n", &err) < 0, "broken YAML");
    ok(strncmp(err.msg, "t.yaml:4:1: ", 12) == 0, "the YAML error has its position too");
    ok(load(&p, "", &err) < 0, "an empty file");
    is_int(err.code, 65, "is a data error (65)");
}

static void summaries(void)
{
    long c[4];
    ok(cb_parse_summary("scan-expiry: 300 in, 12 out, 0 rejected (0.2 s)", "scan-expiry", c),
       "a summary line");
    is_int(c[0], 300, "in");
    is_int(c[1], 12, "out");
    is_int(c[2], 0, "rejected");
    ok(cb_parse_summary("validate-form: 10 in, 7 out, 2 rejected, 1 filtered (1.0 s)", NULL, c),
       "with filtered");
    is_int(c[3], 1, "filtered");
    ok(!cb_parse_summary("notify: 3 in, 3 out, 0 rejected (0.1 s)", "scan-expiry", c),
       "another program's line is not this step's");
    ok(!cb_parse_summary("scan-expiry: 3 certificates in, all fine", NULL, c),
       "a diagnostic that looks nearly like one");
    ok(!cb_parse_summary("a b: 1 in, 1 out, 0 rejected (0.0 s)", NULL, c),
       "a program name has no blank");
}

/* Hostile files (issue 13): a variable bomb, deep nesting, a key given
 * twice. The error must come, with its line; LeakSanitizer (make
 * check-san) checks that nothing parsed before it leaks. */
static void hostile(void)
{
    cb_pipeline p;
    cb_err err;
    const char *bomb =
        "name: bomb\n"
        "vars:\n"
        "  a: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n"
        "  b: \"${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}\"\n"
        "  c: \"${b}${b}${b}${b}${b}${b}${b}${b}${b}${b}\"\n"
        "  d: \"${c}${c}${c}${c}${c}${c}${c}${c}${c}${c}\"\n"
        "  e: \"${d}${d}${d}${d}${d}${d}${d}${d}${d}${d}\"\n"
        "  f: \"${e}${e}${e}${e}${e}${e}${e}${e}${e}${e}\"\n"
        "  g: \"${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}\"\n"
        "stages:\n"
        "  - steps: [\"echo ${g}\"]\n";
    ok(load(&p, bomb, &err) < 0 && err.code == EX_DATAERR, "a variable bomb is a data error");
    /* a is 100 bytes, so e is 10^6, under 1 MiB; f, on line 8, passes it
     * at its second ${e}. */
    ok(strncmp(err.msg, "t.yaml:8:", 9) == 0 && strstr(err.msg, "${f}") && strstr(err.msg, "1 MB"),
       "at the line of the variable that grows past 1 MB: %s", err.msg);

    char *wide = malloc(1200000);
    int n = snprintf(wide, 64, "name: w\nvars:\n  a: \"");
    memset(wide + n, 'x', 1100000);
    strcpy(wide + n + 1100000, "\"\n  b: \"${a}\"\nstages:\n  - steps: [\"echo\"]\n");
    ok(load(&p, wide, &err) < 0 && strncmp(err.msg, "t.yaml:4:", 9) == 0 && strstr(err.msg, "${b}"),
       "a value over 1 MB once substituted is refused at its variable: %.80s", err.msg);
    free(wide);

    const char *ok1 =
        "name: fine\nvars:\n  a: \"0123456789\"\n  b: \"${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}\"\n"
        "stages:\n  - steps: [\"echo ${b}${b}\"]\n";
    ok(load(&p, ok1, &err) == 0 && strlen(p.stages[0].steps[0].argv[1]) == 200, "values well under the bound expand");
    cb_pipeline_free(&p);

    size_t depth = 100000;
    char *deep = malloc(depth + 64);
    n = snprintf(deep, 64, "name: x\nstages: ");
    memset(deep + n, '[', depth);
    strcpy(deep + n + depth, "\n");
    ok(load(&p, deep, &err) < 0 && err.code == EX_DATAERR, "100,000 nested [ are a data error");
    ok(strncmp(err.msg, "t.yaml:2:", 9) == 0 && strstr(err.msg, "more than 64 deep"),
       "which says how deep they may go, at the line: %s", err.msg);
    free(deep);

    const char *twice =
        "name: t\nstages:\n  - name: s\n    steps: [\"echo\"]\n    output: a.csv\n    output: b.csv\n";
    ok(load(&p, twice, &err) < 0 && err.code == EX_DATAERR, "a stage's output given twice is an error");
    is_str(err.msg, "t.yaml:6:5: \"output\" is given twice (first on line 5): keep one", "naming its line");
    const char *twice_name =
        "name: t\nstages:\n  - name: s\n    name: s2\n    steps: [\"echo\"]\n";
    ok(load(&p, twice_name, &err) < 0 && strstr(err.msg, ":4:5: \"name\" is given twice"), "a stage's name twice: %s", err.msg);
    const char *twice_run =
        "name: t\nstages:\n  - steps:\n      - run: echo a\n        run: echo b\n";
    ok(load(&p, twice_run, &err) < 0 && strstr(err.msg, ":5:9: \"run\" is given twice"), "a step's run twice: %s", err.msg);
    const char *twice_log =
        "name: t\nlog: a.log\nlog: b.log\nstages:\n  - steps: [echo]\n";
    ok(load(&p, twice_log, &err) < 0 && strstr(err.msg, ":3:1: \"log\" is given twice"), "the pipeline's log twice: %s", err.msg);
}

int main(void)
{
    hostile();
    words();
    quoting();
    variables();
    structure();
    summaries();
    return done_testing();
}

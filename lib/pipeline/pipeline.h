/* The pipeline model: what a pipeline YAML file (the files in pipelines/) says,
 * checked and with its variables substituted, ready for the runner. Parsed
 * with libyaml's document API so every error names the file, line and column
 * of the node at fault; nothing here runs anything. Steps are argument
 * vectors: a step written as one string is split into shell-like words, but
 * only words and quotes are understood -- no pipes, redirections, globs or
 * command substitution -- so what runs is exactly what the file says. */
#ifndef CB_PIPELINE_H
#define CB_PIPELINE_H

#include <stddef.h>

#include "cb_err.h"

typedef struct cb_var {
    char *name;
    char *value;
} cb_var;

typedef struct cb_step {
    char *name;        /* `name:` or the program's base name */
    char **argv;       /* NULL-terminated */
    size_t argc;
    int line, col;     /* where the step is written */
} cb_step;

/* A copy of the records leaving step `after` (an index into steps),
 * written atomically to path. */
typedef struct cb_tee {
    size_t after;
    char *path;
} cb_tee;

enum cb_input_kind {
    CB_INPUT_NONE,     /* the first step reads nothing (stdin is /dev/null) */
    CB_INPUT_FILES,    /* files and glob patterns, appended to the first step */
    CB_INPUT_STAGE,    /* the output of an earlier stage */
    CB_INPUT_STDIN     /* run-pipeline's own stdin */
};

typedef struct cb_stage {
    char *name;
    int line, col;
    enum cb_input_kind input_kind;
    char **inputs;          /* patterns, for CB_INPUT_FILES */
    size_t ninputs;
    size_t input_stage;     /* for CB_INPUT_STAGE */
    cb_step *steps;
    size_t nsteps;
    cb_step *merge;         /* parallel stages: steps over the joined results */
    size_t nmerge;
    char *output;           /* NULL: stdout, or a work file if a later stage reads it */
    cb_tee *tees;
    size_t ntees;
    int continue_on_error;
    int parallel;           /* 0: serial; N: GNU parallel -j N over the input files */
    char **hosts;           /* --sshlogin entries for parallel */
    size_t nhosts;
    int feeds_later;        /* a later stage reads this stage's output */
} cb_stage;

typedef struct cb_pipeline {
    char *file;             /* as given, for messages */
    char *name;
    char *log;              /* `log:`, may be NULL */
    char *lock;             /* `lock:`, may be NULL */
    cb_var *vars;           /* resolved, in definition order, today first */
    size_t nvars;
    cb_stage *stages;
    size_t nstages;
} cb_pipeline;

/* Bounds on hostile files: a value once its variables are substituted, all
 * substituted text together, and how deeply lists and mappings nest (the
 * shipped pipelines nest five deep; libyaml took 75 s over 100,000). */
#define CB_PIPELINE_VALUE_MAX (1 << 20)
#define CB_PIPELINE_TOTAL_MAX (16 << 20)
#define CB_PIPELINE_MAX_DEPTH 64

/* Loads path. today is the ISO date that ${today} means (the caller's
 * "today" in UTC+07:00); sets are the --set NAME=VALUE overrides, taken
 * literally. On error p is left empty and err says `FILE:LINE:COL: what`,
 * with code EX_DATAERR (EX_NOINPUT when the file cannot be read). */
int cb_pipeline_load(cb_pipeline *p, const char *path, const char *today,
                     const cb_var *sets, size_t nsets, cb_err *err);
/* The same from a buffer; file is the name used in messages. */
int cb_pipeline_parse(cb_pipeline *p, const char *file, const char *text, size_t len,
                      const char *today, const cb_var *sets, size_t nsets, cb_err *err);
void cb_pipeline_free(cb_pipeline *p);

/* The value of a variable after substitution, or NULL. */
const char *cb_pipeline_var(const cb_pipeline *p, const char *name);

/* Splits s into words the way a shell would split a simple command of
 * literal words: blanks separate, '...' is literal, "..." allows \" \\ \$,
 * a backslash outside quotes escapes the next character. Operators the
 * shell would interpret (| & ; < > ( ) ` and $( ) are refused rather than
 * passed on as words. Returns 0 and a NULL-terminated vector, or -1 with
 * *at the byte offset of the problem and *why a reason. */
int cb_split_words(const char *s, char ***argv, size_t *argc, size_t *at, const char **why);
void cb_free_words(char **argv);

/* s quoted for a POSIX shell (unchanged when it needs no quoting);
 * malloc'd. */
char *cb_shell_quote(const char *s);

#endif

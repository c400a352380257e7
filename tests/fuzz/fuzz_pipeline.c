/* libFuzzer harness: the pipeline loader (lib/pipeline/pipeline.c) on any YAML:
 * variables, nesting, repeated keys, words and quotes. A file either loads
 * into a pipeline whose every step has a program, or is refused with a
 * message naming a place in the file. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pipeline.h"

/* --dry-run prints each word through cb_shell_quote into a script: the
 * quoted word, split back into words, must be the word itself, alone. */
static void quote_round_trip(const char *w)
{
    char *q = cb_shell_quote(w);
    char **argv;
    size_t argc, at;
    const char *why;
    if (q == NULL)
        abort();
    if (cb_split_words(q, &argv, &argc, &at, &why) != 0 || argc != 1 || strcmp(argv[0], w) != 0)
        abort();
    cb_free_words(argv);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cb_var sets[] = {{"input", "forms/*.csv"}};
    cb_pipeline p;
    cb_err err = {0};
    if (cb_pipeline_parse(&p, "f.yaml", (const char *)data, size, "2026-12-01", sets, 1, &err) == 0) {
        for (size_t i = 0; i < p.nstages; i++)
            for (size_t j = 0; j < p.stages[i].nsteps; j++) {
                const cb_step *st = &p.stages[i].steps[j];
                if (st->argc == 0 || st->argv[0] == NULL)
                    abort();
                for (size_t k = 0; k < st->argc; k++)
                    quote_round_trip(st->argv[k]);
            }
        cb_pipeline_free(&p);
    } else if (strncmp(err.msg, "f.yaml", 6) != 0 && err.code != EX_OSERR) {
        abort();
    }
    return 0;
}

/* libFuzzer harness: the pipeline loader (lib/pipeline.c) on any YAML:
 * variables, nesting, repeated keys, words and quotes. A file either loads
 * into a pipeline whose every step has a program, or is refused with a
 * message naming a place in the file. */
#include <string.h>

#include "fuzz.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cb_var sets[] = {{"input", "forms/*.csv"}};
    cb_pipeline p;
    cb_err err = {0};
    if (cb_pipeline_parse(&p, "f.yaml", (const char *)data, size, "2026-12-01", sets, 1, &err) == 0) {
        for (size_t i = 0; i < p.nstages; i++)
            for (size_t j = 0; j < p.stages[i].nsteps; j++)
                if (p.stages[i].steps[j].argc == 0 || p.stages[i].steps[j].argv[0] == NULL)
                    abort();
        cb_pipeline_free(&p);
    } else if (strncmp(err.msg, "f.yaml", 6) != 0 && err.code != EX_OSERR) {
        abort();
    }
    return 0;
}

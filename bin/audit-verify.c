/* audit-verify: checks a CA's tamper-evident audit log (lib/audit.c): the
 * chain of hashes line by line and every signed checkpoint, and names the
 * first line that was changed, removed or reordered. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cb_err.h"
#include "run.h"

#define PROG "audit-verify"

static void usage(FILE *fp)
{
    fputs("usage: audit-verify --ca FILE [--lang en|vi] [-q] LOG...\n"
          "       audit-verify --help | --version\n"
          "\n"
          "Checks each audit log: every line carries the SHA-256 of the line before\n"
          "it, and every checkpoint (line count and head hash) is signed (CMS) by a\n"
          "key whose certificate chains to the anchors in --ca. Says the first line\n"
          "that was changed, removed or reordered, and exits 65 when there is one.\n"
          "\n"
          "  --ca FILE        trust anchors for the checkpoints' signatures\n"
          "  --lang en|vi     language of the messages (default en)\n"
          "  -q               no summary line\n",
          fp);
}

int main(int argc, char **argv)
{
    const char *ca = NULL;
    int quiet = 0, vi = 0, c;
    enum { O_CA = 256, O_LANG, O_HELP, O_VERSION };
    static const struct option opts[] = {
        {"ca", required_argument, NULL, O_CA},   {"lang", required_argument, NULL, O_LANG},
        {"help", no_argument, NULL, O_HELP},     {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        switch (c) {
        case O_CA: ca = optarg; break;
        case O_LANG:
            if (strcmp(optarg, "en") != 0 && strcmp(optarg, "vi") != 0) {
                fprintf(stderr, PROG ": --lang: '%s' is neither en nor vi\n", optarg);
                return EX_USAGE;
            }
            vi = strcmp(optarg, "vi") == 0;
            break;
        case 'q': quiet = 1; break;
        case O_HELP: usage(stdout); return EX_OK;
        case O_VERSION: printf(PROG " certbatch " CB_VERSION "\n"); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (ca == NULL || optind == argc) {
        fprintf(stderr, PROG ": %s\n", ca == NULL ? "--ca FILE is required" : "no audit log given");
        usage(stderr);
        return EX_USAGE;
    }
    cb_run run;
    cb_run_start(&run, PROG, stderr, quiet);
    int code = EX_OK;
    for (int i = optind; i < argc; i++) {
        cb_err err = {0};
        cb_audit_report rep;
        run.in++;
        int r = cb_audit_verify(argv[i], ca, &rep, &err);
        if (r < 0) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            code = cb_exit_worst(code, err.code);
            run.rejected++;
        } else if (r > 0) {
            fprintf(stderr, PROG ": %s:%ld: %s%s\n", argv[i], rep.bad_line,
                    vi ? "nhật ký đã bị sửa: " : "", rep.what);
            code = cb_exit_worst(code, EX_DATAERR);
            run.rejected++;
        } else {
            run.out++;
            printf(vi ? "%s: %ld dòng, %ld điểm kiểm tra có chữ ký hợp lệ" : "%s: %ld lines, %ld signed checkpoints verify",
                   argv[i], rep.lines, rep.checkpoints);
            if (rep.unsigned_tail)
                printf(vi ? "; %ld dòng sau điểm kiểm tra cuối chưa được ký" : "; %ld lines after the last checkpoint are not signed yet",
                       rep.unsigned_tail);
            putchar('\n');
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        code = cb_exit_worst(code, EX_IOERR);
    cb_run_summary(&run);
    return code;
}

/* Files for the unit tests that read and write real ones: a directory of
 * the test's own under /tmp (made by tmp_start, removed by tmp_finish),
 * names in it, a file's whole content, and a file written from a string. */
#ifndef CB_TMPFILES_H
#define CB_TMPFILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmp_dir[64];

static int tmp_start(const char *name)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/cb-test-%s-XXXXXX", name);
    return mkdtemp(tmp_dir) != NULL ? 0 : -1;
}

/* tmp_dir/name; eight results may be held at once. */
static char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, 512, "%s/%s", tmp_dir, name);
    return p;
}

/* The first 4 KiB of a file, or "(missing)"; four results at once. */
static const char *tmp_content(const char *path)
{
    static char buf[4][4096];
    static int k;
    char *b = buf[k++ & 3];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return "(missing)";
    size_t n = fread(b, 1, 4095, fp);
    b[n] = '\0';
    fclose(fp);
    return b;
}

static void tmp_put(const char *name, const char *text)
{
    FILE *fp = fopen(tmp_path(name), "wb");
    if (fp != NULL) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* How many times what occurs in text. */
static inline int tmp_count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static int tmp_finish(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif

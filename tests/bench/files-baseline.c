/* Benchmark baseline for notify's Maildir: what the file system allows.
 * Creates N files of SIZE bytes in one new directory DIR (open with
 * O_CREAT|O_EXCL, write, close), then one syncfs, and prints the wall and
 * CPU seconds ("wall cpu"). A Maildir holds one file a letter, so no
 * delivery into it can be faster than this loop on the same disk. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: files-baseline DIR N SIZE\n");
        return 64;
    }
    long n = atol(argv[2]), size = atol(argv[3]);
    char *buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL || mkdir(argv[1], 0700) != 0) {
        perror(argv[1]);
        return 73;
    }
    memset(buf, 'x', size > 0 ? (size_t)size : 1);
    int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
    double t0 = now(), c0 = cpu();
    for (long i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%08ld", i);
        int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || write(fd, buf, (size_t)size) != size || close(fd) != 0) {
            perror(name);
            return 74;
        }
    }
    if (syncfs(dir) != 0) {
        perror("syncfs");
        return 74;
    }
    printf("%.3f %.3f\n", now() - t0, cpu() - c0);
    free(buf);
    return 0;
}

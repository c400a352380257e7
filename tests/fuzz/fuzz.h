/* Shared by the libFuzzer harnesses (make fuzz): the input as a file the
 * library can open by name, for the readers that take paths. The bytes go
 * into an anonymous memory file (memfd), named through /proc/self/fd, so no
 * file is left behind and nothing touches the disk. */
#ifndef CB_FUZZ_H
#define CB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data to a fresh memory file; path gets its name. Returns the
 * descriptor (close it when done), or aborts: a harness that cannot set up
 * is broken, not the library. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t path_size)
{
    int fd = memfd_create("fuzz-input", 0);
    if (fd < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

/* A NUL-terminated copy of the input, for the functions that take strings. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    for (size_t i = 0; i < size; i++)
        s[i] = data[i] ? (char)data[i] : ' ';
    s[size] = '\0';
    return s;
}

#endif

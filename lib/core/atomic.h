/* Atomic file writes (and the one whole-stream read): the contract's "write a temporary file in the same
 * directory, fsync, rename", so a reader never sees half a file and a crash
 * leaves either the old file or the new one. */
#ifndef CB_ATOMIC_H
#define CB_ATOMIC_H

#include <stdio.h>
#include <sys/types.h>

#include "cb_err.h"

typedef struct cb_atomic {
    char *path;   /* final name */
    char *tmp;    /* temporary name in the same directory (NULL in place) */
    FILE *fp;     /* write here */
    int in_place; /* path is a device or FIFO, written directly */
} cb_atomic;

/* Creates the temporary file (O_EXCL, with mode, e.g. 0644 or 0600). A path
 * that names a device or a FIFO (/dev/null, /dev/stderr) is opened and
 * written in place instead: renaming over it would replace the device
 * itself with a regular file, for every program on the machine. */
int cb_atomic_open(cb_atomic *a, const char *path, mode_t mode, cb_err *err);
/* Flushes, fsyncs, renames over path, fsyncs the directory. With
 * no_replace, an existing path is left alone and the commit fails with
 * EX_CANTCREAT (and errno EEXIST): for files that must never be
 * overwritten (keys, delivered certificates). */
int cb_atomic_commit(cb_atomic *a, int no_replace, cb_err *err);
/* Closes and removes the temporary file; safe after a failed commit. */
void cb_atomic_abort(cb_atomic *a);

/* Removes the temporaries cb_atomic_open made beside path (".NAME.tmp.PID.N")
 * that a killed process left: those whose process is gone. With name NULL,
 * every such temporary in dir; else only name's. Returns how many were
 * removed, or -1 (err set) when dir cannot be read. A program that keeps
 * state calls it while it holds its lock, so a re-run leaves no hidden
 * file behind (a PKCS#12 among them). */
int cb_atomic_sweep(const char *dir, const char *name, cb_err *err);
/* The same for the temporaries of one path. */
int cb_atomic_sweep_path(const char *path, cb_err *err);

/* Syncs the directory that holds path, so a name created, renamed or
 * removed there is durable: 0, or -1 with errno. */
int cb_fsync_parent(const char *path);
/* Syncs the directory dir itself (the names in it: a Maildir's new/, a
 * tree just built): 0, or -1 with err "cannot sync DIR: ..." (EX_IOERR).
 * err may be NULL where the sync is best effort. */
int cb_fsync_dir(const char *dir, cb_err *err);

/* mkdir -p of the directory holding path (an output, a log, a lock): 0,
 * or -1 with err (EX_CANTCREAT) naming the directory that cannot be made. */
int cb_mkdir_parent(const char *path, cb_err *err);

/* Writes a whole buffer to path atomically. */
int cb_atomic_write_file(const char *path, const void *data, size_t len, mode_t mode,
                         int no_replace, cb_err *err);

/* An output that is stdout when path is NULL or "-", a device or FIFO
 * written in place when path names one, else an atomic file. */
typedef struct cb_output {
    FILE *fp;
    cb_atomic at;
    int is_file;     /* an atomic file */
    int is_device;   /* a device or FIFO, written in place */
} cb_output;

int cb_output_open(cb_output *o, const char *path, mode_t mode, cb_err *err);
/* Commits the file (or flushes stdout and checks for write errors). */
int cb_output_close(cb_output *o, cb_err *err);
void cb_output_abort(cb_output *o);

/* Makes sure descriptors 0, 1 and 2 are open before the program opens
 * anything: one that was closed (`prog >&-`) is opened on /dev/null for
 * reading, so writing it fails (an I/O error, exit 74) instead of the
 * program's first open file — a ledger — taking its number and receiving
 * the output. */
void cb_guard_std_fds(void);

/* Reads what remains of a stream into a malloc'ed buffer (a NUL is added
 * after the len bytes, not counted). 0, or -1 with errno (ENOMEM, or the
 * read error's). */
int cb_read_all(FILE *fp, unsigned char **data, size_t *len);

#endif

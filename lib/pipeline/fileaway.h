/* Filing input files away (requests file-away): each file moves into a
 * directory (forms/processed/DATE/, updates/processed/DATE/), never over
 * another file: a second file of the same name the same night is kept as
 * NAME.2, NAME.3, ... and a file already there with the same content (a
 * re-run reads the processed directory too) stays, the copy left behind
 * removed. Both directories are synced, so after a crash each file is in
 * one of the two places, never in none. The output lists what moved
 * where (file, moved_to), through the filter driver. */
#ifndef CB_FILEAWAY_H
#define CB_FILEAWAY_H

#include <stddef.h>

#include "cb_err.h"
#include "filter.h"

/* Moves path into dir; to receives where it is now. 0, or -1 with err
 * set. */
int cb_file_away_one(const char *path, const char *dir, char *to, size_t n, cb_err *err);

/* Moves files[0..n) and the files named in the column file of the CSV
 * list (NULL: none; a name no longer there is passed over) into dir,
 * made when missing. A file that cannot be moved is reported and the
 * others still move. Returns f's exit code so far. */
int cb_file_away(cb_filter *f, char *const *files, int n, const char *list, const char *dir);

#endif

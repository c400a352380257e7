/* CSV reading and writing for every program (RFC 4180, UTF-8), over libcsv.
 *
 * The reader takes one or more files (or stdin), strips a UTF-8 BOM, accepts
 * CRLF, CR and LF line ends and quoted fields with commas and newlines, and
 * tells the line where each record starts. A malformed record (a quote never
 * closed, more fields than the header, bytes that are not UTF-8, a record
 * over the size limit) comes back as CB_CSV_MALFORMED with its line and a
 * reason, and reading goes on with the next record: the caller rejects it
 * and loses nothing else.
 *
 * Several input files are read as one stream: each file's header is mapped
 * by column name onto the first file's header.
 *
 * A file that is an Excel workbook (by its content, whatever its name) is
 * read as one: a sheet's rows are the records, the row number the line
 * (lib/records/xlsx.h). */
#ifndef CB_CSVIO_H
#define CB_CSVIO_H

#include <stdio.h>

#include "cb_err.h"
#include "record.h"

enum {
    CB_CSV_FATAL = -1,     /* I/O error or unusable file: stop (err says why) */
    CB_CSV_EOF = 0,
    CB_CSV_RECORD = 1,
    CB_CSV_MALFORMED = 2,  /* a bad record: reject it and call next again */
};

#define CB_CSV_DEFAULT_LIMIT (1024 * 1024)
/* Columns a header may have: forms have a few dozen; a header of 100,000
 * made every program crawl through quadratic name lookups. */
#define CB_CSV_MAX_COLUMNS 1024

typedef struct cb_csv_reader cb_csv_reader;

/* files[0..nfiles) are paths, "-" meaning stdin; nfiles == 0 reads stdin.
 * Reads the first file's header. A missing file is EX_NOINPUT; a header
 * that cannot be read (not UTF-8, UTF-16, a NUL byte, more than
 * CB_CSV_MAX_COLUMNS columns) EX_DATAERR. A file with no bytes (or only a
 * BOM) is zero records, not an error: it is skipped, and when every file is
 * like that the reader has an empty header, gives EOF at once and
 * cb_csv_reader_empty says so. A NUL byte in a field makes its record
 * malformed. limit bounds a record's size in bytes (0 for
 * CB_CSV_DEFAULT_LIMIT). */
cb_csv_reader *cb_csv_reader_open(char *const *files, int nfiles, size_t limit, cb_err *err);
/* Like cb_csv_reader_open; a later file's column whose name is not in the
 * first header is mapped to the first header's column with the same
 * canon() (NULL from canon: no match), e.g. a form's Vietnamese label and
 * its canonical name. */
typedef const char *(*cb_csv_canon_fn)(const char *name);
cb_csv_reader *cb_csv_reader_open_canon(char *const *files, int nfiles, size_t limit,
                                        cb_csv_canon_fn canon, cb_err *err);

/* How to read: what cb_csv_reader_open_opts takes (zeroed: as
 * cb_csv_reader_open). */
typedef struct cb_csv_opts {
    size_t limit;            /* 0: CB_CSV_DEFAULT_LIMIT */
    cb_csv_canon_fn canon;   /* as for cb_csv_reader_open_canon, or NULL */
    int delimiter;           /* ',', ';' or '\t'; 0: found from each file's header line */
    const char *sheet;       /* a workbook's sheet to read; NULL: the first */
    int lang;                /* messages: 0 English, 1 Vietnamese */
    /* Warnings that lose nothing (a number that lost its leading 0, given
     * back): one line each, "FILE:ROW: ...", or dropped when NULL. */
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
} cb_csv_opts;
/* Spreadsheets saved as CSV: the delimiter is the one of ',', ';' (Excel's
 * in locales with a decimal comma) and tab that the header line has most of
 * (outside quotes; ',' when none), unless opts->delimiter forces one; a
 * line of nothing but delimiters (the rows Excel keeps after the data,
 * ",,,,") is a blank line, not a record. */
cb_csv_reader *cb_csv_reader_open_opts(char *const *files, int nfiles, const cb_csv_opts *opts,
                                       cb_err *err);
/* The delimiter of a --delimiter option: ",", ";", "tab" or a tab
 * character, "\\t"; 0 when it is none of them. */
int cb_csv_delimiter_parse(const char *s);
void cb_csv_reader_close(cb_csv_reader *r);

/* 1 when the input had no bytes at all: no header and no records. A
 * program then skips its column checks and writes its outputs with the
 * headers it knows. */
int cb_csv_reader_empty(const cb_csv_reader *r);
/* The header of the stream (the first file's), as written in the file. */
const cb_header *cb_csv_reader_header(const cb_csv_reader *r);
/* Name of the file being read ("stdin" for standard input). */
const char *cb_csv_reader_name(const cb_csv_reader *r);

/* Reads the next record into rec (rec->line is its first line). Returns
 * CB_CSV_RECORD, CB_CSV_MALFORMED (err->msg says why; rec holds what could be
 * read), CB_CSV_EOF or CB_CSV_FATAL. */
int cb_csv_reader_next(cb_csv_reader *r, cb_record *rec, cb_err *err);

/* Writer: UTF-8, LF line ends, quotes only where needed. */
typedef struct cb_csv_writer {
    FILE *fp;
    int crlf;      /* CRLF line ends (CSV for Excel); 0 after init */
} cb_csv_writer;

void cb_csv_writer_init(cb_csv_writer *w, FILE *fp);
int cb_csv_write_field(cb_csv_writer *w, const char *s, size_t len, int last);
int cb_csv_write_fields(cb_csv_writer *w, const char *const *fields, size_t n);
int cb_csv_write_header(cb_csv_writer *w, const cb_header *h);
/* Writes fields 0..ncols-1 of rec (missing ones empty). */
int cb_csv_write_record(cb_csv_writer *w, const cb_record *rec, size_t ncols);

#endif

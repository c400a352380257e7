/* CSV reader and writer over libcsv: see csvio.h.
 *
 * libcsv is a push parser. The reader feeds it one line at a time (a line
 * ending at LF, or at a CR not followed by LF) so that at most one record
 * completes per call: that is how each record's first line is known. (A
 * record that is a single line without quotes is split on its commas
 * directly, which gives the same fields several times faster.) The
 * bytes of a record that spans lines are kept, so that when it turns out
 * to be broken (a quote never closed swallows the rest of the file) the
 * lines after its first one can be parsed again and nothing after the
 * damage is lost. */
#include "csvio.h"
#include "atomic.h"
#include "labels.h"
#include "xlsx.h"

#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IOBUF (64 * 1024)

/* A message in the reader's language (--lang vi): both texts take the same
 * arguments. */
#define TR(r, en, vi) ((r)->lang ? (vi) : (en))

/* libcsv's parser state, from its source: a quoted field is open while
 * pstate is FIELD_BEGUN with quoted set. */
#define LIBCSV_FIELD_BEGUN 2

struct cb_csv_reader {
    cb_csv_canon_fn canon;    /* names two headers' columns alike, or NULL */
    int delim;                /* of the file being read */
    int forced_delim;         /* given by the caller, else found per file */
    int empty_row;            /* the record just parsed was a line of delimiters */
    struct empty_row {        /* such rows held back: records only if one follows */
        long line;
        size_t nfields;
    } *empties;
    size_t nempty, empty_cap, empty_next;
    cb_record *stash;         /* the record after them, while they are given out */
    int stash_st;
    cb_err stash_err;
    cb_xlsx *xlsx;            /* the file being read is a workbook */
    int xlsx_started;         /* its header row has been looked for */
    const char *sheet;
    int lang;
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
    char *const *files;
    int nfiles, file_idx;
    const char *name;
    FILE *fp;
    int is_stdin;
    size_t limit;

    struct csv_parser p;
    int parser_live;

    char *buf;                /* file read buffer */
    size_t buf_pos, buf_len;
    int eof;
    int skip_line;            /* discarding the rest of an over-long line */

    char *replay;             /* bytes to parse again before the file */
    size_t replay_pos, replay_len, replay_cap;

    char *raw;                /* bytes of the record being parsed */
    size_t raw_len, raw_cap;

    long line;                /* line number of the next byte */
    long rec_start;           /* first line of the record being parsed */
    int at_record_start;
    int bom_checked;
    int utf16;                /* the file looks like UTF-16: a BOM, or ASCII with NULs between */
    size_t content;           /* bytes of this file after any BOM */
    int empty;                /* every file had no bytes: no header, zero records */

    cb_header *header;
    long header_line;         /* where the first file's header is (a workbook's below its titles) */
    int *map;                 /* column of this file -> column of the header */
    size_t map_n;
    int reading_header;
    cb_header *file_header;   /* a later file's own header */

    cb_record *rec;           /* where callbacks put fields */
    size_t col;
    int rec_done;
    int bad_utf8;
    size_t bad_utf8_col;
    int utf8_suspect;         /* a chunk of this record is not UTF-8 by itself */
    int nul_suspect;          /* a chunk of this record holds a NUL byte */
    int has_nul;
    size_t nul_col;
    size_t nfields;
};

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    const uint64_t high = UINT64_C(0x8080808080808080);
    size_t i = 0;
    while (i < n) {
        uint64_t w;
        if (i + 8 <= n) {   /* most text in forms is ASCII: eight bytes at a time */
            memcpy(&w, s + i, 8);
            if ((w & high) == 0) {
                i += 8;
                continue;
            }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            i += (size_t)__builtin_ctzll(w & high) / 8;   /* to the first byte that is not */
#endif
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
                return 0;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] >= 0xA0))
                return 0;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80 || (c == 0xF0 && s[i + 1] < 0x90) ||
                (c == 0xF4 && s[i + 1] >= 0x90))
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Invalid bytes become '?' so that a rejected record can still be written
 * as UTF-8; the reason says the original was not UTF-8. */
static void utf8_scrub(char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j <= n && j - i <= 4 && !utf8_ok((unsigned char *)s + i, j - i))
            j++;
        if (j <= n && j - i <= 4) {
            i = j;
        } else {
            s[i] = '?';
            i++;
        }
    }
}

static void on_field(void *data, size_t len, void *ctx)
{
    cb_csv_reader *r = ctx;
    size_t k = r->col++;
    r->nfields++;
    if (r->utf8_suspect && !r->bad_utf8 && !utf8_ok(data, len)) {
        r->bad_utf8 = 1;
        r->bad_utf8_col = k;
    }
    if (r->nul_suspect && !r->has_nul && len && memchr(data, '\0', len) != NULL) {
        r->has_nul = 1;
        r->nul_col = k;
    }
    int target;
    if (r->reading_header)
        target = (int)k;
    else if (k < r->map_n)
        target = r->map[k];
    else
        target = (int)(r->header->n + (k - r->map_n));
    /* Past the column limit a field is only counted: a hostile line of a
     * million commas costs no memory. */
    if (target >= 0 && target < CB_CSV_MAX_COLUMNS + 16)
        cb_record_set(r->rec, target, data ? data : "", data ? len : 0);
}

static void on_record(int term, void *ctx)
{
    (void)term;
    cb_csv_reader *r = ctx;
    r->rec_done = 1;
    r->at_record_start = 1;
}

static int parser_reset(cb_csv_reader *r)
{
    if (r->parser_live)
        csv_free(&r->p);
    r->parser_live = 0;
    if (csv_init(&r->p, 0) != 0)
        return -1;
    csv_set_space_func(&r->p, no_space);
    csv_set_delim(&r->p, (unsigned char)r->delim);
    r->parser_live = 1;
    r->raw_len = 0;
    r->at_record_start = 1;
    r->col = 0;
    r->nfields = 0;
    return 0;
}

static int xlsx_probe(cb_csv_reader *r, cb_err *err);
static int xlsx_parse_one(cb_csv_reader *r, cb_err *err);

static int open_file(cb_csv_reader *r, cb_err *err)
{
    const char *path = r->nfiles ? r->files[r->file_idx] : "-";
    if (strcmp(path, "-") == 0) {
        r->fp = stdin;
        r->is_stdin = 1;
        r->name = "stdin";
    } else {
        r->fp = fopen(path, "rb");
        r->is_stdin = 0;
        r->name = path;
        if (r->fp == NULL)
            return cb_err_sys(err, EX_NOINPUT, "%s", path);
    }
    r->buf_pos = r->buf_len = 0;
    r->eof = 0;
    r->skip_line = 0;
    r->line = 1;
    r->bom_checked = 0;
    r->content = 0;
    r->replay_len = r->replay_pos = 0;
    if (parser_reset(r) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return xlsx_probe(r, err);
}

static void close_file(cb_csv_reader *r)
{
    if (r->fp && !r->is_stdin)
        fclose(r->fp);
    r->fp = NULL;
    cb_xlsx_close(r->xlsx);
    r->xlsx = NULL;
}

/* UTF-16 by its byte order mark, or without one (a "Unicode text" export
 * some tools write bare) by ASCII characters with a NUL byte beside each:
 * a UTF-8 header never holds a NUL. */
static int looks_utf16(const unsigned char *b, size_t n)
{
    if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
        return 1;
    return n >= 4 && ((b[0] && !b[1] && b[2] && !b[3]) || (!b[0] && b[1] && !b[2] && b[3]));
}

static int fill(cb_csv_reader *r, cb_err *err)
{
    if (r->eof)
        return 0;
    if (r->buf_pos < r->buf_len)
        return 1;
    size_t n = fread(r->buf, 1, IOBUF, r->fp);
    if (n == 0) {
        if (ferror(r->fp))
            return cb_err_sys(err, EX_IOERR, TR(r, "%s: read error", "%s: lỗi đọc"), r->name);
        r->eof = 1;
        return 0;
    }
    r->buf_pos = 0;
    r->buf_len = n;
    if (!r->bom_checked) {
        r->bom_checked = 1;
        /* A tool that adds a BOM to a file that has one writes two; a
         * second one left in place would begin the first column's name. */
        while (r->buf_pos + 3 <= n && memcmp(r->buf + r->buf_pos, "\xEF\xBB\xBF", 3) == 0)
            r->buf_pos += 3;
        r->utf16 = looks_utf16((const unsigned char *)r->buf, n);
    }
    r->content += n - r->buf_pos;
    return 1;
}

/* The next chunk: up to and including a line end, or what the buffer holds.
 * Returns its length (0 at end of input) or -1. A CR that is the buffer's
 * last byte is kept for the next chunk, with the next block read behind
 * it: only the byte after a CR says whether it ends a line by itself or
 * begins a CRLF, and the line count depends on it. */
static long next_chunk(cb_csv_reader *r, const char **out, int *ends_line, cb_err *err)
{
    const char *base;
    size_t avail;
    int from_replay = r->replay_pos < r->replay_len;
    int cr_is_final = from_replay;   /* replayed text ends at a line end or mid-line, never mid-CRLF */
    if (from_replay) {
        base = r->replay + r->replay_pos;
        avail = r->replay_len - r->replay_pos;
    } else {
        int f = fill(r, err);
        if (f <= 0)
            return f;
        base = r->buf + r->buf_pos;
        avail = r->buf_len - r->buf_pos;
        if (avail == 1 && base[0] == '\r') {
            r->buf[0] = '\r';
            size_t m = fread(r->buf + 1, 1, IOBUF - 1, r->fp);
            if (m == 0 && ferror(r->fp))
                return cb_err_sys(err, EX_IOERR, TR(r, "%s: read error", "%s: lỗi đọc"), r->name);
            r->buf_pos = 0;
            r->buf_len = 1 + m;
            base = r->buf;
            avail = r->buf_len;
            cr_is_final = m == 0;
        }
    }
    size_t n = avail;
    *ends_line = 0;
    const char *nl = memchr(base, '\n', avail);
    const char *cr = memchr(base, '\r', nl ? (size_t)(nl - base) : avail);
    if (cr && cr + 1 < base + avail && cr[1] != '\n') {
        n = (size_t)(cr - base) + 1;
        *ends_line = 1;
    } else if (cr && cr + 1 == base + avail) {
        if (cr_is_final) {
            *ends_line = 1;
        } else {
            n = (size_t)(cr - base);   /* > 0: a lone CR was handled above */
        }
    } else if (nl) {
        n = (size_t)(nl - base) + 1;
        *ends_line = 1;
    }
    if (from_replay)
        r->replay_pos += n;
    else
        r->buf_pos += n;
    *out = base;
    return (long)n;
}

static int raw_append(cb_csv_reader *r, const char *s, size_t n)
{
    if (r->raw_len + n > r->raw_cap) {
        size_t cap = r->raw_cap ? r->raw_cap : 4096;
        while (cap < r->raw_len + n)
            cap *= 2;
        char *p = realloc(r->raw, cap);
        if (p == NULL)
            return -1;
        r->raw = p;
        r->raw_cap = cap;
    }
    memcpy(r->raw + r->raw_len, s, n);
    r->raw_len += n;
    return 0;
}

/* Puts the record's bytes after its first line back in front of the input,
 * to be parsed again from a fresh parser. When the record is still on its
 * first line, the rest of that line is skipped instead (ends_line says
 * whether the last chunk read finished the line). */
/* Where the first line of raw ends (just past LF, CRLF or a lone CR), or
 * NULL. A CR ending raw is a line end: chunks never end between CR and LF. */
static const char *first_line_end(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            return s + i;
        if (s[i] == '\r')
            return i + 1 < n && s[i + 1] == '\n' ? s + i + 1 : s + i;
    }
    return NULL;
}

static int replay_after_first_line(cb_csv_reader *r, int ends_line)
{
    const char *nl = first_line_end(r->raw, r->raw_len);
    if (nl == NULL) {
        r->skip_line = !ends_line;
        if (ends_line)
            r->line++;
        r->raw_len = 0;
        return 0;
    }
    size_t keep = r->raw_len - (size_t)(nl + 1 - r->raw);
    size_t left = r->replay_len - r->replay_pos;
    size_t need = keep + left;
    char *p = malloc(need ? need : 1);
    if (p == NULL)
        return -1;
    memcpy(p, nl + 1, keep);
    if (left)
        memcpy(p + keep, r->replay + r->replay_pos, left);
    free(r->replay);
    r->replay = p;
    r->replay_cap = need;
    r->replay_len = need;
    r->replay_pos = 0;
    r->line = r->rec_start + 1;
    r->raw_len = 0;
    return 0;
}

/* A record that is one whole line without a quote character: its fields
 * are the bytes between commas, so it is split here, with memchr, rather
 * than byte by byte in libcsv (which, left in its state between records,
 * would give the same fields). Most rows of real forms are like that; the
 * gain is half the reader's time. */
static void split_line(cb_csv_reader *r, const char *s, size_t n)
{
    if (!utf8_ok((const unsigned char *)s, n))
        r->utf8_suspect = 1;
    if (memchr(s, '\0', n) != NULL)
        r->nul_suspect = 1;
    if (n && s[n - 1] == '\n')
        n--;
    if (n && s[n - 1] == '\r')
        n--;
    const char *p = s, *end = s + n;
    for (;;) {
        const char *q = memchr(p, r->delim, (size_t)(end - p));
        on_field((void *)p, (size_t)((q ? q : end) - p), r);
        if (q == NULL)
            break;
        p = q + 1;
    }
    on_record(0, r);
}

/* The field of a line at p, up to end: its bytes in *f, *flen, and where
 * the next begins (NULL after the last); -1 when it is not a plain field
 * nor a quoted one without quotes inside ("a", "b, c"), the only quoted
 * form split here. */
static int quoted_field(const cb_csv_reader *r, const char *p, const char *end, const char **f,
                        size_t *flen, const char **next)
{
    const char *q;
    if (p < end && *p == '"') {
        q = memchr(p + 1, '"', (size_t)(end - p - 1));
        if (q == NULL || (q + 1 < end && q[1] != r->delim))
            return -1;
        *f = p + 1;
        *flen = (size_t)(q - p - 1);
        *next = q + 1 < end ? q + 2 : NULL;
        return 0;
    }
    q = memchr(p, r->delim, (size_t)(end - p));
    const char *fe = q ? q : end;
    if (memchr(p, '"', (size_t)(fe - p)) != NULL)
        return -1;
    *f = p;
    *flen = (size_t)(fe - p);
    *next = q ? q + 1 : NULL;
    return 0;
}

/* A whole line whose quoted fields hold no quote nor line break, split
 * here as split_line does (libcsv would give the same fields); 0 when the
 * line is not like that, nothing done then. Agencies' names with a comma
 * make a fifth of the rows of some sheets. */
static int split_quoted_line(cb_csv_reader *r, const char *s, size_t n)
{
    size_t m = n;
    if (m && s[m - 1] == '\n')
        m--;
    if (m && s[m - 1] == '\r')
        m--;
    const char *end = s + m, *p = s, *f;
    size_t flen;
    while (p != NULL)
        if (quoted_field(r, p, end, &f, &flen, &p) < 0)
            return 0;
    if (!utf8_ok((const unsigned char *)s, n))
        r->utf8_suspect = 1;
    if (memchr(s, '\0', n) != NULL)
        r->nul_suspect = 1;
    for (p = s; p != NULL;) {
        quoted_field(r, p, end, &f, &flen, &p);
        on_field((void *)f, flen, r);
    }
    on_record(0, r);
    return 1;
}

/* A line of nothing but delimiters: a row a spreadsheet saved with
 * nothing in it (",,,,"). */
static int line_is_delimiters(const cb_csv_reader *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != r->delim && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static int chunk_is_blank(const char *s, size_t n, int ends_line)
{
    return ends_line && ((n == 1 && (s[0] == '\n' || s[0] == '\r')) || (n == 2 && s[0] == '\r' && s[1] == '\n'));
}

/* Parses until a record completes into r->rec. Returns CB_CSV_RECORD,
 * CB_CSV_MALFORMED (unclosed quote or over the limit), CB_CSV_EOF or
 * CB_CSV_FATAL. */
static int parse_one(cb_csv_reader *r, cb_err *err)
{
    if (r->xlsx)
        return xlsx_parse_one(r, err);
    r->rec_done = 0;
    r->empty_row = 0;
    r->col = 0;
    r->nfields = 0;
    r->bad_utf8 = 0;
    r->utf8_suspect = 0;
    r->has_nul = 0;
    r->nul_suspect = 0;
    cb_record_clear(r->rec);
    for (;;) {
        const char *chunk = NULL;
        int ends_line = 0;
        long n = next_chunk(r, &chunk, &ends_line, err);
        if (n < 0)
            return CB_CSV_FATAL;
        if (n == 0) {
            /* End of this file. */
            if (r->skip_line)
                r->skip_line = 0;
            if (r->parser_live && r->p.quoted && r->p.pstate == LIBCSV_FIELD_BEGUN && !r->at_record_start) {
                cb_err_set(err, EX_DATAERR, "%s",
                           TR(r, "a quoted field opened on this line is never closed",
                              "một trường mở dấu ngoặc kép ở dòng này không bao giờ được đóng"));
                long start = r->rec_start;
                if (replay_after_first_line(r, 0) < 0 || parser_reset(r) < 0)
                    return cb_err_set(err, EX_OSERR, "out of memory"), CB_CSV_FATAL;
                r->skip_line = 0;
                r->rec->line = start;
                return CB_CSV_MALFORMED;
            }
            csv_fini(&r->p, on_field, on_record, r);
            if (r->rec_done) {
                r->rec->line = r->rec_start;
                r->raw_len = 0;
                return CB_CSV_RECORD;
            }
            return CB_CSV_EOF;
        }
        if (r->skip_line) {
            if (ends_line) {
                r->skip_line = 0;
                r->line++;
            }
            continue;
        }
        int whole_line = 0;
        if (r->at_record_start) {
            if (chunk_is_blank(chunk, (size_t)n, ends_line)) {
                r->line++;
                continue;
            }
            r->at_record_start = 0;
            r->rec_start = r->line;
            r->raw_len = 0;
            whole_line = ends_line;
        }
        if (whole_line && (size_t)n <= r->limit && memchr(chunk, '"', (size_t)n) == NULL) {
            split_line(r, chunk, (size_t)n);
            r->empty_row = line_is_delimiters(r, chunk, (size_t)n);
            r->line++;
            r->rec->line = r->rec_start;
            return CB_CSV_RECORD;
        }
        if (whole_line && (size_t)n <= r->limit && split_quoted_line(r, chunk, (size_t)n)) {
            r->line++;
            r->rec->line = r->rec_start;
            return CB_CSV_RECORD;
        }
        if (r->raw_len + (size_t)n > r->limit) {
            if (raw_append(r, chunk, (size_t)n) < 0)
                return cb_err_set(err, EX_OSERR, "out of memory"), CB_CSV_FATAL;
            long start = r->rec_start;
            cb_err_set(err, EX_DATAERR,
                       TR(r, "record longer than %zu bytes (a quote never closed?)",
                          "bản ghi dài hơn %zu byte (có dấu ngoặc kép chưa đóng?)"), r->limit);
            if (replay_after_first_line(r, ends_line) < 0 || parser_reset(r) < 0)
                return cb_err_set(err, EX_OSERR, "out of memory"), CB_CSV_FATAL;
            cb_record_clear(r->rec);
            r->rec->line = start;
            return CB_CSV_MALFORMED;
        }
        /* Fields are made of the chunks' bytes less quotes and commas, so
         * when every chunk is UTF-8 so is every field; only otherwise are
         * the fields checked one by one, to name the column at fault. A
         * character split between two reads makes both chunks suspect,
         * which only costs the per-field check. */
        if (!r->utf8_suspect && !utf8_ok((const unsigned char *)chunk, (size_t)n))
            r->utf8_suspect = 1;
        if (!r->nul_suspect && memchr(chunk, '\0', (size_t)n) != NULL)
            r->nul_suspect = 1;
        if (csv_parse(&r->p, chunk, (size_t)n, on_field, on_record, r) != (size_t)n)
            return cb_err_set(err, EX_DATAERR, "%s:%ld: %s", r->name, r->line,
                              csv_strerror(csv_error(&r->p))), CB_CSV_FATAL;
        if (ends_line)
            r->line++;
        if (r->rec_done) {
            r->rec->line = r->rec_start;
            r->raw_len = 0;
            return CB_CSV_RECORD;
        }
        /* Only a record that goes on past this chunk may have to be parsed
         * again, so only then are its bytes kept (the chunk points into the
         * read buffer, still intact here). */
        if (raw_append(r, chunk, (size_t)n) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory"), CB_CSV_FATAL;
    }
}

/* Why a header row that parse_one returned as st cannot be used (an
 * error set in err), or 0 when it can. */
static int header_problem(cb_csv_reader *r, int st, cb_err *err)
{
    if (st == CB_CSV_RECORD && !r->bad_utf8 && !r->has_nul && r->nfields <= CB_CSV_MAX_COLUMNS)
        return 0;
    if (st == CB_CSV_EOF)
        return cb_err_set(err, EX_DATAERR, TR(r, "%s: empty input: no header row",
                                              "%s: dữ liệu rỗng: không có dòng tiêu đề"), r->name);
    if (r->utf16)
        return cb_err_set(err, EX_DATAERR,
                          TR(r, "%s: the file is UTF-16 text, not UTF-8 (save the sheet as \"CSV UTF-8\")",
                             "%s: tệp là văn bản UTF-16, không phải UTF-8 (hãy lưu bảng tính dạng \"CSV UTF-8\")"),
                          r->name);
    if (r->bad_utf8)
        return cb_err_set(err, EX_DATAERR,
                          TR(r, "%s:%ld: the header row is not UTF-8 text (save the sheet as \"CSV UTF-8\")",
                             "%s:%ld: dòng tiêu đề không phải văn bản UTF-8 (hãy lưu bảng tính dạng \"CSV UTF-8\")"),
                          r->name, r->rec_start);
    if (r->has_nul)
        return cb_err_set(err, EX_DATAERR,
                          TR(r, "%s:%ld: the header row holds a NUL byte: this is not a CSV text file",
                             "%s:%ld: dòng tiêu đề chứa byte NUL: đây không phải tệp văn bản CSV"),
                          r->name, r->rec_start);
    if (st == CB_CSV_RECORD)
        return cb_err_set(err, EX_DATAERR,
                          TR(r, "%s:%ld: the header row has %zu columns, more than the %d a file may have",
                             "%s:%ld: dòng tiêu đề có %zu cột, nhiều hơn %d cột cho phép"),
                          r->name, r->rec_start, r->nfields, CB_CSV_MAX_COLUMNS);
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg);
    return cb_err_set(err, EX_DATAERR,
                      TR(r, "%s:%ld: the header row cannot be read: %.900s", "%s:%ld: không đọc được dòng tiêu đề: %.900s"),
                      r->name, r->rec_start, why);
}

/* The delimiter of the file about to be read: of ',', ';' and tab, the one
 * its first line has most of outside quotes (',' when it has none). The
 * line is looked at in the read buffer, not consumed. */
static int detect_delimiter(cb_csv_reader *r, cb_err *err)
{
    static const char cand[] = {',', ';', '\t'};
    size_t count[3] = {0, 0, 0};
    int f = r->replay_pos < r->replay_len ? 1 : fill(r, err);
    if (f < 0)
        return -1;
    const char *s = r->buf + r->buf_pos, *end = r->buf + (f ? r->buf_len : r->buf_pos);
    for (int quoted = 0; s < end && (quoted || (*s != '\n' && *s != '\r')); s++) {
        if (*s == '"')
            quoted = !quoted;
        for (int k = 0; k < 3 && !quoted; k++)
            count[k] += *s == cand[k];
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
        if (count[k] > count[best])
            best = k;
    r->delim = cand[best];
    csv_set_delim(&r->p, (unsigned char)r->delim);
    return 0;
}

int cb_csv_delimiter_parse(const char *s)
{
    if (strcmp(s, ",") == 0 || strcmp(s, ";") == 0 || strcmp(s, "\t") == 0)
        return s[0];
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0)
        return '\t';
    return 0;
}

/* Reads a file's header; for a later file, maps its columns onto the first
 * header by name. A file with no bytes at all (or only a BOM) has no header
 * and no records: 1, the caller goes on to the next file. */
static int read_header(cb_csv_reader *r, cb_err *err)
{
    cb_record *hdr = cb_record_new();
    if (hdr == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    cb_record *saved = r->rec;
    if (!r->forced_delim && !r->xlsx && detect_delimiter(r, err) < 0) {
        cb_record_free(hdr);
        return -1;
    }
    r->rec = hdr;
    r->reading_header = 1;
    int st = parse_one(r, err);
    r->reading_header = 0;
    r->rec = saved;
    if (st == CB_CSV_FATAL) {
        cb_record_free(hdr);
        return -1;
    }
    if (st == CB_CSV_EOF && r->content == 0) {
        cb_record_free(hdr);
        return 1;
    }
    if (header_problem(r, st, err) < 0) {
        cb_record_free(hdr);
        return -1;
    }
    /* A BOM after blank lines, not at the start of the file, would begin
     * the first column's name (found by fuzzing: written back out, that
     * name began the file and lost its BOM). */
    while (hdr->n > 0 && cb_record_len(hdr, 0) >= 3 && memcmp(cb_record_get(hdr, 0), "\xEF\xBB\xBF", 3) == 0) {
        char *rest = strdup(cb_record_get(hdr, 0) + 3);
        if (rest == NULL || cb_record_set_str(hdr, 0, rest) < 0) {
            free(rest);
            cb_record_free(hdr);
            return cb_err_set(err, EX_OSERR, "out of memory");
        }
        free(rest);
    }
    free(r->map);
    r->map = malloc((hdr->n ? hdr->n : 1) * sizeof *r->map);
    if (r->map == NULL) {
        cb_record_free(hdr);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    r->map_n = hdr->n;
    int first = r->header == NULL;
    if (first) {
        r->header = cb_header_new();
        r->header_line = r->rec_start;
    }
    for (size_t i = 0; i < hdr->n; i++) {
        const char *name = cb_record_get(hdr, (int)i);
        int idx;
        if (first) {
            if (cb_header_find(r->header, name) >= 0) {
                cb_err_set(err, EX_DATAERR,
                           TR(r, "%s:%ld: column '%s' appears twice in the header",
                              "%s:%ld: cột '%s' xuất hiện hai lần trong dòng tiêu đề"),
                           r->name, r->rec_start, name);
                cb_record_free(hdr);
                return -1;
            }
            idx = cb_header_add(r->header, name);
        } else {
            idx = cb_header_find(r->header, name);
            /* A later file may label a column differently (a Vietnamese
             * label against a canonical name): the program says which
             * names mean the same column. */
            const char *want = (idx < 0 && r->canon) ? r->canon(name) : NULL;
            for (size_t k = 0; want && idx < 0 && k < r->header->n; k++) {
                const char *have = r->canon(r->header->names[k]);
                if (have && strcmp(have, want) == 0)
                    idx = (int)k;
            }
            if (idx < 0) {
                cb_err_set(err, EX_DATAERR,
                           TR(r, "%s: column '%s' is not in the header of %s", "%s: cột '%s' không có trong dòng tiêu đề của %s"),
                           r->name, name, r->files[0]);
                cb_record_free(hdr);
                return -1;
            }
        }
        r->map[i] = idx;
    }
    cb_record_free(hdr);
    return 0;
}

/* Opens files from file_idx on until one has a header: 0, or 1 when every
 * file left was empty, or -1. */
static int open_next(cb_csv_reader *r, cb_err *err)
{
    for (;;) {
        int st = open_file(r, err);
        if (st == 0)
            st = read_header(r, err);
        if (st <= 0)
            return st;
        close_file(r);
        if (r->nfiles == 0 || ++r->file_idx >= r->nfiles)
            return 1;
    }
}

cb_csv_reader *cb_csv_reader_open(char *const *files, int nfiles, size_t limit, cb_err *err)
{
    return cb_csv_reader_open_canon(files, nfiles, limit, NULL, err);
}

cb_csv_reader *cb_csv_reader_open_canon(char *const *files, int nfiles, size_t limit,
                                        cb_csv_canon_fn canon, cb_err *err)
{
    cb_csv_opts o = {.limit = limit, .canon = canon};
    return cb_csv_reader_open_opts(files, nfiles, &o, err);
}

cb_csv_reader *cb_csv_reader_open_opts(char *const *files, int nfiles, const cb_csv_opts *opts,
                                       cb_err *err)
{
    size_t limit = opts->limit;
    cb_csv_canon_fn canon = opts->canon;
    cb_csv_reader *r = calloc(1, sizeof *r);
    if (r == NULL || (r->buf = malloc(IOBUF)) == NULL) {
        free(r);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    r->files = files;
    r->nfiles = nfiles;
    r->canon = canon;
    r->limit = limit ? limit : CB_CSV_DEFAULT_LIMIT;
    r->delim = opts->delimiter ? opts->delimiter : ',';
    r->forced_delim = opts->delimiter != 0;
    r->sheet = opts->sheet;
    r->lang = opts->lang;
    r->warn = opts->warn;
    r->warn_ctx = opts->warn_ctx;
    int st = open_next(r, err);
    if (st == 1) {
        r->empty = 1;
        r->name = nfiles ? files[nfiles - 1] : "stdin";
        if (strcmp(r->name, "-") == 0)
            r->name = "stdin";
        if ((r->header = cb_header_new()) == NULL)
            st = cb_err_set(err, EX_OSERR, "out of memory");
    }
    if (st < 0) {
        cb_csv_reader_close(r);
        return NULL;
    }
    return r;
}

void cb_csv_reader_close(cb_csv_reader *r)
{
    if (r == NULL)
        return;
    close_file(r);
    if (r->parser_live)
        csv_free(&r->p);
    cb_header_free(r->header);
    free(r->map);
    free(r->buf);
    free(r->replay);
    free(r->raw);
    free(r->empties);
    cb_record_free(r->stash);
    free(r);
}

int cb_csv_reader_empty(const cb_csv_reader *r)
{
    return r->empty;
}

long cb_csv_reader_header_line(const cb_csv_reader *r)
{
    return r->header_line ? r->header_line : 1;
}

const cb_header *cb_csv_reader_header(const cb_csv_reader *r)
{
    return r->header;
}

const char *cb_csv_reader_name(const cb_csv_reader *r)
{
    return r->name;
}

/* The header's name for field k of the file being read. */
static const char *column_name(const cb_csv_reader *r, size_t k)
{
    if (k >= r->map_n || r->map[k] < 0 || (size_t)r->map[k] >= r->header->n)
        return "?";
    return r->header->names[r->map[k]];
}

/* Outputs of several runs concatenated (`parallel prog ::: parts | prog
 * --merge`) carry each part's header line: a line that is exactly the header
 * is the next part's header, not a record. */
static int is_repeated_header(const cb_csv_reader *r, const cb_record *rec)
{
    if (r->canon != NULL || r->nfields != r->header->n)
        return 0;
    for (size_t i = 0; i < r->header->n; i++)
        if (strcmp(cb_record_get(rec, (int)i), r->header->names[i]) != 0)
            return 0;
    return 1;
}

static int next_record(cb_csv_reader *r, cb_record *rec, cb_err *err)
{
    r->rec = rec;
    for (;;) {
        if (r->fp == NULL)
            return CB_CSV_EOF;
        int st = parse_one(r, err);
        if (st == CB_CSV_EOF) {
            r->nempty = 0;   /* the empty rows at the end of a file are not records */
            close_file(r);
            if (r->nfiles == 0 || ++r->file_idx >= r->nfiles)
                return CB_CSV_EOF;
            st = open_next(r, err);
            if (st != 0)
                return st < 0 ? CB_CSV_FATAL : CB_CSV_EOF;
            continue;
        }
        if (st != CB_CSV_RECORD)
            return st;
        if (r->nfields > r->map_n) {
            /* The extra fields have no column in a rejects file: the
             * reason carries them, so the record is still rejected whole. */
            int n = snprintf(err->msg, sizeof err->msg,
                             TR(r, "the record has %zu fields, the header has %zu; the extra ones:",
                                "bản ghi có %zu trường, dòng tiêu đề có %zu; các trường thừa:"),
                             r->nfields, r->map_n);
            for (size_t i = r->header->n; i < rec->n && n > 0 && (size_t)n < sizeof err->msg - 8; i++)
                n += snprintf(err->msg + n, sizeof err->msg - (size_t)n, " \"%s\"", cb_record_get(rec, (int)i));
            err->code = EX_DATAERR;
            return CB_CSV_MALFORMED;
        }
        if (r->has_nul) {
            /* Every consumer reads fields as C strings: one NUL would cut
             * "h@x.vn\0evil@x.com" to an address nobody wrote. The
             * rejected record shows each NUL as '?'. */
            for (size_t i = 0; i < rec->n; i++)
                for (char *q = rec->f[i].s; q && (q = memchr(q, '\0', rec->f[i].len - (size_t)(q - rec->f[i].s))) != NULL;)
                    *q = '?';
            cb_err_set(err, EX_DATAERR, "column '%s' holds a NUL byte, which no text field may hold",
                       column_name(r, r->nul_col));
            return CB_CSV_MALFORMED;
        }
        if (is_repeated_header(r, rec))
            continue;
        if (r->bad_utf8) {
            for (size_t i = 0; i < rec->n; i++)
                utf8_scrub(rec->f[i].s ? rec->f[i].s : (char *)"", rec->f[i].len);
            cb_err_set(err, EX_DATAERR, TR(r, "column '%s' is not valid UTF-8 text", "cột '%s' không phải văn bản UTF-8 hợp lệ"),
                       column_name(r, r->bad_utf8_col));
            return CB_CSV_MALFORMED;
        }
        return CB_CSV_RECORD;
    }
}

/* ---- workbooks ----
 *
 * A file that is a zip archive is read as an Excel workbook (lib/xlsx):
 * its rows become records the way CSV lines do, the row number standing
 * for the line number. The header is the row among the first ten with the
 * most labels the program knows (canon), title rows above it skipped. */

#define XLSX_HEADER_ROWS 10

/* Whether the file just opened is a workbook: then it is read whole (a
 * zip's directory is at its end) and opened as one. */
static int xlsx_probe(cb_csv_reader *r, cb_err *err)
{
    int f = fill(r, err);
    if (f <= 0 || !cb_xlsx_is_zip(r->buf + r->buf_pos, r->buf_len - r->buf_pos))
        return f < 0 ? -1 : 0;
    size_t head = r->buf_len - r->buf_pos, rest = 0;
    unsigned char *tail = NULL;
    if (cb_read_all(r->fp, &tail, &rest) < 0)
        return cb_err_sys(err, EX_IOERR, TR(r, "%s: read error", "%s: lỗi đọc"), r->name);
    unsigned char *data = malloc(head + rest + 1);
    if (data == NULL) {
        free(tail);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    memcpy(data, r->buf + r->buf_pos, head);
    memcpy(data + head, tail, rest);
    free(tail);
    r->buf_pos = r->buf_len;
    r->eof = 1;
    r->xlsx_started = 0;
    r->xlsx = cb_xlsx_open_mem(data, head + rest, r->name, r->sheet, r->lang, err);
    return r->xlsx ? 0 : -1;
}

/* A label the program knows (canon), or without the program's names a
 * snake_case column name. */
static int known_label(void *ctx, const char *label)
{
    const cb_csv_reader *r = ctx;
    if (r->canon)
        return r->canon(label) != NULL;
    if (cb_label_canonical(label) != NULL)
        return 1;
    int letter = 0;
    for (const char *p = label; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
        letter |= *p >= 'a' && *p <= 'z';
    }
    return letter;
}

/* The column name a field of this file goes to, canonical when the program
 * says so. */
static const char *target_name(const cb_csv_reader *r, size_t k)
{
    if (k >= r->map_n || r->map[k] < 0 || (size_t)r->map[k] >= r->header->n)
        return "";
    const char *name = r->header->names[r->map[k]];
    const char *c = r->canon ? r->canon(name) : NULL;
    return c ? c : name;
}

/* Excel drops the leading zero of an identity or phone number typed into a
 * cell formatted as a number; every CCCD starts with 0 (province codes are
 * 001-096) and so does every mobile number: 11 and 9 digits get it back,
 * and the clerk is told which cell. */
static int restore_zero(cb_csv_reader *r, size_t k, const cb_xlsx_cell *c, long row, char *out)
{
    const char *col = target_name(r, k);
    size_t want = strcmp(col, "id_number") == 0 ? 11 : strcmp(col, "phone") == 0 ? 9 : 0;
    if (want == 0 || c->len != want || strspn(c->s, "0123456789") != want)
        return 0;
    out[0] = '0';
    memcpy(out + 1, c->s, want + 1);
    if (r->warn) {
        char cell[16], msg[512];
        cb_xlsx_cell_name(k, row, cell);
        snprintf(msg, sizeof msg,
                 r->lang ? "%s:%ld: ô %s (%s): %s được lưu dạng số nên mất số 0 ở đầu; đọc là %s"
                         : "%s:%ld: cell %s (%s): %s was stored as a number and lost its leading 0; read as %s",
                 r->name, row, cell, col, c->s, out);
        r->warn(r->warn_ctx, msg);
    }
    return 1;
}

static int xlsx_parse_one(cb_csv_reader *r, cb_err *err)
{
    if (!r->xlsx_started) {
        r->xlsx_started = 1;
        if (cb_xlsx_find_header(r->xlsx, known_label, r, XLSX_HEADER_ROWS, err) < 0)
            return CB_CSV_FATAL;
    }
    const cb_xlsx_row *row;
    cb_record_clear(r->rec);
    r->col = 0;
    r->nfields = 0;
    r->bad_utf8 = 0;
    r->empty_row = 0;
    int st = cb_xlsx_next(r->xlsx, &row, err);
    if (st <= 0)
        return st < 0 ? CB_CSV_FATAL : CB_CSV_EOF;
    size_t n = row->n;
    while (n > 0 && row->c[n - 1].len == 0)
        n--;
    for (size_t k = 0; k < n; k++) {
        const cb_xlsx_cell *c = &row->c[k];
        char fixed[16];
        const char *name = r->reading_header ? cb_label_canonical(c->s) : NULL;
        if (!r->reading_header && c->number && restore_zero(r, k, c, row->r, fixed))
            on_field(fixed, strlen(fixed), r);
        else if (name)   /* a label a program wrote: the column's canonical name */
            on_field((void *)name, strlen(name), r);
        else
            on_field(c->s, c->len, r);
    }
    r->rec_start = row->r;
    r->rec->line = row->r;
    return CB_CSV_RECORD;
}

/* ---- rows of delimiters only ----
 *
 * Excel saves the empty rows below the data as ",,,,": those at the end of
 * a file are blank lines. One in the middle of the data stays a record (an
 * empty request, rejected as such), so such rows are held back until a
 * record follows them or the file ends. */

static int hold_empty_row(cb_csv_reader *r, const cb_record *rec)
{
    if (r->nempty == r->empty_cap) {
        size_t cap = r->empty_cap ? r->empty_cap * 2 : 16;
        struct empty_row *p = realloc(r->empties, cap * sizeof *p);
        if (p == NULL)
            return -1;
        r->empties = p;
        r->empty_cap = cap;
    }
    r->empties[r->nempty++] = (struct empty_row){rec->line, r->nfields};
    return 0;
}

/* The next held-back row, as it was read. */
static int give_empty_row(cb_csv_reader *r, cb_record *rec, cb_err *err)
{
    struct empty_row e = r->empties[r->empty_next++];
    cb_record_clear(rec);
    rec->line = e.line;
    for (size_t i = 0; i < e.nfields && i < r->header->n; i++)
        if (cb_record_set(rec, (int)i, "", 0) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory"), CB_CSV_FATAL;
    if (e.nfields > r->header->n) {
        cb_err_set(err, EX_DATAERR, TR(r, "the record has %zu fields, the header has %zu",
                                       "bản ghi có %zu trường, dòng tiêu đề có %zu"), e.nfields, r->header->n);
        return CB_CSV_MALFORMED;
    }
    return CB_CSV_RECORD;
}

int cb_csv_reader_next(cb_csv_reader *r, cb_record *rec, cb_err *err)
{
    if (r->empty_next < r->nempty)
        return give_empty_row(r, rec, err);
    if (r->nempty > 0) {   /* all given out: the record read after them */
        r->nempty = r->empty_next = 0;
        if (cb_record_copy(rec, r->stash) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory"), CB_CSV_FATAL;
        rec->line = r->stash->line;
        *err = r->stash_err;
        return r->stash_st;
    }
    for (;;) {
        int st = next_record(r, rec, err);
        if (st == CB_CSV_RECORD && r->empty_row) {
            if (hold_empty_row(r, rec) < 0)
                return cb_err_set(err, EX_OSERR, "out of memory"), CB_CSV_FATAL;
            continue;
        }
        if (r->nempty == 0 || st == CB_CSV_EOF)
            return st;
        if ((r->stash == NULL && (r->stash = cb_record_new()) == NULL) || cb_record_copy(r->stash, rec) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory"), CB_CSV_FATAL;
        r->stash->line = rec->line;
        r->stash_st = st;
        r->stash_err = *err;
        return give_empty_row(r, rec, err);
    }
}

void cb_csv_writer_init(cb_csv_writer *w, FILE *fp)
{
    w->fp = fp;
    w->crlf = 0;
}

int cb_csv_write_field(cb_csv_writer *w, const char *s, size_t len, int last)
{
    FILE *fp = w->fp;
    int quote = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ',' || c == '"' || c == '\n' || c == '\r') {
            quote = 1;
            break;
        }
    }
    if (!quote) {
        if (len && fwrite(s, 1, len, fp) != len)
            return -1;
    } else {
        putc('"', fp);
        const char *p = s, *end = s + len;
        while (p < end) {
            const char *q = memchr(p, '"', (size_t)(end - p));
            size_t n = q ? (size_t)(q - p + 1) : (size_t)(end - p);
            if (fwrite(p, 1, n, fp) != n)
                return -1;
            if (q)
                putc('"', fp);
            p += n;
        }
        putc('"', fp);
    }
    if (last && w->crlf && putc('\r', fp) == EOF)
        return -1;
    return putc(last ? '\n' : ',', fp) == EOF ? -1 : 0;
}

int cb_csv_write_fields(cb_csv_writer *w, const char *const *fields, size_t n)
{
    if (n == 1 && fields[0][0] == '\0')   /* a blank line would be skipped on reading */
        return fputs(w->crlf ? "\"\"\r\n" : "\"\"\n", w->fp) == EOF ? -1 : 0;
    for (size_t i = 0; i < n; i++)
        if (cb_csv_write_field(w, fields[i], strlen(fields[i]), i + 1 == n) < 0)
            return -1;
    return 0;
}

int cb_csv_write_header(cb_csv_writer *w, const cb_header *h)
{
    return cb_csv_write_fields(w, (const char *const *)h->names, h->n);
}

/* Whether a byte of w is c: the high bit of each byte that is. */
static uint64_t has_byte(uint64_t w, unsigned char c)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    uint64_t x = w ^ (ones * c);
    return (x - ones) & ~x & high;
}

/* Whether a byte of w is below c (c <= 0x80): the four bytes that need
 * quoting are all below '-', and most eight bytes of text have none. */
static uint64_t has_below(uint64_t w, unsigned char c)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    return (w - ones * c) & ~w & high;
}

static int special(char c)
{
    return (unsigned char)c < '-' && (c == ',' || c == '"' || c == '\n' || c == '\r');
}

/* s[0..len) as a field into out, which has room for 2 len + 2 bytes:
 * quoted only where needed, as cb_csv_write_field writes it. Copied eight
 * bytes a step while none of them needs quoting. */
static size_t field_into(char *out, const char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (has_below(w, '-') &&
            (has_byte(w, ',') | has_byte(w, '"') | has_byte(w, '\n') | has_byte(w, '\r')))
            goto quoted;
        memcpy(out + i, &w, 8);
    }
    for (; i < len; i++) {
        if (special(s[i]))
            goto quoted;
        out[i] = s[i];
    }
    return len;
quoted:;
    size_t k = 0;
    out[k++] = '"';
    for (i = 0; i < len; i++) {
        if (s[i] == '"')
            out[k++] = '"';
        out[k++] = s[i];
    }
    out[k++] = '"';
    return k;
}

/* The record is put together in a buffer and written with one fwrite a
 * few kilobytes: two stdio calls a field were a tenth of validate-form's
 * time. A field too long for the buffer goes through cb_csv_write_field. */
int cb_csv_write_record(cb_csv_writer *w, const cb_record *rec, size_t ncols)
{
    if (ncols == 1 && cb_record_len(rec, 0) == 0)
        return fputs(w->crlf ? "\"\"\r\n" : "\"\"\n", w->fp) == EOF ? -1 : 0;
    char buf[8192];
    size_t n = 0;
    for (size_t i = 0; i < ncols; i++) {
        const char *s = i < rec->n && rec->f[i].s ? rec->f[i].s : "";
        size_t len = i < rec->n && rec->f[i].s ? rec->f[i].len : 0;
        int last = i + 1 == ncols;
        if (n + 2 * len + 4 > sizeof buf) {
            if (n && fwrite(buf, 1, n, w->fp) != n)
                return -1;
            n = 0;
        }
        if (2 * len + 4 > sizeof buf) {
            if (cb_csv_write_field(w, s, len, last) < 0)
                return -1;
            continue;
        }
        n += field_into(buf + n, s, len);
        if (last && w->crlf)
            buf[n++] = '\r';
        buf[n++] = last ? '\n' : ',';
    }
    return n && fwrite(buf, 1, n, w->fp) != n ? -1 : 0;
}

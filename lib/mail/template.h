/* Letter templates for notify: UTF-8 text with {{column}} placeholders, a
 * few header lines (Subject, To-Name) above the body, and one repeated
 * section {{#records}}...{{/records}} that a digest fills once per record.
 * Placeholders are bound to the input's columns before the first record is
 * read, so a template naming a column the input lacks fails at start, never
 * as a blank in a letter.
 *
 * Syntax:
 *   Subject: Chứng thư số {{serial}} sắp hết hạn      (header lines, then
 *   To-Name: {{subject_cn}}                             one empty line)
 *
 *   Kính gửi {{subject_cn}},                            (the body)
 *   {{#records}}
 *   - {{serial}}, hết hạn ngày {{expiry_date|date}}
 *   {{/records}}
 *
 * {{name}} is a column (or a variable given to cb_template_bind); it must
 * not be empty in a record. {{name?}} may be empty. {{name|date}} prints a
 * date (YYYY-MM-DD, DD/MM/YYYY or an instant) as DD/MM/YYYY. {{@count}} is
 * the number of records in the message, {{@index}} the 1-based position in
 * the section, {{@today}} today as DD/MM/YYYY. Outside the section a
 * placeholder takes the message's first record. Lines starting with "##"
 * before the header lines are comments. A section tag alone on its line
 * takes the whole line. */
#ifndef CB_TEMPLATE_H
#define CB_TEMPLATE_H

#include <stddef.h>
#include <stdio.h>

#include "cb_err.h"
#include "date.h"
#include "record.h"

typedef struct cb_template cb_template;

enum cb_template_part {
    CB_TPL_SUBJECT = 0,
    CB_TPL_TO_NAME = 1,   /* empty when the template has no To-Name line */
    CB_TPL_BODY = 2,
};

/* Parses a template; label names it in errors (`label:LINE: what`). */
cb_template *cb_template_parse(const char *label, const char *text, size_t len, cb_err *err);
/* Reads and parses a file (EX_NOINPUT when missing). */
cb_template *cb_template_load(const char *path, cb_err *err);
void cb_template_free(cb_template *t);

/* Binds every placeholder to a column of h or to one of the variables
 * names[0..nvars) (a column wins). A placeholder that is neither is
 * EX_DATAERR naming it. Call again to bind to another header. */
int cb_template_bind(cb_template *t, const cb_header *h, const char *const *var_names,
                     size_t nvars, cb_err *err);

/* The first placeholder a record cannot fill: a required column that is
 * empty, or a |date column that is not a date. Returns NULL when the record
 * is fine, else the column name (and *why a short English reason). */
const char *cb_template_check_record(const cb_template *t, const cb_record *rec,
                                     const char **why);

/* Renders one part for the records recs[0..n) (n >= 1) into out.
 * var_values parallel the names given to cb_template_bind. Returns 0, or -1
 * (EX_IOERR on a write error, EX_DATAERR for a record the check refuses). */
int cb_template_render(const cb_template *t, enum cb_template_part part,
                       const cb_record *const *recs, size_t n, const char *const *var_values,
                       cb_date today, FILE *out, cb_err *err);

/* Renders into a new NUL-terminated string (free it); NULL on error. */
char *cb_template_render_str(const cb_template *t, enum cb_template_part part,
                             const cb_record *const *recs, size_t n,
                             const char *const *var_values, cb_date today, cb_err *err);

/* 1 when the body has a {{#records}} section. */
int cb_template_has_section(const cb_template *t);

#endif

/* The Vietnamese labels of the columns, for what clerks open in Excel:
 * the labels of the forms (FORMS.md) for the form columns, and labels for
 * the columns the programs compute (due dates, agency keys, counts, the
 * rejects' reasons, the manifests). A workbook or an Excel CSV carries
 * these labels in its header row; reading a workbook maps them back to
 * the canonical names, so a workbook a program wrote can be read by the
 * next. Each column also has a kind: how a workbook writes its values. */
#ifndef CB_LABELS_H
#define CB_LABELS_H

#include "xlsx.h"

/* The label of a canonical column name, or name itself when it has none. */
const char *cb_label_vi(const char *name);
/* The canonical name of a label (or of a canonical name), compared as
 * header labels are (case, NFC/NFD, spaces), or NULL. */
const char *cb_label_canonical(const char *label);
/* How a workbook writes the column's values: dates, whole numbers (counts,
 * line numbers), or text (identity numbers, codes, everything else). */
enum cb_xlsx_kind cb_label_kind(const char *name);

#endif

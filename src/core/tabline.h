/*
 * tabline - XMail's TAB-separated line format, shared by the controller
 * protocol and the table files.
 *
 * tab_split() tokenises one line in place (the line must not contain its
 * CR/LF): fields are split at TABs, runs of TABs count as one separator and
 * leading/trailing TABs are ignored. A field starting with '"' runs to the
 * next '"' not preceded by a backslash; '\"' becomes '"', other backslashes
 * are kept; anything after the closing quote is dropped. Other fields are
 * taken verbatim.
 *
 * Returns the number of fields, TAB_TOO_MANY when there are more than max,
 * or TAB_UNBALANCED when a quoted field has no closing quote. Field pointers
 * point into the line.
 */
#ifndef TERN_TABLINE_H
#define TERN_TABLINE_H

#include <stdbool.h>

#include "buf.h"

#define TAB_TOO_MANY (-1)
#define TAB_UNBALANCED (-2)

int tab_split(char *line, char **fields, int max);
/* Append "v1"<TAB>"v2"... (values raw, as XMail writes listings) plus CRLF or LF. */
void tab_join(struct buf *out, const char *const *f, int n, const char *eol);
/* Append one field for a table file: quoted, with '"' written as '\"'. */
void tab_put_escaped(struct buf *out, const char *v);

#endif

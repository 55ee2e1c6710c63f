/*
 * views - XMail's MAIL_ROOT tables as views of the directory.
 *
 * view_render() writes a table in XMail's exact TAB format (stored secrets
 * replaced by ADMIN_SECRET_PLACEHOLDER). view_replace() parses and validates
 * a whole upload, then replaces the data in one durable transaction; on the
 * first bad line it changes nothing and reports the line (1-based).
 *
 * Password fields in uploads: the placeholder keeps the stored secret of an
 * existing record; any other value is XMail's encoding (each byte XOR 0x65
 * as two hex digits) and becomes the new password, so XMail's own tables
 * can be imported as they are.
 */
#ifndef TERN_VIEWS_H
#define TERN_VIEWS_H

#include <stdbool.h>
#include <stddef.h>

#include "admin.h"

struct view;

const struct view *view_find(const char *name);
enum tern_err view_render(struct admin_ctx *ctx, const char *name, struct buf *out);
enum tern_err view_replace(struct admin_ctx *ctx, const char *name, const char *data, size_t len, int *bad_line_r);
/* Parse and validate an upload without applying it (no store needed). */
enum tern_err view_check_upload(const char *name, const char *data, size_t len, int *bad_line_r);
/* Names of all views, NULL-terminated. */
const char *const *view_names(void);
/* XMail's reversible password encoding. Returns -1 on bad input. */
int view_xmail_decode(const char *hex, char *out, size_t sz);

#endif

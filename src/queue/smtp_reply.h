/*
 * smtp_reply - one line of an SMTP server reply, as the outbound client
 * reads it: three digits (first 2 to 5), then ' ' (last line), '-' (more
 * lines follow) or the end of the line (last line).
 */
#ifndef TERN_SMTP_REPLY_H
#define TERN_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* 0 and the code, whether this is the last line, and where the text starts;
 * -1 when the line is not a reply line. */
int smtp_reply_line(const char *line, size_t len, int *code_r, bool *last_r, size_t *text_off_r);

#endif

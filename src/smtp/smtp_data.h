/*
 * smtp_data - the DATA phase as a byte-at-a-time state machine.
 *
 * The message ends only at CR LF "." CR LF (the DATA command's own CR LF
 * counts as the first). A bare LF or a bare CR never starts a line, so none
 * of "\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n" can end a message early (SMTP
 * smuggling); they are flagged so the session can reject or keep the
 * message, as the policy says. One leading dot of a line is removed; CR LF
 * becomes LF in the output. Output stops (but input is still consumed)
 * once the size limit is passed. The Received: lines of the header section
 * are counted (mail-loop detection).
 */
#ifndef TERN_SMTP_DATA_H
#define TERN_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"

struct smtp_data {
	int state;
	bool done;
	bool bare_lf, bare_cr;
	bool too_big;
	bool line_too_long;
	uint64_t size; /* output bytes */
	uint64_t max_size;
	size_t line_len;
	size_t max_line;
	bool in_body, hdr_miss; /* header scan: past the headers; this line is no Received: */
	unsigned received;      /* Received: lines in the header section */
};

void smtp_data_init(struct smtp_data *d, uint64_t max_size, size_t max_line);
/* Consume input; returns bytes used (less than n only when done). */
size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t n, struct buf *out);

#endif

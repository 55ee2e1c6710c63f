/*
 * smtp_data - end-of-data detection, dot-unstuffing, line-end policing.
 */
#include "smtp_data.h"

#include <ctype.h>
#include <string.h>

enum { S_BOL, S_DOT, S_DOTCR, S_MID, S_CR };

void smtp_data_init(struct smtp_data *d, uint64_t max_size, size_t max_line)
{
	memset(d, 0, sizeof *d);
	d->state = S_BOL;
	d->max_size = max_size;
	d->max_line = max_line;
}

/* Received: header lines of the header section (loop detection). */
static void count_received(struct smtp_data *d, char c)
{
	static const char want[] = "received:";
	if (d->in_body)
		return;
	if (c == '\n') {
		if (d->line_len == 0)
			d->in_body = true; /* the empty line ending the headers */
		d->hdr_miss = false;
		return;
	}
	size_t pos = d->line_len;
	if (d->hdr_miss || pos >= sizeof want - 1)
		return;
	if (tolower((unsigned char)c) != want[pos])
		d->hdr_miss = true;
	else if (pos == sizeof want - 2)
		d->received++;
}

static void emit(struct smtp_data *d, struct buf *out, char c)
{
	count_received(d, c);
	if (c == '\n') {
		d->line_len = 0;
	} else if (++d->line_len > d->max_line) {
		d->line_too_long = true;
	}
	if (d->too_big)
		return;
	if (d->size + 1 > d->max_size) {
		d->too_big = true;
		return;
	}
	d->size++;
	buf_putc(out, c);
}

static void mid(struct smtp_data *d, struct buf *out, char c)
{
	if (c == '\r') {
		d->state = S_CR;
	} else if (c == '\n') {
		d->bare_lf = true;
		emit(d, out, '\n');
		d->state = S_MID; /* a bare LF never starts a line */
	} else {
		emit(d, out, c);
		d->state = S_MID;
	}
}

size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t n, struct buf *out)
{
	size_t i = 0;
	while (i < n && !d->done) {
		char c = in[i++];
		switch (d->state) {
		case S_BOL:
			if (c == '.')
				d->state = S_DOT;
			else
				mid(d, out, c);
			break;
		case S_DOT:
			if (c == '\r')
				d->state = S_DOTCR;
			else
				mid(d, out, c); /* the stuffed dot is dropped */
			break;
		case S_DOTCR:
			if (c == '\n') {
				d->done = true;
			} else {
				d->bare_cr = true;
				emit(d, out, '\r');
				d->state = S_MID;
				mid(d, out, c);
			}
			break;
		case S_MID:
			mid(d, out, c);
			break;
		case S_CR:
			if (c == '\n') {
				emit(d, out, '\n');
				d->state = S_BOL;
			} else {
				d->bare_cr = true;
				emit(d, out, '\r');
				if (c == '\r')
					d->state = S_CR;
				else
					mid(d, out, c);
			}
			break;
		}
	}
	return i;
}

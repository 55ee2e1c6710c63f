/*
 * tabline - tokenising and writing XMail TAB lines.
 */
#include "tabline.h"

#include <string.h>

/* Decode a quoted field in place starting at f (pointing at the opening
 * quote) and ending before end. Returns 0, or -1 if unbalanced. */
static int unquote(char *f, char *end)
{
	char *r = f + 1, *w = f;
	while (r < end) {
		if (*r == '\\' && r + 1 < end && r[1] == '"') {
			*w++ = '"';
			r += 2;
			continue;
		}
		if (*r == '"') {
			*w = '\0';
			return 0;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return -1;
}

int tab_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (*p == '\t')
			p++;
		if (!*p)
			break;
		char *start = p;
		while (*p && *p != '\t')
			p++;
		char *end = p;
		bool last = *p == '\0';
		if (!last)
			*p++ = '\0';
		if (n >= max)
			return TAB_TOO_MANY;
		if (*start == '"') {
			if (unquote(start, end) < 0)
				return TAB_UNBALANCED;
		}
		fields[n++] = start;
		if (last)
			break;
	}
	return n;
}

void tab_join(struct buf *out, const char *const *f, int n, const char *eol)
{
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(out, '\t');
		buf_putc(out, '"');
		buf_puts(out, f[i]);
		buf_putc(out, '"');
	}
	buf_puts(out, eol);
}

void tab_put_escaped(struct buf *out, const char *v)
{
	buf_putc(out, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			buf_putc(out, '\\');
		buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

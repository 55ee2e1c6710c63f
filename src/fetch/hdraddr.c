/*
 * hdraddr - To/Cc/Bcc address extraction (see hdraddr.h).
 */
#include "hdraddr.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../core/buf.h"
#include "../smtp/smtp_parse.h"

#define MAX_ADDR 320

static void trim_into(const char *s, size_t n, char *out, size_t osz)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= osz)
		n = 0; /* too long to be an address */
	memcpy(out, s, n);
	out[n] = '\0';
}

struct item {
	char plain[MAX_ADDR + 1]; /* text outside comments and <> */
	size_t plen;
	char angle[MAX_ADDR + 1]; /* the last <...> */
	bool has_angle, overflow;
};

static int finish(struct item *it, void (*fn)(void *, const char *), void *arg)
{
	char addr[MAX_ADDR + 1];
	if (it->has_angle) {
		const char *a = it->angle;
		const char *colon = strrchr(a, ':'); /* an obsolete source route "@a,@b:" */
		if (a[0] == '@' && colon)
			a = colon + 1;
		trim_into(a, strlen(a), addr, sizeof addr);
	} else {
		trim_into(it->plain, it->overflow ? 0 : it->plen, addr, sizeof addr);
	}
	memset(it, 0, sizeof *it);
	if (!addr[0] || !smtp_addr_valid(addr))
		return 0;
	fn(arg, addr);
	return 1;
}

/* One field value (unfolded). */
static int parse_value(const char *v, size_t n, void (*fn)(void *, const char *), void *arg)
{
	struct item it = {0};
	int found = 0, comment = 0;
	bool quote = false, angle = false;
	size_t alen = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];
		if (comment) {
			if (ch == '\\' && i + 1 < n)
				i++;
			else if (ch == '(')
				comment++;
			else if (ch == ')')
				comment--;
			continue;
		}
		if (angle) {
			if (ch == '>') {
				angle = false;
				it.angle[alen] = '\0';
				it.has_angle = true;
			} else if (alen < MAX_ADDR) {
				it.angle[alen++] = ch;
			}
			continue;
		}
		if (quote) {
			if (ch == '\\' && i + 1 < n) {
				if (it.plen + 2 <= MAX_ADDR) {
					it.plain[it.plen++] = ch;
					it.plain[it.plen++] = v[i + 1];
				} else {
					it.overflow = true;
				}
				i++;
				continue;
			}
			if (ch == '"')
				quote = false;
		} else if (ch == '"') {
			quote = true;
		} else if (ch == '(') {
			comment = 1;
			continue;
		} else if (ch == '<') {
			angle = true;
			alen = 0;
			continue;
		} else if (ch == ',' || ch == ';') {
			found += finish(&it, fn, arg);
			continue;
		} else if (ch == ':') {
			memset(&it, 0, sizeof it); /* "group name:" */
			continue;
		}
		if (it.plen < MAX_ADDR)
			it.plain[it.plen++] = ch;
		else
			it.overflow = true;
	}
	found += finish(&it, fn, arg);
	return found;
}

static bool wanted(const char *name, size_t n)
{
	static const char *const fields[] = {"to", "cc", "bcc"};
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (strlen(fields[i]) == n && !strncasecmp(name, fields[i], n))
			return true;
	return false;
}

int hdr_rcpt_addrs(const char *msg, size_t len, void (*fn)(void *arg, const char *addr), void *arg)
{
	struct buf field = BUF_INIT;
	int found = 0;
	bool in_field = false;
	size_t pos = 0;
	for (;;) {
		const char *line = msg + pos;
		const char *nl = pos < len ? memchr(line, '\n', len - pos) : NULL;
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		if (ll && line[ll - 1] == '\r')
			ll--;
		bool end = pos >= len || ll == 0;
		bool cont = !end && (line[0] == ' ' || line[0] == '\t');
		if (in_field && !cont) {
			found += parse_value(field.data, field.len, fn, arg);
			in_field = false;
		}
		if (end)
			break;
		if (cont) {
			if (in_field)
				buf_append(&field, line, ll);
		} else {
			const char *colon = memchr(line, ':', ll);
			if (colon && wanted(line, (size_t)(colon - line))) {
				buf_reset(&field);
				buf_append(&field, colon + 1, ll - (size_t)(colon + 1 - line));
				in_field = true;
			}
		}
		if (!nl)
			break;
		pos = (size_t)(nl - msg) + 1;
	}
	if (in_field)
		found += parse_value(field.data, field.len, fn, arg);
	buf_free(&field);
	return found;
}

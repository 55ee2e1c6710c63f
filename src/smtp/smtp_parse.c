/*
 * smtp_parse - verbs, paths, addresses and ESMTP parameters.
 */
#include "smtp_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
	{"HELO", SMTP_HELO}, {"EHLO", SMTP_EHLO}, {"MAIL", SMTP_MAIL}, {"RCPT", SMTP_RCPT},
	{"DATA", SMTP_DATA}, {"RSET", SMTP_RSET}, {"NOOP", SMTP_NOOP}, {"QUIT", SMTP_QUIT},
	{"VRFY", SMTP_VRFY}, {"EXPN", SMTP_EXPN}, {"HELP", SMTP_HELP}, {"STARTTLS", SMTP_STARTTLS},
	{"AUTH", SMTP_AUTH}, {"ETRN", SMTP_ETRN}, {"BDAT", SMTP_BDAT},
};

void smtp_parse_command(const char *line, struct smtp_cmd *cmd)
{
	size_t n = 0;
	while (line[n] && line[n] != ' ')
		n++;
	cmd->verb = SMTP_UNKNOWN;
	for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
		if (strlen(verbs[i].name) == n && !strncasecmp(line, verbs[i].name, n)) {
			cmd->verb = verbs[i].verb;
			break;
		}
	const char *a = line + n;
	while (*a == ' ')
		a++;
	cmd->arg = a;
}

static bool atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c);
}

static bool domain_valid(const char *d, size_t n)
{
	if (n == 0 || n > 255)
		return false;
	if (d[0] == '[') {
		if (d[n - 1] != ']' || n < 3)
			return false;
		for (size_t i = 1; i + 1 < n; i++)
			if (!isalnum((unsigned char)d[i]) && !strchr(".:-", d[i]))
				return false;
		return true;
	}
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (label == 0 && c == '-')
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

static bool local_valid(const char *l, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	if (l[0] == '"') {
		if (n < 2 || l[n - 1] != '"')
			return false;
		for (size_t i = 1; i + 1 < n; i++) {
			unsigned char c = (unsigned char)l[i];
			if (c == '\\') {
				if (i + 2 >= n)
					return false; /* nothing left to escape */
				i++;
				continue;
			}
			if (c < 0x20 || c > 0x7e || c == '"')
				return false;
		}
		return true;
	}
	bool empty = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];
		if (c == '.') {
			if (empty)
				return false;
			empty = true;
		} else if (atext(c)) {
			empty = false;
		} else {
			return false;
		}
	}
	return !empty;
}

bool smtp_addr_valid(const char *addr)
{
	const char *at = strrchr(addr, '@');
	if (!at)
		return false;
	return local_valid(addr, (size_t)(at - addr)) && domain_valid(at + 1, strlen(at + 1));
}

bool smtp_addr_split(const char *addr, char *local, size_t lsz, char *dom, size_t dsz)
{
	const char *at = strrchr(addr, '@');
	if (!at || (size_t)(at - addr) >= lsz || strlen(at + 1) >= dsz)
		return false;
	memcpy(local, addr, (size_t)(at - addr));
	local[at - addr] = '\0';
	size_t i = 0;
	for (const char *p = at + 1; *p; p++)
		dom[i++] = (char)tolower((unsigned char)*p);
	dom[i] = '\0';
	return true;
}

int smtp_parse_path(const char *arg, const char *keyword, bool allow_null, struct smtp_path *p)
{
	memset(p, 0, sizeof *p);
	size_t kl = strlen(keyword);
	if (strncasecmp(arg, keyword, kl))
		return -1;
	const char *s = arg + kl;
	while (*s == ' ')
		s++;
	const char *start, *end;
	if (*s == '<') {
		start = s + 1;
		/* the closing bracket, skipping quoted text */
		bool q = false;
		for (end = start; *end && (q || *end != '>'); end++) {
			if (*end == '\\' && q && end[1])
				end++;
			else if (*end == '"')
				q = !q;
		}
		if (*end != '>')
			return -1;
		s = end + 1;
	} else {
		start = s;
		for (end = s; *end && *end != ' '; end++)
			;
		s = end;
		if (end == start)
			return -1; /* an empty path needs its brackets: <> */
	}
	size_t n = (size_t)(end - start);
	/* drop an RFC 5321 source route "@a,@b:" */
	if (n && *start == '@') {
		const char *colon = memchr(start, ':', n);
		if (!colon)
			return -1;
		n -= (size_t)(colon + 1 - start);
		start = colon + 1;
	}
	if (n >= sizeof p->addr)
		return -1;
	memcpy(p->addr, start, n);
	p->addr[n] = '\0';
	if (n == 0) {
		if (!allow_null)
			return -2;
	} else if (!smtp_addr_valid(p->addr)) {
		return -2;
	}
	/* parameters */
	while (*s) {
		if (*s != ' ')
			return -1;
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if (p->nparams >= SMTP_MAX_PARAMS)
			return -1;
		const char *ks = s;
		while (*s && *s != ' ' && *s != '=')
			s++;
		size_t kn = (size_t)(s - ks);
		if (kn == 0 || kn >= sizeof p->key[0])
			return -1;
		for (size_t i = 0; i < kn; i++) {
			if (!isalnum((unsigned char)ks[i]) && ks[i] != '-')
				return -1;
			p->key[p->nparams][i] = (char)toupper((unsigned char)ks[i]);
		}
		p->key[p->nparams][kn] = '\0';
		if (*s == '=') {
			const char *vs = ++s;
			while (*s && *s != ' ')
				s++;
			size_t vn = (size_t)(s - vs);
			if (vn == 0 || vn >= sizeof p->value[0])
				return -1;
			for (size_t i = 0; i < vn; i++)
				if ((unsigned char)vs[i] < 0x21 || (unsigned char)vs[i] > 0x7e)
					return -1;
			memcpy(p->value[p->nparams], vs, vn);
			p->value[p->nparams][vn] = '\0';
		}
		p->nparams++;
	}
	return 0;
}

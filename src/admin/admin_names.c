/*
 * admin_names - syntax checks for domain names, user names, addresses and
 * stored values.
 *
 * Domain and user names are dot-atoms of RFC 5322 atext, as XMail checks
 * them, except that '/' is refused: it would name a path.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../core/xmalloc.h"
#include "admin.h"

static bool is_atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-=?^_`{|}~", c) != NULL;
}

/* 0 ok, 1 empty atom, 2 bad character */
static int dot_atom(const char *s, size_t max)
{
	size_t len = strlen(s);
	if (len == 0 || len > max)
		return len == 0 ? 1 : 2;
	bool atom_empty = true;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (atom_empty)
				return 1;
			atom_empty = true;
		} else if (is_atext((unsigned char)*p) && *p != '\0') {
			atom_empty = false;
		} else {
			return 2;
		}
	}
	return atom_empty ? 1 : 0;
}

enum tern_err admin_check_domain(const char *name)
{
	switch (dot_atom(name, 253)) {
	case 0:
		return TERN_OK;
	case 1:
		return TERN_E_BAD_ADDRESS;
	default:
		return TERN_E_BAD_DOMAIN;
	}
}

enum tern_err admin_check_user(const char *name)
{
	return dot_atom(name, 128) == 0 ? TERN_OK : TERN_E_BAD_USERNAME;
}

enum tern_err admin_check_address(const char *addr)
{
	const char *at = strrchr(addr, '@');
	if (!at || at == addr || strlen(addr) > 320)
		return TERN_E_BAD_ADDRESS;
	char local[256];
	size_t ll = (size_t)(at - addr);
	if (ll >= sizeof local)
		return TERN_E_BAD_ADDRESS;
	memcpy(local, addr, ll);
	local[ll] = '\0';
	if (dot_atom(local, 128) != 0 || dot_atom(at + 1, 253) != 0)
		return TERN_E_BAD_ADDRESS;
	return TERN_OK;
}

bool admin_value_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

void admin_lower_copy(char *out, size_t sz, const char *in)
{
	size_t i = 0;
	for (; in[i] && i + 1 < sz; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

int admin_names_row(void *arg, const char *const *f, int n)
{
	struct admin_names *nm = arg;
	if (n < 1)
		return 0;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 16;
		nm->v = xrealloc(nm->v, (size_t)nm->cap * sizeof *nm->v);
	}
	nm->v[nm->n++] = xstrdup(f[0]);
	return 0;
}

void admin_names_free(struct admin_names *nm)
{
	for (int i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	memset(nm, 0, sizeof *nm);
}

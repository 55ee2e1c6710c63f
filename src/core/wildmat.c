/*
 * wildmat - iterative glob matcher with backtracking on the last '*'.
 */
#include "wildmat.h"

#include <ctype.h>
#include <stddef.h>

static int lc(int c)
{
	return tolower((unsigned char)c);
}

/* Match one class starting at p (just after '['). Sets *end past ']'.
 * Returns 1 on match, 0 on no match, -1 if the class is malformed. */
static int match_class(const char *p, int c, const char **end)
{
	bool neg = false;
	bool hit = false;
	if (*p == '^' || *p == '!') {
		neg = true;
		p++;
	}
	bool first = true;
	while (*p && (*p != ']' || first)) {
		first = false;
		int lo = lc(*p);
		if (*p == '\\' && p[1])
			lo = lc(*++p);
		p++;
		int hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = lc(*p);
			p++;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	if (*p != ']')
		return -1;
	*end = p + 1;
	return hit != neg;
}

bool wildmat(const char *pattern, const char *value)
{
	const char *p = pattern, *v = value;
	const char *star_p = NULL, *star_v = NULL;
	while (*v) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_v = v;
			continue;
		}
		bool ok = false;
		const char *next = p + 1;
		if (*p == '?') {
			ok = true;
		} else if (*p == '[') {
			int r = match_class(p + 1, lc(*v), &next);
			if (r < 0) {
				ok = (*v == '[');
				next = p + 1;
			} else {
				ok = r == 1;
			}
		} else if (*p == '\\' && p[1]) {
			ok = lc(p[1]) == lc(*v);
			next = p + 2;
		} else if (*p) {
			ok = lc(*p) == lc(*v);
		}
		if (ok) {
			p = next;
			v++;
		} else if (star_p) {
			p = star_p;
			v = ++star_v;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool wildmat_has_wild(const char *pattern)
{
	for (const char *p = pattern; *p; p++)
		if (*p == '*' || *p == '?' || *p == '[' || *p == '\\')
			return true;
	return false;
}

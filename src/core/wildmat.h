/*
 * wildmat - XMail-style wildcard matching for list filters.
 *
 * '*' any run (possibly empty), '?' one character, '[set]', '[a-z]', '[^set]',
 * '\c' a literal c. ASCII case-insensitive; the pattern must cover the whole
 * value. wildmat_has_wild() tells whether a pattern contains any wildcard
 * syntax, so exact look-ups can use an index.
 */
#ifndef TERN_WILDMAT_H
#define TERN_WILDMAT_H

#include <stdbool.h>

bool wildmat(const char *pattern, const char *value);
bool wildmat_has_wild(const char *pattern);

#endif

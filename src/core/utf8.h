/*
 * utf8 - strict UTF-8 validation: no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequences.
 */
#ifndef TERN_UTF8_H
#define TERN_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool utf8_valid(const void *data, size_t n);

#endif

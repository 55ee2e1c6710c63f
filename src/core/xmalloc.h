/*
 * xmalloc - allocation that never returns NULL.
 *
 * Every function aborts the process with a fatal log line when memory is
 * exhausted; callers never check for NULL.
 */
#ifndef TERN_XMALLOC_H
#define TERN_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Free *pp and set it to NULL. */
void xfree(void *pp);

#endif

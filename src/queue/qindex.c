/*
 * qindex - hash table of queue entries plus an indexed min-heap of due times.
 */
#include "qindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/xmalloc.h"

struct qindex {
	struct qentry **bucket;
	size_t nbucket; /* power of two */
	size_t n;
	struct qentry **heap;
	int nheap, capheap;
};

static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct qindex *qindex_new(void)
{
	struct qindex *q = xcalloc(1, sizeof *q);
	q->nbucket = 1024;
	q->bucket = xcalloc(q->nbucket, sizeof *q->bucket);
	return q;
}

static void free_entry(struct qentry *e)
{
	free(e->from);
	free(e->rcpts);
	free(e->status);
	free(e);
}

void qindex_free(struct qindex *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nbucket; i++)
		for (struct qentry *e = q->bucket[i], *nx; e; e = nx) {
			nx = e->hnext;
			free_entry(e);
		}
	free(q->bucket);
	free(q->heap);
	free(q);
}

size_t qindex_count(const struct qindex *q)
{
	return q->n;
}

static void grow(struct qindex *q)
{
	size_t nb = q->nbucket * 2;
	struct qentry **b = xcalloc(nb, sizeof *b);
	for (size_t i = 0; i < q->nbucket; i++)
		for (struct qentry *e = q->bucket[i], *nx; e; e = nx) {
			nx = e->hnext;
			size_t k = hash_id(e->id) & (nb - 1);
			e->hnext = b[k];
			b[k] = e;
		}
	free(q->bucket);
	q->bucket = b;
	q->nbucket = nb;
}

struct qentry *qindex_find(const struct qindex *q, const char *id)
{
	for (struct qentry *e = q->bucket[hash_id(id) & (q->nbucket - 1)]; e; e = e->hnext)
		if (!strcmp(e->id, id))
			return e;
	return NULL;
}

struct qentry *qindex_add(struct qindex *q, const char *id)
{
	if (strlen(id) >= sizeof ((struct qentry *)0)->id || qindex_find(q, id))
		return NULL;
	if (q->n >= q->nbucket)
		grow(q);
	struct qentry *e = xcalloc(1, sizeof *e);
	snprintf(e->id, sizeof e->id, "%s", id);
	e->heap_pos = -1;
	e->from = xstrdup("");
	e->rcpts = xstrdup("");
	e->status = xstrdup("");
	size_t k = hash_id(id) & (q->nbucket - 1);
	e->hnext = q->bucket[k];
	q->bucket[k] = e;
	q->n++;
	return e;
}

/* ---- heap ---- */

static void put(struct qindex *q, int i, struct qentry *e)
{
	q->heap[i] = e;
	e->heap_pos = i;
}

static void sift_up(struct qindex *q, int i)
{
	struct qentry *e = q->heap[i];
	while (i > 0) {
		int p = (i - 1) / 2;
		if (q->heap[p]->due <= e->due)
			break;
		put(q, i, q->heap[p]);
		i = p;
	}
	put(q, i, e);
}

static void sift_down(struct qindex *q, int i)
{
	struct qentry *e = q->heap[i];
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = l;
		if (l >= q->nheap)
			break;
		if (r < q->nheap && q->heap[r]->due < q->heap[l]->due)
			m = r;
		if (q->heap[m]->due >= e->due)
			break;
		put(q, i, q->heap[m]);
		i = m;
	}
	put(q, i, e);
}

void qindex_unschedule(struct qindex *q, struct qentry *e)
{
	int i = e->heap_pos;
	if (i < 0)
		return;
	e->heap_pos = -1;
	struct qentry *last = q->heap[--q->nheap];
	if (i == q->nheap)
		return;
	put(q, i, last);
	sift_up(q, i);
	sift_down(q, last->heap_pos);
}

void qindex_schedule(struct qindex *q, struct qentry *e, time_t when)
{
	if (e->heap_pos >= 0) {
		e->due = when;
		sift_up(q, e->heap_pos);
		sift_down(q, e->heap_pos);
		return;
	}
	if (q->nheap == q->capheap) {
		q->capheap = q->capheap ? q->capheap * 2 : 256;
		q->heap = xrealloc(q->heap, (size_t)q->capheap * sizeof *q->heap);
	}
	e->due = when;
	put(q, q->nheap, e);
	sift_up(q, q->nheap++);
}

struct qentry *qindex_first(const struct qindex *q)
{
	return q->nheap ? q->heap[0] : NULL;
}

void qindex_remove(struct qindex *q, struct qentry *e)
{
	qindex_unschedule(q, e);
	struct qentry **pp = &q->bucket[hash_id(e->id) & (q->nbucket - 1)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = e->hnext;
		q->n--;
	}
	free_entry(e);
}

void qindex_each(const struct qindex *q, bool (*fn)(struct qentry *e, void *arg), void *arg)
{
	for (size_t i = 0; i < q->nbucket; i++)
		for (struct qentry *e = q->bucket[i]; e; e = e->hnext)
			if (!fn(e, arg))
				return;
}

void qentry_set(char **field, const char *value)
{
	char *v = xstrdup(value ? value : "");
	free(*field);
	*field = v;
}

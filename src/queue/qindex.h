/*
 * qindex - the in-memory index of the remote queue: every entry of
 * spool/remote by id (hash table) and the waiting ones ordered by due time
 * (an indexed binary heap, so rescheduling and removal are O(log n) and an
 * entry is never in the heap twice).
 *
 * Listing walks the index, scheduling pops the heap: neither reads the
 * spool. Not thread-safe: the owner (outbound) holds its lock.
 */
#ifndef TERN_QINDEX_H
#define TERN_QINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct qentry {
	char id[64];
	time_t arrived;  /* when the message entered the queue */
	time_t due;      /* next attempt (meaningful while in the heap) */
	int attempts;
	uint64_t size;   /* message bytes */
	bool busy;       /* an attempt is running */
	bool warned;     /* the delay warning was sent */
	int pending;     /* owner's note: an action to take when the attempt ends */
	char *from;      /* envelope sender ("" = null sender) */
	char *rcpts;     /* recipients still to do, joined by ',' */
	char *status;    /* last result, "" before the first attempt */
	/* private */
	int heap_pos;    /* -1 when not in the heap */
	struct qentry *hnext;
};

struct qindex;

struct qindex *qindex_new(void);
void qindex_free(struct qindex *q);
size_t qindex_count(const struct qindex *q);

/* A new entry (zeroed, heap_pos -1) owned by the index; NULL if the id is
 * already present. */
struct qentry *qindex_add(struct qindex *q, const char *id);
struct qentry *qindex_find(const struct qindex *q, const char *id);
/* Unlink and free. */
void qindex_remove(struct qindex *q, struct qentry *e);
/* (Re)schedule: insert into the heap or move within it. */
void qindex_schedule(struct qindex *q, struct qentry *e, time_t when);
/* Take out of the heap (no-op when not in it). */
void qindex_unschedule(struct qindex *q, struct qentry *e);
/* The entry due first, or NULL; stays in the heap. */
struct qentry *qindex_first(const struct qindex *q);
/* Call fn for each entry (any order); stop when it returns false. */
void qindex_each(const struct qindex *q, bool (*fn)(struct qentry *e, void *arg), void *arg);

/* Replace a string field (frees the old value). */
void qentry_set(char **field, const char *value);

#endif

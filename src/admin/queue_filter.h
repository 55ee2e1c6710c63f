/*
 * queue_filter - the queue filter grammar (CLI `LIST FILTER`) and the
 * words that describe a queue entry, independent of any protocol.
 *
 * Conditions, all of which must hold:
 *   size>V size<V size=V        bytes; suffix K or M
 *   age>V age<V age=V           seconds in the queue; suffix h or d
 *   retries>N retries<N retries=N
 *   status=S                    the state word contains S
 *   sender=S sender!=S          the sender contains / does not contain S
 *   recipient=S recipient!=S    a recipient contains / none contains S
 *   next_schedule>D <D =D       D like "2 Jan 2007 17:34" (UTC; = is the same minute)
 *   message=S message!=S        the last failure text contains / does not
 * String comparisons ignore case.
 */
#ifndef TERN_QUEUE_FILTER_H
#define TERN_QUEUE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "admin.h"

#define QUEUE_FILTER_MAX 16

enum qf_field { QF_SIZE, QF_AGE, QF_RETRIES, QF_STATUS, QF_SENDER, QF_RECIPIENT, QF_NEXT, QF_MESSAGE };
enum qf_op { QF_GT, QF_LT, QF_EQ, QF_NE };

struct qf_cond {
	enum qf_field field;
	enum qf_op op;
	long long num; /* sizes, ages, retries, times */
	char str[256];
};

struct queue_filter {
	int n;
	struct qf_cond c[QUEUE_FILTER_MAX];
};

/* Parse tokens (a date may span several tokens). On error returns
 * TERN_E_SYNTAX and names the bad condition in err. */
enum tern_err queue_filter_parse(char *const *tok, int ntok, struct queue_filter *f, char *err, size_t esz);
bool queue_filter_match(const struct queue_filter *f, const struct queue_row *r, time_t now);

/* One word for the entry's state: "new" (never attempted), "deferred",
 * "delivering". */
const char *queue_row_state(const struct queue_row *r);
/* "3d4h", "2h5m", "42s": no spaces, for table cells. */
void queue_format_age(long long seconds, char *out, size_t sz);

#endif

/*
 * queue_filter - parse and apply queue filter conditions.
 */
#include "queue_filter.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum qf_field field;
	bool numeric;
	bool date;
	const char *ops; /* allowed operators, by first character */
} fields[] = {
	{"size", QF_SIZE, true, false, "><="},	      {"age", QF_AGE, true, false, "><="},
	{"retries", QF_RETRIES, true, false, "><="},  {"status", QF_STATUS, false, false, "="},
	{"sender", QF_SENDER, false, false, "=!"},    {"recipient", QF_RECIPIENT, false, false, "=!"},
	{"next_schedule", QF_NEXT, false, true, "><="}, {"message", QF_MESSAGE, false, false, "=!"},
};

static bool parse_number(const char *v, enum qf_field f, long long *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (end == v || n < 0 || errno)
		return false;
	long long mul = 1;
	if (*end) {
		int c = tolower((unsigned char)*end);
		if (end[1])
			return false;
		if (f == QF_SIZE && c == 'k')
			mul = 1024;
		else if (f == QF_SIZE && c == 'm')
			mul = 1024 * 1024;
		else if (f == QF_AGE && c == 'h')
			mul = 3600;
		else if (f == QF_AGE && c == 'd')
			mul = 86400;
		else if (f == QF_AGE && c == 's')
			mul = 1;
		else
			return false;
	}
	if (n > (long long)1 << 50)
		return false;
	*out = n * mul;
	return true;
}

/* "2 Jan 2007 17:34" (UTC). */
static bool parse_date(const char *v, long long *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(v, "%d %b %Y %H:%M", &tm);
	if (!end || *end)
		return false;
	*out = (long long)timegm(&tm);
	return true;
}

enum tern_err queue_filter_parse(char *const *tok, int ntok, struct queue_filter *f, char *err, size_t esz)
{
	f->n = 0;
	for (int i = 0; i < ntok; i++) {
		const char *t = tok[i];
		size_t nl = strcspn(t, "<>=!");
		int k = -1;
		for (size_t j = 0; j < sizeof fields / sizeof *fields; j++)
			if (strlen(fields[j].name) == nl && !strncasecmp(fields[j].name, t, nl))
				k = (int)j;
		const char *op = t + nl;
		if (k < 0 || !*op || !strchr(fields[k].ops, *op) || (op[0] == '!' && op[1] != '=')) {
			snprintf(err, esz, "Invalid filter condition '%.100s'", t);
			return TERN_E_SYNTAX;
		}
		if (f->n == QUEUE_FILTER_MAX) {
			snprintf(err, esz, "Too many filter conditions (at most %d)", QUEUE_FILTER_MAX);
			return TERN_E_SYNTAX;
		}
		struct qf_cond *c = &f->c[f->n];
		memset(c, 0, sizeof *c);
		c->field = fields[k].field;
		c->op = *op == '>' ? QF_GT : *op == '<' ? QF_LT : *op == '!' ? QF_NE : QF_EQ;
		const char *v = op + (*op == '!' ? 2 : 1);
		bool ok;
		if (fields[k].numeric) {
			ok = parse_number(v, c->field, &c->num);
		} else if (fields[k].date) {
			/* the date may have been split on its spaces */
			char d[128];
			snprintf(d, sizeof d, "%s", v);
			ok = parse_date(d, &c->num);
			for (int more = 1; !ok && more <= 3 && i + more < ntok; more++) {
				size_t l = strlen(d);
				snprintf(d + l, sizeof d - l, " %s", tok[i + more]);
				if ((ok = parse_date(d, &c->num)))
					i += more;
			}
		} else {
			ok = *v && strlen(v) < sizeof c->str;
			if (ok)
				snprintf(c->str, sizeof c->str, "%s", v);
		}
		if (!ok) {
			snprintf(err, esz, "Invalid value in filter condition '%.100s'", t);
			return TERN_E_SYNTAX;
		}
		f->n++;
	}
	return TERN_OK;
}

static bool cmp_num(long long have, enum qf_op op, long long want)
{
	return op == QF_GT ? have > want : op == QF_LT ? have < want : have == want;
}

static bool contains(const char *hay, const char *needle)
{
	return strcasestr(hay ? hay : "", needle) != NULL;
}

static bool any_rcpt_contains(const char *rcpts, const char *needle)
{
	char one[600];
	for (const char *p = rcpts ? rcpts : ""; *p;) {
		size_t l = strcspn(p, ",");
		if (l < sizeof one) {
			memcpy(one, p, l);
			one[l] = '\0';
			if (contains(one, needle))
				return true;
		}
		p += l + (p[l] == ',');
	}
	return false;
}

bool queue_filter_match(const struct queue_filter *f, const struct queue_row *r, time_t now)
{
	for (int i = 0; i < f->n; i++) {
		const struct qf_cond *c = &f->c[i];
		bool ok = true;
		switch (c->field) {
		case QF_SIZE:
			ok = cmp_num((long long)r->size, c->op, c->num);
			break;
		case QF_AGE:
			ok = cmp_num((long long)(now - r->arrived), c->op, c->num);
			break;
		case QF_RETRIES:
			ok = cmp_num(r->attempts, c->op, c->num);
			break;
		case QF_STATUS:
			ok = contains(queue_row_state(r), c->str);
			break;
		case QF_SENDER:
			ok = contains(r->from[0] ? r->from : "<>", c->str) == (c->op == QF_EQ);
			break;
		case QF_RECIPIENT:
			ok = any_rcpt_contains(r->rcpts, c->str) == (c->op == QF_EQ);
			break;
		case QF_MESSAGE:
			ok = contains(r->status, c->str) == (c->op == QF_EQ);
			break;
		case QF_NEXT:
			if (r->busy)
				ok = false;
			else if (c->op == QF_EQ)
				ok = (long long)r->next / 60 == c->num / 60;
			else
				ok = cmp_num((long long)r->next, c->op, c->num);
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

const char *queue_row_state(const struct queue_row *r)
{
	if (r->busy)
		return "delivering";
	return r->attempts == 0 ? "new" : "deferred";
}

void queue_format_age(long long s, char *out, size_t sz)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, sz, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, sz, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, sz, "%lldm%llds", s / 60, s % 60);
	else
		snprintf(out, sz, "%llds", s);
}

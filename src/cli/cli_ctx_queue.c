/*
 * cli_ctx_queue - the mail queue context (<queue#>, root: ENTER QUEUE):
 * what outbound delivery holds now, through the admin core's queue verbs
 * (admin.h, struct queue_ops) - the same queue the controller's etrn and
 * the frozen-queue commands act on.
 *
 * LIST / LIST FILTER print spec 6.5 tables (id | size | age | retries |
 * status | nextSchedule | sender | recipients); LIST ID prints the SHOW
 * shape of 6.6. LIST FILTER remembers its matches for the session as
 * `lastFilter`, which RETRY, NDR, DELETE and FREEZE accept instead of an
 * id. FREEZE (move to the frozen queue with the delivery log) is Tern's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../admin/queue_filter.h"
#include "../core/xmalloc.h"
#include "cli_ctx.h"

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N CLI_N
#define ID_ARG {CLI_ARG_POS, NULL, "mailid|lastFilter", false}

static const struct cli_ctx_reg queue_ctxs[] = {
	{CLI_CTX_QUEUE, {"queue", "QUEUE", "queue entry", NULL, 0, CLI_CTX_ROOT}},
};

static void h_enter_queue(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_push(s, CLI_CTX_QUEUE);
	if (!f)
		return;
	snprintf(f->name, sizeof f->name, "queue");
	cli_ok(s);
}

/* A cell without spaces: "-" when empty, spaces as '_'. */
static void cell(const char *in, char *out, size_t sz)
{
	if (!in || !*in) {
		snprintf(out, sz, "-");
		return;
	}
	size_t i = 0;
	for (; in[i] && i < sz - 1; i++)
		out[i] = (in[i] == ' ' || in[i] == '\t') ? '_' : in[i];
	out[i] = '\0';
}

static void next_text(const struct queue_row *r, char *out, size_t sz)
{
	if (r->busy) {
		snprintf(out, sz, "now");
		return;
	}
	struct tm tm;
	gmtime_r(&r->next, &tm);
	strftime(out, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct listing {
	struct cli_session *s;
	const struct queue_filter *filter; /* NULL: all */
	time_t now;
	char **ids; /* matches, kept for lastFilter */
	int n, cap;
};

static bool row_out(const struct queue_row *r, void *arg)
{
	struct listing *l = arg;
	if (l->filter && !queue_filter_match(l->filter, r, l->now))
		return true;
	char age[32], next[40], from[340], line[2048];
	queue_format_age((long long)(l->now - r->arrived), age, sizeof age);
	next_text(r, next, sizeof next);
	cell(r->from[0] ? r->from : "<>", from, sizeof from);
	snprintf(line, sizeof line, "%s | %llu | %s | %d | %s | %s | %s | %.1500s", r->id, (unsigned long long)r->size,
		 age, r->attempts, queue_row_state(r), next, from, r->rcpts[0] ? r->rcpts : "-");
	cli_list_row(l->s, line);
	if (l->filter) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->ids = xrealloc(l->ids, (size_t)l->cap * sizeof *l->ids);
		}
		l->ids[l->n++] = xstrdup(r->id);
	}
	return !l->s->c.failed;
}

#define HEADER "id | size | age | retries | status | nextSchedule | sender | recipients"

static void h_list(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct listing l = {s, NULL, time(NULL), NULL, 0, 0};
	cli_table_begin(s, "The list of queue entries:", HEADER);
	cli_list_end(s, admin_queue_list(&s->ctx, row_out, &l));
}

static void forget_filter(struct cli_session *s)
{
	for (int i = 0; i < s->nlast_filter; i++)
		free(s->last_filter[i]);
	free(s->last_filter);
	s->last_filter = NULL;
	s->nlast_filter = 0;
	s->have_last_filter = false;
}

static void h_list_filter(struct cli_session *s, const struct cli_parsed *p)
{
	struct queue_filter f;
	char err[200];
	int first = p->set_first;
	if (queue_filter_parse(p->t->v + first, p->t->n - first, &f, err, sizeof err) != TERN_OK) {
		cli_err(s, "%s", err);
		return;
	}
	struct listing l = {s, &f, time(NULL), NULL, 0, 0};
	cli_table_begin(s, "The list of queue entries:", HEADER);
	enum tern_err e = admin_queue_list(&s->ctx, row_out, &l);
	cli_list_end(s, e);
	forget_filter(s);
	if (e == TERN_OK) {
		s->last_filter = l.ids;
		s->nlast_filter = l.n;
		s->have_last_filter = true;
	} else {
		for (int i = 0; i < l.n; i++)
			free(l.ids[i]);
		free(l.ids);
	}
}

struct one {
	const char *id;
	struct queue_row r;
	char *status, *from, *rcpts;
	bool found;
};

static bool find_one(const struct queue_row *r, void *arg)
{
	struct one *o = arg;
	if (strcmp(r->id, o->id))
		return true;
	o->r = *r;
	o->r.id = o->id; /* the row's strings do not outlive the listing */
	o->r.from = o->r.rcpts = o->r.status = NULL;
	o->status = xstrdup(r->status);
	o->from = xstrdup(r->from);
	o->rcpts = xstrdup(r->rcpts);
	o->found = true;
	return false;
}

static void show_str(struct cli_session *s, const char *k, const char *v)
{
	conn_printf(&s->c, "%s = \"", k);
	for (const char *c = v; *c; c++)
		conn_printf(&s->c, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
	conn_puts(&s->c, "\"\r\n");
}

static void h_list_id(struct cli_session *s, const struct cli_parsed *p)
{
	struct one o = {p->val[0], {0}, NULL, NULL, NULL, false};
	enum tern_err e = admin_queue_list(&s->ctx, find_one, &o);
	if (e == TERN_OK && !o.found)
		e = TERN_E_QUEUE_NOT_FOUND;
	if (e) {
		cli_err_core(s, e, "Message", p->val[0]);
		return;
	}
	char age[32], next[40];
	queue_format_age((long long)(time(NULL) - o.r.arrived), age, sizeof age);
	o.r.status = o.status;
	next_text(&o.r, next, sizeof next);
	conn_puts(&s->c, "\r\nThe attributes of this queue entry:\r\n");
	show_str(s, "id", o.r.id);
	conn_printf(&s->c, "size = %llu\r\nage = %s\r\nretries = %d\r\nstatus = %s\r\n",
		    (unsigned long long)o.r.size, age, o.r.attempts, queue_row_state(&o.r));
	show_str(s, "nextSchedule", next);
	show_str(s, "sender", o.from);
	show_str(s, "recipients", o.rcpts);
	show_str(s, "message", o.status);
	conn_puts(&s->c, "\r\n");
	cli_ok(s);
	free(o.status);
	free(o.from);
	free(o.rcpts);
}

/* Apply a verb to one id or to every id of the last filter. */
static void by_id_or_filter(struct cli_session *s, const struct cli_parsed *p,
			    enum tern_err (*verb)(struct admin_ctx *, const char *), const char *done)
{
	const char *id = p->val[0];
	if (strcasecmp(id, "lastFilter")) {
		enum tern_err e = verb(&s->ctx, id);
		if (e) {
			cli_err_core(s, e, "Message", id);
			return;
		}
		cli_detail_add(s, "%s %s", done, id);
		cli_ok(s);
		return;
	}
	if (!s->have_last_filter) {
		cli_err(s, "No LIST FILTER in this session: lastFilter is empty");
		return;
	}
	int ok = 0, gone = 0;
	for (int i = 0; i < s->nlast_filter; i++) {
		enum tern_err e = verb(&s->ctx, s->last_filter[i]);
		if (e == TERN_OK)
			ok++;
		else if (e == TERN_E_QUEUE_NOT_FOUND)
			gone++; /* delivered or removed since the listing */
		else {
			cli_err_core(s, e, "Message", s->last_filter[i]);
			return;
		}
	}
	cli_detail_add(s, "%s %d message(s) of lastFilter", done, ok);
	char text[160];
	snprintf(text, sizeof text, "%d message(s) %s%s", ok, done,
		 gone ? ", the others left the queue since the LIST FILTER" : "");
	cli_ok_text(s, text);
}

static void h_retry(struct cli_session *s, const struct cli_parsed *p)
{
	by_id_or_filter(s, p, admin_queue_retry, "rescheduled now");
}

static void h_ndr(struct cli_session *s, const struct cli_parsed *p)
{
	by_id_or_filter(s, p, admin_queue_ndr, "bounced to their senders");
}

static void h_delete(struct cli_session *s, const struct cli_parsed *p)
{
	by_id_or_filter(s, p, admin_queue_delete, "deleted");
}

static void h_freeze(struct cli_session *s, const struct cli_parsed *p)
{
	by_id_or_filter(s, p, admin_queue_freeze, "frozen");
}

static void h_force(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	int n = 0;
	enum tern_err e = admin_queue_force(&s->ctx, &n);
	if (e) {
		cli_err_core(s, e, NULL, NULL);
		return;
	}
	char text[80];
	snprintf(text, sizeof text, "%d message(s) scheduled for delivery now", n);
	cli_detail_add(s, "forced %d message(s)", n);
	cli_ok_text(s, text);
}

static const struct cli_cmd queue_cmds[] = {
	{IN(ROOT), "ENTER QUEUE", {{0}}, CLI_READS | CLI_ENTERS(QUEUE), h_enter_queue,
	 "Enter the mail queue: the messages waiting for delivery to other servers."},
	{IN(QUEUE), "LIST", {{0}}, CLI_READS, h_list, "Table of all queued messages."},
	{IN(QUEUE), "LIST ID", {{CLI_ARG_POS, NULL, "mailid", false}}, CLI_READS, h_list_id,
	 "Full details of one queued message, with its last failure."},
	{IN(QUEUE), "LIST FILTER", {{CLI_ARG_REST, NULL, "condition", false}}, CLI_READS, h_list_filter,
	 "Messages matching every condition (size>V size<V size=V with K/M, age>V age<V age=V with h/d, "
	 "retries>N retries<N retries=N, status=S, sender=S sender!=S, recipient=S recipient!=S, "
	 "next_schedule>D <D =D like \"2 Jan 2007 17:34\", message=S message!=S); remembered as lastFilter."},
	{IN(QUEUE), "RETRY", {ID_ARG}, CLI_CHANGES, h_retry,
	 "Attempt one message, or every match of the last LIST FILTER, now."},
	{IN(QUEUE), "NDR", {ID_ARG}, CLI_CHANGES | CLI_DESTRUCTIVE, h_ndr,
	 "Bounce one message (or lastFilter's matches) to its sender and remove it from the queue."},
	{IN(QUEUE), "DELETE", {ID_ARG}, CLI_CHANGES | CLI_DESTRUCTIVE, h_delete,
	 "Remove one message (or lastFilter's matches) from the queue without notice."},
	{IN(QUEUE), "FREEZE", {ID_ARG}, CLI_CHANGES, h_freeze,
	 "Move one message (or lastFilter's matches) to the frozen queue with its delivery log "
	 "(the controller's frozlist/frozsubmit reach it)."},
	{IN(QUEUE), "FORCE QUEUE", {{0}}, CLI_CHANGES, h_force, "Attempt every queued message now, ignoring the schedule."},
};

const struct cli_part cli_part_queue = {queue_ctxs, N(queue_ctxs), queue_cmds, N(queue_cmds)};

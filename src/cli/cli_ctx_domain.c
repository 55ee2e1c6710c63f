/*
 * cli_ctx_domain - the domain-side contexts beyond accounts: account
 * limits, the domain's defaults for new accounts (quotas and limits),
 * groups (forwarders), mailing lists and their subscribers.
 *
 * Where values live:
 *   account limits        account variables "Limits.<attr>", which SMTP
 *                         enforces for authenticated senders (see
 *                         src/smtp/send_limits.h); `services` also sets
 *                         ReceiveEnable (smtpIn: delivery), PopEnable
 *                         (pop3: POP3 login) and SmtpSendEnable (smtpOut:
 *                         MAIL FROM of the authenticated account), in the
 *                         same commit; pop3ConnectionCount is 1 or 0
 *                         (Limits.pop3ConnectionCount "0": POP3 refuses
 *                         the login; more than 1 is refused, the RFC 1939
 *                         maildrop lock allows one session), IMAP and
 *                         webmail attributes are refused; SHOW/RESET
 *                         sendQuota read and zero SMTP's send counters
 *                         (cli_sendquota.c);
 *   domain defaults       the domain's userdef.tab (what new accounts
 *                         start with, what RESET <attr> goes back to); in
 *                         the domain frame under keys "def:<variable>",
 *                         written at the domain's COMMIT;
 *   groups and lists      mailing-list accounts of the admin core (type
 *                         'M', members in the store, see admin_cli.h):
 *                         delivery expands them to their members, the
 *                         controller's mluserlist shows the members;
 *                         list attributes are variables (ListDescription,
 *                         ListAdminEmail, ListSenderAllow -> ClosedML);
 *                         subscriber names are variables MemberName.<addr>.
 * In a group or list frame, alias_add/alias_del hold the member addresses
 * to add/remove at COMMIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../admin/admin_cli.h"
#include "../admin/domain_services.h"
#include "cli_ctx.h"

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N CLI_N

/* ---- attributes ---- */

#define SERVICES "pop3|imap|smtpIn|smtpOut|webmail|webadmin"
#define LIMIT_NUM(n, k, lo, def, h) {n, CLI_AT_NUMBER, k "Limits." n, NULL, lo, 2147483647LL, def, 0, h}
#define LIMIT_ATTRS(k)                                                                                          \
	{"services", CLI_AT_SET, k "Limits.services", SERVICES, 0, 0, "(pop3 imap smtpIn smtpOut webmail)", 0,    \
	 "Services enabled, e.g. (pop3 smtpIn smtpOut): without smtpIn the account receives no mail "            \
	 "(ReceiveEnable), without pop3 POP3 refuses its login (PopEnable), without smtpOut SMTP refuses its "   \
	 "MAIL FROM (SmtpSendEnable)."},                                                                        \
		LIMIT_NUM("sentMessagesCount", k, 0, "0",                                                       \
			  "Messages the account may send over authenticated SMTP per interval, 0 = no limit; "  \
			  "more are refused with 450 4.7.1."),                                                  \
		LIMIT_NUM("sentRecipientsCount", k, 0, "0",                                                     \
			  "Recipients the account may send to per interval, 0 = no limit; more are refused at " \
			  "RCPT with 450 4.7.1."),                                                              \
		LIMIT_NUM("sentMessagesSize", k, 0, "0",                                                        \
			  "KB the account may send per interval, 0 = no limit; more are refused with 450 "      \
			  "4.7.1."),                                                                            \
		LIMIT_NUM("sentMessagesInterval", k, 1, "3600",                                                 \
			  "Length of that interval in seconds (a fixed window from the first message; the "     \
			  "counts are kept in memory and start afresh when the server restarts)."),             \
		{"pop3ConnectionCount", CLI_AT_NUMBER, k "Limits.pop3ConnectionCount", NULL, 0, 1, "1",        \
		 CLI_AF_EXPLAIN,                                                                                \
		 "POP3 sessions at a time: 1, or 0 to refuse the account's POP3 logins. No more than 1: POP3 " \
		 "locks the maildrop exclusively (RFC 1939), so a second session is always refused."},         \
		{"imapConnectionCount", CLI_AT_NUMBER, NULL, NULL, 0, 0, NULL, CLI_AF_WHY | CLI_AF_NOSET | CLI_AF_NOSHOW, \
		 "Not supported: Tern has no IMAP service."},                                                   \
		{"webmailAttSize", CLI_AT_NUMBER, NULL, NULL, 0, 0, NULL, CLI_AF_WHY | CLI_AF_NOSET | CLI_AF_NOSHOW,    \
		 "Not supported: Tern has no webmail service."}

static const struct cli_attr limit_attrs[] = {LIMIT_ATTRS("")};
static const struct cli_attr def_limit_attrs[] = {LIMIT_ATTRS("def:")};

static const struct cli_attr def_quota_attrs[] = {
	{"totalMessageSize", CLI_AT_NUMBER, "def:MaxMBSize", NULL, 0, 4294967295LL, "0", 0,
	 "Mailbox size limit in KB new accounts start with, 0 = none (MaxMBSize in userdef.tab)."},
	CLI_QUOTA_ATTRS("def:"),
};

static const struct cli_attr group_attrs[] = {
	{"name", CLI_AT_STRING, "@name", NULL, 0, 0, "", 0,
	 "Name of the group; SET name renames it at COMMIT (aliases and memberships follow)."},
	{"distributeEmailTo", CLI_AT_CHOICE, NULL, "members", 0, 0, "members", 0,
	 "Who receives mail sent to the group; only members."},
	{"receiveEmailFrom", CLI_AT_CHOICE, NULL, "anybody", 0, 0, "anybody", 0,
	 "Who may send to the group; only anybody."},
	{"publishContactInfo", CLI_AT_CHOICE, NULL, "no", 0, 0, "no", 0, "Address book publishing; only no."},
	{"enable", CLI_AT_BOOL, "ReceiveEnable", NULL, 0, 0, "1", 0,
	 "yes: the group receives mail; no: SMTP refuses RCPT to its address (550 5.2.1), members and "
	 "settings kept (the ReceiveEnable variable of the group)."},
};

static const struct cli_attr list_attrs[] = {
	{"name", CLI_AT_STRING, "@name", NULL, 0, 0, "", 0,
	 "Name of the list; SET name renames it at COMMIT (aliases and memberships follow)."},
	{"password", CLI_AT_SECRET, "@password", NULL, 0, 0, NULL, CLI_AF_NOSHOW, "Password of the list's account."},
	{"description", CLI_AT_STRING, "ListDescription", NULL, 0, 0, "", 0, "List description."},
	{"adminEmail", CLI_AT_STRING, "ListAdminEmail", NULL, 0, 0, "", 0, "Address of the list administrator."},
	{"senderAllow", CLI_AT_CHOICE, "ListSenderAllow", "anybody|members", 0, 0, "anybody", 0,
	 "Who may post: anybody, or members only (ClosedML)."},
	{"services", CLI_AT_SET, "ListServices", "smtpIn", 0, 0, "(smtpIn)", 0,
	 "(smtpIn): the list receives posts; (): SMTP refuses RCPT to its address (ReceiveEnable=0). A list "
	 "has no mailbox and does not log in, so pop3, smtpOut, imap and webmail are refused."},
};

static const struct cli_attr list_user_attrs[] = {
	{"email", CLI_AT_STRING, "@name", NULL, 0, 0, "", 0,
	 "Address of the subscriber; SET email (UPDATE User only) changes it at the list's COMMIT."},
	{"name", CLI_AT_STRING, "@uname", NULL, 0, 0, "", 0, "Display name of the subscriber."},
};

static const struct cli_ctx_reg domain_ctxs[] = {
	{CLI_CTX_LIMITS, {"limits", "Limits", "limit set", limit_attrs, N(limit_attrs), CLI_CTX_ACCOUNT}},
	{CLI_CTX_DEF_QUOTAS,
	 {"accountDefaultQuotas", "Quotas", "quota set", def_quota_attrs, N(def_quota_attrs), CLI_CTX_DOMAIN}},
	{CLI_CTX_DEF_LIMITS,
	 {"accountDefaultLimits", "Limits", "limit set", def_limit_attrs, N(def_limit_attrs), CLI_CTX_DOMAIN}},
	{CLI_CTX_GROUP, {"group", "Group", "group", group_attrs, N(group_attrs), CLI_CTX_DOMAIN}},
	{CLI_CTX_LIST, {"list", "List", "list", list_attrs, N(list_attrs), CLI_CTX_DOMAIN}},
	{CLI_CTX_LIST_USER, {"user", "User", "user", list_user_attrs, N(list_user_attrs), CLI_CTX_LIST}},
};

static bool has_service(const char *set, const char *name)
{
	size_t l = strlen(name);
	for (const char *p = set; *p;) {
		p += strspn(p, "( ,\t)");
		size_t wl = strcspn(p, "( ,\t)");
		if (wl == l && !strncasecmp(p, name, l))
			return true;
		p += wl;
	}
	return false;
}

int cli_services_vars(const char *services, const char **vars, int n)
{
	static const char *const map[][2] = {
		{"ReceiveEnable", "smtpIn"}, {"PopEnable", "pop3"}, {"SmtpSendEnable", "smtpOut"}};
	for (int i = 0; i < 3; i++) {
		vars[2 * n] = map[i][0];
		vars[2 * n + 1] = !services || has_service(services, map[i][1]) ? "1" : "0";
		n++;
	}
	return n;
}

/* ---- sub-contexts of an account or a domain ---- */

/* RESET <attr> in account limits: back to the domain's default. */
static void h_reset_limit(struct cli_session *s, const struct cli_parsed *p)
{
	struct cli_frame *f = cli_cur(s);
	const struct cli_attr *a = cli_attr_find(f->ctx, p->val[0]);
	if (a && !p->t->lit[p->first] && !a->key && (a->flags & CLI_AF_WHY)) {
		cli_err(s, "%s cannot be reset. %s", a->name, a->help);
		return;
	}
	if (!a || p->t->lit[p->first] || !a->key) {
		cli_err(s, "Unknown attribute %s", p->val[0]);
		return;
	}
	cli_reset_to_default(s, f, a->key);
}

/* ---- groups and lists: shared ---- */

struct member_rows {
	struct cli_session *s;
	struct cli_frame *f;
	bool with_names;
	const char *probe; /* set: look for this address only */
	bool found;
};

static const char *member_name(struct cli_session *s, int d, const char *addr)
{
	char key[600];
	snprintf(key, sizeof key, "MemberName.%s", addr);
	for (int i = d; i >= 0; i--) {
		const struct cli_kv *kv = cli_kv_find(&s->f[i].edits, key);
		if (kv)
			return kv->v && kv->v[0] ? kv->v : "-";
		if (s->f[i].ctx == CLI_CTX_LIST)
			break;
	}
	const struct cli_kv *kv = cli_kv_find(&s->f[d].base, key);
	return kv && kv->v && kv->v[0] ? kv->v : "-";
}

static void member_line(struct member_rows *mr, const char *addr)
{
	if (!mr->with_names) {
		cli_list_row(mr->s, addr);
		return;
	}
	char line[1200];
	snprintf(line, sizeof line, "%s | %s", addr, member_name(mr->s, mr->s->depth, addr));
	cli_list_row(mr->s, line);
}

static int member_row(void *arg, const char *const *f, int n)
{
	struct member_rows *mr = arg;
	if (n < 1 || cli_str_has(&mr->f->alias_del, f[0]))
		return 0;
	if (mr->probe) {
		if (!strcasecmp(f[0], mr->probe)) {
			mr->found = true;
			return 1;
		}
		return 0;
	}
	member_line(mr, f[0]);
	return mr->s->c.failed ? 1 : 0;
}

/* Is addr a member of the frame's group/list (pending changes included)? */
static bool has_member(struct cli_session *s, struct cli_frame *f, const char *addr)
{
	if (cli_str_has(&f->alias_add, addr))
		return true;
	if (f->create)
		return false;
	struct member_rows mr = {s, f, false, addr, false};
	admin_mluser_list(&s->ctx, f->domain, f->name, member_row, &mr);
	return mr.found;
}

static void list_members(struct cli_session *s, bool with_names, const char *title, const char *header)
{
	struct cli_frame *f = cli_cur(s);
	struct member_rows mr = {s, f, with_names, NULL, false};
	if (header)
		cli_table_begin(s, title, header);
	else
		cli_list_begin(s, title);
	enum tern_err e = TERN_OK;
	if (!f->create)
		e = admin_mluser_list(&s->ctx, f->domain, f->name, member_row, &mr);
	for (int i = 0; !e && i < f->alias_add.n; i++)
		member_line(&mr, f->alias_add.v[i]);
	cli_list_end(s, e);
}

static bool member_addr_ok(struct cli_session *s, const char *in, char *out, size_t sz)
{
	if (strlen(in) > 300 || admin_check_address(in) != TERN_OK) {
		cli_err(s, "Invalid value for address (not a valid e-mail address)");
		return false;
	}
	cli_lower(out, sz, in);
	return true;
}

static bool add_member(struct cli_session *s, struct cli_frame *f, const char *a, const char *type)
{
	if (cli_pending_undo(f, true, a))
		return true;
	if (has_member(s, f, a)) {
		cli_err(s, "%s %s already exists", type, a);
		return false;
	}
	return cli_pending_push(s, f, true, a);
}

static bool remove_member(struct cli_session *s, struct cli_frame *f, const char *a, const char *type)
{
	if (cli_pending_undo(f, false, a))
		return true;
	if (!has_member(s, f, a)) {
		cli_err(s, "%s %s not found", type, a);
		return false;
	}
	return cli_pending_push(s, f, false, a);
}

struct name_rows {
	struct cli_session *s;
};

static int name_row(void *arg, const char *const *f, int n)
{
	struct name_rows *nr = arg;
	if (n >= 1)
		cli_list_row(nr->s, f[0]);
	return nr->s->c.failed ? 1 : 0;
}

static void list_names(struct cli_session *s, const char *kind, const char *pattern, const char *title)
{
	struct name_rows nr = {s};
	cli_table_begin(s, title, "name");
	cli_list_end(s, admin_cli_list_names(&s->ctx, cli_cur(s)->domain, kind, pattern, name_row, &nr));
}

/* Open the frame of an existing group/list (kind) named name. */
static struct cli_frame *open_object(struct cli_session *s, enum cli_ctx cx, const char *kind, const char *type,
				     const char *name)
{
	char n[256], k[16];
	cli_lower(n, sizeof n, name);
	if (admin_cli_list_kind(&s->ctx, cli_cur(s)->domain, n, k, sizeof k) != TERN_OK || strcmp(k, kind) != 0) {
		cli_err(s, "%s %s not found", type, n);
		return NULL;
	}
	return cli_push_object(s, cx, n, false);
}

static bool new_object_name(struct cli_session *s, const char *name, char *out, size_t sz)
{
	if (strlen(name) > 128 || admin_check_user(name) != TERN_OK || !strcmp(name, "*")) {
		cli_err(s, "Invalid value for name (not a valid local part)");
		return false;
	}
	cli_lower(out, sz, name);
	char k[16];
	if (admin_cli_account_type(&s->ctx, cli_cur(s)->domain, out, NULL) == TERN_OK ||
	    admin_cli_list_kind(&s->ctx, cli_cur(s)->domain, out, k, sizeof k) == TERN_OK) {
		cli_err(s, "Recipient %s already exists", out);
		return false;
	}
	return true;
}

static void remove_object(struct cli_session *s, const char *kind, const char *type, const char *name)
{
	char n[256], k[16];
	struct cli_frame *d = cli_cur(s);
	cli_lower(n, sizeof n, name);
	if (admin_cli_list_kind(&s->ctx, d->domain, n, k, sizeof k) != TERN_OK || strcmp(k, kind) != 0) {
		cli_err(s, "%s %s not found", type, n);
		return;
	}
	enum tern_err e = admin_user_del(&s->ctx, d->domain, n);
	if (e) {
		cli_err_core(s, e, type, n);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "%s %s@%s deleted", kind, n, d->domain);
	cli_ok(s);
}

/* COMMIT of a group or list frame. */
static void commit_object(struct cli_session *s, const char *kind, const char *type)
{
	struct cli_frame *f = cli_cur(s);
	const char *password;
	int nvars;
	const char **vars = cli_commit_begin(s, f, f->edits.n, &password, &nvars);
	if (!vars)
		return;
	/* list settings decide the variables delivery and SMTP read */
	for (int i = 0, n = nvars; i < n; i++) {
		const char *k = vars[2 * i], *v = vars[2 * i + 1];
		if (!strcmp(k, "ListServices")) {
			vars[2 * nvars] = "ReceiveEnable";
			vars[2 * nvars + 1] = !v || strstr(v, "smtpIn") ? "1" : "0";
			nvars++;
		} else if (!strcmp(k, "ListSenderAllow")) {
			vars[2 * nvars] = "ClosedML";
			vars[2 * nvars + 1] = v && !strcmp(v, "members") ? "1" : "0";
			nvars++;
		}
	}
	if (f->create && !strcmp(kind, "list") && !password) {
		free(vars);
		cli_err(s, "Missing required parameter password");
		return;
	}
	struct admin_cli_list_edit ed = {
		.kind = kind,
		.password = password,
		.vars = vars,
		.nvars = nvars,
		.add = (const char *const *)f->alias_add.v,
		.nadd = f->alias_add.n,
		.del = (const char *const *)f->alias_del.v,
		.ndel = f->alias_del.n,
	};
	char detail[300];
	enum tern_err e = admin_cli_list_commit(&s->ctx, f->domain, f->name, f->create, &ed, detail, sizeof detail);
	if (e) {
		free(vars);
		cli_commit_failed(s, e, detail[0] ? "Address" : type, detail[0] ? detail : f->name);
		return;
	}
	cli_commit_end(s, f, kind, password, vars, nvars, "");
}

static void show_object(struct cli_session *s, enum cli_ctx cx, const char *kind, const char *type,
			const struct cli_parsed *p)
{
	cli_show_pushed(s, open_object(s, cx, kind, type, p->val[0]), p->val[1]);
}

/* ---- groups ---- */

static void h_list_groups(struct cli_session *s, const struct cli_parsed *p)
{
	list_names(s, "group", p->val[0], "The list of groups:");
}

static void h_add_group(struct cli_session *s, const struct cli_parsed *p)
{
	char n[256];
	if (new_object_name(s, p->val[0], n, sizeof n) && cli_push_object(s, CLI_CTX_GROUP, n, true))
		cli_ok(s);
}

static void h_update_group(struct cli_session *s, const struct cli_parsed *p)
{
	if (open_object(s, CLI_CTX_GROUP, "group", "Group", p->val[0]))
		cli_ok(s);
}

static void h_remove_group(struct cli_session *s, const struct cli_parsed *p)
{
	remove_object(s, "group", "Group", p->val[0]);
}

static void h_show_group(struct cli_session *s, const struct cli_parsed *p)
{
	show_object(s, CLI_CTX_GROUP, "group", "Group", p);
}

static void h_list_addresses(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	list_members(s, false, "The list of addresses:", NULL);
}

static void h_add_address(struct cli_session *s, const struct cli_parsed *p)
{
	char a[400];
	if (member_addr_ok(s, p->val[0], a, sizeof a) && add_member(s, cli_cur(s), a, "Address"))
		cli_ok(s);
}

static void h_remove_address(struct cli_session *s, const struct cli_parsed *p)
{
	char a[400];
	cli_lower(a, sizeof a, p->val[0]);
	if (remove_member(s, cli_cur(s), a, "Address"))
		cli_ok(s);
}

static void h_commit_group(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	commit_object(s, "group", "Group");
}

/* ---- mailing lists ---- */

static void h_list_lists(struct cli_session *s, const struct cli_parsed *p)
{
	list_names(s, "list", p->val[0], "The list of mailing lists:");
}

static void h_add_list(struct cli_session *s, const struct cli_parsed *p)
{
	/* args: name, password, adminEmail */
	char n[256];
	const char *pw = p->val[1];
	if (!new_object_name(s, p->val[0], n, sizeof n))
		return;
	if (!*pw || strlen(pw) > CLI_MAX_VALUE || !admin_value_ok(pw)) {
		cli_err(s, "Invalid value for password");
		return;
	}
	if (p->val[2] && (strlen(p->val[2]) > 300 || admin_check_address(p->val[2]) != TERN_OK)) {
		cli_err(s, "Invalid value for adminEmail (not a valid e-mail address)");
		return;
	}
	struct cli_frame *f = cli_push_object(s, CLI_CTX_LIST, n, true);
	if (!f)
		return;
	cli_kv_set(&f->edits, "@password", pw);
	if (p->val[2])
		cli_kv_set(&f->edits, "ListAdminEmail", p->val[2]);
	cli_ok(s);
}

static void h_update_list(struct cli_session *s, const struct cli_parsed *p)
{
	if (open_object(s, CLI_CTX_LIST, "list", "List", p->val[0]))
		cli_ok(s);
}

static void h_remove_list(struct cli_session *s, const struct cli_parsed *p)
{
	remove_object(s, "list", "List", p->val[0]);
}

static void h_show_list(struct cli_session *s, const struct cli_parsed *p)
{
	show_object(s, CLI_CTX_LIST, "list", "List", p);
}

static void h_commit_list(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	commit_object(s, "list", "List");
}

static void h_list_users(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	list_members(s, true, "The list of users:", "email | name");
}

/* Push a subscriber frame for addr (its current name in the frame's base). */
static struct cli_frame *push_user(struct cli_session *s, const char *addr, bool create)
{
	char name[600];
	snprintf(name, sizeof name, "%s", member_name(s, s->depth, addr));
	/* a subscriber has no variables of its own: nothing to load */
	struct cli_frame *f = cli_push_object(s, CLI_CTX_LIST_USER, addr, true);
	if (!f)
		return NULL;
	f->create = create;
	if (!create && strcmp(name, "-") != 0)
		cli_kv_set(&f->base, "@uname", name);
	return f;
}

static void h_add_user(struct cli_session *s, const struct cli_parsed *p)
{
	char a[400];
	struct cli_frame *l = cli_cur(s);
	if (!member_addr_ok(s, p->val[0], a, sizeof a))
		return;
	if (has_member(s, l, a)) {
		cli_err(s, "User %s already exists", a);
		return;
	}
	if (p->val[1] && (strlen(p->val[1]) > CLI_MAX_VALUE || !admin_value_ok(p->val[1]))) {
		cli_err(s, "Invalid value for name");
		return;
	}
	struct cli_frame *f = push_user(s, a, true);
	if (!f)
		return;
	if (p->val[1])
		cli_kv_set(&f->edits, "@uname", p->val[1]);
	cli_ok(s);
}

static void h_update_user(struct cli_session *s, const struct cli_parsed *p)
{
	char a[400];
	cli_lower(a, sizeof a, p->val[0]);
	if (!has_member(s, cli_cur(s), a)) {
		cli_err(s, "User %s not found", a);
		return;
	}
	if (push_user(s, a, false))
		cli_ok(s);
}

static void h_show_user(struct cli_session *s, const struct cli_parsed *p)
{
	char a[400];
	cli_lower(a, sizeof a, p->val[0]);
	if (!has_member(s, cli_cur(s), a)) {
		cli_err(s, "User %s not found", a);
		return;
	}
	if (!push_user(s, a, false))
		return;
	cli_show_frame(s, s->depth, p->val[1]);
	cli_pop(s);
}

static void h_remove_user(struct cli_session *s, const struct cli_parsed *p)
{
	char a[400], key[600];
	struct cli_frame *l = cli_cur(s);
	cli_lower(a, sizeof a, p->val[0]);
	if (!remove_member(s, l, a, "User"))
		return;
	snprintf(key, sizeof key, "MemberName.%s", a);
	cli_kv_set(&l->edits, key, NULL);
	cli_ok(s);
}

/* DONE of a subscriber: the address and its name go to the list's pending copy. */
static void h_done_user(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s), *l = &s->f[s->depth - 1];
	if (f->create && l->alias_add.n >= CLI_MAX_EDITS) {
		cli_err(s, "Too many pending changes; COMMIT the list first");
		return;
	}
	char addr[256], key[600];
	snprintf(addr, sizeof addr, "%s", f->name);
	/* SET email: the address changes at the list's COMMIT */
	const struct cli_kv *nk = cli_kv_find(&f->edits, "@name");
	char new_addr[256] = "";
	if (!f->create && nk && nk->v && strcmp(nk->v, addr) != 0) {
		snprintf(new_addr, sizeof new_addr, "%s", nk->v);
		if (has_member(s, l, new_addr)) {
			cli_err(s, "Cannot change the address of user %s: %s is a subscriber already", addr, new_addr);
			return;
		}
		if (l->edits.n >= CLI_MAX_EDITS) {
			cli_err(s, "Too many pending changes; COMMIT the list first");
			return;
		}
	}
	const struct cli_kv *kv = cli_kv_find(&f->edits, "@uname");
	char *uname = kv && kv->v ? strdup(kv->v) : NULL;
	bool named = kv != NULL;
	bool create = f->create;
	cli_pop(s);
	if (create && !cli_str_remove(&l->alias_del, addr))
		cli_str_add(&l->alias_add, addr);
	if (new_addr[0]) {
		cli_rename_member_pending(l, addr, new_addr);
		snprintf(addr, sizeof addr, "%s", new_addr); /* its name goes with the new address */
	}
	if (named) {
		snprintf(key, sizeof key, "MemberName.%s", addr);
		cli_kv_set(&l->edits, key, uname && *uname ? uname : NULL);
	}
	free(uname);
	cli_ok(s);
}

/* ---- the table ---- */

#define WILD(meta) {{CLI_ARG_OPT_POS, NULL, meta, false}}
#define SUBS (IN(LIMITS) | IN(DEF_QUOTAS) | IN(DEF_LIMITS))

static const struct cli_cmd domain_cmds[] = {
	/* account limits, domain defaults */
	{IN(ACCOUNT), "CONFIG Limits", {{0}}, CLI_ENTERS(LIMITS), cli_h_enter_sub, "Enter the account's usage limits."},
	{IN(DOMAIN), "CONFIG accountDefaultQuotas", {{0}}, CLI_ENTERS(DEF_QUOTAS), cli_h_enter_sub,
	 "Enter the quotas new accounts of this domain start with (applied at the domain's COMMIT)."},
	{IN(DOMAIN), "CONFIG accountDefaultLimits", {{0}}, CLI_ENTERS(DEF_LIMITS), cli_h_enter_sub,
	 "Enter the limits new accounts of this domain start with (applied at the domain's COMMIT)."},
	{SUBS, "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{SUBS, "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show,
	 "Print the attributes of this context (pending changes included)."},
	{SUBS, "DONE", {{0}}, CLI_LEAVES(DONE), cli_h_done,
	 "Hand the changes to the parent (applied at its COMMIT) and return to it."},
	{IN(LIMITS), "RESET", {{CLI_ARG_POS, NULL, "attr", false}}, CLI_PENDING | CLI_DISRUPTIVE, h_reset_limit,
	 "Go back to the domain's default value for new accounts."},
	{IN(LIMITS), "SHOW sendQuota", {{0}}, CLI_READS, cli_h_show_sendquota,
	 "Print what the account has sent in its current interval against each send limit."},
	{IN(LIMITS), "RESET sendQuota", {{0}}, CLI_CHANGES | CLI_DISRUPTIVE, cli_h_reset_sendquota,
	 "Zero the account's send counters, so that it may send again at once. Acts at once."},

	/* groups */
	{IN(DOMAIN), "LIST Groups", WILD("wildcard (ex: group*)"), CLI_READS, h_list_groups,
	 "Table of the groups (forwarders), optionally filtered by a wildcard."},
	{IN(DOMAIN), "ADD Group", {CLI_NAME_ARG("name")}, CLI_PENDING | CLI_ENTERS(GROUP) | CLI_CREATES, h_add_group,
	 "Start creating a group and enter it; it exists after its COMMIT."},
	{IN(DOMAIN), "UPDATE Group", {CLI_NAME_ARG("name")}, CLI_READS | CLI_ENTERS(GROUP), h_update_group,
	 "Enter the context of an existing group."},
	{IN(DOMAIN), "REMOVE Group", {CLI_NAME_ARG("name")}, CLI_CHANGES | CLI_DESTRUCTIVE, h_remove_group,
	 "Delete a group. Acts at once."},
	{IN(DOMAIN), "SHOW Group", {CLI_NAME_ARG("name"), CLI_SHOW_ATTR}, CLI_READS, h_show_group,
	 "Print the attributes of a group."},
	{IN(GROUP), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(GROUP), "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show, "Print the attributes of this group."},
	{IN(GROUP), "LIST Addresses", {{0}}, CLI_READS, h_list_addresses,
	 "Member addresses of the group, pending changes included."},
	{IN(GROUP), "ADD Address", {{CLI_ARG_POS, NULL, "address", false}}, CLI_PENDING, h_add_address,
	 "Add a member address, local or outside (a group of outside addresses is a forwarder)."},
	{IN(GROUP), "REMOVE Address", {{CLI_ARG_POS, NULL, "address", false}}, CLI_PENDING | CLI_DESTRUCTIVE,
	 h_remove_address, "Remove a member address (applied at COMMIT)."},
	{IN(GROUP), "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_group,
	 "Apply the group's pending changes and return to the domain."},

	/* mailing lists */
	{IN(DOMAIN), "LIST Lists", WILD("wildcard (ex: list*)"), CLI_READS, h_list_lists,
	 "Table of the mailing lists, optionally filtered by a wildcard."},
	{IN(DOMAIN),
	 "ADD List",
	 {CLI_NAME_ARG("listName"),
	  {CLI_ARG_PAIR, "password", "password", true},
	  {CLI_ARG_OPT_PAIR, "adminEmail", "email", false}},
	 CLI_PENDING | CLI_ENTERS(LIST) | CLI_CREATES,
	 h_add_list,
	 "Start creating a mailing list and enter it; it exists after its COMMIT."},
	{IN(DOMAIN), "UPDATE List", {CLI_NAME_ARG("listName")}, CLI_READS | CLI_ENTERS(LIST), h_update_list,
	 "Enter the context of an existing mailing list."},
	{IN(DOMAIN), "REMOVE List", {CLI_NAME_ARG("listName")}, CLI_CHANGES | CLI_DESTRUCTIVE, h_remove_list,
	 "Delete a mailing list. Acts at once."},
	{IN(DOMAIN), "SHOW List", {CLI_NAME_ARG("listName"), CLI_SHOW_ATTR}, CLI_READS, h_show_list,
	 "Print the attributes of a mailing list."},
	{IN(LIST), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(LIST), "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show, "Print the attributes of this list."},
	{IN(LIST), "LIST Users", {{0}}, CLI_READS, h_list_users, "Subscribers (email | name), pending changes included."},
	{IN(LIST),
	 "ADD User",
	 {{CLI_ARG_POS, "email", "email", false}, {CLI_ARG_OPT_PAIR, "name", "name", false}},
	 CLI_PENDING | CLI_ENTERS(LIST_USER) | CLI_CREATES,
	 h_add_user,
	 "Subscribe an address and enter it (leave with DONE; applied at the list's COMMIT)."},
	{IN(LIST), "UPDATE User", {{CLI_ARG_POS, "email", "email", false}}, CLI_READS | CLI_ENTERS(LIST_USER),
	 h_update_user, "Enter a subscriber."},
	{IN(LIST), "REMOVE User", {{CLI_ARG_POS, "email", "email", false}}, CLI_PENDING | CLI_DESTRUCTIVE,
	 h_remove_user, "Unsubscribe an address (applied at the list's COMMIT)."},
	{IN(LIST), "SHOW User", {{CLI_ARG_POS, "email", "email", false}, CLI_SHOW_ATTR}, CLI_READS, h_show_user,
	 "Print a subscriber."},
	{IN(LIST), "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_list,
	 "Apply the list's pending changes (subscribers included) and return to the domain."},
	{IN(LIST_USER), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(LIST_USER), "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show, "Print the subscriber."},
	{IN(LIST_USER), "DONE", {{0}}, CLI_LEAVES(DONE), h_done_user,
	 "Hand the subscriber to the list (applied at its COMMIT) and return to it."},
};

const struct cli_part cli_part_domain = {domain_ctxs, N(domain_ctxs), domain_cmds, N(domain_cmds)};

/* ---- the domain's services (an extension of the core's domain context) ---- */

#define DOM_SERVICES_KEY "dom:services"

static const struct cli_attr dom_service_attrs[] = {
	{"services", CLI_AT_SET, DOM_SERVICES_KEY, "pop3|smtpIn|smtpOut", 0, 0, "(pop3 smtpIn smtpOut)", 0,
	 "Services enabled for the whole domain, combined with each account's own: without pop3 POP3 refuses "
	 "the logins of its accounts, without smtpIn RCPT refuses its addresses, without smtpOut MAIL FROM of "
	 "its authenticated users is refused. imap and webmail do not exist in Tern and are refused."},
};

static void dom_services_load(struct cli_session *s, struct cli_frame *f)
{
	char v[64];
	domain_services_format(domain_services_get(s->srv->env->rootfd, f->domain), v, sizeof v);
	cli_kv_set(&f->base, DOM_SERVICES_KEY, v);
}

static bool dom_services_commit(struct cli_session *s, const char *domain, const struct cli_kvlist *edits)
{
	const struct cli_kv *kv = cli_kv_find(edits, DOM_SERVICES_KEY);
	if (!kv)
		return true;
	unsigned mask = DOMSVC_ALL;
	char bad[80];
	enum tern_err e = TERN_OK;
	if (kv->v && !domain_services_parse(kv->v, &mask, bad, sizeof bad))
		e = TERN_E_INVALID; /* SET checked it already */
	if (!e)
		e = domain_services_set(&s->ctx, domain, mask);
	if (e) {
		cli_commit_failed(s, e, "Domain", domain);
		return false;
	}
	char v[64];
	domain_services_format(mask, v, sizeof v);
	cli_detail_add(s, "%sdomain %s services=%s", s->log_detail[0] ? "; " : "", domain, v);
	return true;
}

const struct cli_ctx_ext cli_ext_domain_services = {CLI_CTX_DOMAIN, dom_service_attrs, N(dom_service_attrs),
						   dom_services_load, dom_services_commit};

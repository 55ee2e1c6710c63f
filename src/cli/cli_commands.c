/*
 * cli_commands - the CLI's contexts, their attributes, the command table
 * and its handlers.
 *
 * The table at the end of this file is the single description of the
 * command set: cli_match() and cli_args_parse() parse by it, HELP prints
 * it, and the fuzz target walks it. A handler receives the parsed
 * arguments by spec position, calls admin verbs, writes any data lines to
 * the connection and sets the status with cli_ok()/cli_err(); the session
 * adds the prompt.
 *
 * Attribute values: see struct cli_attr in cli.h. Account attributes are
 * account variables (contact info as "ContactInfo.<attr>", the quota
 * totalMessageSize as XMail's MaxMBSize in KB, totalMessageCount as
 * MaxMessages, the per-folder messageCount/messageSize as
 * FolderMaxMessages/FolderMaxMBSize), so what the CLI sets is what the
 * controller's uservars shows and what delivery enforces.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "../admin/admin_cli.h"
#include "../admin/settings.h"
#include "../core/log.h"
#include "../core/tabline.h"
#include "../core/xmalloc.h"
#include "cli.h"
#include "cli_ctx.h"

#define COMMIT_TEXT CLI_COMMIT_TEXT

/* ---- attributes ---- */

static const struct cli_attr login_attrs[] = {
	{"consoleCodes", CLI_AT_CHOICE, NULL, "off", 0, 0, "off", CLI_AF_NOSET,
	 "Terminal control sequences (always off)."},
	{"quiet", CLI_AT_CHOICE, NULL, "off", 0, 0, "off", CLI_AF_NOSET, "Terse output mode (always off)."},
};

static const struct cli_attr create_attrs[] = {
	{"name", CLI_AT_STRING, "@name", NULL, 0, 0, "", CLI_AF_DOMAIN, "Name of the new domain."},
	{"postmasterPassword|postmasterPasswd", CLI_AT_SECRET, "@postmasterPassword", NULL, 0, 0, NULL, CLI_AF_NOSHOW,
	 "Password of the postmaster account created with the domain."},
	{"domainLocation", CLI_AT_STRING, "@location", NULL, 0, 0, NULL, 0,
	 "Accepted for compatibility; Tern keeps every domain under its data root (SHOW prints where)."},
	{"wmFilterTemplatePath", CLI_AT_CHOICE, NULL, "none", 0, 0, "none", 0,
	 "Webmail filter template; Tern has no webmail, so only 'none'."},
	{"groupwareSupport", CLI_AT_CHOICE, NULL, "no", 0, 0, "no", 0,
	 "Groupware features; Tern has none, so only 'no'."},
};

static const struct cli_attr domain_attrs[] = {
	{"name", CLI_AT_STRING, "@name", NULL, 0, 0, "", 0, "Name of the domain; SET name renames it at COMMIT (accounts, lists, aliases, "
	 "directories and permissions follow)."},
	{"domainLocation", CLI_AT_STRING, "@location", NULL, 0, 0, NULL, CLI_AF_NOSET,
	 "Where the domain's mailboxes are stored (read-only)."},
	{"catchAllType", CLI_AT_CHOICE, "@catchAllType", "disabled|account", 0, 0, "disabled", 0,
	 "What happens to mail for unknown recipients: disabled, or account (to catchAllAccountName)."},
	{"catchAllAccountName", CLI_AT_STRING, "@catchAllAccountName", NULL, 0, 0, "", CLI_AF_ACCOUNT,
	 "Account receiving mail for unknown recipients when catchAllType is account."},
	{"catchAllFolderName", CLI_AT_STRING, NULL, NULL, 0, 0, "", 0,
	 "Folder catch-all; not supported, always empty."},
};

static const struct cli_attr account_attrs[] = {
	{"name", CLI_AT_STRING, "@name", NULL, 0, 0, "", 0, "Name of the account; SET name renames it at COMMIT (its mailbox, aliases and "
	 "memberships follow)."},
	{"password", CLI_AT_SECRET, "@password", NULL, 0, 0, NULL, CLI_AF_NOSHOW, "Set the account's password."},
	{"respectEnforcement", CLI_AT_CHOICE, NULL, "no", 0, 0, "no", CLI_AF_NOSHOW,
	 "Check the password against a policy; Tern has none, so only 'no'."},
	{"accountClassName", CLI_AT_STRING, NULL, NULL, 0, 0, "", 0, "Account class; Tern has none (empty)."},
	{"accountType", CLI_AT_CHOICE, NULL, "basic", 0, 0, "basic", 0, "Licensing type; always basic."},
	{"customerReference", CLI_AT_STRING, "CustomerReference", NULL, 0, 0, "", 0, "Free-form billing reference."},
	{"publishContactInfo", CLI_AT_CHOICE, NULL, "no", 0, 0, "no", 0,
	 "Publish in a domain address book; Tern has none, so only 'no'."},
};

#define CONTACT(n, h) {n, CLI_AT_STRING, "ContactInfo." n, NULL, 0, 0, "", 0, h}
static const struct cli_attr contact_attrs[] = {
	CONTACT("firstName", "Given name."),
	CONTACT("lastName", "Family name."),
	CONTACT("middleName", "Middle name."),
	CONTACT("nickName", "Nickname."),
	CONTACT("title", "Honorific or title."),
	CONTACT("suffix", "Name suffix."),
	CONTACT("personalEmail", "Private e-mail address."),
	CONTACT("businessEmail", "Work e-mail address."),
	CONTACT("phone", "Main phone."),
	CONTACT("mobilePhone", "Mobile phone."),
	CONTACT("homePhone", "Home phone."),
	CONTACT("businessPhone", "Work phone."),
	CONTACT("businessFax", "Work fax."),
	CONTACT("homeAddress", "Home postal address."),
	CONTACT("businessAddress", "Work postal address."),
	CONTACT("personalVoIPAddress", "Private VoIP address."),
	CONTACT("businessVoIPAddress", "Work VoIP address."),
	CONTACT("birthday", "Birthday."),
	CONTACT("spouseName", "Partner's name."),
	CONTACT("company", "Company."),
	CONTACT("department", "Department."),
	CONTACT("office", "Office."),
	CONTACT("position", "Job position."),
	CONTACT("profession", "Profession."),
	CONTACT("managerName", "Manager."),
	CONTACT("assistantName", "Assistant."),
	CONTACT("website", "Web page."),
	CONTACT("skypeId", "Skype id."),
	CONTACT("yahooMessengerId", "Instant messaging id."),
	CONTACT("googleTalkId", "Instant messaging id."),
	CONTACT("liveMessengerAddress", "Instant messaging id."),
	CONTACT("icqNumber", "Instant messaging id."),
	CONTACT("aolScreenName", "Instant messaging id."),
	{"contactNotes", CLI_AT_STRING, "ContactInfo.contactNotes", NULL, 0, 0, NULL, CLI_AF_WHY | CLI_AF_ESCAPED,
	 "Free-text notes, entered with ESET contactNotes (multi-line); shown with \\n for line breaks."},
};

#define QUOTA_LATER(n) {n, CLI_AT_NUMBER, NULL, NULL, 0, 0, NULL, CLI_AF_NOSHOW | CLI_AF_NOSET, NULL}
static const struct cli_attr quota_attrs[] = {
	{"totalMessageSize", CLI_AT_NUMBER, "MaxMBSize", NULL, 0, 4294967295LL, "0", 0,
	 "Mailbox size limit in KB over all folders, 0 = none (5 GB = 5242880); the MaxMBSize variable."},
	CLI_QUOTA_ATTRS(""),
	QUOTA_LATER("quotaLimitThreshold"),
	QUOTA_LATER("quotaLimitNotificationEnabled"),
	QUOTA_LATER("quotaSendMessageThreshold"),
	QUOTA_LATER("autopurgeAgeLimit"),
};

#define N(a) (int)(sizeof a / sizeof *a)

static const struct cli_ctx_reg core_ctxs[] = {
	{CLI_CTX_LOGIN, {"login", "Login", "session", login_attrs, N(login_attrs), CLI_CTX_LOGIN}},
	{CLI_CTX_ROOT, {"", "Initial", "server", NULL, 0, CLI_CTX_ROOT}},
	{CLI_CTX_DOMAIN_CREATE,
	 {"domain-create", "Domain-Create", "domain", create_attrs, N(create_attrs), CLI_CTX_ROOT}},
	{CLI_CTX_DOMAIN, {"domain", "Domain", "domain", domain_attrs, N(domain_attrs), CLI_CTX_ROOT}},
	{CLI_CTX_ACCOUNT, {"account", "Account", "account", account_attrs, N(account_attrs), CLI_CTX_DOMAIN}},
	{CLI_CTX_CONTACT,
	 {"contactInfo", "ContactInfo", "contact info", contact_attrs, N(contact_attrs), CLI_CTX_ACCOUNT}},
	{CLI_CTX_QUOTAS, {"quotas", "Quotas", "quota set", quota_attrs, N(quota_attrs), CLI_CTX_ACCOUNT}},
};

/* The attribute's name as shown (the first alternative). */
void cli_attr_name(const struct cli_attr *a, char *out, size_t sz)
{
	snprintf(out, sz, "%.*s", (int)strcspn(a->name, "|"), a->name);
}

/* ---- small helpers ---- */

void cli_lower(char *out, size_t sz, const char *in)
{
	size_t i = 0;
	for (; in[i] && i + 1 < sz; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* The frame of the object a (sub-)context edits. */
int cli_object_depth(struct cli_session *s, int d)
{
	while (d > 0 && cli_ctx_is_sub(s->f[d].ctx))
		d--;
	return d;
}

bool cli_frame_pending(const struct cli_frame *f)
{
	return f->edits.n || f->alias_add.n || f->alias_del.n;
}

void cli_commit_failed(struct cli_session *s, enum tern_err e, const char *type, const char *name)
{
	cli_err_core(s, e, type, name);
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s", s->status + 6);
	snprintf(s->status, sizeof s->status, "-ERR: Commit failed: %.500s", tmp);
}

void cli_detail_add(struct cli_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_detail_add(struct cli_session *s, const char *fmt, ...)
{
	size_t off = strlen(s->log_detail);
	if (off + 1 >= sizeof s->log_detail)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->log_detail + off, sizeof s->log_detail - off, fmt, ap);
	va_end(ap);
}

/* Parse "name<TAB>value<LF>"... into a kv list. */
void cli_vars_parse(struct cli_kvlist *l, const char *vars)
{
	const char *p = vars ? vars : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *tab = memchr(p, '\t', len);
		if (tab) {
			char k[300], v[CLI_MAX_VALUE * 4 + 1];
			snprintf(k, sizeof k, "%.*s", (int)(tab - p), p);
			snprintf(v, sizeof v, "%.*s", (int)(len - (size_t)(tab - p) - 1), tab + 1);
			cli_kv_set(l, k, v);
		}
		p += len + (nl ? 1 : 0);
	}
}

int cli_var_row(void *arg, const char *const *f, int n)
{
	if (n >= 2)
		cli_kv_set(arg, f[0], f[1]);
	return 0;
}

/* ---- values: effective value of an attribute at depth d ---- */

const char *cli_attr_value(struct cli_session *s, int d, const struct cli_attr *a, char *tmp, size_t tsz)
{
	const char *fixed = a->fixed ? a->fixed : "";
	if (!a->key)
		return fixed;
	int od = cli_object_depth(s, d);
	struct cli_frame *of = &s->f[od];
	if (!strcmp(a->key, "@location")) {
		const struct cli_kv *kv = cli_kv_find(&of->edits, "@name");
		const char *name = kv && kv->v ? kv->v : of->name;
		snprintf(tmp, tsz, "%s/domains/%s", s->srv->env->root, name);
		return tmp;
	}
	for (int i = d; i >= od; i--) {
		const struct cli_kv *kv = cli_kv_find(&s->f[i].edits, a->key);
		if (kv)
			return kv->v ? kv->v : fixed;
	}
	if (!strcmp(a->key, "@name"))
		return s->f[d].name[0] ? s->f[d].name : of->name;
	for (int i = d; i >= od; i--) {
		const struct cli_kv *kv = cli_kv_find(&s->f[i].base, a->key);
		if (kv && kv->v)
			return kv->v;
	}
	return fixed;
}

void cli_put_value(struct buf *out, const struct cli_attr *a, const char *v)
{
	if (a->kind == CLI_AT_BOOL) {
		buf_puts(out, strcmp(v, "0") && strcasecmp(v, "no") && *v ? "yes" : "no");
		return;
	}
	if (a->kind != CLI_AT_STRING) {
		buf_puts(out, v);
		return;
	}
	if (a->flags & CLI_AF_ESCAPED) { /* escaped already (quotes included) */
		buf_printf(out, "\"%s\"", v);
		return;
	}
	buf_putc(out, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

void cli_show_line(struct cli_session *s, int d, const struct cli_attr *a)
{
	char name[64], tmp[600];
	cli_attr_name(a, name, sizeof name);
	struct buf line = BUF_INIT;
	buf_printf(&line, "%s = ", name);
	cli_put_value(&line, a, cli_attr_value(s, d, a, tmp, sizeof tmp));
	buf_puts(&line, "\r\n");
	conn_write(&s->c, line.data, line.len);
	buf_free(&line);
}

/* SHOW [ATTR <param>] of the frame at depth d. */
void cli_show_frame(struct cli_session *s, int d, const char *only)
{
	enum cli_ctx cx = s->f[d].ctx;
	const struct cli_ctx_def *def = cli_ctx_def(cx);
	if (only) {
		const struct cli_attr *a = cli_attr_find(cx, only);
		if (!a) {
			cli_err(s, "Unknown attribute %s", only);
			return;
		}
		/* Attributes SHOW leaves out are still known ones: say why. */
		char name[64];
		cli_attr_name(a, name, sizeof name);
		if ((a->flags & CLI_AF_NOSHOW) && a->kind == CLI_AT_SECRET) {
			cli_err(s, "%s is never shown (it can only be set)", name);
			return;
		}
		if ((a->flags & CLI_AF_NOSHOW) && !a->key && (a->flags & (CLI_AF_NOSET | CLI_AF_WHY))) {
			if (a->help)
				cli_err(s, "%s cannot be shown. %s", name, a->help);
			else
				cli_err(s, "%s is not supported by this server yet", name);
			return;
		}
		cli_show_line(s, d, a);
		cli_ok(s);
		return;
	}
	conn_printf(&s->c, "\r\nThe attributes of this %s:\r\n", def->object);
	for (int i = 0; i < def->nattrs; i++)
		if (!(def->attrs[i].flags & CLI_AF_NOSHOW))
			cli_show_line(s, d, &def->attrs[i]);
	conn_puts(&s->c, "\r\n");
	cli_ok(s);
}

/* ---- list layouts (spec 6.5) ---- */

void cli_table_begin(struct cli_session *s, const char *title, const char *header)
{
	conn_printf(&s->c, "\r\n%s\r\n\r\n%s\r\n------------------------------\r\n", title, header);
}

void cli_list_begin(struct cli_session *s, const char *title)
{
	conn_printf(&s->c, "\r\n%s\r\n", title);
}

void cli_list_row(struct cli_session *s, const char *text)
{
	conn_puts(&s->c, text);
	conn_puts(&s->c, "\r\n");
}

void cli_list_end(struct cli_session *s, enum tern_err e)
{
	conn_puts(&s->c, "\r\n");
	if (e) {
		log_err("cli: listing for %s ended early: %s", s->c.peer, tern_err_name(e));
		cli_err_core(s, e, NULL, NULL);
	} else {
		cli_ok(s);
	}
}

/* ---- common commands ---- */

void cli_h_exit(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	s->quit = true;
	s->no_prompt = true;
	snprintf(s->status, sizeof s->status, "+OK: have a nice day");
}

static const char *arg_meta(const struct cli_attr *a)
{
	switch (a->kind) {
	case CLI_AT_SECRET:
		return "password";
	case CLI_AT_NUMBER:
		return "number";
	case CLI_AT_CHOICE:
		return a->choices ? a->choices : "value";
	case CLI_AT_BOOL:
		return "yes|no";
	case CLI_AT_SET:
		return "(list)";
	default:
		return "string";
	}
}

void cli_h_help(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	enum cli_ctx cx = cli_cur(s)->ctx;
	const struct cli_ctx_def *def = cli_ctx_def(cx);
	int n;
	const struct cli_cmd *cmds = cli_commands(&n);
	struct buf out = BUF_INIT;
	buf_printf(&out, "\r\nThe commands available for the %s context are:\r\n", def->title);
	for (int i = 0; i < n; i++) {
		const struct cli_cmd *c = &cmds[i];
		if (!(c->ctx & CLI_IN(cx)) || (c->flags & (CLI_LATER | CLI_NOHELP)))
			continue;
		if (c->args[0].kind == CLI_ARG_SET) {
			for (int k = 0; k < def->nattrs; k++) {
				const struct cli_attr *a = &def->attrs[k];
				if ((a->flags & CLI_AF_NOSET) && !(a->flags & CLI_AF_WHY))
					continue;
				char name[64];
				cli_attr_name(a, name, sizeof name);
				buf_printf(&out, "%s [%s <%s>] - %s\r\n", c->words, name, arg_meta(a), a->help);
			}
			continue;
		}
		cli_syntax(c, &out);
		buf_printf(&out, " - %s\r\n", c->help);
	}
	buf_puts(&out, "\r\n");
	conn_write(&s->c, out.data, out.len);
	buf_free(&out);
	cli_ok(s);
}

void cli_h_back(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_pop(s);
	cli_ok(s);
}

void cli_h_later(struct cli_session *s, const struct cli_parsed *p)
{
	cli_err(s, "%s is not supported by this server yet", p->cmd ? p->cmd->words : "This command");
}

static void h_version(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	char ver[64];
	settings_get(s->ctx.rd, "CliCompatVersion", ver, sizeof ver);
	struct utsname u;
	if (uname(&u) != 0) {
		snprintf(u.sysname, sizeof u.sysname, "Linux");
		snprintf(u.machine, sizeof u.machine, "unknown");
	}
	conn_printf(&s->c, "%s|%s|%s\r\n", ver, u.sysname, u.machine);
	cli_ok(s);
}

/* "(a b)" (or a single bare word) of words from choices "a|b|c", in the
 * choices' spelling, into norm. */
static bool set_value_norm(const char *choices, const char *v, char *norm, size_t nsz)
{
	char tmp[CLI_MAX_VALUE + 1];
	snprintf(tmp, sizeof tmp, "%s", v);
	char *p = tmp;
	size_t l = strlen(p);
	if (l >= 2 && p[0] == '(' && p[l - 1] == ')') {
		p[l - 1] = '\0';
		p++;
	}
	struct buf out = BUF_INIT;
	buf_putc(&out, '(');
	bool ok = true, first = true;
	char *save = NULL;
	for (char *w = strtok_r(p, " \t,", &save); w && ok; w = strtok_r(NULL, " \t,", &save)) {
		ok = false;
		for (const char *c = choices; *c;) {
			size_t cl = strcspn(c, "|");
			if (strlen(w) == cl && !strncasecmp(c, w, cl)) {
				buf_printf(&out, "%s%.*s", first ? "" : " ", (int)cl, c);
				first = false;
				ok = true;
				break;
			}
			c += cl + (c[cl] ? 1 : 0);
		}
	}
	buf_putc(&out, ')');
	if (ok)
		snprintf(norm, nsz, "%.*s", (int)out.len, out.data);
	buf_free(&out);
	return ok;
}

/* SET attr value [attr value]... on the current frame's pending copy. */
static bool set_check(struct cli_session *s, const struct cli_attr *a, const char *v, char *norm, size_t nsz)
{
	char name[64];
	cli_attr_name(a, name, sizeof name);
	snprintf(norm, nsz, "%s", v);
	if (a->flags & CLI_AF_WHY) {
		/* a fixed value (or none at all), and the help says why */
		if (!a->fixed) {
			cli_err(s, "%s cannot be set. %s", name, a->help);
			return false;
		}
		if (strcasecmp(v, a->fixed) != 0) {
			cli_err(s, "Invalid value for %s. %s", name, a->help);
			return false;
		}
	}
	if (a->flags & CLI_AF_NOSET) {
		if (!a->help)
			cli_err(s, "%s is not supported by this server yet", name);
		else
			cli_err(s, "Attribute %s is read-only", name);
		return false;
	}
	if (strlen(v) > CLI_MAX_VALUE || !admin_value_ok(v)) {
		cli_err(s, "Invalid value for %s", name);
		return false;
	}
	if (!a->key) {
		if (strcasecmp(v, a->fixed ? a->fixed : "") != 0) {
			cli_err(s, "Invalid value for %s (this server supports only %s%s%s)", name,
				a->kind == CLI_AT_STRING ? "\"" : "", a->fixed ? a->fixed : "",
				a->kind == CLI_AT_STRING ? "\"" : "");
			return false;
		}
		snprintf(norm, nsz, "%s", a->fixed ? a->fixed : "");
		return true;
	}
	struct cli_frame *f = cli_cur(s);
	/* A server setting: the registry's own check, at SET already. */
	char why[300];
	if (!strncmp(a->key, "set:", 4) && (a->kind == CLI_AT_STRING || a->kind == CLI_AT_SET) &&
	    settings_check(a->key + 4, v, why, sizeof why) != TERN_OK) {
		cli_err(s, "Invalid value for %s%s%s%s", name, *why ? " (" : "", why, *why ? ")" : "");
		return false;
	}
	if (!strcmp(a->key, "@name")) {
		if (f->ctx == CLI_CTX_DOMAIN_CREATE) {
			if (strlen(v) > 253 || admin_check_domain(v) != TERN_OK) {
				cli_err(s, "Invalid value for %s (not a valid domain name)", name);
				return false;
			}
			cli_lower(norm, nsz, v);
			return true;
		}
		return cli_rename_check(s, f, v, norm, nsz);
	}
	switch (a->kind) {
	case CLI_AT_SECRET:
		if (!*v) {
			cli_err(s, "Invalid value for %s (empty)", name);
			return false;
		}
		return true;
	case CLI_AT_NUMBER: {
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (!isdigit((unsigned char)v[0]) || *end || errno || x < a->min || x > a->max) {
			cli_err(s, "Invalid value for %s (a number from %lld to %lld)%s%s", name, a->min, a->max,
				(a->flags & CLI_AF_EXPLAIN) ? ". " : "", (a->flags & CLI_AF_EXPLAIN) ? a->help : "");
			return false;
		}
		snprintf(norm, nsz, "%lld", x);
		return true;
	}
	case CLI_AT_BOOL:
		if (!strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on")) {
			snprintf(norm, nsz, "1");
			return true;
		}
		if (!strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "off")) {
			snprintf(norm, nsz, "0");
			return true;
		}
		cli_err(s, "Invalid value for %s (yes or no)", name);
		return false;
	case CLI_AT_SET:
		if (!set_value_norm(a->choices, v, norm, nsz)) {
			cli_err(s, "Invalid value for %s (a parenthesised set of: %s)", name, a->choices);
			return false;
		}
		return true;
	case CLI_AT_CHOICE: {
		const char *c = a->choices;
		while (*c) {
			size_t l = strcspn(c, "|");
			if (strlen(v) == l && !strncasecmp(c, v, l)) {
				snprintf(norm, nsz, "%.*s", (int)l, c);
				return true;
			}
			c += l + (c[l] ? 1 : 0);
		}
		cli_err(s, "Invalid value for %s (one of: %s)", name, a->choices);
		return false;
	}
	default:
		if ((a->flags & CLI_AF_ACCOUNT) && *v) {
			if (admin_check_user(v) != TERN_OK) {
				cli_err(s, "Invalid value for %s (not a valid account name)", name);
				return false;
			}
			cli_lower(norm, nsz, v);
		}
		return true;
	}
}

void cli_h_set(struct cli_session *s, const struct cli_parsed *p)
{
	const struct cli_tokens *t = p->t;
	struct cli_frame *f = cli_cur(s);
	/* Pairs "attr value"; a value "(a b c)" spans several tokens. */
	int names[CLI_MAX_ARGS];
	char *joined[CLI_MAX_ARGS];
	int np = 0;
	bool shape = p->set_first >= 0 && p->set_first < t->n;
	for (int i = shape ? p->set_first : t->n; i < t->n && shape;) {
		if (i + 1 >= t->n) {
			shape = false;
			break;
		}
		names[np] = i;
		struct buf v = BUF_INIT;
		buf_puts(&v, t->v[i + 1]);
		int j = i + 1;
		if (!t->lit[j] && t->v[j][0] == '(' && t->v[j][strlen(t->v[j]) - 1] != ')') {
			while (++j < t->n) {
				buf_printf(&v, " %s", t->v[j]);
				if (t->v[j][0] && t->v[j][strlen(t->v[j]) - 1] == ')')
					break;
			}
			if (j >= t->n)
				shape = false;
		}
		joined[np++] = xstrndup(v.data ? v.data : "", v.len);
		buf_free(&v);
		i = j + 1;
	}
	if (!shape || np == 0) {
		for (int i = 0; i < np; i++)
			free(joined[i]);
		cli_err(s, "Invalid parameters");
		return;
	}
	const struct cli_attr *attrs[CLI_MAX_ARGS];
	char *vals[CLI_MAX_ARGS];
	int k = 0;
	bool ok = true;
	for (; k < np; k++) {
		vals[k] = NULL;
		int i = names[k];
		attrs[k] = cli_attr_find(f->ctx, t->v[i]);
		if (!attrs[k] || t->lit[i]) {
			cli_err(s, "Unknown attribute %s", t->v[i]);
			ok = false;
			break;
		}
		char buf[CLI_MAX_VALUE + 1];
		if (!set_check(s, attrs[k], joined[k], buf, sizeof buf)) {
			ok = false;
			break;
		}
		vals[k] = strdup(buf);
	}
	for (int i = 0; i < np; i++)
		free(joined[i]);
	if (ok && f->edits.n + k > CLI_MAX_EDITS) {
		cli_err(s, "Too many pending changes; COMMIT or DONE first");
		ok = false;
	}
	for (int j = 0; j < k; j++) {
		/* Not stored: values only accepted (no key, @location), and the
		 * unchanged name of an existing object. */
		bool store = attrs[j]->key && strcmp(attrs[j]->key, "@location") != 0;
		if (ok && vals[j] && store && !strcmp(attrs[j]->key, "@name") && f->ctx != CLI_CTX_DOMAIN_CREATE) {
			/* a rename, pending until COMMIT; the current name undoes it */
			store = false;
			if (!f->create && strcmp(vals[j], f->name) != 0)
				cli_kv_set(&f->edits, "@name", vals[j]);
			else
				cli_kv_drop(&f->edits, "@name");
		}
		if (ok && vals[j] && store)
			cli_kv_set(&f->edits, attrs[j]->key, vals[j]);
		free(vals[j]);
	}
	if (ok)
		cli_ok(s);
}

void cli_h_show(struct cli_session *s, const struct cli_parsed *p)
{
	cli_show_frame(s, s->depth, p->val[0]);
}

/* DONE: hand the sub-context's edits to the parent's pending copy. */
void cli_h_done(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s), *parent = &s->f[s->depth - 1];
	if (parent->edits.n + f->edits.n > CLI_MAX_EDITS) {
		cli_err(s, "Too many pending changes; COMMIT the %s first", cli_ctx_def(parent->ctx)->object);
		return;
	}
	for (int i = 0; i < f->edits.n; i++)
		cli_kv_set(&parent->edits, f->edits.e[i].k, f->edits.e[i].v);
	cli_pop(s);
	cli_ok(s);
}

/* ---- login context ---- */

static void h_user(struct cli_session *s, const struct cli_parsed *p)
{
	snprintf(s->user, sizeof s->user, "%s", p->val[0]);
	s->awaiting_password = true;
	s->status[0] = '\0'; /* only the <password> prompt */
}

static void h_console_codes(struct cli_session *s, const struct cli_parsed *p)
{
	if (!strcasecmp(p->val[0], "off"))
		cli_ok(s);
	else if (!strcasecmp(p->val[0], "on"))
		cli_err(s, "Console codes are not supported by this server");
	else
		cli_err(s, "Invalid value for CONSOLE-CODES (on or off)");
}

static void h_quiet(struct cli_session *s, const struct cli_parsed *p)
{
	if (!strcasecmp(p->val[0], "off"))
		cli_ok(s);
	else if (!strcasecmp(p->val[0], "on"))
		cli_err(s, "Quiet mode is not supported by this server");
	else
		cli_err(s, "Invalid value for QUIET (on or off)");
}

/* ---- root ---- */

struct domain_rows {
	struct cli_session *s;
	bool all; /* disabled domains too (LIST AllDomains) */
};

/* rows: name, enabled ("1"/"0") */
static int domain_row(void *arg, const char *const *f, int n)
{
	struct domain_rows *dr = arg;
	if (n < 2)
		return 0;
	bool on = strcmp(f[1], "0") != 0;
	if (!on && !dr->all)
		return 0;
	char line[300];
	snprintf(line, sizeof line, "%s | %s", f[0], on ? "enabled" : "disabled");
	cli_list_row(dr->s, line);
	return dr->s->c.failed ? 1 : 0;
}

static void list_domains(struct cli_session *s, const struct cli_parsed *p, const char *title, bool all)
{
	char *pats[1] = {(char *)p->val[0]};
	struct domain_rows dr = {s, all};
	cli_table_begin(s, title, "name | status");
	cli_list_end(s, admin_domain_list_state(&s->ctx, pats, p->val[0] ? 1 : 0, domain_row, &dr));
}

/* LIST Domains: the enabled domains; LIST AllDomains: every domain with
 * its state (spec: root context). */
static void h_list_domains(struct cli_session *s, const struct cli_parsed *p)
{
	list_domains(s, p, "The list of domains:", false);
}

static void h_list_alldomains(struct cli_session *s, const struct cli_parsed *p)
{
	list_domains(s, p, "The list of all domains:", true);
}

/* ENABLE Domain name <name> / DISABLE Domain [name] <name>: at once, no
 * COMMIT. Setting the state a domain already has answers +OK. */
static void set_domain_state(struct cli_session *s, const char *name, bool on)
{
	char d[256];
	if (strlen(name) > 253) {
		cli_err(s, "Invalid value for name (longer than 253 characters)");
		return;
	}
	cli_lower(d, sizeof d, name);
	enum tern_err e = admin_cli_domain_exists(&s->ctx, d);
	if (!e)
		e = admin_domain_set_enabled(&s->ctx, d, on);
	if (e) {
		cli_err_core(s, e, "Domain", d);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "domain %s %s", d, on ? "enabled" : "disabled");
	cli_ok(s);
}

static void h_enable_domain(struct cli_session *s, const struct cli_parsed *p)
{
	/* args: name, domainLocation */
	if (p->val[1]) {
		cli_err(s, "ENABLE Domain domainLocation is not supported: every domain lives under the data root; "
			   "use ENABLE Domain name <name>");
		return;
	}
	if (!p->val[0]) {
		cli_err(s, "Missing required parameter name");
		return;
	}
	set_domain_state(s, p->val[0], true);
}

static void h_disable_domain(struct cli_session *s, const struct cli_parsed *p)
{
	set_domain_state(s, p->val[0], false);
}

void cli_h_save_config(struct cli_session *s, const struct cli_parsed *p)
{
	char id[160];
	enum tern_err e = admin_cli_config_save(&s->ctx, p->val[0], id, sizeof id);
	if (e) {
		cli_err_core(s, e, NULL, NULL);
		return;
	}
	conn_printf(&s->c, "Configuration saved as snapshot %s\r\n", id);
	snprintf(s->log_detail, sizeof s->log_detail, "snapshot %s", id);
	cli_ok(s);
}

static void h_create_domain(struct cli_session *s, const struct cli_parsed *p)
{
	/* args: name, domainLocation, wmFilterTemplatePath, postmasterPassword */
	const char *name = p->val[0];
	char d[256];
	if (strlen(name) > 253 || admin_check_domain(name) != TERN_OK) {
		cli_err(s, "Invalid value for name (not a valid domain name)");
		return;
	}
	cli_lower(d, sizeof d, name);
	if (admin_cli_domain_exists(&s->ctx, d) == TERN_OK) {
		cli_err(s, "Domain %s already exists", d);
		return;
	}
	if (p->val[2] && strcasecmp(p->val[2], "none") != 0) {
		cli_err(s, "Invalid value for wmFilterTemplatePath (this server supports only none)");
		return;
	}
	if (p->val[1] && (strlen(p->val[1]) > CLI_MAX_VALUE || !admin_value_ok(p->val[1]))) {
		cli_err(s, "Invalid value for domainLocation");
		return;
	}
	if (p->val[3] && (!*p->val[3] || strlen(p->val[3]) > CLI_MAX_VALUE || !admin_value_ok(p->val[3]))) {
		cli_err(s, "Invalid value for postmasterPassword");
		return;
	}
	struct cli_frame *f = cli_push(s, CLI_CTX_DOMAIN_CREATE);
	if (!f)
		return;
	f->create = true;
	cli_kv_set(&f->edits, "@name", d);
	if (p->val[3])
		cli_kv_set(&f->edits, "@postmasterPassword", p->val[3]);
	cli_ok(s);
}

static void load_domain_base(struct cli_session *s, struct cli_frame *f)
{
	char target[300];
	admin_cli_catchall_get(&s->ctx, f->name, target, sizeof target);
	cli_kv_set(&f->base, "@catchAllType", target[0] ? "account" : "disabled");
	cli_kv_set(&f->base, "@catchAllAccountName", target);
	/* What new accounts start with (userdef.tab), for the accountDefault* contexts. */
	struct cli_kvlist defs = {0};
	char *d = admin_userdef_vars(s->srv->env, f->name);
	cli_vars_parse(&defs, d);
	free(d);
	for (int i = 0; i < defs.n; i++) {
		char key[300];
		snprintf(key, sizeof key, "def:%s", defs.e[i].k);
		cli_kv_set(&f->base, key, defs.e[i].v);
	}
	cli_kv_free(&defs);
	cli_ctx_ext_load(s, f); /* attributes other parts add (domain services) */
}

static void h_update_domain(struct cli_session *s, const struct cli_parsed *p)
{
	char d[256];
	cli_lower(d, sizeof d, p->val[0]);
	struct cli_frame *cur = cli_cur(s);
	if (cur->ctx == CLI_CTX_DOMAIN && cli_frame_pending(cur)) {
		cli_err(s, "Domain %s has pending changes; COMMIT or BACK first", cur->name);
		return;
	}
	if (admin_cli_domain_exists(&s->ctx, d) != TERN_OK) {
		cli_err(s, "Domain %s not found", d);
		return;
	}
	if (cur->ctx == CLI_CTX_DOMAIN)
		cli_pop(s);
	struct cli_frame *f = cli_push(s, CLI_CTX_DOMAIN);
	if (!f)
		return;
	snprintf(f->domain, sizeof f->domain, "%s", d);
	snprintf(f->name, sizeof f->name, "%s", d);
	load_domain_base(s, f);
	cli_ok(s);
}

static void h_show_domain(struct cli_session *s, const struct cli_parsed *p)
{
	char d[256];
	cli_lower(d, sizeof d, p->val[0]);
	if (admin_cli_domain_exists(&s->ctx, d) != TERN_OK) {
		cli_err(s, "Domain %s not found", d);
		return;
	}
	struct cli_frame *f = cli_push(s, CLI_CTX_DOMAIN);
	if (!f)
		return;
	snprintf(f->domain, sizeof f->domain, "%s", d);
	snprintf(f->name, sizeof f->name, "%s", d);
	load_domain_base(s, f);
	cli_show_frame(s, s->depth, p->val[1]);
	cli_pop(s);
}

static void h_delete_domain(struct cli_session *s, const struct cli_parsed *p)
{
	char d[256];
	cli_lower(d, sizeof d, p->val[0]);
	if (p->val[1]) {
		cli_err(s, "dontKeepCopy is not supported: a deleted domain is kept in the trash for TrashKeepDays days");
		return;
	}
	enum tern_err e = admin_cli_domain_exists(&s->ctx, d);
	if (!e)
		e = admin_domain_del(&s->ctx, d);
	if (e) {
		cli_err_core(s, e, "Domain", d);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "domain %s deleted (mailboxes moved to the trash)", d);
	cli_ok(s);
}

static void h_change_password(struct cli_session *s, const struct cli_parsed *p)
{
	enum tern_err e = admin_cli_admin_passwd(&s->ctx, s->admin, p->val[0], p->val[1]);
	if (e == TERN_E_BAD_PASSWORD) {
		cli_err(s, "Wrong value for oldPassword");
		return;
	}
	if (e == TERN_E_INVALID) {
		cli_err(s, "Invalid value for newPassword");
		return;
	}
	if (e) {
		cli_err_core(s, e, NULL, NULL);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "password of admin %s changed", s->admin);
	cli_ok(s);
}

/* ---- domain creation ---- */

static void h_commit_create(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	const struct cli_kv *name = cli_kv_find(&f->edits, "@name");
	const struct cli_kv *pw = cli_kv_find(&f->edits, "@postmasterPassword");
	if (!name || !name->v || !name->v[0]) {
		cli_err(s, "Missing required parameter name");
		return;
	}
	if (!pw || !pw->v) {
		cli_err(s, "Missing required parameter postmasterPassword");
		return;
	}
	enum tern_err e = admin_cli_domain_create(&s->ctx, name->v, pw->v);
	if (e) {
		cli_commit_failed(s, e, "Domain", name->v);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "domain %s created with account postmaster (password ***)",
		 name->v);
	cli_pop(s);
	cli_ok_text(s, COMMIT_TEXT);
}

/* ---- domain ---- */

struct account_rows {
	struct cli_session *s;
	char type;
};

static int account_row(void *arg, const char *const *f, int n)
{
	struct account_rows *ar = arg;
	if (n >= 4 && f[3][0] == ar->type)
		cli_list_row(ar->s, f[1]);
	return ar->s->c.failed ? 1 : 0;
}

static void list_accounts(struct cli_session *s, const char *pattern, char type, const char *title)
{
	struct cli_frame *f = cli_cur(s);
	struct account_rows ar = {s, type};
	cli_table_begin(s, title, "name");
	cli_list_end(s, admin_user_list(&s->ctx, f->domain, pattern, -1, -1, account_row, &ar));
}

static void h_list_accounts(struct cli_session *s, const struct cli_parsed *p)
{
	list_accounts(s, p->val[0], 'U', "The list of accounts:");
}

struct alias_rows {
	struct cli_session *s;
	struct cli_frame *f;
	const char *user; /* account aliases: their target */
};

static int aliasdomain_row(void *arg, const char *const *f, int n)
{
	struct alias_rows *ar = arg;
	if (n >= 2 && !cli_str_has(&ar->f->alias_del, f[1]))
		cli_list_row(ar->s, f[1]);
	return ar->s->c.failed ? 1 : 0;
}

static void h_list_aliases_domain(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	struct alias_rows ar = {s, f, NULL};
	cli_list_begin(s, "The list of aliases for this domain:");
	enum tern_err e = admin_aliasdomain_list(&s->ctx, f->domain, NULL, aliasdomain_row, &ar);
	for (int i = 0; !e && i < f->alias_add.n; i++)
		cli_list_row(s, f->alias_add.v[i]);
	cli_list_end(s, e);
}

struct probe {
	const char *want;
	bool found;
};

static int aliasdomain_probe(void *arg, const char *const *f, int n)
{
	struct probe *pr = arg;
	if (n >= 2 && !strcasecmp(f[1], pr->want)) {
		pr->found = true;
		return 1;
	}
	return 0;
}

/* Pending additions and removals of a frame (aliases, alias domains, list
 * members): f->alias_add / f->alias_del. */
bool cli_pending_undo(struct cli_frame *f, bool add, const char *a)
{
	return cli_str_remove(add ? &f->alias_del : &f->alias_add, a);
}

bool cli_pending_push(struct cli_session *s, struct cli_frame *f, bool add, const char *a)
{
	struct cli_strlist *l = add ? &f->alias_add : &f->alias_del;
	if (l->n >= CLI_MAX_EDITS) {
		cli_err(s, "Too many pending changes; COMMIT first");
		return false;
	}
	cli_str_add(l, a);
	return true;
}

static void h_add_alias_domain(struct cli_session *s, const struct cli_parsed *p)
{
	struct cli_frame *f = cli_cur(s);
	char a[256];
	cli_lower(a, sizeof a, p->val[0]);
	if (strlen(p->val[0]) > 253 || admin_check_domain(a) != TERN_OK) {
		cli_err(s, "Invalid value for alias (not a valid domain name)");
		return;
	}
	if (cli_pending_undo(f, true, a)) {
		cli_ok(s);
		return;
	}
	struct probe pr = {a, false};
	admin_aliasdomain_list(&s->ctx, f->domain, NULL, aliasdomain_probe, &pr);
	if (pr.found || cli_str_has(&f->alias_add, a) || admin_cli_domain_exists(&s->ctx, a) == TERN_OK)
		cli_err(s, "Alias %s already exists", a);
	else if (cli_pending_push(s, f, true, a))
		cli_ok(s);
}

static void h_remove_alias_domain(struct cli_session *s, const struct cli_parsed *p)
{
	struct cli_frame *f = cli_cur(s);
	char a[256];
	cli_lower(a, sizeof a, p->val[0]);
	if (cli_pending_undo(f, false, a)) {
		cli_ok(s);
		return;
	}
	struct probe pr = {a, false};
	admin_aliasdomain_list(&s->ctx, f->domain, NULL, aliasdomain_probe, &pr);
	if (!pr.found || cli_str_has(&f->alias_del, a))
		cli_err(s, "Alias %s not found", a);
	else if (cli_pending_push(s, f, false, a))
		cli_ok(s);
}

static void h_commit_domain(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	if (!cli_frame_pending(f)) {
		cli_pop(s);
		cli_ok_text(s, COMMIT_TEXT);
		return;
	}
	if (!cli_rename_apply(s, f)) /* first: the other edits apply to the new name */
		return;
	if (!cli_frame_pending(f)) { /* a rename alone */
		cli_rename_only(s);
		return;
	}
	const struct cli_kv *type = cli_kv_find(&f->edits, "@catchAllType");
	const struct cli_kv *acct = cli_kv_find(&f->edits, "@catchAllAccountName");
	const char *catchall = NULL;
	char tmp[300];
	if (type || acct) {
		struct cli_attr ta = domain_attrs[2], na = domain_attrs[3];
		const char *t = cli_attr_value(s, s->depth, &ta, tmp, sizeof tmp);
		const char *a = cli_attr_value(s, s->depth, &na, tmp, sizeof tmp);
		if (!strcmp(t, "account")) {
			if (!*a) {
				cli_err(s, "Missing required parameter catchAllAccountName");
				return;
			}
			catchall = a;
		} else {
			catchall = "";
		}
	}
	/* Defaults for new accounts first (the domain's userdef.tab). */
	const char **defs = calloc((size_t)f->edits.n * 2 + 8, sizeof *defs);
	int ndefs = 0;
	for (int i = 0; i < f->edits.n; i++)
		if (!strncmp(f->edits.e[i].k, "def:", 4)) {
			defs[2 * ndefs] = f->edits.e[i].k + 4;
			defs[2 * ndefs + 1] = f->edits.e[i].v;
			ndefs++;
			/* as for an account: the services decide ReceiveEnable,
			 * PopEnable and SmtpSendEnable */
			if (!strcmp(f->edits.e[i].k, "def:Limits.services"))
				ndefs = cli_services_vars(f->edits.e[i].v, defs, ndefs);
		}
	if (ndefs) {
		enum tern_err de = admin_cli_domain_defaults_set(&s->ctx, f->domain, defs, ndefs);
		if (de) {
			free(defs);
			cli_commit_failed(s, de, "Domain", f->domain);
			return;
		}
		cli_detail_add(s, "domain %s defaults for new accounts:", f->domain);
		for (int i = 0; i < ndefs; i++)
			cli_detail_add(s, " %s=%s", defs[2 * i], defs[2 * i + 1] ? defs[2 * i + 1] : "(removed)");
		cli_detail_add(s, "; ");
	}
	free(defs);
	struct admin_cli_domain_edit ed = {
		.alias_add = (const char *const *)f->alias_add.v,
		.nalias_add = f->alias_add.n,
		.alias_del = (const char *const *)f->alias_del.v,
		.nalias_del = f->alias_del.n,
		.catchall = catchall,
	};
	char detail[300];
	enum tern_err e = admin_cli_domain_commit(&s->ctx, f->domain, &ed, detail, sizeof detail);
	if (e) {
		cli_commit_failed(s, e, e == TERN_E_RECORD_NOT_FOUND ? "Account" : "Domain", detail[0] ? detail : f->domain);
		return;
	}
	cli_detail_add(s, "domain %s changed:", f->domain);
	for (int i = 0; i < f->alias_add.n; i++)
		cli_detail_add(s, " +alias %s", f->alias_add.v[i]);
	for (int i = 0; i < f->alias_del.n; i++)
		cli_detail_add(s, " -alias %s", f->alias_del.v[i]);
	if (catchall)
		cli_detail_add(s, " catch-all=%s", catchall[0] ? catchall : "disabled");
	cli_pop(s);
	cli_ok_text(s, COMMIT_TEXT);
}

struct cli_frame *cli_push_object(struct cli_session *s, enum cli_ctx cx, const char *name, bool create)
{
	char domain[256], n[256];
	snprintf(domain, sizeof domain, "%s", cli_cur(s)->domain);
	snprintf(n, sizeof n, "%s", name);
	struct cli_frame *f = cli_push(s, cx);
	if (!f)
		return NULL;
	f->create = create;
	snprintf(f->domain, sizeof f->domain, "%s", domain);
	snprintf(f->name, sizeof f->name, "%s", n);
	if (!create)
		admin_user_vars(&s->ctx, domain, n, cli_var_row, &f->base);
	return f;
}

void cli_show_pushed(struct cli_session *s, struct cli_frame *f, const char *only)
{
	if (!f)
		return;
	cli_show_frame(s, s->depth, only);
	cli_pop(s);
}

static bool account_name_ok(struct cli_session *s, const char *name, char *out, size_t sz)
{
	if (strlen(name) > 128 || admin_check_user(name) != TERN_OK || !strcmp(name, "*")) {
		cli_err(s, "Invalid value for name (not a valid account name)");
		return false;
	}
	cli_lower(out, sz, name);
	return true;
}

static void h_add_account(struct cli_session *s, const struct cli_parsed *p)
{
	struct cli_frame *d = cli_cur(s);
	char u[256];
	if (!account_name_ok(s, p->val[0], u, sizeof u))
		return;
	const char *pw = p->val[1];
	if (!*pw || strlen(pw) > CLI_MAX_VALUE || !admin_value_ok(pw)) {
		cli_err(s, "Invalid value for password");
		return;
	}
	if (admin_cli_account_type(&s->ctx, d->domain, u, NULL) == TERN_OK) {
		cli_err(s, "Account %s already exists", u);
		return;
	}
	struct cli_frame *f = cli_push_object(s, CLI_CTX_ACCOUNT, u, true);
	if (!f)
		return;
	char *defs = admin_userdef_vars(s->srv->env, f->domain);
	cli_vars_parse(&f->base, defs);
	free(defs);
	cli_kv_set(&f->edits, "@password", pw);
	cli_ok(s);
}

static bool find_account(struct cli_session *s, const char *name, char *u, size_t sz)
{
	struct cli_frame *d = cli_cur(s);
	char type = 0;
	cli_lower(u, sz, name);
	if (admin_cli_account_type(&s->ctx, d->domain, u, &type) != TERN_OK || type != 'U') {
		cli_err(s, "Account %s not found", u);
		return false;
	}
	return true;
}

static void h_update_account(struct cli_session *s, const struct cli_parsed *p)
{
	char u[256];
	if (find_account(s, p->val[0], u, sizeof u) && cli_push_object(s, CLI_CTX_ACCOUNT, u, false))
		cli_ok(s);
}

static void h_show_account(struct cli_session *s, const struct cli_parsed *p)
{
	char u[256];
	if (find_account(s, p->val[0], u, sizeof u))
		cli_show_pushed(s, cli_push_object(s, CLI_CTX_ACCOUNT, u, false), p->val[1]);
}

static void h_remove_account(struct cli_session *s, const struct cli_parsed *p)
{
	char u[256];
	if (!find_account(s, p->val[0], u, sizeof u))
		return;
	struct cli_frame *d = cli_cur(s);
	enum tern_err e = admin_user_del(&s->ctx, d->domain, u);
	if (e) {
		cli_err_core(s, e, "Account", u);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "account %s@%s deleted (mailbox moved to the trash)", u,
		 d->domain);
	cli_ok(s);
}

/* ---- account ---- */

/* CONFIG <sub-context> of an account or a domain: the row's CLI_ENTERS
 * names the context; the sub-context edits the same object (its edits go
 * to the parent at DONE). */
void cli_h_enter_sub(struct cli_session *s, const struct cli_parsed *p)
{
	struct cli_frame *parent = cli_cur(s);
	char domain[256], name[256];
	snprintf(domain, sizeof domain, "%s", parent->domain);
	snprintf(name, sizeof name, "%s", parent->name);
	struct cli_frame *f = cli_push(s, cli_cmd_to(p->cmd));
	if (!f)
		return;
	snprintf(f->domain, sizeof f->domain, "%s", domain);
	snprintf(f->name, sizeof f->name, "%s", name);
	cli_ok(s);
}

/* Does a stored alias of the frame's domain point to the frame's account? */
static int account_alias_row(void *arg, const char *const *f, int n)
{
	struct alias_rows *ar = arg;
	if (n < 3 || !strcmp(f[1], "*"))
		return 0;
	char target[600];
	snprintf(target, sizeof target, "%s", f[2]);
	char *at = strchr(target, '@');
	if (at && !strcasecmp(at + 1, ar->f->domain))
		*at = '\0';
	if (strcasecmp(target, ar->user) != 0)
		return 0;
	if (ar->s) {
		if (!cli_str_has(&ar->f->alias_del, f[1]))
			cli_list_row(ar->s, f[1]);
		return ar->s->c.failed ? 1 : 0;
	}
	return 0;
}

static void h_list_aliases_account(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	struct alias_rows ar = {s, f, f->name};
	cli_list_begin(s, "The list of aliases for this account:");
	enum tern_err e = TERN_OK;
	if (!f->create)
		e = admin_alias_list(&s->ctx, f->domain, NULL, NULL, account_alias_row, &ar);
	for (int i = 0; !e && i < f->alias_add.n; i++)
		cli_list_row(s, f->alias_add.v[i]);
	cli_list_end(s, e);
}

struct target_probe {
	const char *domain;
	const char *alias;
	char target[600];
	bool found;
};

static int alias_target_row(void *arg, const char *const *f, int n)
{
	struct target_probe *tp = arg;
	if (n >= 3 && !strcasecmp(f[0], tp->domain) && !strcasecmp(f[1], tp->alias)) {
		snprintf(tp->target, sizeof tp->target, "%s", f[2]);
		tp->found = true;
		return 1;
	}
	return 0;
}

static void h_add_alias_account(struct cli_session *s, const struct cli_parsed *p)
{
	struct cli_frame *f = cli_cur(s);
	char a[256];
	if (strlen(p->val[0]) > 128 || admin_check_user(p->val[0]) != TERN_OK || !strcmp(p->val[0], "*")) {
		cli_err(s, "Invalid value for alias (not a valid local part)");
		return;
	}
	cli_lower(a, sizeof a, p->val[0]);
	if (cli_pending_undo(f, true, a)) {
		cli_ok(s);
		return;
	}
	struct target_probe tp = {f->domain, a, "", false};
	admin_alias_list(&s->ctx, f->domain, NULL, NULL, alias_target_row, &tp);
	if (tp.found || cli_str_has(&f->alias_add, a))
		cli_err(s, "Alias %s already exists", a);
	else if (!strcasecmp(a, f->name) || admin_cli_account_type(&s->ctx, f->domain, a, NULL) == TERN_OK)
		cli_err(s, "Account %s already exists", a);
	else if (cli_pending_push(s, f, true, a))
		cli_ok(s);
}

static void h_remove_alias_account(struct cli_session *s, const struct cli_parsed *p)
{
	struct cli_frame *f = cli_cur(s);
	char a[256];
	cli_lower(a, sizeof a, p->val[0]);
	if (cli_pending_undo(f, false, a)) {
		cli_ok(s);
		return;
	}
	struct target_probe tp = {f->domain, a, "", false};
	if (!f->create)
		admin_alias_list(&s->ctx, f->domain, NULL, NULL, alias_target_row, &tp);
	char *at = strchr(tp.target, '@');
	if (at && !strcasecmp(at + 1, f->domain))
		*at = '\0';
	if (!tp.found || strcasecmp(tp.target, f->name) != 0 || cli_str_has(&f->alias_del, a))
		cli_err(s, "Alias %s not found", a);
	else if (cli_pending_push(s, f, false, a))
		cli_ok(s);
}

/* RealName (XMail's display-name variable) follows contact info names. */
static void real_name(struct cli_session *s, struct cli_frame *f, char *out, size_t sz)
{
	char t1[8], t2[8];
	const struct cli_attr *fa = cli_attr_find(CLI_CTX_CONTACT, "firstName");
	const struct cli_attr *la = cli_attr_find(CLI_CTX_CONTACT, "lastName");
	(void)f;
	const char *first = cli_attr_value(s, s->depth, fa, t1, sizeof t1);
	const char *last = cli_attr_value(s, s->depth, la, t2, sizeof t2);
	snprintf(out, sz, "%s%s%s", first, *first && *last ? " " : "", last);
}

const char **cli_commit_begin(struct cli_session *s, struct cli_frame *f, int extra, const char **password_r,
			     int *nvars_r)
{
	if (!f->create && !cli_frame_pending(f)) {
		cli_pop(s);
		cli_ok_text(s, COMMIT_TEXT);
		return NULL;
	}
	/* first: the other edits apply to the new names */
	if (!cli_rename_apply(s, f) || !cli_rename_members_apply(s, f))
		return NULL;
	if (!f->create && !cli_frame_pending(f)) { /* a rename alone */
		cli_rename_only(s);
		return NULL;
	}
	const char **vars = xcalloc((size_t)(f->edits.n + extra) * 2 + 2, sizeof *vars);
	int n = 0;
	*password_r = NULL;
	for (int i = 0; i < f->edits.n; i++) {
		const struct cli_kv *kv = &f->edits.e[i];
		if (!strcmp(kv->k, "@password"))
			*password_r = kv->v;
		else if (kv->k[0] != '@') {
			vars[2 * n] = kv->k;
			vars[2 * n + 1] = kv->v;
			n++;
		}
	}
	*nvars_r = n;
	return vars;
}

void cli_commit_end(struct cli_session *s, struct cli_frame *f, const char *what, const char *password,
		    const char **vars, int nvars, const char *prefix)
{
	cli_detail_add(s, "%s %s@%s %s:", what, f->name, f->domain, f->create ? "created" : "changed");
	if (password)
		cli_detail_add(s, " password=***");
	for (int i = 0; i < nvars; i++)
		cli_detail_add(s, " %s=%s", vars[2 * i], vars[2 * i + 1] ? vars[2 * i + 1] : "(removed)");
	for (int i = 0; i < f->alias_add.n; i++)
		cli_detail_add(s, " +%s%s", prefix, f->alias_add.v[i]);
	for (int i = 0; i < f->alias_del.n; i++)
		cli_detail_add(s, " -%s%s", prefix, f->alias_del.v[i]);
	free(vars);
	cli_pop(s);
	cli_ok_text(s, COMMIT_TEXT);
}

static void h_commit_account(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	const char *password;
	int nvars;
	const char **vars = cli_commit_begin(s, f, 4, &password, &nvars);
	if (!vars)
		return;
	bool names_changed = cli_kv_find(&f->edits, "ContactInfo.firstName") || cli_kv_find(&f->edits, "ContactInfo.lastName");
	/* The services limit decides whether the account receives mail, may
	 * log in over POP3 and may send over SMTP. */
	const struct cli_kv *svc = cli_kv_find(&f->edits, "Limits.services");
	if (svc)
		nvars = cli_services_vars(svc->v, vars, nvars);
	char rn[2 * CLI_MAX_VALUE + 2];
	if (names_changed) {
		real_name(s, f, rn, sizeof rn);
		if (rn[0]) {
			vars[2 * nvars] = "RealName";
			vars[2 * nvars + 1] = rn;
			nvars++;
		}
	}
	struct admin_cli_account_edit ed = {
		.password = password,
		.vars = vars,
		.nvars = nvars,
		.alias_add = (const char *const *)f->alias_add.v,
		.nalias_add = f->alias_add.n,
		.alias_del = (const char *const *)f->alias_del.v,
		.nalias_del = f->alias_del.n,
	};
	char detail[300];
	enum tern_err e = admin_cli_account_commit(&s->ctx, f->domain, f->name, f->create, &ed, detail, sizeof detail);
	if (e) {
		free(vars);
		const char *type = (e == TERN_E_USER_EXISTS || e == TERN_E_RECORD_NOT_FOUND) ? "Account" : "Alias";
		if (e == TERN_E_INVALID && detail[0])
			cli_commit_failed(s, e, NULL, detail);
		else
			cli_commit_failed(s, e, type, detail[0] ? detail : f->name);
		return;
	}
	cli_commit_end(s, f, "account", password, vars, nvars, "alias ");
}

/* SHOW RegistryInformation: the keys CLI2's scripts read (spec 6.6). Tern
 * records the last POP3 login only; other logins and the creation date are
 * unknown and print as the epoch, the spec's "never". */
struct stat_rows {
	char date[64], ip[64], size[32], count[32];
};

static int stat_row(void *arg, const char *const *f, int n)
{
	struct stat_rows *sr = arg;
	if (n < 2)
		return 0;
	if (!strcmp(f[0], "LastLoginTimeDate"))
		snprintf(sr->date, sizeof sr->date, "%s", f[1]);
	else if (!strcmp(f[0], "LastLoginIP"))
		snprintf(sr->ip, sizeof sr->ip, "%s", f[1]);
	else if (!strcmp(f[0], "MailboxSize"))
		snprintf(sr->size, sizeof sr->size, "%s", f[1]);
	else if (!strcmp(f[0], "MailboxMessages"))
		snprintf(sr->count, sizeof sr->count, "%s", f[1]);
	return 0;
}

static void h_show_registry(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	struct stat_rows sr = {"", "0.0.0.0", "0", "0"};
	char epoch[64];
	admin_format_date(0, epoch, sizeof epoch);
	if (!f->create && admin_user_stat(&s->ctx, f->domain, f->name, stat_row, &sr) != TERN_OK) {
		cli_err(s, "Account %s not found", f->name);
		return;
	}
	bool never = !strcmp(sr.ip, "0.0.0.0") || !sr.date[0];
	struct buf out = BUF_INIT;
	buf_puts(&out, "\r\nThe registry information of this account:\r\n");
	buf_printf(&out, "Creation Date = %s\r\nModification Date = %s\r\n", epoch, epoch);
	buf_printf(&out, "POP3 Last Login Date = %s\r\nPOP3 Last Login IP = %s\r\n", never ? epoch : sr.date,
		   never ? "0.0.0.0" : sr.ip);
	static const char *const others[] = {"IMAP", "WebMail", "Active Sync", "OLK"};
	for (size_t i = 0; i < sizeof others / sizeof *others; i++)
		buf_printf(&out, "%s Last Login Date = %s\r\n%s Last Login IP = 0.0.0.0\r\n", others[i], epoch,
			   others[i]);
	/* KB, like every size of the CLI */
	unsigned long long bytes = strtoull(sr.size, NULL, 10);
	buf_printf(&out, "Mbox size = %llu\r\nMbox message count = %s\r\nMbox folder count = 1\r\n\r\n",
		   (bytes + 1023) / 1024, sr.count);
	conn_write(&s->c, out.data, out.len);
	buf_free(&out);
	cli_ok(s);
}

/* INHERIT SETTINGS FROM domainDefaults: every variable the domain's
 * defaults set goes back to its default value in the pending copy. */
static void h_inherit_defaults(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	struct cli_kvlist defs = {0};
	char *d = admin_userdef_vars(s->srv->env, f->domain);
	cli_vars_parse(&defs, d);
	free(d);
	if (f->edits.n + defs.n > CLI_MAX_EDITS) {
		cli_kv_free(&defs);
		cli_err(s, "Too many pending changes; COMMIT first");
		return;
	}
	for (int i = 0; i < defs.n; i++)
		cli_kv_set(&f->edits, defs.e[i].k, defs.e[i].v);
	cli_kv_free(&defs);
	cli_ok(s);
}

static void h_inherit_class(struct cli_session *s, const struct cli_parsed *p)
{
	cli_err(s, "Account class %s not found (this server has no account classes)", p->val[0]);
}

/* ---- quotas ---- */

void cli_reset_to_default(struct cli_session *s, struct cli_frame *f, const char *key)
{
	struct cli_kvlist defs = {0};
	char *d = admin_userdef_vars(s->srv->env, f->domain);
	cli_vars_parse(&defs, d);
	free(d);
	const struct cli_kv *kv = cli_kv_find(&defs, key);
	cli_kv_set(&f->edits, key, kv ? kv->v : NULL);
	cli_kv_free(&defs);
	cli_ok(s);
}

static void h_reset_attr(struct cli_session *s, const struct cli_parsed *p)
{
	struct cli_frame *f = cli_cur(s);
	const struct cli_attr *a = cli_attr_find(f->ctx, p->val[0]);
	if (!a || p->t->lit[p->first]) {
		cli_err(s, "Unknown attribute %s", p->val[0]);
		return;
	}
	if (!a->key || (a->flags & CLI_AF_NOSET)) {
		char name[64];
		cli_attr_name(a, name, sizeof name);
		if ((a->flags & CLI_AF_WHY) && a->help)
			cli_err(s, "%s cannot be reset. %s", name, a->help);
		else
			cli_err(s, "%s is not supported by this server yet", name);
		return;
	}
	cli_reset_to_default(s, f, a->key);
}

/* ---- the table ---- */

#define IN(c) CLI_IN(CLI_CTX_##c)
#define OBJ_CTX (IN(DOMAIN_CREATE) | IN(DOMAIN) | IN(ACCOUNT) | IN(CONTACT) | IN(QUOTAS))
#define SHOW_ATTR {CLI_ARG_OPT_PAIR, "ATTR", "param", false}
#define NAME_ARG(meta) {CLI_ARG_POS, "name", meta, false}

static const struct cli_cmd table[] = {
	/* everywhere */
	{CLI_ANY, "EXIT/QUIT", {{0}}, CLI_LEAVES(QUIT), cli_h_exit, "Leave the CLI; edits not committed are dropped."},
	{CLI_ANY, "HELP", {{0}}, CLI_READS, cli_h_help, "Print the commands of the current context."},
	{CLI_ANY, "GET VERSION", {{0}}, CLI_READS, h_version,
	 "Print the emulated version, the OS and the architecture as version|os|arch."},
	{CLI_AUTHED & ~IN(ROOT), "BACK", {{0}}, CLI_LEAVES(BACK), cli_h_back, "Drop the pending changes of this context and return to the parent."},

	/* login */
	{IN(LOGIN), "USER", {{CLI_ARG_POS, NULL, "user", false}}, 0, h_user,
	 "Log in as this admin user; the password follows on the next line."},
	{IN(LOGIN), "SET CONSOLE-CODES", {{CLI_ARG_POS, NULL, "on|off", false}}, 0, h_console_codes,
	 "Terminal control sequences; only off is supported."},
	{IN(LOGIN), "SET QUIET", {{CLI_ARG_POS, NULL, "on|off", false}}, 0, h_quiet,
	 "Terse output mode; only off is supported."},
	{IN(LOGIN), "SHOW", {SHOW_ATTR}, CLI_READS, cli_h_show, "Print the options of this session."},

	/* root */
	{IN(ROOT), "LIST Domains", {{CLI_ARG_OPT_POS, NULL, "wildcard (ex: domain*)", false}}, CLI_READS,
	 h_list_domains, "Table of the domains, optionally filtered by a wildcard."},
	{IN(ROOT), "LIST AllDomains", {{CLI_ARG_OPT_POS, NULL, "wildcard (ex: domain*)", false}}, CLI_READS,
	 h_list_alldomains, "Table of all domains with their state."},
	{IN(ROOT), "SAVE CONFIG", {{CLI_ARG_OPT_POS, NULL, "label", false}}, CLI_CHANGES, cli_h_save_config,
	 "Write a versioned snapshot of the configuration under the data root (snapshots/)."},
	{IN(ROOT),
	 "CREATE Domain",
	 {{CLI_ARG_PAIR, "name", "name", false},
	  {CLI_ARG_OPT_PAIR, "domainLocation", "path", false},
	  {CLI_ARG_OPT_PAIR, "wmFilterTemplatePath", "none", false},
	  {CLI_ARG_OPT_PAIR, "postmasterPassword|postmasterPasswd", "password", true}},
	 CLI_PENDING | CLI_ENTERS(DOMAIN_CREATE) | CLI_CREATES, h_create_domain, "Start creating a domain (and its postmaster account); it exists after COMMIT."},
	{IN(ROOT), "UPDATE Domain", {NAME_ARG("domainName")}, CLI_READS | CLI_ENTERS(DOMAIN), h_update_domain,
	 "Enter the context of an existing domain."},
	{IN(DOMAIN), "UPDATE Domain", {NAME_ARG("domainName")}, CLI_READS | CLI_SWITCHES(DOMAIN), h_update_domain,
	 "Switch to another domain (only without pending changes)."},
	{IN(ROOT), "SHOW Domain", {NAME_ARG("domainName"), SHOW_ATTR}, CLI_READS, h_show_domain,
	 "Print the attributes of a domain."},
	{IN(ROOT), "DELETE Domain", {{CLI_ARG_PAIR, "name", "name", false}, {CLI_ARG_FLAG, "dontKeepCopy", NULL, false}},
	 CLI_CHANGES | CLI_DESTRUCTIVE, h_delete_domain,
	 "Delete a domain with its accounts; mailboxes go to the trash. Acts at once."},
	{IN(ROOT),
	 "CHANGE password",
	 {{CLI_ARG_PAIR, "oldPassword", "pass", true}, {CLI_ARG_PAIR, "newPassword", "pass", true}},
	 CLI_CHANGES, h_change_password, "Change the password of the admin user that is logged in."},
	{IN(ROOT), "ENABLE Domain", {{CLI_ARG_OPT_PAIR, "name", "name", false}, {CLI_ARG_OPT_PAIR, "domainLocation", "path", false}},
	 CLI_CHANGES, h_enable_domain,
	 "Enable a disabled domain again: it receives mail and its accounts log in. Acts at once."},
	{IN(ROOT), "DISABLE Domain", {NAME_ARG("name")}, CLI_CHANGES | CLI_DISRUPTIVE, h_disable_domain,
	 "Disable a domain, keeping its data: mail for it is refused (550) or frozen, its logins refused. Acts "
	 "at once."},
	/* pre-10 syntax (spec: legacy forms) */
	{IN(ROOT), "REGISTER Domain", {{CLI_ARG_OPT_PAIR, "name", "name", false}, {CLI_ARG_OPT_PAIR, "domainLocation", "path", false}},
	 CLI_CHANGES | CLI_NOHELP, h_enable_domain, "Old name of ENABLE Domain."},
	{IN(ROOT), "UNREGISTER Domain", {NAME_ARG("name")}, CLI_CHANGES | CLI_DISRUPTIVE | CLI_NOHELP, h_disable_domain,
	 "Old name of DISABLE Domain."},
	{IN(ROOT), "CREATE Subdomain", {{CLI_ARG_SET, NULL, "args", false}}, CLI_LATER, cli_h_later, NULL},

	/* domain creation */
	{IN(DOMAIN_CREATE), "SET", {{CLI_ARG_SET, NULL, "attribute value ...", false}}, CLI_PENDING, cli_h_set, NULL},
	{IN(DOMAIN_CREATE), "SHOW", {SHOW_ATTR}, CLI_READS, cli_h_show, "Print the attributes of the new domain."},
	{IN(DOMAIN_CREATE), "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_create,
	 "Create the domain with its postmaster account and return to the root."},

	/* domain */
	{IN(DOMAIN), "SET", {{CLI_ARG_SET, NULL, "attribute value ...", false}}, CLI_PENDING, cli_h_set, NULL},
	{IN(DOMAIN), "SHOW", {SHOW_ATTR}, CLI_READS, cli_h_show, "Print the attributes of this domain."},
	{IN(DOMAIN), "LIST Accounts", {{CLI_ARG_OPT_POS, NULL, "wildcard (ex: account*)", false}}, CLI_READS,
	 h_list_accounts, "Table of the accounts, optionally filtered by a wildcard."},
	{IN(DOMAIN), "LIST Aliases", {{0}}, CLI_READS, h_list_aliases_domain,
	 "The other names of this domain (alias domains), pending changes included."},
	{IN(DOMAIN),
	 "ADD Account",
	 {NAME_ARG("name"), {CLI_ARG_PAIR, "password", "password", true}},
	 CLI_PENDING | CLI_ENTERS(ACCOUNT) | CLI_CREATES, h_add_account, "Start creating an account and enter it; it exists after its COMMIT."},
	{IN(DOMAIN), "UPDATE Account", {NAME_ARG("name")}, CLI_READS | CLI_ENTERS(ACCOUNT), h_update_account,
	 "Enter the context of an existing account."},
	{IN(DOMAIN), "REMOVE Account", {NAME_ARG("name")}, CLI_CHANGES | CLI_DESTRUCTIVE, h_remove_account,
	 "Delete an account; its mailbox goes to the trash. Acts at once."},
	{IN(DOMAIN), "SHOW Account", {NAME_ARG("name"), SHOW_ATTR}, CLI_READS, h_show_account,
	 "Print the attributes of an account."},
	{IN(DOMAIN), "ADD Alias", {{CLI_ARG_POS, NULL, "domainName", false}}, CLI_PENDING, h_add_alias_domain,
	 "Add another name for this domain (applied at COMMIT)."},
	{IN(DOMAIN), "REMOVE Alias", {{CLI_ARG_POS, NULL, "domainName", false}}, CLI_PENDING | CLI_DESTRUCTIVE,
	 h_remove_alias_domain, "Remove another name of this domain (applied at COMMIT)."},
	{IN(DOMAIN), "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_domain,
	 "Apply the pending changes of this domain and return to the root."},

	/* account */
	{IN(ACCOUNT), "SET", {{CLI_ARG_SET, NULL, "attribute value ...", false}}, CLI_PENDING, cli_h_set, NULL},
	{IN(ACCOUNT), "SHOW", {SHOW_ATTR}, CLI_READS, cli_h_show, "Print the attributes of this account."},
	{IN(ACCOUNT), "CONFIG ContactInfo", {{0}}, CLI_ENTERS(CONTACT), cli_h_enter_sub, "Enter the account's contact card."},
	{IN(ACCOUNT), "CONFIG Quotas", {{0}}, CLI_ENTERS(QUOTAS), cli_h_enter_sub, "Enter the account's storage quotas."},
	{IN(ACCOUNT), "LIST Aliases", {{0}}, CLI_READS, h_list_aliases_account,
	 "Other local parts delivering to this account, pending changes included."},
	{IN(ACCOUNT), "ADD Alias", {{CLI_ARG_POS, NULL, "aliasName", false}}, CLI_PENDING, h_add_alias_account,
	 "Add another local part for this account (applied at COMMIT)."},
	{IN(ACCOUNT), "REMOVE Alias", {{CLI_ARG_POS, NULL, "aliasName", false}}, CLI_PENDING | CLI_DESTRUCTIVE,
	 h_remove_alias_account, "Remove another local part of this account (applied at COMMIT)."},
	{IN(ACCOUNT), "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_account,
	 "Apply the account's pending changes (its sub-contexts' included) and return to the domain."},
	{IN(ACCOUNT), "SHOW RegistryInformation", {{0}}, CLI_READS, h_show_registry,
	 "Print creation and last-login dates and mailbox usage (dates never recorded print as the epoch)."},
	{IN(ACCOUNT), "CONFIG Filters", {{0}}, CLI_LATER, cli_h_later, NULL},
	{IN(ACCOUNT), "INHERIT SETTINGS FROM domainDefaults", {{0}}, CLI_PENDING, h_inherit_defaults,
	 "Take the domain's defaults for new accounts again (quota, limits; applied at COMMIT)."},
	{IN(ACCOUNT), "INHERIT SETTINGS FROM accountClass", {{CLI_ARG_POS, NULL, "accountClassName", false}},
	 CLI_NOHELP, h_inherit_class, "Account classes are not supported."},

	/* contact info, quotas */
	{IN(CONTACT) | IN(QUOTAS), "SET", {{CLI_ARG_SET, NULL, "attribute value ...", false}}, CLI_PENDING, cli_h_set,
	 NULL},
	{IN(CONTACT) | IN(QUOTAS), "SHOW", {SHOW_ATTR}, CLI_READS, cli_h_show,
	 "Print the attributes of this context (pending changes included)."},
	{IN(CONTACT) | IN(QUOTAS), "DONE", {{0}}, CLI_LEAVES(DONE), cli_h_done,
	 "Hand the changes to the account (applied at its COMMIT) and return to it."},
	{IN(QUOTAS), "RESET", {{CLI_ARG_POS, NULL, "attr", false}}, CLI_PENDING | CLI_DISRUPTIVE, h_reset_attr,
	 "Go back to the domain's default value for new accounts."},
};

const struct cli_part cli_part_core = {core_ctxs, N(core_ctxs), table, N(table)};

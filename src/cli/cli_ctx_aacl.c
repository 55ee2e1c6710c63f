/*
 * cli_ctx_aacl - the administrative ACL: admin users (the admin accounts
 * the controller and the CLI share) and which front-ends each may log in
 * to (interfaces: cli, ctrl), and admin groups whose interfaces their
 * members get too. Groups nest (ADD parent-group in a group): a member
 * gets what every group above it has; a group never becomes its own
 * ancestor (checked at ADD and again in DONE's transaction). An admin user's or group's changes are stored at its
 * DONE, in one transaction (admin_cli_admin_save/admin_cli_group_save).
 * GRANT/REVOKE/DENY permission act at once on a stored admin user or
 * group; SHOW effective-permissions prints the result of the rule in
 * admin_perms.h (groups merged, a deny wins).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../admin/admin_cli.h"
#include "../admin/admin_perms.h"
#include "cli_ctx.h"

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N CLI_N

static const struct cli_attr admin_attrs[] = {
	{"name", CLI_AT_STRING, "@name", NULL, 0, 0, "", 0,
	 "Name of the admin user; SET name renames it at DONE (groups and permissions follow)."},
	{"password", CLI_AT_SECRET, "@password", NULL, 0, 0, NULL, CLI_AF_NOSHOW, "Set the admin user's password."},
	{"description", CLI_AT_STRING, "@desc", NULL, 0, 0, "", 0, "Free-text description."},
	{"interfaces", CLI_AT_SET, "@ifaces", "cli|ctrl", 0, 0, "(cli ctrl)", 0,
	 "Front-ends the admin may log in to: (cli ctrl), (cli) or (ctrl)."},
	{"parents", CLI_AT_SET, "@parents", "", 0, 0, "()", CLI_AF_NOSET,
	 "Admin groups of the user (ADD/REMOVE parent-group)."},
};

static const struct cli_attr group_attrs[] = {
	{"name", CLI_AT_STRING, "@name", NULL, 0, 0, "", 0,
	 "Name of the admin group; SET name renames it at DONE (members and permissions follow)."},
	{"description", CLI_AT_STRING, "@desc", NULL, 0, 0, "", 0, "Free-text description."},
	{"interfaces", CLI_AT_SET, "@ifaces", "cli|ctrl", 0, 0, "(cli ctrl)", 0,
	 "Front-ends the group's members may log in to."},
	{"parents", CLI_AT_SET, "@parents", "", 0, 0, "()", CLI_AF_NOSET,
	 "Admin groups this group belongs to (ADD/REMOVE parent-group); their permissions and interfaces apply to "
	 "its members too."},
};

static const struct cli_ctx_reg aacl_ctxs[] = {
	{CLI_CTX_AACL, {"aacl", "Administrative ACL", "ACL", NULL, 0, CLI_CTX_ROOT}},
	{CLI_CTX_ADMIN_USER,
	 {"adminUser", "User Administrative ACL", "admin user", admin_attrs, N(admin_attrs), CLI_CTX_AACL}},
	{CLI_CTX_ADMIN_GROUP,
	 {"adminGroup", "Group Administrative ACL", "admin group", group_attrs, N(group_attrs), CLI_CTX_AACL}},
};

static void h_enter_aacl(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_push(s, CLI_CTX_AACL);
	if (f) {
		snprintf(f->name, sizeof f->name, "aacl");
		cli_ok(s);
	}
}

/* A "name | description" row of the admin-user and admin-group tables. */
static int name_desc_row(void *arg, const char *const *f, int n)
{
	struct cli_session *s = arg;
	if (n >= 2) {
		/* Table cells hold no spaces (clients split on them): SHOW has the exact text. */
		char line[600];
		snprintf(line, sizeof line, "%s | %s", f[0], f[1][0] ? f[1] : "-");
		for (char *c = line + strlen(f[0]) + 3; *c; c++)
			if (*c == ' ')
				*c = '_';
		cli_list_row(s, line);
	}
	return s->c.failed ? 1 : 0;
}

static void h_list_admins(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_table_begin(s, "The list of admin users:", "name | description");
	cli_list_end(s, admin_cli_admin_list(&s->ctx, name_desc_row, s));
}

struct one_admin {
	const char *name;
	char desc[300], ifaces[300], parents[500];
	bool found;
};

static int one_row(void *arg, const char *const *f, int n)
{
	struct one_admin *o = arg;
	if (n >= 4 && !strcmp(f[0], o->name)) {
		snprintf(o->desc, sizeof o->desc, "%s", f[1]);
		snprintf(o->ifaces, sizeof o->ifaces, "%s", f[2]);
		snprintf(o->parents, sizeof o->parents, "%s", f[3]);
		o->found = true;
		return 1;
	}
	return 0;
}

static struct cli_frame *push_admin(struct cli_session *s, const char *name, bool create)
{
	struct one_admin o = {.name = name};
	if (!create)
		admin_cli_admin_list(&s->ctx, one_row, &o);
	if (create == o.found || (!create && !admin_cli_admin_exists(&s->ctx, name))) {
		cli_err(s, "Admin user %s %s", name, create ? "already exists" : "not found");
		return NULL;
	}
	struct cli_frame *f = cli_push(s, CLI_CTX_ADMIN_USER);
	if (!f)
		return NULL;
	f->create = create;
	snprintf(f->name, sizeof f->name, "%s", name);
	if (o.desc[0])
		cli_kv_set(&f->base, "@desc", o.desc);
	if (o.ifaces[0])
		cli_kv_set(&f->base, "@ifaces", o.ifaces);
	if (o.parents[0])
		cli_kv_set(&f->base, "@parents", o.parents);
	return f;
}

static bool name_ok(struct cli_session *s, const char *n)
{
	if (!admin_aacl_name_ok(n)) { /* the admin core's rule, one place */
		cli_err(s, "Invalid value for name (letters, digits, '.', '_', '-', starting with a letter or digit; "
			   "at most 64)");
		return false;
	}
	return true;
}

static void h_add_admin(struct cli_session *s, const struct cli_parsed *p)
{
	if (!name_ok(s, p->val[0]))
		return;
	if (admin_cli_admin_exists(&s->ctx, p->val[0])) {
		cli_err(s, "Admin user %s already exists", p->val[0]);
		return;
	}
	const char *pw = p->val[1];
	if (!*pw || strlen(pw) > CLI_MAX_VALUE || !admin_value_ok(pw)) {
		cli_err(s, "Invalid value for password");
		return;
	}
	struct cli_frame *f = push_admin(s, p->val[0], true);
	if (!f)
		return;
	cli_kv_set(&f->edits, "@password", pw);
	cli_ok(s);
}

static void h_update_admin(struct cli_session *s, const struct cli_parsed *p)
{
	if (push_admin(s, p->val[0], false))
		cli_ok(s);
}

static void show_perms(struct cli_session *s, char kind, const char *name);

static void h_show_admin(struct cli_session *s, const struct cli_parsed *p)
{
	if (!push_admin(s, p->val[0], false))
		return;
	cli_show_frame(s, s->depth, NULL);
	show_perms(s, 'u', p->val[0]);
	cli_pop(s);
}

static void h_remove_admin(struct cli_session *s, const struct cli_parsed *p)
{
	const char *n = p->val[0];
	if (!admin_cli_admin_exists(&s->ctx, n)) {
		cli_err(s, "Admin user %s not found", n);
		return;
	}
	if (!strcmp(n, s->admin)) {
		cli_err(s, "Commit failed: you cannot remove the admin user you are logged in as");
		return;
	}
	enum tern_err e = admin_cli_admin_del(&s->ctx, n);
	if (e == TERN_E_INVALID) {
		cli_err(s, "Commit failed: the last admin user cannot be removed");
		return;
	}
	if (e) {
		cli_err_core(s, e, "Admin user", n);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "admin user %s deleted", n);
	cli_ok(s);
}

static bool perm_apply_pending(struct cli_session *s, char kind);
static void perm_stored(struct cli_frame *f);

/* DONE of an admin user ('u') or group ('g'): stored now (the AACL has
 * no COMMIT), a rename first, then the other edits, then pending grants. */
static void done_principal(struct cli_session *s, char kind)
{
	bool user = kind == 'u';
	const char *what = user ? "admin user" : "admin group";
	struct cli_frame *f = cli_cur(s);
	const struct cli_kv *ifs = cli_kv_find(&f->edits, "@ifaces");
	if (ifs && ifs->v && !strcmp(ifs->v, "()")) {
		cli_err(s, "Invalid value for interfaces (at least one of cli, ctrl)");
		return;
	}
	if (!cli_rename_apply(s, f)) /* first: the other edits apply to the new name */
		return;
	const struct cli_kv *pw = user ? cli_kv_find(&f->edits, "@password") : NULL;
	const struct cli_kv *desc = cli_kv_find(&f->edits, "@desc");
	const struct cli_kv *par = cli_kv_find(&f->edits, "@parents");
	ifs = cli_kv_find(&f->edits, "@ifaces");
	if (f->create || f->edits.n) {
		const char *dv = desc ? (desc->v ? desc->v : "") : NULL;
		const char *pv = par ? (par->v ? par->v : "()") : NULL;
		enum tern_err e;
		if (user)
			e = admin_cli_admin_save(&s->ctx, f->name, f->create, pw ? pw->v : NULL, dv,
						 ifs ? (ifs->v && strcmp(ifs->v, "(cli ctrl)") ? ifs->v : "") : NULL, pv);
		else
			e = admin_cli_group_save(&s->ctx, f->name, f->create, dv, ifs ? (ifs->v ? ifs->v : "") : NULL, pv);
		if (!user && e == TERN_E_FORBIDDEN) {
			cli_err(s, "Commit failed: admin group %s cannot be a member of its own member (a group cannot "
				   "become its own ancestor)", f->name);
			return;
		}
		if (e == TERN_E_RECORD_NOT_FOUND && (user ? par != NULL : !f->create)) {
			cli_err(s, "Commit failed: %s %s or one of its parent groups no longer exists", what, f->name);
			return;
		}
		if (e) {
			cli_commit_failed(s, e, user ? "Admin user" : "Admin group", f->name);
			return;
		}
		cli_detail_add(s, "%s %s %s:%s%s%s%s%s", what, f->name, f->create ? "created" : "changed",
			       pw ? " password=***" : "", desc ? " description=" : "", desc && desc->v ? desc->v : "",
			       ifs ? " interfaces=" : "", ifs && ifs->v ? ifs->v : "");
		if (par)
			cli_detail_add(s, " parents=%s", par->v ? par->v : "()");
		if (!perm_apply_pending(s, kind)) {
			perm_stored(f);
			return;
		}
	}
	cli_pop(s);
	cli_ok(s);
}

static void h_done_admin(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	done_principal(s, 'u');
}

/* ---- groups ---- */

static void h_list_groups(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_table_begin(s, "The list of admin groups:", "name | description");
	cli_list_end(s, admin_cli_group_list(&s->ctx, name_desc_row, s));
}

struct one_group {
	const char *name;
	char desc[300], ifaces[300], members[2000], parents[500];
	bool found;
};

static int one_group_row(void *arg, const char *const *f, int n)
{
	struct one_group *o = arg;
	if (n >= 4 && !strcmp(f[0], o->name)) {
		snprintf(o->desc, sizeof o->desc, "%s", f[1]);
		snprintf(o->ifaces, sizeof o->ifaces, "%s", f[2]);
		snprintf(o->members, sizeof o->members, "%s", f[3]);
		if (n >= 5)
			snprintf(o->parents, sizeof o->parents, "%s", f[4]);
		o->found = true;
		return 1;
	}
	return 0;
}

static struct cli_frame *push_group(struct cli_session *s, const char *name, bool create)
{
	struct one_group o = {.name = name};
	admin_cli_group_list(&s->ctx, one_group_row, &o);
	if (create == o.found) {
		cli_err(s, "Admin group %s %s", name, create ? "already exists" : "not found");
		return NULL;
	}
	struct cli_frame *f = cli_push(s, CLI_CTX_ADMIN_GROUP);
	if (!f)
		return NULL;
	f->create = create;
	snprintf(f->name, sizeof f->name, "%s", name);
	if (o.desc[0])
		cli_kv_set(&f->base, "@desc", o.desc);
	if (o.ifaces[0])
		cli_kv_set(&f->base, "@ifaces", o.ifaces);
	cli_kv_set(&f->base, "@members", o.members);
	if (o.parents[0])
		cli_kv_set(&f->base, "@parents", o.parents);
	return f;
}

static void h_add_group(struct cli_session *s, const struct cli_parsed *p)
{
	if (name_ok(s, p->val[0]) && push_group(s, p->val[0], true))
		cli_ok(s);
}

static void h_update_group(struct cli_session *s, const struct cli_parsed *p)
{
	if (push_group(s, p->val[0], false))
		cli_ok(s);
}

static void h_show_group(struct cli_session *s, const struct cli_parsed *p)
{
	if (!push_group(s, p->val[0], false))
		return;
	cli_show_frame(s, s->depth, NULL);
	show_perms(s, 'g', p->val[0]);
	cli_pop(s);
}

static void h_list_members(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	const struct cli_kv *kv = cli_kv_find(&cli_cur(s)->base, "@members");
	char tmp[2000];
	snprintf(tmp, sizeof tmp, "%s", kv && kv->v ? kv->v : "");
	cli_list_begin(s, "The list of members:");
	char *save = NULL;
	for (char *t = strtok_r(tmp, "() ", &save); t; t = strtok_r(NULL, "() ", &save))
		cli_list_row(s, t);
	cli_list_end(s, TERN_OK);
}

static void h_remove_group(struct cli_session *s, const struct cli_parsed *p)
{
	const char *n = p->val[0];
	enum tern_err e = admin_cli_group_del(&s->ctx, n, p->val[1] != NULL);
	if (e == TERN_E_RECORD_NOT_FOUND) {
		cli_err(s, "Admin group %s not found", n);
		return;
	}
	if (e == TERN_E_BUSY) {
		cli_err(s, "Commit failed: admin group %s has members (REMOVE admin-group %s forced)", n, n);
		return;
	}
	if (e) {
		cli_err_core(s, e, "Admin group", n);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "admin group %s deleted", n);
	cli_ok(s);
}

static void h_done_group(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	done_principal(s, 'g');
}

/* ---- a user's or group's groups (pending until DONE) ---- */

static void parents_of(struct cli_session *s, char *out, size_t sz)
{
	char tmp[16];
	const struct cli_attr *a = cli_attr_find(cli_cur(s)->ctx, "parents");
	snprintf(out, sz, "%s", cli_attr_value(s, s->depth, a, tmp, sizeof tmp));
}

static void h_list_parents(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	char v[600];
	parents_of(s, v, sizeof v);
	cli_list_begin(s, "The list of parent groups:");
	char *save = NULL;
	for (char *t = strtok_r(v, "() ", &save); t; t = strtok_r(NULL, "() ", &save))
		cli_list_row(s, t);
	cli_list_end(s, TERN_OK);
}

static void change_parent(struct cli_session *s, const char *g, bool add)
{
	char v[600], tmp[600];
	parents_of(s, v, sizeof v);
	snprintf(tmp, sizeof tmp, "%s", v);
	struct buf out = BUF_INIT;
	bool found = false, first = true;
	buf_putc(&out, '(');
	char *save = NULL;
	for (char *t = strtok_r(tmp, "() ", &save); t; t = strtok_r(NULL, "() ", &save)) {
		if (!strcmp(t, g)) {
			found = true;
			if (!add)
				continue;
		}
		buf_printf(&out, "%s%s", first ? "" : " ", t);
		first = false;
	}
	struct cli_frame *f = cli_cur(s);
	bool group = f->ctx == CLI_CTX_ADMIN_GROUP;
	if (add && !found) {
		if (!admin_cli_group_exists(&s->ctx, g)) {
			buf_free(&out);
			cli_err(s, "Admin group %s not found", g);
			return;
		}
		if (group && !f->create && admin_cli_group_cycle(&s->ctx, f->name, g)) {
			buf_free(&out);
			if (!strcmp(f->name, g))
				cli_err(s, "Admin group %s cannot be a member of itself", g);
			else
				cli_err(s, "Admin group %s is a member of %s already (directly or through other groups): "
					   "a group cannot become its own ancestor", g, f->name);
			return;
		}
		buf_printf(&out, "%s%s", first ? "" : " ", g);
	}
	buf_putc(&out, ')');
	if (add == found) {
		const char *who = group ? "Admin group" : "Admin user";
		if (add)
			cli_err(s, "%s is already in group %s", who, g);
		else
			cli_err(s, "%s is not in group %s", who, g);
	} else {
		cli_kv_set(&cli_cur(s)->edits, "@parents", out.data);
		cli_ok(s);
	}
	buf_free(&out);
}

static void h_add_parent(struct cli_session *s, const struct cli_parsed *p)
{
	change_parent(s, p->val[0], true);
}

static void h_remove_parent(struct cli_session *s, const struct cli_parsed *p)
{
	change_parent(s, p->val[0], false);
}

/* ---- permissions (admin_perms.h has the rule); they act at once ---- */

/* SHOW effective-permissions needs a stored principal. */
static bool principal_of(struct cli_session *s, char *kind, const char **name)
{
	struct cli_frame *f = cli_cur(s);
	*kind = f->ctx == CLI_CTX_ADMIN_GROUP ? 'g' : 'u';
	*name = f->name;
	if (f->create) {
		cli_err(s, "Admin %s %s is not stored yet (its pending permissions apply at DONE)",
			*kind == 'g' ? "group" : "user", f->name);
		return false;
	}
	return true;
}

/* The answer to a refused permission change. */
static void perm_refused(struct cli_session *s, enum tern_err e, const char *bad, const char *who, const char *domain)
{
	switch (e) {
	case TERN_E_RECORD_NOT_FOUND: /* removed by another session meanwhile */
		cli_err(s, "Admin %s %s not found", cli_cur(s)->ctx == CLI_CTX_ADMIN_GROUP ? "group" : "user", who);
		break;
	case TERN_E_INVALID:
		if (bad[0])
			cli_err(s, "Invalid value for permission %s (this server has no such feature; it knows %s)", bad,
				admin_perm_supported());
		else
			cli_err(s, "Invalid parameters (permission list too long)");
		break;
	case TERN_E_SYNTAX:
		cli_err(s, "Invalid parameters (an empty permission list)");
		break;
	case TERN_E_BUSY:
		cli_err(s, "Commit failed: %s is the built-in first admin user and always has every permission", who);
		break;
	case TERN_E_DOMAIN_NOT_HANDLED:
		cli_err(s, "Domain %s not found", domain ? domain : "");
		break;
	case TERN_E_BAD_DOMAIN:
	case TERN_E_BAD_ADDRESS:
		cli_err(s, "Invalid value for domain (not a valid domain name)");
		break;
	default:
		cli_err_core(s, e, NULL, NULL);
		break;
	}
}

/* A new user or group (ADD admin-user ... GRANT ... DONE, as scripts do):
 * its permission changes wait in the frame ("@perm.N" = "<op>\t<set>\t<domain>")
 * and are applied in order by DONE, right after the principal is stored. */
#define PENDING_PERM "@perm."

static void perm_pending(struct cli_session *s, char op, const char *set, const char *domain)
{
	struct cli_frame *f = cli_cur(s);
	char bad[128];
	enum tern_err e = admin_perm_validate(&s->ctx, set, domain, bad, sizeof bad);
	if (e) {
		perm_refused(s, e, bad, f->name, domain);
		return;
	}
	int n = 0, count = 0;
	for (int i = 0; i < f->edits.n; i++)
		if (!strncmp(f->edits.e[i].k, PENDING_PERM, strlen(PENDING_PERM))) {
			int k = atoi(f->edits.e[i].k + strlen(PENDING_PERM));
			n = k >= n ? k + 1 : n;
			count++;
		}
	if (count >= 64) {
		cli_err(s, "Too many pending changes; DONE first");
		return;
	}
	char key[32], val[1024];
	snprintf(key, sizeof key, PENDING_PERM "%02d", n);
	if (snprintf(val, sizeof val, "%c\t%s\t%s", op, set, domain ? domain : "") >= (int)sizeof val) {
		cli_err(s, "Invalid parameters (permission list too long)");
		return;
	}
	cli_kv_set(&f->edits, key, val);
	cli_ok(s);
}

/* DONE: the pending permission changes of a principal just stored. On a
 * failure the ones not applied stay pending (-ERR, still in the context). */
static bool perm_apply_pending(struct cli_session *s, char kind)
{
	struct cli_frame *f = cli_cur(s);
	for (int i = 0; i < f->edits.n;) {
		struct cli_kv *kv = &f->edits.e[i];
		if (strncmp(kv->k, PENDING_PERM, strlen(PENDING_PERM)) || !kv->v) {
			i++;
			continue;
		}
		char v[1024], bad[128];
		snprintf(v, sizeof v, "%s", kv->v);
		char *set = strchr(v, '\t');
		char *dom = set ? strchr(set + 1, '\t') : NULL;
		if (!set || !dom) {
			cli_kv_drop(&f->edits, kv->k);
			continue;
		}
		*set++ = '\0';
		*dom++ = '\0';
		enum tern_err e = admin_perm_change(&s->ctx, kind, f->name, set, dom[0] ? dom : NULL, v[0], bad, sizeof bad);
		if (e) {
			perm_refused(s, e, bad, f->name, dom);
			char why[sizeof s->status];
			snprintf(why, sizeof why, "%s", s->status + strlen("-ERR: "));
			cli_err(s, "Commit failed: admin %s %s is stored, but its pending %s and the ones after it are not "
				   "(%s)",
				kind == 'g' ? "group" : "user", f->name, v[0] == 'G' ? "GRANT" : v[0] == 'D' ? "DENY" : "REVOKE",
				why);
			return false;
		}
		cli_detail_add(s, " %s %s%s%s", v[0] == 'G' ? "GRANT" : v[0] == 'D' ? "DENY" : "REVOKE", set,
			       dom[0] ? " domain " : "", dom);
		cli_kv_drop(&f->edits, kv->k);
	}
	return true;
}

/* After a failed DONE that stored the principal but not all its
 * permissions: the frame now edits a stored principal. */
static void perm_stored(struct cli_frame *f)
{
	f->create = false;
	for (int i = 0; i < f->edits.n;) {
		if (strncmp(f->edits.e[i].k, PENDING_PERM, strlen(PENDING_PERM)))
			cli_kv_drop(&f->edits, f->edits.e[i].k);
		else
			i++;
	}
}

static void log_detail_cut(struct cli_session *s)
{
	memcpy(s->log_detail + sizeof s->log_detail - 4, "...", 4);
}

static void h_permission(struct cli_session *s, const struct cli_parsed *p)
{
	char op = toupper((unsigned char)p->cmd->words[0]); /* GRANT, REVOKE, DENY */
	struct cli_frame *f = cli_cur(s);
	char kind = f->ctx == CLI_CTX_ADMIN_GROUP ? 'g' : 'u';
	const char *who = f->name;
	/* "(a b c)" may span tokens; then an optional "domain <name>". */
	const struct cli_tokens *t = p->t;
	int i = p->set_first;
	char set[512] = "";
	size_t used = 0;
	bool open = i < t->n && t->v[i][0] == '(' && !t->lit[i];
	do {
		if (i >= t->n) {
			cli_err(s, "Invalid parameters (a permission list such as (manageAccounts createAccounts))");
			return;
		}
		int n = snprintf(set + used, sizeof set - used, "%s%s", used ? " " : "", t->v[i]);
		if (n < 0 || (size_t)n >= sizeof set - used) {
			cli_err(s, "Invalid parameters (permission list too long)");
			return;
		}
		used += (size_t)n;
		size_t l = strlen(t->v[i]);
		i++;
		if (!open || (l && t->v[i - 1][l - 1] == ')'))
			break;
	} while (1);
	const char *domain = NULL;
	if (i < t->n && !strcasecmp(t->v[i], "domain") && i + 1 < t->n) {
		domain = t->v[i + 1];
		i += 2;
	}
	if (i != t->n) {
		cli_err(s, "Invalid parameters (unexpected argument)");
		return;
	}
	if (f->create) {
		perm_pending(s, op, set, domain);
		return;
	}
	char bad[128];
	enum tern_err e = admin_perm_change(&s->ctx, kind, who, set, domain, op, bad, sizeof bad);
	if (e) {
		perm_refused(s, e, bad, who, domain);
		return;
	}
	if (snprintf(s->log_detail, sizeof s->log_detail, "admin %s %s: %s %s%s%s", kind == 'g' ? "group" : "user",
		     who, p->cmd->words, set, domain ? " domain " : " server-wide",
		     domain ? domain : "") >= (int)sizeof s->log_detail)
		log_detail_cut(s); /* the log line only */
	cli_ok(s);
}

struct eff_out {
	struct cli_session *s;
	char scope[256];
	bool any, started;
};

static int eff_row(void *arg, const char *const *f, int n)
{
	struct eff_out *o = arg;
	if (n < 2)
		return 0;
	if (!o->started || strcmp(o->scope, f[0])) {
		char head[400];
		if (f[0][0])
			snprintf(head, sizeof head, "Permissions on Domain \"%s\":", f[0]);
		else
			snprintf(head, sizeof head, "Server-wide permissions:");
		cli_list_row(o->s, head);
		snprintf(o->scope, sizeof o->scope, "%s", f[0]);
		o->started = true;
	}
	char line[200];
	snprintf(line, sizeof line, "  %s", f[1]);
	cli_list_row(o->s, line);
	o->any = true;
	return o->s->c.failed ? 1 : 0;
}

/* SHOW admin-user/admin-group <name>: after the attributes, one
 * 'Permissions on Domain "<d>":' block per domain (spec 6.6), before the
 * closing empty line. Nothing for full administrators. */
static void show_perms(struct cli_session *s, char kind, const char *name)
{
	struct buf *out = &s->c.out;
	if (s->status_err || out->len < 4 || memcmp(out->data + out->len - 4, "\r\n\r\n", 4))
		return;
	out->len -= 2;
	struct eff_out o = {.s = s};
	bool full = false;
	admin_perm_effective(&s->ctx, kind, name, NULL, &full, eff_row, &o);
	conn_puts(&s->c, "\r\n");
}

static void h_show_effective(struct cli_session *s, const struct cli_parsed *p)
{
	char kind;
	const char *who;
	if (!principal_of(s, &kind, &who))
		return;
	const char *domain = p->val[0];
	char dom[256] = "";
	if (domain) {
		if (admin_check_domain(domain)) {
			cli_err(s, "Invalid value for domain (not a valid domain name)");
			return;
		}
		admin_lower_copy(dom, sizeof dom, domain);
	}
	char title[400];
	snprintf(title, sizeof title, "The effective permissions of admin %s %s%s%s:", kind == 'g' ? "group" : "user",
		 who, dom[0] ? " on domain " : "", dom);
	cli_list_begin(s, title);
	struct eff_out o = {.s = s};
	bool full = false;
	enum tern_err e = admin_perm_effective(&s->ctx, kind, who, dom[0] ? dom : NULL, &full, eff_row, &o);
	if (!e && full)
		cli_list_row(s, "Full administrator: every permission, server-wide and on every domain");
	else if (!e && !o.any)
		cli_list_row(s, "No permissions");
	cli_list_end(s, e);
}

#define NAME_PW {CLI_NAME_ARG("name"), {CLI_ARG_PAIR, "password", "password", true}}
#define PERM_ARGS {{CLI_ARG_REST, NULL, "(permNames) [domain <name>]", false}}
#define ADMINS (IN(ADMIN_USER) | IN(ADMIN_GROUP))

static const struct cli_cmd aacl_cmds[] = {
	{IN(ROOT), "ENTER AACL", {{0}}, CLI_READS | CLI_ENTERS(AACL), h_enter_aacl,
	 "Enter the administrative ACL (admin users)."},
	{IN(AACL), "DONE", {{0}}, CLI_LEAVES(DONE), cli_h_back, "Return to the root (as BACK; nothing is pending here)."},
	{IN(AACL), "LIST admin-users", {{0}}, CLI_READS, h_list_admins, "Table of the admin users."},
	{IN(AACL), "ADD admin-user", NAME_PW, CLI_PENDING | CLI_ENTERS(ADMIN_USER) | CLI_CREATES, h_add_admin,
	 "Start creating an admin user and enter it; it is stored at its DONE."},
	{IN(AACL), "UPDATE admin-user", {CLI_NAME_ARG("name")}, CLI_READS | CLI_ENTERS(ADMIN_USER), h_update_admin,
	 "Enter an admin user."},
	{IN(AACL), "REMOVE admin-user", {CLI_NAME_ARG("name")}, CLI_CHANGES | CLI_DESTRUCTIVE, h_remove_admin,
	 "Delete an admin user (not yourself, not the last one). Acts at once."},
	{IN(AACL), "SHOW admin-user", {CLI_NAME_ARG("name")}, CLI_READS, h_show_admin, "Print an admin user."},
	{IN(ADMIN_USER), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(ADMIN_USER), "SHOW", {{0}}, CLI_READS, cli_h_show, "Print the admin user (pending changes included)."},
	{IN(ADMIN_USER), "DONE", {{0}}, CLI_CHANGES | CLI_LEAVES(DONE), h_done_admin,
	 "Store the admin user's changes and return to the ACL."},
	{ADMINS, "GRANT permission", PERM_ARGS, CLI_CHANGES, h_permission,
	 "Grant permissions, e.g. (manageAccounts createAccounts), server-wide or on one domain. Acts at once "
	 "(for a new user or group: at its DONE)."},
	{ADMINS, "REVOKE permission", PERM_ARGS, CLI_CHANGES, h_permission,
	 "Remove explicit grants and denies of permissions (server-wide or on one domain). Acts at once (for a new "
	 "user or group: at its DONE)."},
	{ADMINS, "DENY permission", PERM_ARGS, CLI_CHANGES, h_permission,
	 "Deny permissions (a deny wins over any grant, the groups' included). Acts at once (for a new user or "
	 "group: at its DONE)."},
	{ADMINS, "SHOW effective-permissions", {{CLI_ARG_OPT_PAIR, "domain", "name", false}}, CLI_READS,
	 h_show_effective, "Print the resulting permissions, groups merged and denies applied."},
	{ADMINS, "LIST parents", {{0}}, CLI_READS, h_list_parents, "The admin groups this user or group belongs to."},
	{ADMINS, "ADD parent-group", {CLI_NAME_ARG("name")}, CLI_PENDING, h_add_parent,
	 "Make this user or group a member of an admin group (stored at DONE; a group cannot become its own "
	 "ancestor)."},
	{ADMINS, "REMOVE parent-group", {CLI_NAME_ARG("name")}, CLI_PENDING, h_remove_parent,
	 "Take this user or group out of an admin group (stored at DONE)."},
	{IN(AACL), "LIST admin-groups", {{0}}, CLI_READS, h_list_groups, "Table of the admin groups."},
	{IN(AACL), "ADD admin-group", {CLI_NAME_ARG("name")}, CLI_PENDING | CLI_ENTERS(ADMIN_GROUP) | CLI_CREATES,
	 h_add_group, "Start creating an admin group and enter it; it is stored at its DONE."},
	{IN(AACL), "UPDATE admin-group", {CLI_NAME_ARG("name")}, CLI_READS | CLI_ENTERS(ADMIN_GROUP), h_update_group,
	 "Enter an admin group."},
	{IN(AACL), "REMOVE admin-group", {CLI_NAME_ARG("name"), {CLI_ARG_FLAG, "forced", NULL, false}},
	 CLI_CHANGES | CLI_DESTRUCTIVE, h_remove_group,
	 "Delete an admin group (with members only when forced: they leave it). Acts at once."},
	{IN(AACL), "SHOW admin-group", {CLI_NAME_ARG("name")}, CLI_READS, h_show_group, "Print an admin group."},
	{IN(ADMIN_GROUP), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(ADMIN_GROUP), "SHOW", {{0}}, CLI_READS, cli_h_show, "Print the admin group (pending changes included)."},
	{IN(ADMIN_GROUP), "LIST members", {{0}}, CLI_READS, h_list_members, "The admin users in this group."},
	{IN(ADMIN_GROUP), "DONE", {{0}}, CLI_CHANGES | CLI_LEAVES(DONE), h_done_group,
	 "Store the admin group's changes and return to the ACL."},
};

const struct cli_part cli_part_aacl = {aacl_ctxs, N(aacl_ctxs), aacl_cmds, N(aacl_cmds)};

/*
 * cli_ctx_aacl - the administrative ACL: admin users (the admin accounts
 * the controller and the CLI share) and which front-ends each may log in
 * to (interfaces: cli, ctrl). An admin user's changes are stored at its
 * DONE, in one transaction (admin_cli_admin_save). Tern has no
 * per-domain permissions and no admin groups yet: those commands answer a
 * clear -ERR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../admin/admin_cli.h"
#include "cli_ctx.h"

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N CLI_N

static const struct cli_attr admin_attrs[] = {
	{"name", CLI_AT_STRING, "@name", NULL, 0, 0, "", CLI_AF_NOSET, "Name of the admin user (read-only)."},
	{"password", CLI_AT_SECRET, "@password", NULL, 0, 0, NULL, CLI_AF_NOSHOW, "Set the admin user's password."},
	{"description", CLI_AT_STRING, "@desc", NULL, 0, 0, "", 0, "Free-text description."},
	{"interfaces", CLI_AT_SET, "@ifaces", "cli|ctrl", 0, 0, "(cli ctrl)", 0,
	 "Front-ends the admin may log in to: (cli ctrl), (cli) or (ctrl)."},
};

static const struct cli_ctx_reg aacl_ctxs[] = {
	{CLI_CTX_AACL, {"aacl", "Administrative ACL", "ACL", NULL, 0, CLI_CTX_ROOT}},
	{CLI_CTX_ADMIN_USER,
	 {"adminUser", "User Administrative ACL", "admin user", admin_attrs, N(admin_attrs), CLI_CTX_AACL}},
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

static int admin_row(void *arg, const char *const *f, int n)
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
	cli_list_end(s, admin_cli_admin_list(&s->ctx, admin_row, s));
}

struct one_admin {
	const char *name;
	char desc[300], ifaces[300];
	bool found;
};

static int one_row(void *arg, const char *const *f, int n)
{
	struct one_admin *o = arg;
	if (n >= 3 && !strcmp(f[0], o->name)) {
		snprintf(o->desc, sizeof o->desc, "%s", f[1]);
		snprintf(o->ifaces, sizeof o->ifaces, "%s", f[2]);
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
	return f;
}

static bool name_ok(struct cli_session *s, const char *n)
{
	if (strlen(n) > 64 || !*n || strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
					       strlen(n)) {
		cli_err(s, "Invalid value for name (letters, digits, '.', '_', '-'; at most 64)");
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

static void h_show_admin(struct cli_session *s, const struct cli_parsed *p)
{
	if (!push_admin(s, p->val[0], false))
		return;
	cli_show_frame(s, s->depth, NULL);
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

/* DONE of an admin user: stored now (the AACL has no COMMIT). */
static void h_done_admin(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	const struct cli_kv *pw = cli_kv_find(&f->edits, "@password");
	const struct cli_kv *desc = cli_kv_find(&f->edits, "@desc");
	const struct cli_kv *ifs = cli_kv_find(&f->edits, "@ifaces");
	if (ifs && ifs->v && !strcmp(ifs->v, "()")) {
		cli_err(s, "Invalid value for interfaces (at least one of cli, ctrl)");
		return;
	}
	if (f->create || f->edits.n) {
		enum tern_err e = admin_cli_admin_save(&s->ctx, f->name, f->create, pw ? pw->v : NULL,
						       desc ? (desc->v ? desc->v : "") : NULL,
						       ifs ? (ifs->v && strcmp(ifs->v, "(cli ctrl)") ? ifs->v : "") : NULL);
		if (e) {
			cli_commit_failed(s, e, "Admin user", f->name);
			return;
		}
		cli_detail_add(s, "admin user %s %s:%s%s%s%s%s", f->name, f->create ? "created" : "changed",
			       pw ? " password=***" : "", desc ? " description=" : "", desc && desc->v ? desc->v : "",
			       ifs ? " interfaces=" : "", ifs && ifs->v ? ifs->v : "");
	}
	cli_pop(s);
	cli_ok(s);
}

static void h_no_groups(struct cli_session *s, const struct cli_parsed *p)
{
	cli_err(s, "%s is not supported by this server yet (admin groups)", p->cmd->words);
}

static void h_no_permissions(struct cli_session *s, const struct cli_parsed *p)
{
	cli_err(s, "%s is not supported: this server has no per-domain permissions (an admin user has every right "
		   "on the interfaces it may use)",
		p->cmd->words);
}

#define NAME_PW {CLI_NAME_ARG("name"), {CLI_ARG_PAIR, "password", "password", true}}
#define ANY_ARGS {{CLI_ARG_SET, NULL, "args", false}}

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
	{IN(AACL), "LIST admin-groups", {{0}}, CLI_LATER, h_no_groups, NULL},
	{IN(AACL), "ADD admin-group", ANY_ARGS, CLI_LATER, h_no_groups, NULL},
	{IN(AACL), "UPDATE admin-group", ANY_ARGS, CLI_LATER, h_no_groups, NULL},
	{IN(AACL), "REMOVE admin-group", ANY_ARGS, CLI_LATER, h_no_groups, NULL},
	{IN(AACL), "SHOW admin-group", ANY_ARGS, CLI_LATER, h_no_groups, NULL},
	{IN(ADMIN_USER), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(ADMIN_USER), "SHOW", {{0}}, CLI_READS, cli_h_show, "Print the admin user (pending changes included)."},
	{IN(ADMIN_USER), "DONE", {{0}}, CLI_CHANGES | CLI_LEAVES(DONE), h_done_admin,
	 "Store the admin user's changes and return to the ACL."},
	{IN(ADMIN_USER), "GRANT permission", ANY_ARGS, CLI_LATER, h_no_permissions, NULL},
	{IN(ADMIN_USER), "REVOKE permission", ANY_ARGS, CLI_LATER, h_no_permissions, NULL},
	{IN(ADMIN_USER), "DENY permission", ANY_ARGS, CLI_LATER, h_no_permissions, NULL},
	{IN(ADMIN_USER), "ADD parent-group", ANY_ARGS, CLI_LATER, h_no_groups, NULL},
};

const struct cli_part cli_part_aacl = {aacl_ctxs, N(aacl_ctxs), aacl_cmds, N(aacl_cmds)};

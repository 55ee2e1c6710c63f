/*
 * ctrl_commands - the controller's command table and its handlers.
 *
 * Each handler receives the tokenised line (argv[0] is the command name)
 * after the table's argument count check, calls one admin verb and formats
 * the result. The table is also what help/reference output and the offline
 * script checker read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/log.h"
#include "ctrl.h"

static const char *opt(char **argv, int argc, int i)
{
	return i < argc ? argv[i] : NULL;
}

/* A non-negative decimal number, or -1. */
static int64_t number(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno || v < 0)
		return -1;
	return v;
}

static void do_upload_then(struct ctrl_session *s, enum tern_err pre,
			   enum tern_err (*store)(struct ctrl_session *, char **, const char *, size_t, int *),
			   char **argv)
{
	if (pre) {
		ctrl_reply(s, pre);
		return;
	}
	struct buf data = BUF_INIT;
	enum tern_err e = ctrl_upload(s, &data);
	if (e == TERN_E_INTERNAL && s->c.failed) {
		buf_free(&data);
		return;
	}
	if (e == TERN_OK) {
		int bad_line = 0;
		e = store(s, argv, data.data ? data.data : "", data.len, &bad_line);
		if ((e == TERN_E_BAD_FILE || e == TERN_E_LIMIT_REACHED) && bad_line > 0) {
			char detail[64];
			snprintf(detail, sizeof detail, "(line %d)", bad_line);
			ctrl_reply_detail(s, e, detail);
			buf_free(&data);
			return;
		}
	}
	ctrl_reply(s, e);
	buf_free(&data);
}

/* ---- users ---- */

static void h_useradd(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_user_add(&s->ctx, argv[1], argv[2], argv[3], argv[4]));
}

static void h_userdel(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_user_del(&s->ctx, argv[1], argv[2]));
}

static void h_userpasswd(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_user_passwd(&s->ctx, argv[1], argv[2], argv[3]));
}

static void h_userauth(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_user_auth(&s->ctx, argv[1], argv[2], argv[3]));
}

static void h_userstat(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_list_end(s, admin_user_stat(&s->ctx, argv[1], argv[2], ctrl_row, s));
}

static void h_uservars(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_list_end(s, admin_user_vars(&s->ctx, argv[1], argv[2], ctrl_row, s));
}

static void h_uservarsset(struct ctrl_session *s, char **argv, int argc)
{
	if ((argc - 3) % 2) {
		ctrl_reply(s, TERN_E_SYNTAX);
		return;
	}
	ctrl_reply(s, admin_user_vars_set(&s->ctx, argv[1], argv[2], argv + 3, argc - 3));
}

static void h_userlist(struct ctrl_session *s, char **argv, int argc)
{
	int64_t start = -1, amount = -1;
	if (argc >= 4 && (start = number(argv[3])) < 0) {
		ctrl_reply(s, TERN_E_SYNTAX);
		return;
	}
	if (argc >= 5 && (amount = number(argv[4])) < 0) {
		ctrl_reply(s, TERN_E_SYNTAX);
		return;
	}
	ctrl_list_end(s, admin_user_list(&s->ctx, opt(argv, argc, 1), opt(argv, argc, 2), start, amount, ctrl_row, s));
}

static void h_usercount(struct ctrl_session *s, char **argv, int argc)
{
	ctrl_list_end(s, admin_user_count(&s->ctx, opt(argv, argc, 1), ctrl_row, s));
}

static void h_usergetmproc(struct ctrl_session *s, char **argv, int argc)
{
	struct buf out = BUF_INIT;
	enum tern_err e = admin_mailproc_get(&s->ctx, argv[1], argv[2], opt(argv, argc, 3), &out);
	if (e)
		ctrl_reply(s, e);
	else
		ctrl_file_listing(s, out.data, out.len);
	buf_free(&out);
}

static enum tern_err store_mailproc(struct ctrl_session *s, char **argv, const char *data, size_t len, int *bad)
{
	return admin_mailproc_set(&s->ctx, argv[1], argv[2], argv[3], data, len, bad);
}

static void h_usersetmproc(struct ctrl_session *s, char **argv, int argc)
{
	char *args[4] = {argv[0], argv[1], argv[2], (char *)opt(argv, argc, 3)};
	do_upload_then(s, admin_mailproc_check(&s->ctx, argv[1], argv[2]), store_mailproc, args);
}

/* ---- mailing lists ---- */

static void h_mluseradd(struct ctrl_session *s, char **argv, int argc)
{
	ctrl_reply(s, admin_mluser_add(&s->ctx, argv[1], argv[2], argv[3], opt(argv, argc, 4)));
}

static void h_mluserdel(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_mluser_del(&s->ctx, argv[1], argv[2], argv[3]));
}

static void h_mluserlist(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_list_end(s, admin_mluser_list(&s->ctx, argv[1], argv[2], ctrl_row, s));
}

/* ---- aliases ---- */

static void h_aliasadd(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_alias_add(&s->ctx, argv[1], argv[2], argv[3]));
}

static void h_aliasdel(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_alias_del(&s->ctx, argv[1], argv[2]));
}

static void h_aliaslist(struct ctrl_session *s, char **argv, int argc)
{
	ctrl_list_end(s, admin_alias_list(&s->ctx, opt(argv, argc, 1), opt(argv, argc, 2), opt(argv, argc, 3),
					  ctrl_row, s));
}

static void h_exaliasadd(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_exalias_add(&s->ctx, argv[1], argv[2]));
}

static void h_exaliasdel(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_exalias_del(&s->ctx, argv[1]));
}

static void h_exaliaslist(struct ctrl_session *s, char **argv, int argc)
{
	ctrl_list_end(s, admin_exalias_list(&s->ctx, opt(argv, argc, 1), opt(argv, argc, 2), ctrl_row, s));
}

/* ---- domains ---- */

static void h_domainadd(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_domain_add(&s->ctx, argv[1]));
}

static void h_domaindel(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_domain_del(&s->ctx, argv[1]));
}

static void h_domainlist(struct ctrl_session *s, char **argv, int argc)
{
	ctrl_list_end(s, admin_domain_list(&s->ctx, argv + 1, argc - 1, ctrl_row, s));
}

static void h_aliasdomainadd(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_aliasdomain_add(&s->ctx, argv[1], argv[2]));
}

static void h_aliasdomaindel(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_aliasdomain_del(&s->ctx, argv[1]));
}

static void h_aliasdomainlist(struct ctrl_session *s, char **argv, int argc)
{
	if (argc > 3) {
		ctrl_list_end(s, TERN_OK); /* three or more filters match nothing */
		return;
	}
	ctrl_list_end(s, admin_aliasdomain_list(&s->ctx, opt(argv, argc, 1), opt(argv, argc, 2), ctrl_row, s));
}

/* ---- custom domains ---- */

static void h_custdomget(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	struct buf out = BUF_INIT;
	enum tern_err e = admin_custdom_get(&s->ctx, argv[1], &out);
	if (e)
		ctrl_reply(s, e);
	else
		ctrl_file_listing(s, out.data, out.len);
	buf_free(&out);
}

static enum tern_err store_custdom(struct ctrl_session *s, char **argv, const char *data, size_t len, int *bad)
{
	(void)bad;
	return admin_custdom_set(&s->ctx, argv[1], data, len);
}

static void h_custdomset(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	do_upload_then(s, admin_custdom_check(&s->ctx, argv[1]), store_custdom, argv);
}

static void h_custdomlist(struct ctrl_session *s, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	ctrl_list_end(s, admin_custdom_list(&s->ctx, ctrl_row, s));
}

/* ---- POP3 links ---- */

static void h_poplnkadd(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_poplink_add(&s->ctx, argv[1], argv[2], argv[3], argv[4], argv[5], argv[6]));
}

static void h_poplnkdel(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_poplink_del(&s->ctx, argv[1], argv[2], argv[3], argv[4]));
}

static void h_poplnklist(struct ctrl_session *s, char **argv, int argc)
{
	ctrl_list_end(s, admin_poplink_list(&s->ctx, opt(argv, argc, 1), opt(argv, argc, 2), ctrl_row, s));
}

static void h_poplnkenable(struct ctrl_session *s, char **argv, int argc)
{
	ctrl_reply(s, admin_poplink_enable(&s->ctx, argv[1], argv[2], argv[3], opt(argv, argc, 4),
					   opt(argv, argc, 5)));
}

/* ---- files ---- */

static void h_filelist(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_list_end(s, admin_file_list(&s->ctx, argv[1], argv[2], ctrl_row, s));
}

static void h_cfgfileget(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	struct buf out = BUF_INIT;
	enum tern_err e = admin_cfgfile_get(&s->ctx, argv[1], &out);
	if (e)
		ctrl_reply(s, e);
	else
		ctrl_file_listing(s, out.data, out.len);
	buf_free(&out);
}

static enum tern_err store_cfgfile(struct ctrl_session *s, char **argv, const char *data, size_t len, int *bad)
{
	return admin_cfgfile_set(&s->ctx, argv[1], data, len, bad);
}

static void h_cfgfileset(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	do_upload_then(s, admin_cfgfile_check(&s->ctx, argv[1]), store_cfgfile, argv);
}

/* ---- session ---- */

static void h_noop(struct ctrl_session *s, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	ctrl_reply(s, TERN_OK);
}

static void h_quit(struct ctrl_session *s, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	ctrl_reply(s, TERN_OK);
	s->quit = true;
}

/* ---- frozen messages ---- */

static void h_frozlist(struct ctrl_session *s, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	ctrl_list_end(s, admin_frozen_list(&s->ctx, ctrl_row, s));
}

static void h_frozsubmit(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_frozen_submit(&s->ctx, argv[1], argv[2], argv[3]));
}

static void h_frozdel(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	ctrl_reply(s, admin_frozen_del(&s->ctx, argv[1], argv[2], argv[3]));
}

static void frozen_file(struct ctrl_session *s, char **argv, bool log)
{
	struct buf out = BUF_INIT;
	enum tern_err e = admin_frozen_get(&s->ctx, argv[1], argv[2], argv[3], log, &out);
	if (e)
		ctrl_reply(s, e);
	else
		ctrl_file_listing(s, out.data, out.len);
	buf_free(&out);
}

static void h_frozgetlog(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	frozen_file(s, argv, true);
}

static void h_frozgetmsg(struct ctrl_session *s, char **argv, int argc)
{
	(void)argc;
	frozen_file(s, argv, false);
}

static void h_etrn(struct ctrl_session *s, char **argv, int argc)
{
	int n = 0;
	ctrl_reply(s, admin_queue_etrn(&s->ctx, argv + 1, argc - 1, &n));
}

#define R CTRL_READS
#define C CTRL_CHANGES
#define D (CTRL_CHANGES | CTRL_DESTRUCTIVE)
#define U CTRL_UPLOAD

static const struct ctrl_cmd table[] = {
	{"useradd", 5, 5, C, 1u << 3, h_useradd, "useradd DOMAIN USER PASSWORD TYPE", "add an account (TYPE U, or M for a mailing list)"},
	{"userdel", 3, 3, D, 0, h_userdel, "userdel DOMAIN USER", "delete an account; its mailbox goes to the trash"},
	{"userpasswd", 4, 4, C, 1u << 3, h_userpasswd, "userpasswd DOMAIN USER PASSWORD", "change an account's password"},
	{"userauth", 4, 4, R, 1u << 3, h_userauth, "userauth DOMAIN USER PASSWORD", "check an account's password"},
	{"userstat", 3, 3, R, 0, h_userstat, "userstat DOMAIN USER-OR-ALIAS", "mailbox size, message count, last login"},
	{"aliasadd", 4, 4, C, 0, h_aliasadd, "aliasadd DOMAIN ALIAS ACCOUNT", "add an alias (wildcards allowed) for an account"},
	{"aliasdel", 3, 3, D, 0, h_aliasdel, "aliasdel DOMAIN ALIAS", "delete an alias"},
	{"aliaslist", 1, 4, R, 0, h_aliaslist, "aliaslist [DOMAIN [ALIAS [ACCOUNT]]]", "list aliases (wildcard filters)"},
	{"exaliasadd", 3, 3, C, 0, h_exaliasadd, "exaliasadd LOCAL-ADDRESS REMOTE-ADDRESS", "link an external address to a local account"},
	{"exaliasdel", 2, 2, D, 0, h_exaliasdel, "exaliasdel REMOTE-ADDRESS", "delete an external alias"},
	{"exaliaslist", 1, 3, R, 0, h_exaliaslist, "exaliaslist [LOCAL-PATTERN [REMOTE-PATTERN]]", "list external aliases"},
	{"uservars", 3, 3, R, 0, h_uservars, "uservars DOMAIN USER", "list an account's variables"},
	{"uservarsset", 5, -1, C, 0, h_uservarsset, "uservarsset DOMAIN USER NAME VALUE [NAME VALUE ...]", "set account variables (VALUE .|rm deletes)"},
	{"userlist", 1, 5, R, 0, h_userlist, "userlist [DOMAIN [USER [START [AMOUNT]]]]", "list accounts (wildcards; START is a 0-based offset)"},
	{"usercount", 1, 2, R, 0, h_usercount, "usercount [DOMAIN-PATTERN]", "count accounts per domain"},
	{"usergetmproc", 3, -1, R, 0, h_usergetmproc, "usergetmproc DOMAIN USER [U|D|DU]", "show mailproc.tab (user, domain or both)"},
	{"usersetmproc", 3, -1, C | U, 0, h_usersetmproc, "usersetmproc DOMAIN USER [U|D]", "upload mailproc.tab (empty upload deletes it)"},
	{"mluseradd", 4, -1, C, 0, h_mluseradd, "mluseradd DOMAIN LIST ADDRESS [R|RW|RA]", "subscribe an address to a mailing list"},
	{"mluserdel", 4, 4, D, 0, h_mluserdel, "mluserdel DOMAIN LIST ADDRESS", "unsubscribe an address"},
	{"mluserlist", 3, 3, R, 0, h_mluserlist, "mluserlist DOMAIN LIST", "list a mailing list's members"},
	{"domainadd", 2, 2, C, 0, h_domainadd, "domainadd DOMAIN", "add a handled domain"},
	{"domaindel", 2, 2, D, 0, h_domaindel, "domaindel DOMAIN", "delete a domain and its accounts; mailboxes go to the trash"},
	{"domainlist", 1, -1, R, 0, h_domainlist, "domainlist [PATTERN ...]", "list handled domains"},
	{"aliasdomainadd", 3, 3, C, 0, h_aliasdomainadd, "aliasdomainadd REAL-DOMAIN ALIAS-DOMAIN", "add an alias domain (may be *.domain)"},
	{"aliasdomaindel", 2, 2, D, 0, h_aliasdomaindel, "aliasdomaindel ALIAS-DOMAIN", "delete an alias domain"},
	{"aliasdomainlist", 1, -1, R, 0, h_aliasdomainlist, "aliasdomainlist [REAL-PATTERN [ALIAS-PATTERN]]", "list alias domains"},
	{"custdomget", 2, 2, R, 0, h_custdomget, "custdomget DOMAIN", "show a custom domain file"},
	{"custdomset", 2, 2, C | U, 0, h_custdomset, "custdomset DOMAIN", "upload a custom domain file (empty upload deletes it)"},
	{"custdomlist", 1, 1, R, 0, h_custdomlist, "custdomlist", "list custom domains"},
	{"poplnkadd", 7, 7, C, 1u << 5, h_poplnkadd, "poplnkadd LOC-DOMAIN LOC-USER HOST USER PASSWORD AUTH", "add a POP3 collection link"},
	{"poplnkdel", 5, 5, D, 0, h_poplnkdel, "poplnkdel LOC-DOMAIN LOC-USER HOST USER", "delete a POP3 link"},
	{"poplnklist", 1, 3, R, 0, h_poplnklist, "poplnklist [LOC-DOMAIN [LOC-USER]]", "list POP3 links"},
	{"poplnkenable", 4, 6, C, 0, h_poplnkenable, "poplnkenable 0|1 LOC-DOMAIN LOC-USER [HOST [USER]]", "enable or disable POP3 links"},
	{"filelist", 3, 3, R, 0, h_filelist, "filelist DIR PATTERN", "list files under the data root"},
	{"cfgfileget", 2, 2, R, 0, h_cfgfileget, "cfgfileget PATH", "show a table view or a file under the data root"},
	{"cfgfileset", 2, 2, C | U, 0, h_cfgfileset, "cfgfileset PATH", "replace a table view or a file (validated as a whole)"},
	{"frozlist", 1, -1, R, 0, h_frozlist, "frozlist", "list frozen messages (spool/held)"},
	{"frozsubmit", 4, -1, C, 0, h_frozsubmit, "frozsubmit LEV0 LEV1 MSGFILE", "put a frozen message back into delivery"},
	{"frozdel", 4, -1, D, 0, h_frozdel, "frozdel LEV0 LEV1 MSGFILE", "delete a frozen message and its log"},
	{"frozgetlog", 4, -1, R, 0, h_frozgetlog, "frozgetlog LEV0 LEV1 MSGFILE", "show a frozen message's log"},
	{"frozgetmsg", 4, -1, R, 0, h_frozgetmsg, "frozgetmsg LEV0 LEV1 MSGFILE", "show a frozen message (spool file)"},
	{"etrn", 2, -1, C, 0, h_etrn, "etrn PATTERN ...",
	 "attempt now the queued messages with a recipient matching a pattern (address, or domain when no '@')"},
	{"noop", 1, 1, R, 0, h_noop, "noop", "do nothing"},
	{"quit", 1, 1, R, 0, h_quit, "quit", "end the session"},
};

const struct ctrl_cmd *ctrl_commands(int *n_r)
{
	*n_r = (int)(sizeof table / sizeof *table);
	return table;
}

const struct ctrl_cmd *ctrl_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (!strcasecmp(table[i].name, name))
			return &table[i];
	return NULL;
}

/*
 * cli_ctx_snapshots - the root's commands for SAVE CONFIG's snapshots
 * beyond saving them: LIST ConfigSnapshots, SHOW ConfigSnapshot and
 * RESTORE ConfigSnapshot (what a restore covers: admin_cli.h). Tern's own
 * commands; the vendor CLI has only SAVE CONFIG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../admin/admin_cli.h"
#include "../admin/config_files.h"
#include "cli_ctx.h"

#define IN(c) CLI_IN(CLI_CTX_##c)

static int snap_row(void *arg, const char *const *f, int n)
{
	struct cli_session *s = arg;
	if (n >= 4) {
		char line[400];
		snprintf(line, sizeof line, "%s | %s | %s", f[0], f[1], f[3]);
		cli_list_row(s, line);
	}
	return s->c.failed ? 1 : 0;
}

static void h_list_snaps(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_table_begin(s, "The list of configuration snapshots:", "name | version | admin");
	cli_list_end(s, admin_cli_snapshot_list(&s->ctx, snap_row, s));
}

struct one_snap {
	const char *name;
	char version[32], created[64], admin[130], peer[70];
	bool found;
};

static int one_row(void *arg, const char *const *f, int n)
{
	struct one_snap *o = arg;
	if (n >= 5 && !strcmp(f[0], o->name)) {
		snprintf(o->version, sizeof o->version, "%s", f[1]);
		snprintf(o->created, sizeof o->created, "%s", f[2]);
		snprintf(o->admin, sizeof o->admin, "%s", f[3]);
		snprintf(o->peer, sizeof o->peer, "%s", f[4]);
		o->found = true;
		return 1;
	}
	return 0;
}

struct file_list {
	struct cli_session *s;
	int n;
};

static int file_row(void *arg, const char *const *f, int n)
{
	struct file_list *fl = arg;
	if (n >= 1)
		conn_printf(&fl->s->c, "%s%s", fl->n++ ? " " : "", f[0]);
	return fl->s->c.failed ? 1 : 0;
}

static void h_show_snap(struct cli_session *s, const struct cli_parsed *p)
{
	const char *name = p->val[0], *file = p->val[1];
	struct one_snap o = {.name = name};
	admin_cli_snapshot_list(&s->ctx, one_row, &o);
	if (!o.found) {
		cli_err(s, "Snapshot %s not found", name);
		return;
	}
	if (!file) {
		conn_printf(&s->c,
			    "\r\nThe attributes of this snapshot:\r\nname = \"%s\"\r\nversion = %s\r\ncreated = \"%s\"\r\n"
			    "admin = \"%s\"\r\npeer = \"%s\"\r\nfiles = (",
			    name, o.version, o.created, o.admin, o.peer);
		struct file_list fl = {s, 0};
		admin_cli_snapshot_file_names(&s->ctx, name, file_row, &fl);
		conn_puts(&s->c, ")\r\n\r\n");
		cli_ok(s);
		return;
	}
	struct buf b = BUF_INIT;
	enum tern_err e = admin_cli_snapshot_read(&s->ctx, name, file, &b);
	if (e) {
		buf_free(&b);
		cli_err(s, e == TERN_E_BAD_PATH ? "Invalid value for file (one of the files SHOW lists)"
						: "File %s not found in the snapshot",
			file);
		return;
	}
	conn_printf(&s->c, "\r\nThe file %s of snapshot %s:\r\n", file, name);
	const char *q = b.data ? b.data : "";
	while (*q) {
		const char *nl = strchr(q, '\n');
		size_t len = nl ? (size_t)(nl - q) : strlen(q);
		if (len && q[len - 1] == '\r')
			len--;
		if (len) {
			conn_write(&s->c, q, len);
			conn_puts(&s->c, "\r\n");
		}
		q = nl ? nl + 1 : q + len;
	}
	buf_free(&b);
	cli_list_end(s, TERN_OK);
}

static void h_restore_snap(struct cli_session *s, const struct cli_parsed *p)
{
	const char *name = p->val[0];
	struct one_snap o = {.name = name};
	admin_cli_snapshot_list(&s->ctx, one_row, &o);
	if (!o.found) {
		cli_err(s, "Snapshot %s not found", name);
		return;
	}
	struct admin_cli_restore_report r;
	enum tern_err e = admin_cli_config_restore(&s->ctx, name, &r);
	if (e && r.detail[0]) { /* refused by the admin limits: nothing changed */
		cli_err(s, "Snapshot %s not restored, nothing changed: %s (CONFIG adminLimits)", name, r.detail);
		return;
	}
	if (e) {
		cli_commit_failed(s, e, "Snapshot", name);
		return;
	}
	char line[800];
	snprintf(line, sizeof line,
		 "restored %s (the previous configuration was saved as %s): %d settings, %d domains, %d alias "
		 "domains, %d aliases, %d external aliases, %d account variables, %d admin accounts, %d "
		 "permission records, %d access rules, %d files written, %d files removed",
		 name, r.before, r.settings, r.domains, r.aliasdomains, r.aliases, r.exaliases, r.vars, r.admins,
		 r.perms, r.rules, r.files, r.files_removed);
	conn_printf(&s->c, "Configuration %s\r\n", line);
	snprintf(s->log_detail, sizeof s->log_detail, "%.590s", line);
	cli_ok(s);
}

static void h_list_cfgfiles(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_table_begin(s, "The files of the data root and what they are:", "path | class | content");
	for (const struct cfg_entry *e = cfg_files_table(); e->pattern && !s->c.failed; e++) {
		char line[400];
		snprintf(line, sizeof line, "%s | %s | %s", e->pattern, cfg_class_name(e->cls), e->what);
		cli_list_row(s, line);
	}
	cli_list_end(s, TERN_OK);
}

static const struct cli_cmd snap_cmds[] = {
	{IN(ROOT), "LIST ConfigSnapshots", {{0}}, CLI_READS, h_list_snaps,
	 "Table of the snapshots SAVE CONFIG wrote (oldest first)."},
	{IN(ROOT),
	 "SHOW ConfigSnapshot",
	 {{CLI_ARG_POS, "name", "name", false}, {CLI_ARG_OPT_PAIR, "file", "file", false}},
	 CLI_READS,
	 h_show_snap,
	 "Print a snapshot's attributes and files, or with file one of its files."},
	{IN(ROOT), "RESTORE ConfigSnapshot", {{CLI_ARG_POS, "name", "name", false}},
	 CLI_CHANGES | CLI_DESTRUCTIVE, h_restore_snap,
	 "Bring back a snapshot's settings, access maps, admin accounts and permissions, domains, aliases, "
	 "account variables and configuration files (saves the current configuration first)."},
	{IN(ROOT), "LIST ConfigFiles", {{0}}, CLI_READS, h_list_cfgfiles,
	 "Table of the files under the data root: which are configuration (in snapshots) and which not."},
};

const struct cli_part cli_part_snapshots = {NULL, 0, snap_cmds, CLI_N(snap_cmds)};

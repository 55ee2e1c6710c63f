/*
 * ctrl_table - what the tern client knows about each controller command.
 *
 * The server's own table (src/ctrl/ctrl_commands.c) gives the names,
 * argument counts, flags and secret arguments, so the client cannot
 * disagree with the server. This file adds, in one place, what only a
 * client needs:
 *
 *   framing   which listings are a file's lines (usergetmproc, custdomget,
 *             cfgfileget, frozgetlog, frozgetmsg) rather than records, so
 *             --json gives rows only for records;
 *   guard     which commands delete or overwrite and so run from a script
 *             only with --yes (and interactively only after a question):
 *               - every command the server flags destructive (userdel,
 *                 domaindel, aliasdel, aliasdomaindel, exaliasdel,
 *                 mluserdel, poplnkdel, frozdel);
 *               - every upload (cfgfileset, custdomset, usersetmproc):
 *                 it replaces a whole file, and an empty upload deletes it;
 *               - uservarsset with a value ".|rm", which deletes a variable.
 */
#include <string.h>
#include <strings.h>

#include "../../src/ctrl/ctrl.h"
#include "tern.h"

static const char *const file_listings[] = {"usergetmproc", "custdomget", "cfgfileget", "frozgetlog", "frozgetmsg"};

static const char *const upload_guard = "replaces a whole file; an empty upload deletes it";
static const char *const rm_guard = "deletes account variables (value .|rm)";

void ctrl_classify(char *const *fields, int n, struct ctrl_info *out)
{
	memset(out, 0, sizeof *out);
	const struct ctrl_cmd *cmd = n > 0 ? ctrl_command_find(fields[0]) : NULL;
	if (!cmd)
		return;
	out->name = cmd->name;
	out->usage = cmd->usage;
	out->arity_ok = n >= cmd->min_args && (cmd->max_args < 0 || n <= cmd->max_args);
	out->upload = (cmd->flags & CTRL_UPLOAD) != 0;
	out->secret_args = cmd->secret_args;
	for (size_t i = 0; i < sizeof file_listings / sizeof *file_listings; i++)
		if (!strcmp(cmd->name, file_listings[i]))
			out->file_listing = true;
	if (cmd->flags & CTRL_DESTRUCTIVE)
		out->guard = cmd->help;
	else if (out->upload)
		out->guard = upload_guard;
	else if (!strcmp(cmd->name, "uservarsset"))
		for (int i = 4; i < n; i += 2)
			if (!strcmp(fields[i], ".|rm"))
				out->guard = rm_guard;
}

void ctrl_print_guarded(FILE *f)
{
	int n;
	const struct ctrl_cmd *t = ctrl_commands(&n);
	const char *sep = "";
	for (int i = 0; i < n; i++)
		if (t[i].flags & (CTRL_DESTRUCTIVE | CTRL_UPLOAD)) {
			fprintf(f, "%s%s", sep, t[i].name);
			sep = " ";
		}
	fprintf(f, "%suservarsset(.|rm)", sep);
}

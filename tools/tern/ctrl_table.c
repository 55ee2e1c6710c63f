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
 *
 * The same classification drives `tern check --ctrl FILE`
 * (ctrl_check_lines), the refusal of scripts before connecting, the
 * terminal question, and the masking of passwords in everything printed.
 */
#include <stdlib.h>
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

int ctrl_split(const char *line, char **raw, char **val, int max)
{
	int n = 0;
	const char *p = line;
	while (*p && n < max) {
		while (*p == '\t')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '\t');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		raw[n] = strndup(p, len);
		val[n] = malloc(len + 1);
		if (!raw[n] || !val[n])
			abort();
		if (p[0] == '"') {
			/* to the next '"' not after a backslash; \" is a quote */
			size_t k = 0;
			for (size_t i = 1; i < len && p[i] != '"'; i++) {
				if (p[i] == '\\' && i + 1 < len && p[i + 1] == '"')
					i++;
				val[n][k++] = p[i];
			}
			val[n][k] = '\0';
		} else {
			memcpy(val[n], p, len);
			val[n][len] = '\0';
		}
		n++;
		p += len;
	}
	return n;
}

void ctrl_split_free(char **raw, char **val, int n)
{
	for (int i = 0; i < n; i++) {
		tern_wipe(raw[i], strlen(raw[i]));
		tern_wipe(val[i], strlen(val[i]));
		free(raw[i]);
		free(val[i]);
	}
}

bool ctrl_skip_line(const char *line)
{
	const char *p = line + strspn(line, " \t");
	return !*p || *p == '#';
}

void ctrl_check_lines(char **lines, int nlines, struct check_report *r)
{
	int quit_at = 0;
	char text[400];
	for (int i = 0; i < nlines; i++) {
		if (ctrl_skip_line(lines[i]))
			continue;
		char *raw[CTRL_FIELDS_MAX], *val[CTRL_FIELDS_MAX];
		int n = ctrl_split(lines[i], raw, val, CTRL_FIELDS_MAX);
		struct ctrl_info ci;
		ctrl_classify(val, n, &ci);
		r->commands++;
		const struct ctrl_cmd *cmd = ci.name ? ctrl_command_find(ci.name) : NULL;
		if (quit_at) {
			snprintf(text, sizeof text, "after quit on line %d: never runs", quit_at);
			check_add(r, i + 1, CHECK_WARNING, "after-quit", text);
		}
		if (!cmd) {
			snprintf(text, sizeof text, "unknown controller command \"%.100s\"", n ? val[0] : "");
			check_add(r, i + 1, CHECK_ERROR, "unknown-command", text);
		} else if (cmd->flags & CTRL_LATER) {
			snprintf(text, sizeof text, "%s is not available in Tern yet", cmd->name);
			check_add(r, i + 1, CHECK_ERROR, "not-available", text);
		} else if (!ci.arity_ok || n > CTRL_MAX_ARGS) {
			snprintf(text, sizeof text, "%s with %d argument(s); the syntax is: %s", cmd->name, n - 1,
				 cmd->usage);
			check_add(r, i + 1, CHECK_ERROR, n - 1 < cmd->min_args - 1 ? "missing-argument" : "extra-argument",
				  text);
		}
		if (cmd && ci.upload) {
			snprintf(text, sizeof text, "%s uploads a file: it cannot run from a script", cmd->name);
			check_add(r, i + 1, CHECK_ERROR, "upload", text);
		}
		if (cmd && ci.guard) {
			snprintf(text, sizeof text, "%s: %s; runs from a script only with --yes", cmd->name, ci.guard);
			check_add(r, i + 1, CHECK_WARNING, "destructive", text);
		}
		if (cmd && !strcmp(cmd->name, "quit") && !quit_at)
			quit_at = i + 1;
		ctrl_split_free(raw, val, n);
	}
}

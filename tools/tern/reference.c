/*
 * reference - `tern reference [--markdown|--json]`: every context's
 * commands and attributes, printed from the server's command table
 * (cli_commands(), cli_ctx_def(), cli_syntax()), so it always matches the
 * server. Commands of parts of Tern not built yet (CLI_LATER) are listed
 * apart; CLI_NOHELP commands are left out, as HELP does.
 */
#include <stdio.h>
#include <string.h>

#include "../../src/cli/cli.h"
#include "../../src/cli/cli_export.h"
#include "../../src/core/buf.h"
#include "tern.h"

enum fmt { FMT_TEXT, FMT_MD, FMT_JSON };

static const char *attr_type(const struct cli_attr *a)
{
	switch (a->kind) {
	case CLI_AT_SECRET:
		return "password";
	case CLI_AT_NUMBER:
		return "number";
	case CLI_AT_CHOICE:
		return "choice";
	default:
		return "string";
	}
}

static const char *attr_meta(const struct cli_attr *a)
{
	if (a->kind == CLI_AT_CHOICE && a->choices)
		return a->choices;
	return attr_type(a);
}

static bool listed(const struct cli_cmd *c, enum cli_ctx cx)
{
	return (c->ctx & CLI_IN(cx)) && !(c->flags & CLI_NOHELP);
}

static void prompt_of(enum cli_ctx c, char *out, size_t sz)
{
	char p[200];
	cli_export_ctx_path(c, p, sizeof p);
	if (c == CLI_CTX_LOGIN)
		snprintf(out, sz, "<login>");
	else
		snprintf(out, sz, "<%s#>", p);
}

/* The prompt a command entering (or switching to) `to` from cx shows: the
 * server's prompt is the path of the session's stack, so a context shared
 * by several parents (a listener's sslcontrol) gets the path it was
 * entered from, not its own parent link. */
static void target_prompt(enum cli_ctx cx, struct cli_step s, char *out, size_t sz)
{
	char p[200];
	const char *el = cli_ctx_def(s.to)->element;
	if (cx == CLI_CTX_LOGIN || (cx == CLI_CTX_ROOT && s.move == CLI_MOVE_ENTER)) {
		prompt_of(s.to, out, sz);
		return;
	}
	cli_export_ctx_path(cx, p, sizeof p);
	if (s.move == CLI_MOVE_SWITCH) {
		char *dash = strrchr(p, '-');
		if (!dash) {
			snprintf(out, sz, "<%s#>", el);
			return;
		}
		*dash = '\0';
	}
	snprintf(out, sz, "<%s-%s#>", p, el);
}

static const char *move_text(enum cli_ctx cx, const struct cli_cmd *c, char *buf, size_t sz)
{
	struct cli_step s = cli_export_step(cx, c);
	char p[220];
	switch (s.move) {
	case CLI_MOVE_ENTER:
	case CLI_MOVE_SWITCH:
		target_prompt(cx, s, p, sizeof p);
		snprintf(buf, sz, "enters %s", p);
		return buf;
	case CLI_MOVE_COMMIT:
		return "applies the pending changes, back to the parent";
	case CLI_MOVE_DONE:
		return "hands the changes to the parent, back to it";
	case CLI_MOVE_BACK:
		return "drops the pending changes, back to the parent";
	case CLI_MOVE_QUIT:
		return "ends the session";
	default:
		return NULL;
	}
}

static void text_ctx(enum cli_ctx cx, bool md)
{
	const struct cli_ctx_def *d = cli_ctx_def(cx);
	int n;
	const struct cli_cmd *cmds = cli_commands(&n);
	char pr[220], mv[300];
	prompt_of(cx, pr, sizeof pr);
	if (md)
		printf("## %s `%s`\n\n", d->title, pr);
	else
		printf("%s %s\n", d->title, pr);
	if (cx != CLI_CTX_ROOT && cx != CLI_CTX_LOGIN) {
		char pp[220];
		prompt_of(d->parent, pp, sizeof pp);
		printf(md ? "Parent: `%s`.\n\n" : "  parent: %s\n", pp);
	}
	if (md)
		printf("| Command | Kind | Meaning |\n|---|---|---|\n");
	struct buf syn = BUF_INIT;
	for (int i = 0; i < n; i++) {
		const struct cli_cmd *c = &cmds[i];
		if (!listed(c, cx) || (c->flags & CLI_LATER))
			continue;
		const char *kind = cli_export_kind_name(cli_export_kind(c));
		const char *m = move_text(cx, c, mv, sizeof mv);
		if (c->args[0].kind == CLI_ARG_SET) {
			for (int k = 0; k < d->nattrs; k++) {
				const struct cli_attr *a = &d->attrs[k];
				if (a->flags & CLI_AF_NOSET)
					continue;
				char name[64];
				cli_export_first_alt(a->name, name, sizeof name);
				if (md)
					printf("| `%s %s <%s>` | %s | %s |\n", c->words, name, attr_meta(a), kind,
					       a->help ? a->help : "");
				else
					printf("  %s %s <%s>  [%s]  %s\n", c->words, name, attr_meta(a), kind,
					       a->help ? a->help : "");
			}
			continue;
		}
		buf_reset(&syn);
		cli_syntax(c, &syn);
		if (md)
			printf("| `%s` | %s | %s%s%s |\n", syn.data, kind, c->help ? c->help : "", m ? " Then " : "",
			       m ? m : "");
		else
			printf("  %s  [%s]  %s%s%s%s\n", syn.data, kind, c->help ? c->help : "", m ? " (" : "", m ? m : "",
			       m ? ")" : "");
	}
	bool later = false;
	for (int i = 0; i < n; i++) {
		const struct cli_cmd *c = &cmds[i];
		if (!listed(c, cx) || !(c->flags & CLI_LATER))
			continue;
		if (!later)
			printf(md ? "\nNot built yet (answered with -ERR): " : "  not built yet: ");
		printf(md ? "%s`%s`" : "%s%s", later ? ", " : "", c->words);
		later = true;
	}
	if (later)
		printf("\n");
	buf_free(&syn);
	printf("\n");
}

static void json_ctx(enum cli_ctx cx, bool first)
{
	const struct cli_ctx_def *d = cli_ctx_def(cx);
	int n;
	const struct cli_cmd *cmds = cli_commands(&n);
	char pr[220], path[200];
	prompt_of(cx, pr, sizeof pr);
	cli_export_ctx_path(cx, path, sizeof path);
	printf("%s{\"name\":", first ? "" : ",");
	json_str(stdout, cx == CLI_CTX_ROOT ? "root" : path);
	fputs(",\"prompt\":", stdout);
	json_str(stdout, pr);
	fputs(",\"title\":", stdout);
	json_str(stdout, d->title);
	fputs(",\"parent\":", stdout);
	if (cx == CLI_CTX_ROOT || cx == CLI_CTX_LOGIN)
		fputs("null", stdout);
	else {
		char pp[220];
		prompt_of(d->parent, pp, sizeof pp);
		json_str(stdout, pp);
	}
	fputs(",\"commands\":[", stdout);
	struct buf syn = BUF_INIT;
	bool f1 = true;
	for (int i = 0; i < n; i++) {
		const struct cli_cmd *c = &cmds[i];
		if (!listed(c, cx))
			continue;
		buf_reset(&syn);
		cli_syntax(c, &syn);
		enum cli_kind k = cli_export_kind(c);
		printf("%s{\"words\":", f1 ? "" : ",");
		f1 = false;
		json_str(stdout, c->words);
		fputs(",\"syntax\":", stdout);
		json_str(stdout, syn.data);
		fputs(",\"help\":", stdout);
		json_str(stdout, c->help);
		printf(",\"kind\":\"%s\",\"read_only\":%s,\"changes\":%s,\"destructive\":%s,\"pending\":%s,"
		       "\"available\":%s",
		       cli_export_kind_name(k), k == CLI_KIND_READ ? "true" : "false",
		       (c->flags & CLI_CHANGES) ? "true" : "false", (c->flags & CLI_DESTRUCTIVE) ? "true" : "false",
		       (c->flags & CLI_PENDING) ? "true" : "false", (c->flags & CLI_LATER) ? "false" : "true");
		struct cli_step s = cli_export_step(cx, c);
		fputs(",\"enters\":", stdout);
		if (s.move == CLI_MOVE_ENTER || s.move == CLI_MOVE_SWITCH) {
			char tp[220], tn[200];
			target_prompt(cx, s, tp, sizeof tp);
			json_str(stdout, tp);
			/* the context entered, by its reference name */
			cli_export_ctx_path(s.to, tn, sizeof tn);
			fputs(",\"target\":", stdout);
			json_str(stdout, s.to == CLI_CTX_ROOT ? "root" : tn);
		} else if (s.move == CLI_MOVE_STAY) {
			fputs("null", stdout);
		} else {
			json_str(stdout, s.move == CLI_MOVE_QUIT ? "(end of session)" : "(parent)");
		}
		fputs(",\"args\":[", stdout);
		for (int j = 0; j < CLI_MAX_SPEC && c->args[j].kind != CLI_ARG_NONE; j++) {
			const struct cli_arg *a = &c->args[j];
			static const char *const kinds[] = {"none", "value", "optional-value", "pair", "optional-pair",
							    "flag", "attributes", "rest"};
			_Static_assert(sizeof kinds / sizeof *kinds == CLI_ARG_REST + 1, "a name for every argument kind");
			printf("%s{\"kind\":\"%s\",\"key\":", j ? "," : "", kinds[a->kind]);
			if (a->key) {
				char kk[64];
				cli_export_first_alt(a->key, kk, sizeof kk);
				json_str(stdout, kk);
			} else
				fputs("null", stdout);
			fputs(",\"meta\":", stdout);
			json_str(stdout, a->meta);
			printf(",\"secret\":%s}", a->secret ? "true" : "false");
		}
		fputs("]}", stdout);
	}
	fputs("],\"attributes\":[", stdout);
	for (int k = 0; k < d->nattrs; k++) {
		const struct cli_attr *a = &d->attrs[k];
		char name[64];
		cli_export_first_alt(a->name, name, sizeof name);
		printf("%s{\"name\":", k ? "," : "");
		json_str(stdout, name);
		printf(",\"type\":\"%s\",\"choices\":", attr_type(a));
		json_str(stdout, a->kind == CLI_AT_CHOICE ? a->choices : NULL);
		printf(",\"settable\":%s,\"shown\":%s", (a->flags & CLI_AF_NOSET) ? "false" : "true",
		       (a->flags & CLI_AF_NOSHOW) ? "false" : "true");
		if (a->kind == CLI_AT_NUMBER && a->min < a->max)
			printf(",\"min\":%lld,\"max\":%lld", a->min, a->max);
		fputs(",\"help\":", stdout);
		json_str(stdout, a->help);
		fputc('}', stdout);
	}
	fputs("]}", stdout);
	buf_free(&syn);
}

int reference_main(int argc, char **argv)
{
	enum fmt f = FMT_TEXT;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--markdown"))
			f = FMT_MD;
		else if (!strcmp(argv[i], "--json"))
			f = FMT_JSON;
		else {
			fprintf(stderr, "usage: tern reference [--markdown|--json]\n");
			return 2;
		}
	}
	if (f == FMT_JSON) {
		fputs("{\"contexts\":[", stdout);
		for (int c = 0; c < CLI_CTX__COUNT; c++)
			json_ctx((enum cli_ctx)c, c == 0);
		fputs("]}\n", stdout);
		return 0;
	}
	if (f == FMT_MD)
		printf("# Tern CLI command reference\n\nGenerated from the server's command table by `tern reference "
		       "--markdown`.\nKinds: read-only; navigation (moves between contexts); pending (edits the "
		       "pending copy, applied by COMMIT); changes (changes stored state); destructive (removes "
		       "data).\nCOMMIT applies an object's edits, DONE hands a sub-context's edits to its parent, "
		       "BACK drops them, SAVE CONFIG writes a configuration snapshot.\n\n");
	for (int c = 0; c < CLI_CTX__COUNT; c++)
		text_ctx((enum cli_ctx)c, f == FMT_MD);
	return 0;
}

/*
 * cli_export - read-only views of the CLI command table for tools.
 * See cli_export.h.
 */
#include "cli_export.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>
#include <stdlib.h>

/* The table's rows say where each command leads (CLI_ENTERS() and
 * friends in their flags); this turns that into the export's steps. */
static struct cli_step step_of(enum cli_ctx at, const struct cli_cmd *cmd)
{
	switch (cli_cmd_go(cmd)) {
	case CLI_GO_ENTER:
		return (struct cli_step){CLI_MOVE_ENTER, cli_cmd_to(cmd), (cmd->flags & CLI_CREATES) != 0};
	case CLI_GO_SWITCH:
		return (struct cli_step){CLI_MOVE_SWITCH, cli_cmd_to(cmd), false};
	case CLI_GO_COMMIT:
		return (struct cli_step){CLI_MOVE_COMMIT, CLI_CTX_ROOT, false};
	case CLI_GO_DONE:
		return (struct cli_step){CLI_MOVE_DONE, CLI_CTX_ROOT, false};
	case CLI_GO_BACK:
		return (struct cli_step){CLI_MOVE_BACK, CLI_CTX_ROOT, false};
	case CLI_GO_QUIT:
		return (struct cli_step){CLI_MOVE_QUIT, CLI_CTX_ROOT, false};
	case CLI_GO_STAY:
		break;
	}
	return (struct cli_step){CLI_MOVE_STAY, at, false};
}

static struct cli_move_row *moves;
static int nmoves;
static pthread_once_t moves_once = PTHREAD_ONCE_INIT;

static void moves_build(void)
{
	int n;
	const struct cli_cmd *c = cli_commands(&n);
	moves = calloc((size_t)n + 1, sizeof *moves);
	if (!moves)
		abort();
	for (int i = 0; i < n; i++)
		if (cli_cmd_go(&c[i]) != CLI_GO_STAY)
			moves[nmoves++] = (struct cli_move_row){c[i].ctx, c[i].words, step_of(CLI_CTX_ROOT, &c[i])};
}

const struct cli_move_row *cli_export_moves(int *n_r)
{
	pthread_once(&moves_once, moves_build);
	*n_r = nmoves;
	return moves;
}

struct cli_step cli_export_step(enum cli_ctx at, const struct cli_cmd *cmd)
{
	return step_of(at, cmd);
}

void cli_export_ctx_path(enum cli_ctx c, char *out, size_t sz)
{
	enum cli_ctx chain[CLI_CTX__COUNT];
	int n = 0;
	if (sz == 0)
		return;
	out[0] = '\0';
	if (c == CLI_CTX_LOGIN) {
		snprintf(out, sz, "login");
		return;
	}
	while (c != CLI_CTX_ROOT && n < CLI_CTX__COUNT) {
		chain[n++] = c;
		enum cli_ctx up = cli_ctx_def(c)->parent;
		if (up == c)
			break;
		c = up;
	}
	size_t off = 0;
	for (int i = n - 1; i >= 0 && off < sz; i--) {
		int w = snprintf(out + off, sz - off, "%s%s", i < n - 1 ? "-" : "", cli_ctx_def(chain[i])->element);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

bool cli_export_ctx_by_path(const char *path, enum cli_ctx *ctx_r)
{
	char p[256];
	if (!strcmp(path, "login") || !strcmp(path, "password")) {
		*ctx_r = CLI_CTX_LOGIN;
		return true;
	}
	for (int c = CLI_CTX_ROOT; c < CLI_CTX__COUNT; c++) {
		cli_export_ctx_path((enum cli_ctx)c, p, sizeof p);
		if (!strcmp(p, path)) {
			*ctx_r = (enum cli_ctx)c;
			return true;
		}
	}
	return false;
}

enum cli_kind cli_export_kind(const struct cli_cmd *cmd)
{
	/* Disruptive commands (RESET, STOP Service) are confirmed like
	 * destructive ones (spec 7.7). */
	if (cmd->flags & (CLI_DESTRUCTIVE | CLI_DISRUPTIVE))
		return CLI_KIND_DESTRUCTIVE;
	if (cmd->flags & CLI_CHANGES)
		return CLI_KIND_CHANGES;
	if (cmd->flags & CLI_PENDING)
		return CLI_KIND_PENDING;
	if (cmd->flags & CLI_READS)
		return CLI_KIND_READ;
	return CLI_KIND_NAVIGATE;
}

const char *cli_export_kind_name(enum cli_kind k)
{
	switch (k) {
	case CLI_KIND_READ:
		return "read-only";
	case CLI_KIND_NAVIGATE:
		return "navigation";
	case CLI_KIND_PENDING:
		return "pending";
	case CLI_KIND_CHANGES:
		return "changes";
	case CLI_KIND_DESTRUCTIVE:
		return "destructive";
	}
	return "?";
}

void cli_export_first_alt(const char *alts, char *out, size_t sz)
{
	snprintf(out, sz, "%.*s", (int)strcspn(alts, "|/"), alts);
}

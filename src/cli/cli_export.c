/*
 * cli_export - read-only views of the CLI command table for tools.
 * See cli_export.h.
 */
#include "cli_export.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N(a) (int)(sizeof a / sizeof *a)

/* The moves cli_commands.c's handlers make on success. */
static const struct cli_move_row moves[] = {
	{CLI_ANY, "EXIT/QUIT", {CLI_MOVE_QUIT, CLI_CTX_ROOT, false}},
	{IN(DOMAIN_CREATE) | IN(DOMAIN) | IN(ACCOUNT) | IN(CONTACT) | IN(QUOTAS), "BACK",
	 {CLI_MOVE_BACK, CLI_CTX_ROOT, false}},
	{IN(ROOT), "CREATE Domain", {CLI_MOVE_ENTER, CLI_CTX_DOMAIN_CREATE, true}},
	{IN(ROOT), "UPDATE Domain", {CLI_MOVE_ENTER, CLI_CTX_DOMAIN, false}},
	{IN(DOMAIN), "UPDATE Domain", {CLI_MOVE_SWITCH, CLI_CTX_DOMAIN, false}},
	{IN(DOMAIN), "ADD Account", {CLI_MOVE_ENTER, CLI_CTX_ACCOUNT, true}},
	{IN(DOMAIN), "UPDATE Account", {CLI_MOVE_ENTER, CLI_CTX_ACCOUNT, false}},
	{IN(ACCOUNT), "CONFIG ContactInfo", {CLI_MOVE_ENTER, CLI_CTX_CONTACT, false}},
	{IN(ACCOUNT), "CONFIG Quotas", {CLI_MOVE_ENTER, CLI_CTX_QUOTAS, false}},
	{IN(DOMAIN_CREATE) | IN(DOMAIN) | IN(ACCOUNT), "COMMIT", {CLI_MOVE_COMMIT, CLI_CTX_ROOT, false}},
	{IN(CONTACT) | IN(QUOTAS), "DONE", {CLI_MOVE_DONE, CLI_CTX_ROOT, false}},
};

const struct cli_move_row *cli_export_moves(int *n_r)
{
	*n_r = N(moves);
	return moves;
}

struct cli_step cli_export_step(enum cli_ctx at, const struct cli_cmd *cmd)
{
	for (int i = 0; i < N(moves); i++)
		if ((moves[i].ctx & CLI_IN(at)) && !strcasecmp(moves[i].words, cmd->words))
			return moves[i].step;
	return (struct cli_step){CLI_MOVE_STAY, at, false};
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
	if (cmd->flags & CLI_DESTRUCTIVE)
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

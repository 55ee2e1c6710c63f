/*
 * cli_export - read-only views of the CLI command table for tools.
 *
 * The admin client (tools/tern) checks scripts offline and prints the
 * command reference from the server's own table (cli_commands(),
 * cli_ctx_def(), cli_match(), cli_args_parse()); this module adds what
 * those do not say by themselves:
 *
 *   cli_export_step()       where a command leaves the session, read
 *                           from the table row's flags (CLI_ENTERS(),
 *                           CLI_SWITCHES(), CLI_LEAVES()); the unit tests
 *                           check each handler moves as its row says;
 *   cli_export_ctx_path()   a context's prompt name ("domain-account"),
 *                           built from the table's parent links the way
 *                           the session builds its prompt;
 *   cli_export_ctx_by_path() the reverse, for a prompt seen on the wire;
 *   cli_export_kind()       the class of a command from its flags.
 *
 * cli_export_moves() builds its rows from the table once.
 */
#ifndef TERN_CLI_EXPORT_H
#define TERN_CLI_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

enum cli_move {
	CLI_MOVE_STAY,   /* the context does not change */
	CLI_MOVE_ENTER,  /* a new context is entered (to) */
	CLI_MOVE_SWITCH, /* the current context is replaced by (to) */
	CLI_MOVE_COMMIT, /* pending edits are applied, back to the parent */
	CLI_MOVE_DONE,   /* edits handed to the parent, back to it */
	CLI_MOVE_BACK,   /* pending edits dropped, back to the parent */
	CLI_MOVE_QUIT,   /* the session ends */
};

struct cli_step {
	enum cli_move move;
	enum cli_ctx to;   /* ENTER, SWITCH */
	bool creates;      /* ENTER: the new context edits an object not yet stored */
};

/* What a successful `cmd` does to the context stack when run in `at`. */
struct cli_step cli_export_step(enum cli_ctx at, const struct cli_cmd *cmd);

/* The movement rows, for tests: n_r rows of (context mask, words, step). */
struct cli_move_row {
	cli_mask ctx;
	const char *words;
	struct cli_step step;
};
const struct cli_move_row *cli_export_moves(int *n_r);

/* "" for the root, "login" for the login context, else the prompt name. */
void cli_export_ctx_path(enum cli_ctx c, char *out, size_t sz);
/* The context whose prompt name is `path` (between '<' and "#>"); false if none. */
bool cli_export_ctx_by_path(const char *path, enum cli_ctx *ctx_r);

enum cli_kind {
	CLI_KIND_READ,        /* read-only */
	CLI_KIND_NAVIGATE,    /* moves between contexts, stores nothing */
	CLI_KIND_PENDING,     /* edits the pending copy (applied by COMMIT) */
	CLI_KIND_CHANGES,     /* changes stored state */
	CLI_KIND_DESTRUCTIVE, /* removes data */
};
enum cli_kind cli_export_kind(const struct cli_cmd *cmd);
const char *cli_export_kind_name(enum cli_kind k);

/* The shown form of a '|'-separated name list (its first alternative). */
void cli_export_first_alt(const char *alts, char *out, size_t sz);

#endif

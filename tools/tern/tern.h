/*
 * tern.h - shared declarations of the tern admin client's modules.
 *
 *   main.c         command line: modes, options, environment fallbacks
 *   cli_client.c   the hierarchical CLI protocol (login, prompts, replies)
 *   ctrl_client.c  the XMail controller protocol (tern ctrl)
 *   tls_client.c   TLS with certificate checks (self-signed and expired
 *                  certificates accepted only when asked, separately)
 *   check.c        tern check: a script walked offline against the
 *                  server's command table
 *   reference.c    tern reference: the command table as text/markdown/JSON
 *   json.c         JSON string output
 *   util.c         password prompt, boolean environment values
 */
#ifndef TERN_TOOL_H
#define TERN_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../../src/core/client.h"

/* ---- util.c ---- */
/* Read a password from the terminal without echo; false when there is none. */
bool tern_ask_password(const char *prompt, char *out, size_t sz);
/* Ask a yes/no question on the terminal; false when there is none. */
bool tern_confirm(const char *question);
/* "1", "true", "yes", "on" (any case). */
bool tern_env_true(const char *name);
/* The first of the environment variables that is set, or NULL. */
const char *tern_env2(const char *a, const char *b);
/* Overwrite a secret in memory. */
void tern_wipe(void *p, size_t n);

/* ---- json.c ---- */
void json_str(FILE *f, const char *s);
void json_strn(FILE *f, const char *s, size_t n);

/* ---- tls_client.c ---- */
struct tls_opts {
	bool allow_self_signed;
	bool allow_expired;
	const char *ca_file;
};
/* Handshake on c->fd, checking the certificate against host. On failure
 * writes the reason to err and returns -1. */
int tern_tls_start(struct client *c, const char *host, const struct tls_opts *o, char *err, size_t errsz);

/* ---- check.c ---- */
enum check_level { CHECK_INFO, CHECK_WARNING, CHECK_ERROR };
struct check_issue {
	int line;
	enum check_level level;
	char code[32];
	char text[400];
};
struct check_report {
	struct check_issue *v;
	int n, cap;
	int errors, warnings;
	int destructive; /* destructive commands found */
	int commands;
};
/* Walk script lines from the root context. */
void check_lines(char **lines, int nlines, struct check_report *r);
void check_report_free(struct check_report *r);
int check_main(int argc, char **argv);

/* ---- reference.c ---- */
int reference_main(int argc, char **argv);

/* ---- ctrl_client.c ---- */
int ctrl_main(int argc, char **argv);

/* ---- cli_client.c ---- */
struct cli_opts {
	const char *host, *port, *user, *pass;
	bool ssl;
	struct tls_opts tls;
	bool json, keep_going, yes, get_version, from_stdin, interactive;
	const char *script;
	char **commands;
	int ncommands;
};
int cli_client_main(struct cli_opts *o);

/* Lines of a file ("-" for stdin), without their line ends. */
int tern_read_lines(const char *path, char ***lines_r, int *n_r);
void tern_free_lines(char **lines, int n);

#endif

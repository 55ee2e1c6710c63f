/*
 * tern.h - shared declarations of the tern admin client's modules.
 *
 *   main.c         command line: modes, options, environment fallbacks
 *   cli_client.c   the hierarchical CLI protocol (login, prompts, replies)
 *   ctrl_client.c  tern ctrl: options, modes, the guard, the session loop
 *   ctrl_output.c  tern ctrl's output: transcript, JSON, plain listing
 *   ctrl_wire.c    the XMail controller protocol: connect, TLS, login,
 *                  one command and its answer
 *   ctrl_table.c   what the client knows about each controller command
 *                  (the server's table plus framing, guard and secrets)
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
/* Multi-line input in scripts: is this line a command whose text lines
 * follow (ESET ...)? Does it set the end marker (SET multilineEOF X; the
 * new marker goes to eof)? Is raw the marker line? */
bool check_is_multiline(const char *line);
bool check_sets_eof(const char *line, char *eof, size_t sz);
bool check_is_eof(const char *raw, const char *eof);
void check_report_free(struct check_report *r);
void check_add(struct check_report *r, int line, enum check_level lv, const char *code, const char *text);
int check_main(int argc, char **argv);

/* ---- reference.c ---- */
int reference_main(int argc, char **argv);

/* ---- util.c: a growing list of strings ---- */
struct tern_lines {
	char **v;
	int n, cap;
};
void tern_lines_add(struct tern_lines *l, const char *p, size_t n);
void tern_lines_free(struct tern_lines *l);

/* ---- ctrl_table.c ---- */
struct ctrl_info {
	const char *name;      /* the command as the server knows it, or NULL */
	const char *usage;     /* the server's syntax line, or NULL */
	bool arity_ok;         /* the argument count fits the server's table */
	bool upload;           /* answered +00101: the client sends a file */
	bool file_listing;     /* a listing of a file's lines, not of records */
	unsigned secret_args;  /* bit i: field i is a password, never shown */
	const char *guard;     /* why it needs --yes or a confirmation, or NULL */
};
/* Split a controller line into its raw fields (as written) and their
 * values (XMail's rules); both arrays are allocated, free with
 * ctrl_split_free(). Returns the number of fields (at most max). */
#define CTRL_FIELDS_MAX 2048 /* more than a 4092-byte line can hold */
int ctrl_split(const char *line, char **raw, char **val, int max);
void ctrl_split_free(char **raw, char **val, int n);
/* Walk a controller script offline: unknown commands, wrong argument
 * counts, uploads, guarded commands, lines after quit. */
void ctrl_check_lines(char **lines, int nlines, struct check_report *r);
/* Is this script line a comment or blank? */
bool ctrl_skip_line(const char *line);
/* Classify a command from its field values (fields[0] the name). */
void ctrl_classify(char *const *fields, int n, struct ctrl_info *out);
/* Print the controller commands that need --yes (for --help and the
 * man page test). */
void ctrl_print_guarded(FILE *f);

/* ---- ctrl_wire.c ---- */
struct ctrl_conn_opts {
	const char *host, *port, *user, *pass;
	bool ssl;   /* implicit TLS (the CTRLS port) */
	bool tls;   /* #!TLS upgrade on the plain port */
	bool clear; /* clear-text login instead of the MD5 challenge */
	struct tls_opts tlsv;
};
struct ctrl_reply {
	char code[8];       /* "+00000", "-00012"; "" when there was no answer */
	char message[512];  /* the text after the code */
	bool ok;            /* code starts with '+' */
	bool listing;       /* +00100: data holds the listing (unstuffed) */
	struct tern_lines data;
};
/* Connect, TLS, greeting and login; 0, or -1 with the reason on stderr. */
int ctrl_open(struct client *c, const struct ctrl_conn_opts *o);
/* Send one encoded command line (with its CR LF) and read the answer;
 * for an upload (+00101) the file is read from upload (dot-stuffed on
 * the way). 0, or -1 when the connection failed (r->code then ""). */
int ctrl_exchange(struct client *c, const char *line, size_t len, FILE *upload, struct ctrl_reply *r);
void ctrl_reply_free(struct ctrl_reply *r);
/* quit and close */
void ctrl_close(struct client *c, bool say_quit);

/* ---- ctrl_output.c ---- */
void ctrl_print_json(const char *shown, int lineno, const struct ctrl_reply *r, const struct ctrl_info *ci,
		     const char *local_err);
void ctrl_print_transcript(const char *shown, const struct ctrl_reply *r, const char *local_err);
void ctrl_print_plain(const struct ctrl_reply *r, const char *local_err);

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

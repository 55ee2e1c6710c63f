/*
 * mailproc - per-account and per-domain processing rules (mailproc.tab).
 *
 * The domain file (domains/D/mailproc.tab) and then the account's file
 * (domains/D/U/mailproc.tab) are read as one list of commands; with
 * neither, the rule is "mailbox". Commands:
 *
 *   "mailbox"                                    store in the account's Maildir
 *   "redirect"  ADDR...                          send a copy on, same sender
 *   "lredirect" ADDR...                          send a copy on, the account as sender
 *   "external"  PRIORITY TIMEOUT PROGRAM ARG...  run PROGRAM (no shell), message on stdin;
 *                                                exit code 16 stops the rules
 *
 *   "smtprelay" HOST[:PORT][;...]                 relay through the given hosts
 *   "smtp"                                       deliver over SMTP (custom domains)
 *
 * (smtprelay and smtp hand the message to outbound delivery; until that
 * exists, it waits in spool/remote.)
 *
 * Macros in external arguments: @@FROM @@RCPT @@MSGID @@FILE (a whole
 * argument) are replaced by the sender, the recipient, the spool id and the
 * path of a file holding the message. Arguments are passed as argv: no
 * address ever reaches a shell.
 */
#ifndef TERN_MAILPROC_H
#define TERN_MAILPROC_H

#include <stdbool.h>

enum mp_kind { MP_MAILBOX, MP_REDIRECT, MP_LREDIRECT, MP_EXTERNAL, MP_SMTP, MP_SMTPRELAY };

struct mp_cmd {
	enum mp_kind kind;
	int argc;
	char **argv; /* redirect: addresses; external: program then args */
	int timeout;
};

struct mp_rules {
	int n;
	struct mp_cmd *cmd;
	char *storage;
};

/* 0 ok (rules filled; default "mailbox" when no file), -1 unreadable or
 * malformed file (line number in *bad_line_r). */
int mailproc_load(int rootfd, const char *domain, const char *dir, struct mp_rules *r, int *bad_line_r);
/* Parse one file's text (for validation of uploads too). */
int mailproc_parse(const char *text, struct mp_rules *r, int *bad_line_r);
void mailproc_free(struct mp_rules *r);
/* Run an external command; returns its exit code, or -1 (failed to run or
 * timed out). stdin_fd is the message. */
int mailproc_run(char *const argv[], int stdin_fd, int timeout_sec);

#endif

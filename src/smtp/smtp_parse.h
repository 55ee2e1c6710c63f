/*
 * smtp_parse - SMTP command lines, paths and parameters (RFC 5321).
 *
 * smtp_parse_command() splits a command line (NUL-terminated, without its
 * CR LF) into a verb and the argument text. smtp_parse_path() reads
 * "FROM:<addr> params" / "TO:<addr> params": the address is checked
 * (dot-atom or quoted local part, a domain or an address literal, ASCII
 * only, at most 64 + 255 characters), a source route is dropped, and the
 * parameters are returned as KEY[=VALUE] items. Nothing here allocates.
 */
#ifndef TERN_SMTP_PARSE_H
#define TERN_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

enum smtp_verb {
	SMTP_UNKNOWN,
	SMTP_HELO,
	SMTP_EHLO,
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_RSET,
	SMTP_NOOP,
	SMTP_QUIT,
	SMTP_VRFY,
	SMTP_EXPN,
	SMTP_HELP,
	SMTP_STARTTLS,
	SMTP_AUTH,
	SMTP_ETRN,
	SMTP_BDAT,
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg; /* text after the verb and its spaces ("" if none) */
};

#define SMTP_MAX_PARAMS 8

struct smtp_path {
	char addr[330];  /* without angle brackets; "" for the null path */
	int nparams;
	char key[SMTP_MAX_PARAMS][32];
	char value[SMTP_MAX_PARAMS][256];
};

void smtp_parse_command(const char *line, struct smtp_cmd *cmd);
/* keyword is "FROM:" or "TO:". Returns 0, -1 on a syntax error (keyword,
 * brackets, parameters), -2 on an invalid address. */
int smtp_parse_path(const char *arg, const char *keyword, bool allow_null, struct smtp_path *p);
bool smtp_addr_valid(const char *addr);
/* Lower-case domain part copy into dom (size >= 256), local part into local. */
bool smtp_addr_split(const char *addr, char *local, size_t lsz, char *dom, size_t dsz);

#endif

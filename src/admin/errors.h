/*
 * errors - the one error type of the admin core and the store.
 *
 * Every admin verb and every store function returns an enum tern_err.
 * Front-ends map it to their own wire codes in one place each
 * (ctrl/ctrl_codes.c for the XMail controller). No front-end invents an
 * error of its own for something the core decides.
 */
#ifndef TERN_ERRORS_H
#define TERN_ERRORS_H

enum tern_err {
	TERN_OK = 0,
	TERN_E_INTERNAL,          /* store or system failure */
	TERN_E_SYNTAX,            /* wrong arguments for the command */
	TERN_E_INVALID,           /* an argument value is not acceptable */
	TERN_E_BAD_DOMAIN,        /* domain name syntax (characters) */
	TERN_E_BAD_ADDRESS,       /* address syntax, empty atom */
	TERN_E_BAD_USERNAME,      /* user name syntax */
	TERN_E_DOMAIN_NOT_HANDLED,
	TERN_E_DOMAIN_EXISTS,
	TERN_E_USER_EXISTS,
	TERN_E_USER_NOT_FOUND,    /* userdel */
	TERN_E_RECORD_NOT_FOUND,  /* account look-ups in general */
	TERN_E_ALIAS_EXISTS,
	TERN_E_ALIAS_NOT_FOUND,
	TERN_E_EXALIAS_EXISTS,
	TERN_E_EXALIAS_NOT_FOUND,
	TERN_E_ALIASDOMAIN_EXISTS,
	TERN_E_ALIASDOMAIN_NOT_FOUND,
	TERN_E_NOT_A_LIST,
	TERN_E_MLUSER_EXISTS,
	TERN_E_MLUSER_NOT_FOUND,
	TERN_E_POPLINK_EXISTS,
	TERN_E_POPLINK_NOT_FOUND,
	TERN_E_BAD_PASSWORD,
	TERN_E_NO_MAILPROC,
	TERN_E_NOT_CUSTDOMAIN,
	TERN_E_BAD_PATH,          /* '..' or otherwise malformed relative path */
	TERN_E_FORBIDDEN,         /* path or object an admin may not touch */
	TERN_E_NO_FILE,           /* cannot open file */
	TERN_E_NO_DIR,            /* listing directory not found */
	TERN_E_CREATE_FILE,       /* cannot create file */
	TERN_E_CREATE_DIR,
	TERN_E_BAD_FILE,          /* uploaded table does not parse/validate */
	TERN_E_LINE_TOO_LONG,
	TERN_E_BAD_CHARS,
	TERN_E_MOVE_FILE,         /* cannot move (frozen message resubmission) */
	TERN_E_NOT_IMPLEMENTED,   /* belongs to a later part of the server */
	TERN_E_BUSY,
	TERN_E_IP_DENIED,
	TERN_E_LOGIN,
	TERN_E_TLS_ACTIVE,
	TERN_E_TLS_DISABLED,
	TERN_E_QUEUE_NOT_FOUND,   /* no such entry in the outbound queue */
	TERN_E_LIMIT_REACHED,     /* a domain's admin limit (maxAccounts, ...) is reached */
	TERN_E_OVER_CEILING,      /* a quota above the domain's maxAccountMessageSizeQuota */
	TERN_E_PERMISSION,        /* the admin lacks the AACL permission */
	TERN_E__COUNT
};

const char *tern_err_name(enum tern_err e);

#endif

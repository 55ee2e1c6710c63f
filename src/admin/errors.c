/*
 * errors - symbolic names of the core's errors, for logs.
 */
#include "errors.h"

static const char *const names[TERN_E__COUNT] = {
	[TERN_OK] = "ok",
	[TERN_E_INTERNAL] = "internal error",
	[TERN_E_SYNTAX] = "syntax error",
	[TERN_E_INVALID] = "invalid parameter",
	[TERN_E_BAD_DOMAIN] = "invalid domain name",
	[TERN_E_BAD_ADDRESS] = "invalid address",
	[TERN_E_BAD_USERNAME] = "invalid user name",
	[TERN_E_DOMAIN_NOT_HANDLED] = "domain not handled",
	[TERN_E_DOMAIN_EXISTS] = "domain already exists",
	[TERN_E_USER_EXISTS] = "user already exists",
	[TERN_E_USER_NOT_FOUND] = "user not found",
	[TERN_E_RECORD_NOT_FOUND] = "record not found",
	[TERN_E_ALIAS_EXISTS] = "alias already exists",
	[TERN_E_ALIAS_NOT_FOUND] = "alias not found",
	[TERN_E_EXALIAS_EXISTS] = "external alias already exists",
	[TERN_E_EXALIAS_NOT_FOUND] = "external alias not found",
	[TERN_E_ALIASDOMAIN_EXISTS] = "alias domain already exists",
	[TERN_E_ALIASDOMAIN_NOT_FOUND] = "alias domain not found",
	[TERN_E_NOT_A_LIST] = "not a mailing list",
	[TERN_E_MLUSER_EXISTS] = "list member already exists",
	[TERN_E_MLUSER_NOT_FOUND] = "list member not found",
	[TERN_E_POPLINK_EXISTS] = "POP3 link already exists",
	[TERN_E_POPLINK_NOT_FOUND] = "POP3 link not found",
	[TERN_E_BAD_PASSWORD] = "invalid password",
	[TERN_E_NO_MAILPROC] = "no mail processing file",
	[TERN_E_NOT_CUSTDOMAIN] = "not a custom domain",
	[TERN_E_BAD_PATH] = "bad relative path",
	[TERN_E_FORBIDDEN] = "forbidden",
	[TERN_E_NO_FILE] = "cannot open file",
	[TERN_E_NO_DIR] = "directory not found",
	[TERN_E_CREATE_FILE] = "cannot create file",
	[TERN_E_CREATE_DIR] = "cannot create directory",
	[TERN_E_BAD_FILE] = "invalid file structure",
	[TERN_E_LINE_TOO_LONG] = "line too long",
	[TERN_E_BAD_CHARS] = "bad characters",
	[TERN_E_MOVE_FILE] = "cannot move file",
	[TERN_E_NOT_IMPLEMENTED] = "not implemented",
	[TERN_E_QUEUE_NOT_FOUND] = "no such message in the queue",
	[TERN_E_PERMISSION] = "permission denied",
	[TERN_E_BUSY] = "server busy",
	[TERN_E_IP_DENIED] = "address denied",
	[TERN_E_LOGIN] = "bad login",
	[TERN_E_TLS_ACTIVE] = "TLS already active",
	[TERN_E_TLS_DISABLED] = "TLS disabled",
	[TERN_E_LIMIT_REACHED] = "domain limit reached",
	[TERN_E_OVER_CEILING] = "quota above the domain ceiling",
};

const char *tern_err_name(enum tern_err e)
{
	if ((unsigned)e >= TERN_E__COUNT || !names[e])
		return "unknown error";
	return names[e];
}

/*
 * ctrl_codes - tern_err -> XMail controller code and text.
 */
#include "ctrl_codes.h"

static const int codes[TERN_E__COUNT] = {
	[TERN_OK] = 0,
	[TERN_E_INTERNAL] = 21,
	[TERN_E_SYNTAX] = 103,
	[TERN_E_INVALID] = 230,
	[TERN_E_BAD_DOMAIN] = 260,
	[TERN_E_BAD_ADDRESS] = 132,
	[TERN_E_BAD_USERNAME] = 216,
	[TERN_E_DOMAIN_NOT_HANDLED] = 59,
	[TERN_E_DOMAIN_EXISTS] = 231,
	[TERN_E_USER_EXISTS] = 13,
	[TERN_E_USER_NOT_FOUND] = 12,
	[TERN_E_RECORD_NOT_FOUND] = 157,
	[TERN_E_ALIAS_EXISTS] = 26,
	[TERN_E_ALIAS_NOT_FOUND] = 28,
	[TERN_E_EXALIAS_EXISTS] = 67,
	[TERN_E_EXALIAS_NOT_FOUND] = 69,
	[TERN_E_ALIASDOMAIN_EXISTS] = 205,
	[TERN_E_ALIASDOMAIN_NOT_FOUND] = 206,
	[TERN_E_NOT_A_LIST] = 50,
	[TERN_E_MLUSER_EXISTS] = 52,
	[TERN_E_MLUSER_NOT_FOUND] = 53,
	[TERN_E_POPLINK_EXISTS] = 44,
	[TERN_E_POPLINK_NOT_FOUND] = 46,
	[TERN_E_BAD_PASSWORD] = 24,
	[TERN_E_NO_MAILPROC] = 116,
	[TERN_E_NOT_CUSTDOMAIN] = 120,
	[TERN_E_BAD_PATH] = 214,
	[TERN_E_FORBIDDEN] = 150,
	[TERN_E_PERMISSION] = 150, /* XMail has no finer "access denied" */
	[TERN_E_NO_FILE] = 19,
	[TERN_E_QUEUE_NOT_FOUND] = 19,
	[TERN_E_NO_DIR] = 211,
	[TERN_E_CREATE_FILE] = 10,
	[TERN_E_CREATE_DIR] = 17,
	[TERN_E_BAD_FILE] = 20,
	[TERN_E_LINE_TOO_LONG] = 162,
	[TERN_E_BAD_CHARS] = 190,
	[TERN_E_MOVE_FILE] = 164,
	[TERN_E_NOT_IMPLEMENTED] = 103,
	[TERN_E_BUSY] = 129,
	[TERN_E_IP_DENIED] = 130,
	[TERN_E_LOGIN] = 105,
	[TERN_E_TLS_ACTIVE] = 242,
	[TERN_E_TLS_DISABLED] = 249,
	[TERN_E_LIMIT_REACHED] = 264,
	[TERN_E_OVER_CEILING] = 230,
};

int ctrl_code(enum tern_err e)
{
	if ((unsigned)e >= TERN_E__COUNT)
		return 21;
	return codes[e];
}

const char *ctrl_text(int code)
{
	switch (code) {
	case 0:
		return "OK";
	case 10:
		return "Unable to create file";
	case 12:
		return "User not found";
	case 13:
		return "User already exist";
	case 17:
		return "Unable to create directory";
	case 19:
		return "Unable to open file";
	case 20:
		return "Invalid file structure";
	case 21:
		return "Unable to write file";
	case 24:
		return "Invalid password";
	case 26:
		return "Alias already exist";
	case 28:
		return "Alias not found";
	case 44:
		return "POP3 link already exist";
	case 46:
		return "POP3 link not found";
	case 50:
		return "User is not a mailing list";
	case 52:
		return "Mailing list user already exist";
	case 53:
		return "Mailing list user not found";
	case 59:
		return "POP3 domain not handled";
	case 67:
		return "External alias already exist";
	case 69:
		return "External alias not found";
	case 103:
		return "Bad CTRL command syntax";
	case 105:
		return "Bad controller login";
	case 116:
		return "User mail processing file not present";
	case 120:
		return "Not a custom domain";
	case 129:
		return "Server too busy, retry later";
	case 130:
		return "Server does not like Your IP";
	case 132:
		return "Bad tag ( From: , etc ... ) address";
	case 150:
		return "Server use is forbidden";
	case 157:
		return "Record not found in TAB file";
	case 162:
		return "Stream line too long";
	case 164:
		return "Unable to move file";
	case 190:
		return "Bad characters in command line";
	case 205:
		return "Domain alias already exist";
	case 206:
		return "Domain alias not found";
	case 211:
		return "Listing directory not found";
	case 214:
		return "Error in relative path syntax";
	case 216:
		return "Name does not respect RFC822";
	case 230:
		return "Invalid parameter";
	case 231:
		return "Already exist";
	case 242:
		return "TLS link already active";
	case 249:
		return "TLS service disabled";
	case 260:
		return "Invalid host name";
	case 264:
		return "Too many elements";
	default:
		return "Unknown error code";
	}
}

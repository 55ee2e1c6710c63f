/*
 * cli_errors - the one mapping of core errors (enum tern_err) to the CLI's
 * "-ERR: " texts. Texts are kept stable: scripts grep them (spec 6.3).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char *cli_err_text(enum tern_err e)
{
	switch (e) {
	case TERN_OK:
		return "command successful";
	case TERN_E_SYNTAX:
		return "Invalid parameters";
	case TERN_E_INVALID:
		return "Invalid value";
	case TERN_E_BAD_DOMAIN:
	case TERN_E_BAD_ADDRESS:
		return "Invalid value for name (not a valid domain name)";
	case TERN_E_BAD_USERNAME:
		return "Invalid value for name (not a valid account name)";
	case TERN_E_DOMAIN_NOT_HANDLED:
		return "Domain not found";
	case TERN_E_DOMAIN_EXISTS:
		return "Domain already exists";
	case TERN_E_USER_EXISTS:
		return "Account already exists";
	case TERN_E_USER_NOT_FOUND:
	case TERN_E_RECORD_NOT_FOUND:
	case TERN_E_QUEUE_NOT_FOUND:
		return "Account not found";
	case TERN_E_ALIAS_EXISTS:
	case TERN_E_ALIASDOMAIN_EXISTS:
		return "Alias already exists";
	case TERN_E_ALIAS_NOT_FOUND:
	case TERN_E_ALIASDOMAIN_NOT_FOUND:
		return "Alias not found";
	case TERN_E_BAD_PASSWORD:
		return "Wrong password";
	case TERN_E_BAD_PATH:
		return "Invalid value for path (a snapshot label: letters, digits, '.', '_' and '-')";
	case TERN_E_CREATE_DIR:
	case TERN_E_CREATE_FILE:
		return "Cannot write to the data root (see the server log)";
	case TERN_E_LINE_TOO_LONG:
		return "Command line too long";
	case TERN_E_BAD_CHARS:
		return "Invalid characters in the command line";
	case TERN_E_NOT_IMPLEMENTED:
		return "Not supported by this server yet";
	case TERN_E_BUSY:
		return "Too many sessions, try again later";
	case TERN_E_IP_DENIED:
		return "Access denied";
	case TERN_E_LOGIN:
		return "Authentication failed";
	case TERN_E_LIMIT_REACHED:
		return "Domain limit reached (CONFIG adminLimits)";
	case TERN_E_OVER_CEILING:
		return "Quota above the domain's maxAccountMessageSizeQuota (CONFIG adminLimits)";
	case TERN_E_PERMISSION:
		return "Permission denied";
	case TERN_E_INTERNAL:
	default:
		return "Internal server problem (see the server log)";
	}
}

void cli_err_core(struct cli_session *s, enum tern_err e, const char *type, const char *name)
{
	if (!name || !*name) {
		cli_err(s, "%s", cli_err_text(e));
		return;
	}
	switch (e) {
	case TERN_E_DOMAIN_NOT_HANDLED:
		cli_err(s, "Domain %s not found", name);
		break;
	case TERN_E_DOMAIN_EXISTS:
		cli_err(s, "Domain %s already exists", name);
		break;
	case TERN_E_USER_EXISTS:
		cli_err(s, "Account %s already exists", name);
		break;
	case TERN_E_USER_NOT_FOUND:
	case TERN_E_RECORD_NOT_FOUND:
	case TERN_E_QUEUE_NOT_FOUND:
		cli_err(s, "%s %s not found", type ? type : "Account", name);
		break;
	case TERN_E_ALIAS_EXISTS:
	case TERN_E_ALIASDOMAIN_EXISTS:
		cli_err(s, "Alias %s already exists", name);
		break;
	case TERN_E_ALIAS_NOT_FOUND:
	case TERN_E_ALIASDOMAIN_NOT_FOUND:
		cli_err(s, "Alias %s not found", name);
		break;
	case TERN_E_BAD_DOMAIN:
	case TERN_E_BAD_ADDRESS:
		cli_err(s, "Invalid value for %s (not a valid domain name)", name);
		break;
	case TERN_E_BAD_USERNAME:
		cli_err(s, "Invalid value for %s (not a valid account name)", name);
		break;
	case TERN_E_INVALID:
		cli_err(s, "Invalid value for %s", name);
		break;
	case TERN_E_LIMIT_REACHED: /* name: "maxAccounts=3" */
	case TERN_E_OVER_CEILING: {
		size_t k = strcspn(name, "=");
		const char *v = name[k] ? name + k + 1 : "?";
		if (e == TERN_E_LIMIT_REACHED)
			cli_err(s, "Domain limit reached: %.*s = %s (CONFIG adminLimits)", (int)k, name, v);
		else {
			/* which quota attribute the ceiling limits, and in what unit */
			static const struct {
				const char *limit, *attr, *unit;
			} q[] = {
				{"maxAccountMessageSizeQuota", "totalMessageSize", " KB"},
				{"maxAccountMessageCountQuota", "totalMessageCount", ""},
				{"maxAccountFolderMessageSizeQuota", "messageSize", " KB"},
				{"maxAccountFolderMessageCountQuota", "messageCount", ""},
			};
			size_t i = 0;
			while (i + 1 < sizeof q / sizeof *q && (strlen(q[i].limit) != k || strncmp(q[i].limit, name, k)))
				i++;
			cli_err(s, "Quota above the domain's ceiling: %.*s = %s%s (%s must be 1 to %s)", (int)k, name, v,
				q[i].unit, q[i].attr, v);
		}
		break;
	}
	default:
		cli_err(s, "%s", cli_err_text(e));
		break;
	}
}

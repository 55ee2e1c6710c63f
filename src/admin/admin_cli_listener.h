/*
 * admin_cli_listener - the COMMIT of a listener context of the admin CLI:
 * the service's listener lists (and the other settings the context
 * edits) and the listener's access control (auth/lstacl.h), in one
 * durable transaction. A listener that moves (SET address) takes its
 * access control along: the entry under the old address is removed.
 */
#ifndef TERN_ADMIN_CLI_LISTENER_H
#define TERN_ADMIN_CLI_LISTENER_H

#include "../auth/lstacl.h"
#include "admin_cli.h"

struct admin_cli_listener_edit {
	const char *const *settings; /* nsettings (name, value) pairs of the registry */
	int nsettings;
	const char *scope;	     /* "cli", "smtp", "pop3" */
	const char *from;	     /* the address the listener had (NULL: a new listener) */
	const char *to;		     /* its address now */
	const struct lstacl *acl;
	const struct lstacl_rule *rules;
	int nrules;
};

/* TERN_E_INVALID: detail_r names the setting or rule at fault. */
enum tern_err admin_cli_listener_commit(struct admin_ctx *ctx, const struct admin_cli_listener_edit *ed,
					char *detail_r, size_t dsz);

#endif

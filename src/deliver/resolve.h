/*
 * resolve - what a recipient address means to this server.
 *
 * resolve_rcpt() follows alias domains (exact, then wildcard), accounts,
 * exact and wildcard aliases, external aliases and mailing lists (every member receives) to
 * the list of local mailboxes and remote addresses a message for addr must
 * reach. Expansion is bounded (depth 8, 1000 targets) and deduplicated.
 */
#ifndef TERN_RESOLVE_H
#define TERN_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include "../store/directory.h"

enum resolve_kind {
	RESOLVE_LOCAL,   /* at least one local mailbox and/or remote member */
	RESOLVE_REMOTE,  /* not a domain of ours */
	RESOLVE_UNKNOWN, /* our domain, no such account or alias */
	RESOLVE_LOOP,    /* alias/list expansion too deep */
};

struct mailbox_ref {
	int64_t id;
	char domain[256];
	char dir[256];
	char name[256];
};

struct resolved {
	int nlocal, nremote;
	struct mailbox_ref *local;
	char **remote;
};

enum resolve_kind resolve_rcpt(struct dir_conn *c, const char *addr, struct resolved *out);
void resolved_free(struct resolved *r);
/* The account variables that gate delivery. The quotas:
 *   MaxMBSize          KB over all folders (the CLI's totalMessageSize)
 *   MaxMessages        messages over all folders (totalMessageCount)
 *   FolderMaxMBSize    KB per folder (messageSize)
 *   FolderMaxMessages  messages per folder (messageCount)
 * (0, negative or absent = no limit; the leading number of the value counts.)
 * Tern keeps one folder per account (the Maildir inbox), so the per-folder
 * limits apply to it and the effective limit is the tighter of the total
 * and the per-folder one. */
struct delivery_gate {
	bool receive;       /* ReceiveEnable (default 1) */
	int64_t max_bytes;  /* effective size limit in bytes, 0 = no limit */
	int64_t max_count;  /* effective message-count limit, 0 = no limit */
	bool size_by_folder, count_by_folder; /* the per-folder limit is the tighter one */
};
/* The tighter of two limits where 0 means none. */
int64_t quota_tighter(int64_t a, int64_t b);
void resolve_gate(struct dir_conn *c, int64_t account_id, struct delivery_gate *g);
/* May this sender post to addr? Always true unless addr is a mailing list
 * with ClosedML=1; then the envelope sender must be a member with W, or
 * the authenticated user a member with A. */
/* false: addr is a group/list that is disabled (ReceiveEnable "0"). */
bool resolve_list_receives(struct dir_conn *c, const char *addr);
bool resolve_may_post(struct dir_conn *c, const char *addr, const char *sender, const char *auth_user);
/* Is addr's domain (directly or as an alias domain) a disabled domain? */
bool resolve_domain_disabled(struct dir_conn *c, const char *addr);
/* Is domain (or an alias of it) handled here? */
bool resolve_domain_is_local(struct dir_conn *c, const char *domain);

#endif

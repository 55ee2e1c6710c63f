/*
 * admin - the verbs of administration, shared by every admin front-end.
 *
 * Each verb takes an admin_ctx (who is acting, from where, and this
 * thread's directory connection), typed arguments, and returns an
 * enum tern_err. Verbs that change state return only once the change is
 * durable. Listing verbs stream rows to a dir_row_fn; file verbs fill a
 * struct buf. Verbs validate every argument themselves: front-ends only
 * tokenise.
 */
#ifndef TERN_ADMIN_H
#define TERN_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "../store/directory.h"
#include "errors.h"

struct send_counters;

struct admin_env {
	char *root;      /* data root, absolute */
	int rootfd;      /* open directory descriptor of the root */
	struct dir *dir;
	/* Hand a spool id back to delivery (set by the daemon; may be NULL). */
	void (*requeue)(void *arg, const char *id);
	void *requeue_arg;
	/* Hand a spool/remote id to outbound delivery (may be NULL). */
	void (*outbound)(void *arg, const char *id);
	void *outbound_arg;
	/* The live outbound queue (NULL when outbound delivery is not running). */
	const struct queue_ops *queue;
	/* Starting and stopping services (NULL outside the daemon). */
	const struct service_ops *services;
	/* Opening and closing the CLI-edited listeners after a COMMIT (NULL
	 * outside the daemon): 0, or -1 with why (admin/live_listeners.h). */
	int (*listeners_sync)(void *arg, const char *scope, char *why, size_t sz);
	void *listeners_arg;
	/* SMTP's sending-limit counters (smtp/send_limits.h; NULL when SMTP
	 * is not running): the CLI's SHOW/RESET sendQuota. */
	struct send_counters *sends;
};

/* What the daemon offers the admin core to start and stop its services
 * ("cli", "smtpIncoming", "smtpOutgoing", "pop3"). Runtime state only. */
struct service_ops {
	void *arg;
	/* 0, or -1 for a service the daemon does not have. */
	int (*set_running)(void *arg, const char *service, bool run);
	/* 1 running, 0 stopped, -1 no such service. */
	int (*running)(void *arg, const char *service);
};

/* One entry of the outbound queue as the admin sees it. */
struct queue_row {
	const char *id;
	uint64_t size;     /* bytes */
	time_t arrived;
	int attempts;
	bool busy;         /* an attempt is under way */
	time_t next;       /* next attempt; 0 while busy */
	const char *status; /* last result, "" before the first attempt */
	const char *from;
	const char *rcpts; /* recipients still to do, joined by ',' */
};
typedef bool (*queue_row_fn)(const struct queue_row *r, void *arg);

/* What outbound delivery offers the admin core. Ids are plain spool ids. */
struct queue_ops {
	void *arg;
	/* A consistent snapshot, streamed after the lock is released. */
	void (*list)(void *arg, queue_row_fn fn, void *farg);
	/* 0, or -1 when there is no such entry. */
	int (*retry)(void *arg, const char *id);
	int (*ndr)(void *arg, const char *id);    /* bounce now and remove */
	int (*remove)(void *arg, const char *id); /* drop without notice */
	int (*freeze)(void *arg, const char *id); /* to spool/held with its log */
	/* Attempt now: every entry (pattern NULL) or those with a recipient
	 * matching the wildcard pattern; returns how many. */
	int (*flush)(void *arg, const char *pattern);
};

struct admin_ctx {
	struct admin_env *env;
	struct dir_conn *rd; /* this thread's reader */
	const char *admin;   /* logged-in admin name */
	const char *peer;    /* peer address */
	const char *via;     /* front-end name, e.g. "ctrl" */
};

/* The placeholder shown instead of stored secrets. */
#define ADMIN_SECRET_PLACEHOLDER "********"

/* ---- names ---- */
enum tern_err admin_check_domain(const char *name);
enum tern_err admin_check_user(const char *name);
enum tern_err admin_check_address(const char *addr);
bool admin_value_ok(const char *v); /* no TAB/CR/LF/NUL and printable */
/* A list of names collected from store rows (the first field of each):
 * pass admin_names_row as the row function; free with admin_names_free. */
struct admin_names {
	char **v;
	int n, cap;
};
int admin_names_row(void *arg, const char *const *f, int n);
void admin_names_free(struct admin_names *nm);
/* ASCII lower-case copy, truncated to sz - 1 characters. */
void admin_lower_copy(char *out, size_t sz, const char *in);

/* ---- login ---- */
/* A clear password against the account's hash; unknown names cost the same
 * time as wrong passwords. */
enum tern_err admin_login_clear(struct admin_ctx *ctx, const char *name, const char *password);
/* digest_or_password: clear password, or (with a timestamp) '#' + hex MD5
 * of timestamp+password. */
enum tern_err admin_login(struct admin_ctx *ctx, const char *name, const char *digest_or_password,
			  const char *timestamp);
/* Create or replace an admin account (hash + reversible secret box). */
enum tern_err admin_account_set(struct admin_env *env, const char *name, const char *password);

/* ---- domains ---- */
enum tern_err admin_domain_add(struct admin_ctx *ctx, const char *domain);
enum tern_err admin_domain_del(struct admin_ctx *ctx, const char *domain);
enum tern_err admin_domain_list(struct admin_ctx *ctx, char **pats, int npats, dir_row_fn fn, void *arg);
/* Disable (keeping every piece of data) or enable a domain. Idempotent:
 * setting the state it has is TERN_OK. Enabling (even an enabled domain)
 * puts back in the queue the frozen messages held because the domain was
 * disabled (a line of their log ends in ADMIN_DOMAIN_DISABLED_WHY + domain). */
enum tern_err admin_domain_set_enabled(struct admin_ctx *ctx, const char *domain, bool on);
#define ADMIN_DOMAIN_DISABLED_WHY "held while disabled: domain "
/* rows: name, enabled ("1"/"0") */
enum tern_err admin_domain_list_state(struct admin_ctx *ctx, char **pats, int npats, dir_row_fn fn, void *arg);
enum tern_err admin_aliasdomain_add(struct admin_ctx *ctx, const char *real, const char *alias);
enum tern_err admin_aliasdomain_del(struct admin_ctx *ctx, const char *alias);
/* rows: real, alias */
enum tern_err admin_aliasdomain_list(struct admin_ctx *ctx, const char *rpat, const char *apat, dir_row_fn fn,
				     void *arg);

/* ---- users ---- */
enum tern_err admin_user_add(struct admin_ctx *ctx, const char *domain, const char *user, const char *password,
			     const char *type);
enum tern_err admin_user_del(struct admin_ctx *ctx, const char *domain, const char *user);
enum tern_err admin_user_passwd(struct admin_ctx *ctx, const char *domain, const char *user, const char *password);
enum tern_err admin_user_auth(struct admin_ctx *ctx, const char *domain, const char *user, const char *password);
/* rows: name, value (RealAddress, MailboxSize, MailboxMessages, LastLoginTimeDate, LastLoginIP) */
enum tern_err admin_user_stat(struct admin_ctx *ctx, const char *domain, const char *user, dir_row_fn fn, void *arg);
enum tern_err admin_user_vars(struct admin_ctx *ctx, const char *domain, const char *user, dir_row_fn fn, void *arg);
enum tern_err admin_user_vars_set(struct admin_ctx *ctx, const char *domain, const char *user, char **pairs,
				  int npairs);
/* rows: domain, user, password placeholder, type */
enum tern_err admin_user_list(struct admin_ctx *ctx, const char *dpat, const char *upat, int64_t start,
			      int64_t amount, dir_row_fn fn, void *arg);
/* rows: domain, count */
enum tern_err admin_user_count(struct admin_ctx *ctx, const char *dpat, dir_row_fn fn, void *arg);

/* The clear password of an account that opted in to challenge-response
 * logins (variable EnableChallengeAuth = 1), for CRAM-MD5 and APOP. */
enum tern_err admin_user_secret(struct admin_ctx *ctx, const char *domain, const char *user, struct buf *plain_r);
/* Does password match the account (hash, or a password not hashed yet)? */
bool admin_password_matches(struct dir_conn *c, const struct dir_user *u, const char *password);
/* RFC 822 date as XMail prints it (UTC). */
void admin_format_date(time_t t, char *out, size_t sz);

/* The variables a new account of domain starts with (userdef.tab),
 * serialised "name<TAB>value<LF>"...; the caller frees the string. */
char *admin_userdef_vars(struct admin_env *env, const char *domain);

/* ---- mail processing ---- */
enum tern_err admin_mailproc_get(struct admin_ctx *ctx, const char *domain, const char *user, const char *flags,
				 struct buf *out);
enum tern_err admin_mailproc_check(struct admin_ctx *ctx, const char *domain, const char *user);
/* The upload is checked first; a bad line gives TERN_E_BAD_FILE and its number. */
enum tern_err admin_mailproc_set(struct admin_ctx *ctx, const char *domain, const char *user, const char *which,
				 const char *data, size_t len, int *bad_line_r);

/* ---- mailing lists ---- */
enum tern_err admin_mluser_add(struct admin_ctx *ctx, const char *domain, const char *list, const char *addr,
			       const char *perms);
enum tern_err admin_mluser_del(struct admin_ctx *ctx, const char *domain, const char *list, const char *addr);
enum tern_err admin_mluser_list(struct admin_ctx *ctx, const char *domain, const char *list, dir_row_fn fn,
				void *arg);

/* ---- aliases ---- */
enum tern_err admin_alias_add(struct admin_ctx *ctx, const char *domain, const char *alias, const char *target);
enum tern_err admin_alias_del(struct admin_ctx *ctx, const char *domain, const char *alias);
enum tern_err admin_alias_list(struct admin_ctx *ctx, const char *dpat, const char *apat, const char *tpat,
			       dir_row_fn fn, void *arg);
enum tern_err admin_exalias_add(struct admin_ctx *ctx, const char *local, const char *remote);
enum tern_err admin_exalias_del(struct admin_ctx *ctx, const char *remote);
enum tern_err admin_exalias_list(struct admin_ctx *ctx, const char *lpat, const char *rpat, dir_row_fn fn,
				 void *arg);

/* ---- custom domains ---- */
enum tern_err admin_custdom_get(struct admin_ctx *ctx, const char *domain, struct buf *out);
enum tern_err admin_custdom_check(struct admin_ctx *ctx, const char *domain);
enum tern_err admin_custdom_set(struct admin_ctx *ctx, const char *domain, const char *data, size_t len);
enum tern_err admin_custdom_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg);

/* ---- POP3 links ---- */
enum tern_err admin_poplink_add(struct admin_ctx *ctx, const char *ld, const char *lu, const char *rh,
				const char *ru, const char *rpass, const char *auth);
enum tern_err admin_poplink_del(struct admin_ctx *ctx, const char *ld, const char *lu, const char *rh,
				const char *ru);
/* rows: ld, lu, rh, ru, password placeholder, auth, ON|OFF */
enum tern_err admin_poplink_list(struct admin_ctx *ctx, const char *ld, const char *lu, dir_row_fn fn, void *arg);
enum tern_err admin_poplink_enable(struct admin_ctx *ctx, const char *onoff, const char *ld, const char *lu,
				   const char *rh, const char *ru);

/* ---- files under the data root and table views ---- */
enum tern_err admin_file_list(struct admin_ctx *ctx, const char *dir, const char *pattern, dir_row_fn fn, void *arg);
enum tern_err admin_cfgfile_get(struct admin_ctx *ctx, const char *path, struct buf *out);
enum tern_err admin_cfgfile_check(struct admin_ctx *ctx, const char *path);
/* On TERN_E_BAD_FILE, *bad_line_r (if non-NULL) gets the 1-based line number. */
enum tern_err admin_cfgfile_set(struct admin_ctx *ctx, const char *path, const char *data, size_t len,
				int *bad_line_r);

/* ---- frozen messages (spool/held) ----
 * Messages kept for the admin: recipients that vanished while the message
 * waited, invalid spool files. lev0/lev1 are XMail's spool levels; Tern's
 * spool has none, so they are always "0" and are only checked to be
 * numbers. Names must be plain spool ids (no path). */
/* rows: msgfile, lev0, lev1, <from>, <to>, time, size, attempts, queue-dir */
enum tern_err admin_frozen_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg);
enum tern_err admin_frozen_submit(struct admin_ctx *ctx, const char *lev0, const char *lev1, const char *name);
enum tern_err admin_frozen_del(struct admin_ctx *ctx, const char *lev0, const char *lev1, const char *name);
enum tern_err admin_frozen_get(struct admin_ctx *ctx, const char *lev0, const char *lev1, const char *name,
			       bool log, struct buf *out);

/* ---- the outbound queue (spool/remote) ----
 * Each verb logs who did what; TERN_E_QUEUE_NOT_FOUND for unknown ids,
 * TERN_E_NOT_IMPLEMENTED when outbound delivery is not running. */
enum tern_err admin_queue_list(struct admin_ctx *ctx, queue_row_fn fn, void *arg);
enum tern_err admin_queue_retry(struct admin_ctx *ctx, const char *id);
enum tern_err admin_queue_ndr(struct admin_ctx *ctx, const char *id);
enum tern_err admin_queue_delete(struct admin_ctx *ctx, const char *id);
/* Move to the frozen state (spool/held, with its delivery log). */
enum tern_err admin_queue_freeze(struct admin_ctx *ctx, const char *id);
/* *count_r: how many entries were scheduled for an immediate attempt. */
enum tern_err admin_queue_force(struct admin_ctx *ctx, int *count_r);
/* XMail etrn / SMTP ETRN: entries with a recipient matching any pattern. */
enum tern_err admin_queue_etrn(struct admin_ctx *ctx, char *const *patterns, int n, int *count_r);

/* ---- services (admin_services.c) ----
 * START/STOP Service: runtime only (every service runs again after a
 * restart). A stopped listening service refuses new connections; open
 * sessions go on. A stopped smtpOutgoing starts no delivery attempt; the
 * queue keeps every entry. Each change is logged with who made it.
 * TERN_E_INVALID: no such service; TERN_E_NOT_IMPLEMENTED: no daemon;
 * TERN_E_BUSY: stopping the service the caller is connected through
 * (ctx->via), which would lock the admin out. Setting the state a service
 * already has is TERN_OK. */
enum tern_err admin_service_set(struct admin_ctx *ctx, const char *service, bool run);
enum tern_err admin_service_running(struct admin_ctx *ctx, const char *service, bool *running_r);

/* ---- controller access ---- */
/* Is peer allowed by the named access map ("ctrl")? */
bool admin_ipmap_allows(struct dir_conn *c, const char *map, const char *peer);
bool admin_ipmap_rule_matches(const char *addr, const char *mask, const char *peer);
/* Does (addr, mask) parse as an access-map rule? */
bool admin_ipmap_rule_valid(const char *addr, const char *mask);

/* ---- trash ---- */
/* Move ROOT/rel into the trash; label names the deleted object. */
int admin_trash_move(struct admin_env *env, const char *rel, const char *label, char *dest_r, size_t sz);
/* Purge trash entries older than the TrashKeepDays setting. */
void admin_trash_purge(struct admin_env *env, struct dir_conn *c);

#endif

/*
 * cli_ctx - helpers shared by the files that implement CLI contexts
 * (cli_commands.c and cli_ctx_*.c): the generic commands (EXIT, HELP,
 * BACK, SET, SHOW, DONE), values of attributes, and the LIST/SHOW layouts
 * of spec 6.5/6.6. Internal to src/cli.
 */
#ifndef TERN_CLI_CTX_H
#define TERN_CLI_CTX_H

#include "cli.h"

#define CLI_COMMIT_TEXT "committing changes and switching back to previous context"
#define CLI_N(a) (int)(sizeof a / sizeof *a)

/* generic handlers */
void cli_h_exit(struct cli_session *s, const struct cli_parsed *p);
void cli_h_help(struct cli_session *s, const struct cli_parsed *p);
void cli_h_back(struct cli_session *s, const struct cli_parsed *p);
void cli_h_later(struct cli_session *s, const struct cli_parsed *p);
void cli_h_set(struct cli_session *s, const struct cli_parsed *p);
void cli_h_show(struct cli_session *s, const struct cli_parsed *p);
void cli_h_done(struct cli_session *s, const struct cli_parsed *p);
void cli_h_enter_sub(struct cli_session *s, const struct cli_parsed *p); /* CONFIG <sub-context> */
void cli_h_save_config(struct cli_session *s, const struct cli_parsed *p);

/* names and values */
void cli_attr_name(const struct cli_attr *a, char *out, size_t sz);
void cli_lower(char *out, size_t sz, const char *in);
int cli_object_depth(struct cli_session *s, int d);
bool cli_frame_pending(const struct cli_frame *f);
const char *cli_attr_value(struct cli_session *s, int d, const struct cli_attr *a, char *tmp, size_t tsz);
void cli_vars_parse(struct cli_kvlist *l, const char *vars);
int cli_var_row(void *arg, const char *const *f, int n); /* rows (name, value) into a kv list */

/* The account variables the limit `services` decides, as 3 name/value
 * pairs appended at vars[2n]: ReceiveEnable (smtpIn), PopEnable (pop3),
 * SmtpSendEnable (smtpOut); services NULL (removed) turns all three on.
 * Returns the new n. */
int cli_services_vars(const char *services, const char **vars, int n);

/* The quota attributes beside totalMessageSize, shared by the account
 * Quotas context (k "") and the domain's accountDefaultQuotas (k "def:",
 * the domain's userdef.tab). Values are account variables that delivery
 * enforces (see src/deliver/resolve.h): totalMessageCount is MaxMessages,
 * the per-folder messageCount/messageSize are FolderMaxMessages and
 * FolderMaxMBSize; Tern keeps one folder per account (the Maildir inbox),
 * so those limit it and the tighter of total and per-folder applies.
 * mboxCount cannot be set (one folder). */
#define CLI_QUOTA_NUM(n, k, var, h) {n, CLI_AT_NUMBER, k var, NULL, 0, 4294967295LL, "0", 0, h}
#define CLI_QUOTA_ATTRS(k)                                                                                      \
	CLI_QUOTA_NUM("totalMessageCount", k, "MaxMessages",                                                    \
		      "Maximum number of messages in the account, 0 = none; the next message is refused at RCPT " \
		      "(452 4.2.2) and a copy that does not fit at delivery is frozen (the MaxMessages variable)."), \
		CLI_QUOTA_NUM("messageCount", k, "FolderMaxMessages",                                           \
			      "Message limit per folder, 0 = none. Tern has one folder per account (the inbox), " \
			      "so it limits that folder; the tighter of this and totalMessageCount applies "     \
			      "(FolderMaxMessages)."),                                                            \
		CLI_QUOTA_NUM("messageSize", k, "FolderMaxMBSize",                                              \
			      "Size limit per folder in KB, 0 = none. Tern has one folder per account (the "      \
			      "inbox), so it limits that folder; the tighter of this and totalMessageSize "       \
			      "applies (FolderMaxMBSize)."),                                                      \
		{"mboxCount", CLI_AT_NUMBER, NULL, NULL, 0, 0, NULL, CLI_AF_WHY | CLI_AF_NOSET | CLI_AF_NOSHOW,     \
		 "Not supported: Tern keeps a single folder per account (the Maildir inbox; there is no IMAP), so " \
		 "the number of folders is always 1."}

/* SHOW sendQuota / RESET sendQuota of an account's Limits (cli_sendquota.c). */
void cli_h_show_sendquota(struct cli_session *s, const struct cli_parsed *p);
void cli_h_reset_sendquota(struct cli_session *s, const struct cli_parsed *p);

/* renames (cli_rename.c): SET name of an existing object, applied at its
 * COMMIT (DONE in the AACL) through admin/admin_rename.h */
/* SET name/email: the new name is valid for the frame's object (norm:
 * as stored); false after answering -ERR. */
bool cli_rename_check(struct cli_session *s, const struct cli_frame *f, const char *v, char *norm, size_t nsz);
/* Apply the frame's pending rename (none: true). false after answering
 * -ERR, the frame and its edits unchanged. On success f->name is the new
 * name and the edit is gone. */
bool cli_rename_apply(struct cli_session *s, struct cli_frame *f);
/* COMMIT of a frame whose only edit was its rename (applied): back to the
 * parent, +OK. */
void cli_rename_only(struct cli_session *s);
/* A subscriber's new address, pending in its list's frame until COMMIT. */
bool cli_rename_member_pending(struct cli_frame *list, const char *old, const char *new_addr);
bool cli_rename_members_apply(struct cli_session *s, struct cli_frame *f);

/* Enter the frame of an account, group or list `name` of the current
 * frame's domain: create (ADD: nothing stored yet) or an existing one, its
 * variables loaded as the frame's base. NULL after -ERR (too deep). */
struct cli_frame *cli_push_object(struct cli_session *s, enum cli_ctx cx, const char *name, bool create);
/* RESET <attr> of an account: back to the domain's default for new
 * accounts (its userdef.tab), pending; answers +OK. */
void cli_reset_to_default(struct cli_session *s, struct cli_frame *f, const char *key);
/* SHOW <object>: print the frame f just pushed (NULL: nothing) and leave it. */
void cli_show_pushed(struct cli_session *s, struct cli_frame *f, const char *only);

/* COMMIT of an account, group or list. begin: nothing pending leaves at
 * once; a pending rename runs first; then the frame's edits as the admin
 * core takes them: *password_r (@password) and *nvars_r (name, value)
 * pairs (other '@' keys are the CLI's own), with room for `extra` more
 * pairs; NULL when the command is answered already. end (after the admin
 * core committed): the change for the log ("<what> name@domain created|
 * changed:", the password as ***, the variables, the frame's additions and
 * removals after prefix), back to the parent, vars freed. */
const char **cli_commit_begin(struct cli_session *s, struct cli_frame *f, int extra, const char **password_r,
			     int *nvars_r);
void cli_commit_end(struct cli_session *s, struct cli_frame *f, const char *what, const char *password,
		    const char **vars, int nvars, const char *prefix);

/* Pending additions (add) and removals of a frame's items (aliases, alias
 * domains, list members: f->alias_add / f->alias_del). undo: a pending
 * change of the other kind for a is dropped (true: nothing more to do).
 * push: a queued (false after answering -ERR: too many changes). */
bool cli_pending_undo(struct cli_frame *f, bool add, const char *a);
bool cli_pending_push(struct cli_session *s, struct cli_frame *f, bool add, const char *a);

/* errors and the log */
void cli_commit_failed(struct cli_session *s, enum tern_err e, const char *type, const char *name);
void cli_detail_add(struct cli_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* layouts */
void cli_show_frame(struct cli_session *s, int d, const char *only);
void cli_table_begin(struct cli_session *s, const char *title, const char *header);
void cli_list_begin(struct cli_session *s, const char *title);
void cli_list_row(struct cli_session *s, const char *text);
void cli_list_end(struct cli_session *s, enum tern_err e);

#define CLI_SHOW_ATTR {CLI_ARG_OPT_PAIR, "ATTR", "param", false}
#define CLI_NAME_ARG(meta) {CLI_ARG_POS, "name", meta, false}
#define CLI_SET_ARGS {{CLI_ARG_SET, NULL, "attribute value ...", false}}

/* The AACL check of a command about to run (cli_perms.c); false: refused, logged. */
bool cli_perm_allows(struct cli_session *s, const struct cli_cmd *cmd, const struct cli_parsed *p);

#endif

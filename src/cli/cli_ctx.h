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

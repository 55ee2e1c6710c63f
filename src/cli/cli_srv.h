/*
 * cli_srv - what the server/service contexts (cli_ctx_server.c) share
 * with the listener contexts (cli_ctx_listener.c): the services, the
 * session's view of values, and the allow/deny rules, whose handlers serve
 * both a service's access control and a listener. Internal to src/cli.
 *
 * A rule set is a kv list "rule:allow:<ipSet>" -> "priority l0 .. l5 [off]"
 * (the allow rule's six limits in rule_attrs order), "rule:deny:<ipSet>" ->
 * "priority [off]"; "off": the rule is disabled (kept, skipped when
 * matching). Inside a listener (or its allow rule) the rules are the
 * listener's (auth/lstacl.h), elsewhere the service's.
 */
#ifndef TERN_CLI_SRV_H
#define TERN_CLI_SRV_H

#include "cli_ctx.h"

struct svc {
	enum cli_ctx ctx, listener, access, rule;
	const char *name;
	const char *plain, *tls; /* listener settings; NULL: no listeners */
	const char *ipmap;	 /* access map of the rules (NULL: none); also the listeners' scope */
	const char *prefix;	 /* of the access-control settings (<P>Acc...) */
	bool relay;		 /* allow rules = SmtpRelayNetworks; the map holds the deny rules only */
	enum cli_ctx lrule;	 /* a listener's allow rule */
};

struct rule_set {
	struct cli_kvlist kv;
};

#define NLIMITS 6

const struct svc *cli_srv_svc_of(enum cli_ctx c);
int cli_srv_depth_of(struct cli_session *s, enum cli_ctx c);
const char *cli_srv_lookup(struct cli_session *s, const char *key, char *tmp, size_t sz);
struct cli_frame *cli_srv_enter(struct cli_session *s, enum cli_ctx c, const char *name);
bool cli_srv_ipset_norm(const char *in, char *out, size_t sz);
void cli_srv_rule_limits(const char *val, long lim[NLIMITS]);
bool cli_srv_rule_off(const char *val);
/* The rules as the current context sees them (stored, then pending). */
void cli_srv_collect_rules(struct cli_session *s, struct rule_set *rs);
const char *cli_srv_rule_prio(struct rule_set *rs, bool allow, const char *ipset);
/* The allow rules' limits (<P>AccRuleLimits format) of rs for the rules in
 * evaluation order; false when no rule has a limit. */
bool cli_srv_limits_list(struct rule_set *rs, const struct admin_cli_rule *rules, int n, struct buf *out);
/* rs as rules sorted in evaluation order (priority, deny before allow at
 * equal priority: the later row wins a tie in the access map); count. */
int cli_srv_rules_sorted(struct rule_set *rs, struct admin_cli_rule *rules);

/* the TLS parameters a listener's SSLCONTROL handed up */
/* -1 (reply sent) when the TLS edits and the stored values make no usable whole. */
int cli_srv_tls_edits(struct cli_session *s, const struct cli_frame *f, const char **out);
void cli_srv_tls_reload(struct cli_session *s);
int cli_srv_ntls_attrs(void);
/* removed listeners of a service whose COMMIT stores new lists (cli_ctx_listener.c) */
/* After a stored listener change: open and close the service's sockets to
 * match; +OK, or -ERR saying the change is stored but a socket could not
 * be opened, and why. */
void cli_listeners_apply(struct cli_session *s, const struct svc *v);
/* False when the CLI service's pending lists drop its last enabled listener. */
bool cli_listener_keeps_one(struct cli_session *s, const struct svc *v);
int cli_listener_drops(struct cli_session *s, const struct svc *v, char (*drops)[80], int max);

/* handlers of the rule commands (service access control and listeners) */
void cli_srv_h_list_allow(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_list_deny(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_add_allow(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_update_allow(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_remove_allow(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_show_allow(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_add_deny(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_remove_deny(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_show_deny(struct cli_session *s, const struct cli_parsed *p);
void cli_srv_h_done_rule(struct cli_session *s, const struct cli_parsed *p);

#endif

/*
 * cli - the hierarchical admin CLI (Axigen-compatible, TCP 7000).
 *
 * cli_session_run() serves one accepted connection to the end on its own
 * thread, with blocking bounded I/O (core/conn.c), like the controller:
 * banner, login context, then commands in a stack of contexts until
 * EXIT/QUIT, an idle timeout, an error limit or shutdown. Each reply (data
 * lines, one status line, the prompt) is built in the output buffer and
 * sent with one write.
 *
 * Layers, bottom up, all in this folder:
 *   cli_parse.c    bytes -> lines (telnet IAC removed; CRLF, LF, CR NUL and
 *                  bare CR end a line), line checks (NUL, control bytes,
 *                  UTF-8), shell-like tokens, matching a line against the
 *                  command table and parsing its arguments by the table's
 *                  argument spec; HELP syntax is generated from that spec.
 *   cli_table.c    the one context table: it registers each part (a
 *                  struct cli_part: the contexts a file defines and their
 *                  commands) and joins them into the command table that
 *                  the parser, HELP and tools read. A command row holds
 *                  its context mask, words, argument spec, flags (what it
 *                  does: reads, changes, destructive, disruptive, and the
 *                  context it enters or leaves), handler and help.
 *   cli_commands.c the core part (login, root, domain-create, domain,
 *                  account, contact info, quotas) and the shared helpers
 *                  of cli_ctx.h; cli_ctx_*.c hold the other parts, one
 *                  file per group of contexts.
 *   cli_errors.c   tern_err -> CLI "-ERR: " texts (the one mapping).
 *   cli_session.c  the connection, login, limits, logging, replies.
 *
 * The editing model: a context that edits an object holds a pending copy
 * (a frame with its edits). SET and value ADD/REMOVE change the pending
 * copy; DONE hands a sub-context's edits to its parent; COMMIT applies
 * everything through one admin verb (one durable transaction) and returns
 * to the parent; BACK, EXIT and a lost connection drop pending edits.
 */
#ifndef TERN_CLI_H
#define TERN_CLI_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../admin/admin.h"
#include "../core/buf.h"
#include "../core/conn.h"

#define CLI_MAX_LINE 4096
#define CLI_MAX_ARGS 64
#define CLI_MAX_SPEC 6
#define CLI_MAX_DEPTH 6
#define CLI_MAX_EDITS 256
#define CLI_MAX_VALUE 1024

/* ---- contexts ---- */

enum cli_ctx {
	CLI_CTX_LOGIN,
	CLI_CTX_ROOT,
	CLI_CTX_DOMAIN_CREATE,
	CLI_CTX_DOMAIN,
	CLI_CTX_ACCOUNT,
	CLI_CTX_CONTACT,
	CLI_CTX_QUOTAS,
	CLI_CTX_LIMITS,     /* domain-account-limits */
	CLI_CTX_DEF_QUOTAS, /* domain-accountDefaultQuotas */
	CLI_CTX_DEF_LIMITS, /* domain-accountDefaultLimits */
	CLI_CTX_GROUP,      /* domain-group */
	CLI_CTX_LIST,       /* domain-list */
	CLI_CTX_LIST_USER,  /* domain-list-user */
	CLI_CTX_SERVER,     /* server */
	CLI_CTX_SVC_CLI,    /* server-cli */
	CLI_CTX_SVC_SMTPIN, /* server-smtpIncoming */
	CLI_CTX_SVC_SMTPOUT, /* server-smtpOutgoing */
	CLI_CTX_SVC_POP3,   /* server-pop3 */
	CLI_CTX_LST_CLI,    /* server-cli-listener */
	CLI_CTX_LST_SMTPIN, /* server-smtpIncoming-listener */
	CLI_CTX_LST_POP3,   /* server-pop3-listener */
	CLI_CTX_ACC_CLI,    /* server-cli-access-control */
	CLI_CTX_ACC_SMTPIN, /* server-smtpIncoming-access-control */
	CLI_CTX_RULE_CLI,   /* server-cli-access-control-allowrule */
	CLI_CTX_RULE_SMTPIN, /* server-smtpIncoming-access-control-allowrule */
	CLI_CTX_DNR,        /* server-dnr */
	CLI_CTX_NAMESERVER, /* server-dnr-nameserver */
	CLI_CTX_AACL,       /* aacl */
	CLI_CTX_ADMIN_USER, /* aacl-adminUser */
	CLI_CTX_ADMIN_GROUP, /* aacl-adminGroup */
	CLI_CTX_SSLCONTROL, /* server-<service>-listener-sslcontrol (parent link: the CLI's listener) */
	CLI_CTX_QUEUE,      /* queue */
	CLI_CTX_ADMIN_LIMITS, /* domain-adminLimits */
	CLI_CTX_ACC_POP3,   /* server-pop3-access-control */
	CLI_CTX_RULE_POP3,  /* server-pop3-access-control-allowrule */
	CLI_CTX_LRULE_CLI,    /* server-cli-listener-allowrule */
	CLI_CTX_LRULE_SMTPIN, /* server-smtpIncoming-listener-allowrule */
	CLI_CTX_LRULE_POP3,   /* server-pop3-listener-allowrule */
	CLI_CTX__COUNT
};

/* A set of contexts (bit c for context c). */
typedef uint64_t cli_mask;
_Static_assert(CLI_CTX__COUNT <= 64, "context masks are 64-bit");
#define CLI_IN(c) ((cli_mask)1 << (c))
/* Every context (written so that 64 contexts need no shift by 64). */
#define CLI_ANY ((((cli_mask)1 << (CLI_CTX__COUNT - 1)) - 1) | ((cli_mask)1 << (CLI_CTX__COUNT - 1)))
#define CLI_AUTHED (CLI_ANY & ~CLI_IN(CLI_CTX_LOGIN))

enum cli_attr_kind {
	CLI_AT_STRING, /* shown quoted */
	CLI_AT_SECRET, /* never shown */
	CLI_AT_NUMBER, /* decimal, shown unquoted */
	CLI_AT_CHOICE, /* one of a '|' list, shown unquoted */
	CLI_AT_BOOL,   /* yes/no, stored 1/0 */
	CLI_AT_SET,    /* "(a b)" of words from the '|' choices, shown as is */
};

enum cli_attr_flags {
	CLI_AF_NOSHOW = 1 << 0, /* not printed by SHOW */
	CLI_AF_NOSET = 1 << 1,  /* read-only */
	CLI_AF_DOMAIN = 1 << 2, /* the value is a domain name */
	CLI_AF_ACCOUNT = 1 << 3, /* the value is an account name */
	CLI_AF_WHY = 1 << 4,     /* key NULL: SET takes only `fixed` (none if NULL) and a refusal gives
				  * the help text as the reason; listed by HELP even when NOSET */
	CLI_AF_EXPLAIN = 1 << 5, /* a number out of range is refused with the help text as the reason */
	CLI_AF_ESCAPED = 1 << 6  /* a string stored with \n \t \\ \" escapes: SHOW prints it quoted as it is */
};

/* An attribute of a context, for SET, SHOW and RESET.
 * key says where its value lives:
 *   NULL      not stored: the only accepted value is `fixed` (a statement
 *             of what Tern does, e.g. accountType basic);
 *   "@name"   the object's own name;
 *   "@..."    other pending-only fields (passwords, catch-all);
 *   otherwise an account variable of that name (visible in the
 *             controller's uservars too). */
struct cli_attr {
	const char *name;
	enum cli_attr_kind kind;
	const char *key;
	const char *choices; /* CLI_AT_CHOICE: "a|b|c" */
	long long min, max;  /* CLI_AT_NUMBER */
	const char *fixed;   /* value shown when nothing is stored */
	unsigned flags;
	const char *help;
};

struct cli_ctx_def {
	const char *element; /* prompt element, e.g. "account" */
	const char *title;   /* HELP: "The commands available for the <title> context are:" */
	const char *object;  /* SHOW: "The attributes of this <object>:" */
	const struct cli_attr *attrs;
	int nattrs;
	enum cli_ctx parent;
};

const struct cli_ctx_def *cli_ctx_def(enum cli_ctx c);
const struct cli_attr *cli_attr_find(enum cli_ctx c, const char *name);

/* ---- command table ---- */

enum cli_arg_kind {
	CLI_ARG_NONE = 0,
	CLI_ARG_POS,      /* [key] <meta>: required value, its keyword optional */
	CLI_ARG_OPT_POS,  /* [<meta>]: optional value */
	CLI_ARG_PAIR,     /* key <meta>: required pair, in any order */
	CLI_ARG_OPT_PAIR, /* [key <meta>]: optional pair */
	CLI_ARG_FLAG,     /* [key]: optional bare keyword */
	CLI_ARG_SET,      /* attr value [attr value]...: the context's attributes */
	CLI_ARG_REST,     /* <meta> ...: the rest of the line, one or more free tokens (from set_first) */
};

struct cli_arg {
	enum cli_arg_kind kind;
	const char *key; /* keyword; alternatives separated by '|', the first is shown */
	const char *meta;
	bool secret;     /* masked in the log */
};

enum cli_cmd_flags {
	CLI_READS = 1 << 0,
	CLI_CHANGES = 1 << 1,     /* changes stored state: logged */
	CLI_DESTRUCTIVE = 1 << 2, /* removes data */
	CLI_PENDING = 1 << 3,     /* edits the pending copy only */
	CLI_LATER = 1 << 4,       /* belongs to a part of Tern not built yet */
	CLI_NOHELP = 1 << 5,      /* accepted but not listed by HELP */
	CLI_DISRUPTIVE = 1 << 6,  /* interrupts service or drops work (RESET, STOP Service) */
	CLI_CREATES = 1 << 7,     /* the context it enters edits an object not stored yet */
	CLI_MULTILINE = 1 << 20,  /* text lines follow, up to the multilineEOF marker (spec 6.8) */
};

/* Where a successful command leaves the session, kept in the row's flags
 * next to the kind bits: CLI_ENTERS(ACCOUNT), CLI_LEAVES(COMMIT)... */
enum cli_go {
	CLI_GO_STAY,   /* the context does not change */
	CLI_GO_ENTER,  /* a new context (the row's target) is entered */
	CLI_GO_SWITCH, /* the current context is replaced by the target */
	CLI_GO_COMMIT, /* pending edits applied, back to the parent */
	CLI_GO_DONE,   /* edits handed to the parent, back to it */
	CLI_GO_BACK,   /* pending edits dropped, back to the parent */
	CLI_GO_QUIT,   /* the session ends */
};
#define CLI_GO_SHIFT 8
#define CLI_TO_SHIFT 12
#define CLI_LEAVES(g) ((unsigned)CLI_GO_##g << CLI_GO_SHIFT)
#define CLI_ENTERS(c) (CLI_LEAVES(ENTER) | ((unsigned)CLI_CTX_##c << CLI_TO_SHIFT))
#define CLI_SWITCHES(c) (CLI_LEAVES(SWITCH) | ((unsigned)CLI_CTX_##c << CLI_TO_SHIFT))

struct cli_tokens {
	int n;
	char *v[CLI_MAX_ARGS];
	bool lit[CLI_MAX_ARGS]; /* quoted or escaped: never a keyword */
};

struct cli_cmd;
struct cli_parsed {
	const struct cli_cmd *cmd;
	const struct cli_tokens *t;
	int first;                     /* index of the first argument token */
	const char *val[CLI_MAX_SPEC]; /* by spec position; NULL when absent */
	int set_first;                 /* CLI_ARG_SET/REST: first token of the rest */
	bool secret[CLI_MAX_ARGS];     /* tokens to mask in the log */
};

struct cli_session;
typedef void (*cli_handler)(struct cli_session *s, const struct cli_parsed *p);

struct cli_cmd {
	cli_mask ctx;      /* CLI_IN() mask of the contexts it is valid in */
	const char *words; /* "LIST Domains"; first word may have '/' alternatives */
	struct cli_arg args[CLI_MAX_SPEC];
	unsigned flags;
	cli_handler fn;
	const char *help;
};

const struct cli_cmd *cli_commands(int *n_r);

static inline enum cli_go cli_cmd_go(const struct cli_cmd *c)
{
	return (enum cli_go)((c->flags >> CLI_GO_SHIFT) & 0xf);
}

static inline enum cli_ctx cli_cmd_to(const struct cli_cmd *c)
{
	return (enum cli_ctx)((c->flags >> CLI_TO_SHIFT) & 0xff);
}

/* A context left with DONE (its edits belong to the object above it). */
bool cli_ctx_is_sub(enum cli_ctx c);

/* One part of the table: the contexts a file defines (by id) and the
 * commands it adds; cli_table.c lists every part. */
struct cli_ctx_reg {
	enum cli_ctx id;
	struct cli_ctx_def def;
};

struct cli_part {
	const struct cli_ctx_reg *ctxs;
	int nctxs;
	const struct cli_cmd *cmds;
	int ncmds;
};

/* An extension of a context another part defines: its attributes are
 * appended to the context's; load() fills a frame of it with the stored
 * values (into base): the part that owns the context calls
 * cli_ctx_ext_load() where it loads the frame's own values. At the context's COMMIT the extension's
 * pending edits are taken out of the frame, the context's own handler
 * runs, and only when it succeeded commit() stores them durably (object:
 * the frame's domain, else its name); a failure there answers -ERR (the
 * context's own changes stay applied). When the context's handler fails,
 * the edits go back into the frame. cli_table.c lists the extensions. */
struct cli_session;
struct cli_frame;
struct cli_kvlist;
struct cli_ctx_ext {
	enum cli_ctx id;
	const struct cli_attr *attrs;
	int nattrs;
	void (*load)(struct cli_session *s, struct cli_frame *f);
	bool (*commit)(struct cli_session *s, const char *object, const struct cli_kvlist *edits);
};

const struct cli_ctx_ext *cli_ctx_ext_of(enum cli_ctx c);
void cli_ctx_ext_load(struct cli_session *s, struct cli_frame *f);
/* Drop a key from a list (an edit taken care of). */
void cli_kv_drop(struct cli_kvlist *l, const char *k);

/* ---- parsing (pure functions; fuzzed) ---- */

struct cli_reader {
	struct buf line;
	size_t max;
	int tstate;   /* telnet decoder state */
	bool skip_lf; /* the last line ended at CR: drop one following LF or NUL */
	bool too_long;
	bool done;   /* line holds a returned line: cleared by the next feed */
	bool telnet; /* the peer sent telnet commands */
};

enum cli_read { CLI_READ_MORE, CLI_READ_LINE, CLI_READ_TOO_LONG };

void cli_reader_init(struct cli_reader *r, size_t max);
void cli_reader_free(struct cli_reader *r);
/* Consume bytes until a line is complete (its text in r->line) or the
 * input is used up; *used_r says how many bytes were consumed. */
enum cli_read cli_reader_feed(struct cli_reader *r, const unsigned char *p, size_t n, size_t *used_r);

enum cli_line_problem { CLI_LINE_OK, CLI_LINE_NUL, CLI_LINE_CONTROL, CLI_LINE_UTF8 };
enum cli_line_problem cli_line_check(const char *p, size_t n);

enum cli_tok_err { CLI_TOK_OK, CLI_TOK_QUOTE, CLI_TOK_ESCAPE, CLI_TOK_MANY };
/* Split line in place (quotes and escapes removed). */
enum cli_tok_err cli_tokenize(char *line, struct cli_tokens *t);

enum cli_match { CLI_MATCH_OK, CLI_MATCH_NONE, CLI_MATCH_ELSEWHERE };
/* The command of ctx whose words match the line's first tokens (the
 * longest). CLI_MATCH_ELSEWHERE: a longer match exists in other contexts. */
const struct cli_cmd *cli_match(enum cli_ctx ctx, const struct cli_tokens *t, int *nwords_r, enum cli_match *why_r);

enum cli_args_err { CLI_ARGS_OK, CLI_ARGS_MISSING, CLI_ARGS_EXTRA, CLI_ARGS_NOVALUE };
enum cli_args_err cli_args_parse(const struct cli_cmd *cmd, const struct cli_tokens *t, int first,
				 struct cli_parsed *p);

bool cli_word_is(const char *alternatives, const char *word);
/* The command's syntax for HELP, e.g. "UPDATE Domain [name] <domainName>". */
void cli_syntax(const struct cli_cmd *cmd, struct buf *out);

/* ---- the session ---- */

struct cli_server {
	struct admin_env *env;
	SSL_CTX *tls;
	int service_id;
	const char *version;
};

struct cli_kv {
	char *k;
	char *v; /* NULL: remove */
};

struct cli_kvlist {
	struct cli_kv *e;
	int n, cap;
};

struct cli_strlist {
	char **v;
	int n, cap;
};

struct cli_frame {
	enum cli_ctx ctx;
	char domain[256];
	char name[256];
	bool create;
	struct cli_kvlist edits; /* pending values by key */
	struct cli_kvlist base;  /* stored values when the object was opened */
	struct cli_strlist alias_add, alias_del;
};

/* Multi-line input in progress (cli_multiline.c). */
struct cli_ml {
	bool active;
	char bad[160]; /* the first problem found in the text; "" = none */
	size_t max, lines;
	struct buf text;
	char key[64];  /* pending-edit key the text goes to */
	char what[64]; /* attribute name, for the replies */
};

struct cli_session {
	struct conn c;
	struct cli_server *srv;
	struct admin_ctx ctx;
	struct cli_reader rd;
	struct cli_frame f[CLI_MAX_DEPTH];
	int depth; /* f[depth] is the current context; f[0] login or root */
	bool tls_active;
	bool awaiting_password;
	bool quit;
	char admin[128];
	char user[128]; /* name given to USER */
	int errors, auth_errors, auth_commands;
	int max_errors;
	char status[600]; /* "+OK: ..." / "-ERR: ..." of the current command */
	bool status_err;
	bool no_prompt;
	char log_detail[600]; /* what a change did, for the log */
	char **last_filter;   /* queue: ids matched by the last LIST FILTER */
	int nlast_filter;
	bool have_last_filter;
	char ml_eof[32]; /* SET multilineEOF; "" = "." */
	struct cli_ml ml;
};

void cli_session_run(struct cli_server *srv, int fd, bool implicit_tls, const char *laddr);

/* Multi-line input (spec 6.8): a handler starts it (its reply is the
 * "+OK: enter the text" line, no prompt); the session hands it every line
 * until the end marker, which stores the text as the pending edit key. */
void cli_multiline_begin(struct cli_session *s, const char *what, const char *key, size_t max);
void cli_multiline_feed(struct cli_session *s, enum cli_read kind, const char *line, size_t len);
void cli_multiline_free(struct cli_session *s);
const char *cli_multiline_eof(const struct cli_session *s);

/* Replies, for handlers: the status line of the command (the prompt is
 * added by the session); data lines go to s->c before it. */
void cli_ok(struct cli_session *s);
void cli_ok_text(struct cli_session *s, const char *text);
void cli_err(struct cli_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* -ERR for a core error about an object ("Account", "john"). */
void cli_err_core(struct cli_session *s, enum tern_err e, const char *type, const char *name);
const char *cli_err_text(enum tern_err e);

struct cli_frame *cli_cur(struct cli_session *s);
struct cli_frame *cli_push(struct cli_session *s, enum cli_ctx ctx);
void cli_pop(struct cli_session *s);
void cli_frame_clear(struct cli_frame *f);

/* Pending-edit lists. */
void cli_kv_set(struct cli_kvlist *l, const char *k, const char *v);
const struct cli_kv *cli_kv_find(const struct cli_kvlist *l, const char *k);
void cli_kv_free(struct cli_kvlist *l);
bool cli_str_has(const struct cli_strlist *l, const char *v);
void cli_str_add(struct cli_strlist *l, const char *v);
bool cli_str_remove(struct cli_strlist *l, const char *v);
void cli_str_free(struct cli_strlist *l);

#endif

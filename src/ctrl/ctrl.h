/*
 * ctrl - the XMail controller protocol front-end.
 *
 * ctrl_session_run() serves one accepted connection to the end: greeting,
 * optional #!TLS upgrade, login, then commands until quit, timeout, error
 * or shutdown. The command table (ctrl_commands.c) drives parsing: name,
 * argument counts, flags and help; handlers call one admin verb each and
 * format its result. Replies are buffered and flushed once per command.
 */
#ifndef TERN_CTRL_H
#define TERN_CTRL_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "../admin/admin.h"
#include "../core/conn.h"

#define CTRL_MAX_LINE 4092
#define CTRL_MAX_LOGIN_LINE 1024
#define CTRL_MAX_UPLOAD_LINE 65536
#define CTRL_MAX_UPLOAD (16u << 20)
#define CTRL_MAX_ARGS 64

struct ctrl_server {
	struct admin_env *env;
	SSL_CTX *tls;
	int service_id;
	const char *version;
};

struct ctrl_session {
	struct conn c;
	struct ctrl_server *srv;
	struct admin_ctx ctx;
	bool tls_active;
	bool header_sent;
	bool quit;
	char timestamp[160];
	char admin[128];
};

enum ctrl_flags {
	CTRL_READS = 1 << 0,
	CTRL_CHANGES = 1 << 1,
	CTRL_DESTRUCTIVE = 1 << 2,
	CTRL_UPLOAD = 1 << 3,
	CTRL_LATER = 1 << 4, /* belongs to a part of the server not built yet */
};

typedef void (*ctrl_handler)(struct ctrl_session *s, char **argv, int argc);

struct ctrl_cmd {
	const char *name;
	int min_args, max_args; /* including the command name; max -1 = unbounded */
	unsigned flags;
	unsigned secret_args;   /* bit i set: argv[i] is a secret, masked in logs */
	ctrl_handler fn;
	const char *usage;
	const char *help;
};

const struct ctrl_cmd *ctrl_commands(int *n_r);
const struct ctrl_cmd *ctrl_command_find(const char *name);

void ctrl_session_run(struct ctrl_server *srv, int fd, bool implicit_tls);

/* Reply helpers used by handlers. */
void ctrl_reply(struct ctrl_session *s, enum tern_err e);
void ctrl_reply_detail(struct ctrl_session *s, enum tern_err e, const char *detail);
int ctrl_row(void *session, const char *const *f, int n);
void ctrl_list_end(struct ctrl_session *s, enum tern_err e);
void ctrl_file_listing(struct ctrl_session *s, const char *data, size_t len);
/* Run the +00101 upload exchange. Returns TERN_OK with the data, an error
 * to answer, or TERN_E_INTERNAL when the connection is gone. */
enum tern_err ctrl_upload(struct ctrl_session *s, struct buf *data_r);

#endif

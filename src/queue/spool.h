/*
 * spool - durable storage of accepted messages until they are delivered.
 *
 * ROOT/spool/tmp/ holds messages being received; spool_commit() fsyncs the
 * file, renames it into ROOT/spool/queue/ and fsyncs that directory: only
 * then may the sender be told 250. A file left in tmp/ by a crash was never
 * acknowledged and is removed at start-up.
 *
 * A spool file is an envelope block then the message:
 *
 *   TERN-SPOOL 1
 *   I <id>            R <unix time>      P <peer address>
 *   H <helo name>     A <auth user or ->  F <sender or empty>
 *   L <hops>          (redirections so far)
 *   O mailbox         (optional: only the "mailbox" action, e.g. a copy
 *                      frozen because the mailbox was full)
 *   T <recipient>     (one line per recipient)
 *   .
 *   <message, LF line ends, not dot-stuffed>
 *
 * Messages that wait for outbound delivery (a later part of the server)
 * stay in ROOT/spool/remote/; messages that cannot be delivered locally and
 * need an admin are kept in ROOT/spool/held/ with a log beside them.
 * ROOT/spool/work/ holds delivery records and staged copies
 * (deliver/progress.h).
 */
#ifndef TERN_SPOOL_H
#define TERN_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../core/buf.h"

#define SPOOL_MAX_RCPTS 1000

struct envelope {
	char id[64];
	time_t received;
	char peer[64];
	char helo[256];
	char auth[320];
	char from[330];
	int hops; /* redirections so far */
	bool mailbox_only; /* "O mailbox": store in the mailboxes, no mailproc rules */
	char route[512];   /* "G host[:port][,opts];...": smart hosts for every recipient (mailproc smtprelay) */
	int nrcpt;
	char **rcpt;
};

struct spool_file {
	char id[64];
	int fd;
	uint64_t size; /* message bytes written */
	bool failed;
};

int spool_init(int rootfd);
void spool_new_id(char out[64]);
/* Create the temp file and write the envelope. */
int spool_create(int rootfd, struct spool_file *sf, const struct envelope *env);
/* The same at a root-relative path (delivery's staged copies); only
 * spool_write() and close() apply to it. */
int spool_create_path(int rootfd, const char *rel, struct spool_file *sf, const struct envelope *env);
int spool_write(struct spool_file *sf, const void *p, size_t n);
/* fsync + rename into queue/ + fsync dir. Blocking: run it on a worker. */
int spool_commit(int rootfd, struct spool_file *sf);
/* The same, into spool/<dir>/ instead of the queue. */
int spool_commit_to(int rootfd, struct spool_file *sf, const char *dir);
void spool_abort(int rootfd, struct spool_file *sf);
/* Read an envelope; *body_off_r is where the message starts. */
int spool_read_envelope(int fd, struct envelope *env, off_t *body_off_r);
void envelope_free(struct envelope *env);
void envelope_add_rcpt(struct envelope *env, const char *rcpt);
/* Ids in queue/ (at start-up), oldest first; caller frees with free(). */
int spool_list_queue(int rootfd, char ***ids_r);
/* Remove a delivered message, durably (see deliver/progress.h). */
int spool_done(int rootfd, const char *id);
/* Move a queue entry to another spool directory ("remote", "held"). */
int spool_move(int rootfd, const char *id, const char *to_dir);

#endif

/*
 * progress - the durable record of what delivery already did for one
 * spool entry, so that every delivery action runs once.
 *
 * Each action of a spooled message (a Maildir copy, a redirected copy, the
 * copy for outbound delivery, the frozen copy, an external command) has a
 * key: a hash of what the action is (recipient index, target, rule). An
 * action is done in three steps:
 *
 *   1. stage: its result is written and fsync'd where nobody reads it yet
 *      (the Maildir's tmp/, or spool/work/ID~KEY for spool copies), and
 *      the directories holding the staged files are fsync'd;
 *   2. mark: "KEY<TAB>SRC<TAB>DST" is appended to spool/work/ID.marks and
 *      fdatasync'd - the commit point;
 *   3. publish: SRC is renamed to DST (new/, spool/queue/, spool/remote/,
 *      spool/held/) and DST's directory fsync'd.
 *
 * A run after a crash first publishes every marked SRC that is still
 * there, then skips every marked key. An unmarked action was never
 * published, so doing it again cannot make a second copy; a marked one is
 * never done again. External commands have no staged result: they are
 * marked after they ran ("at least once, at most once after the mark").
 *
 * When every action is published, spool_done() removes the spool entry
 * (fsync of spool/queue) and then the marks file. Start-up removes marks
 * and staged files whose spool entry is gone.
 */
#ifndef TERN_PROGRESS_H
#define TERN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define PROGRESS_KEY_LEN 16

struct progress_mark {
	char key[PROGRESS_KEY_LEN + 1];
	char *src; /* root-relative path, or "-" */
	char *dst; /* root-relative path, or an outcome word */
};

struct progress {
	int rootfd;
	char id[64];
	unsigned long long ino; /* of the spool file: the record belongs to it */
	bool valid;             /* a record of this spool file exists */
	int n, npend;
	struct progress_mark *m;    /* durable */
	struct progress_mark *pend; /* staged, not yet marked */
};

/* The key of an action: 16 hex digits of a hash of its description. */
void progress_key(char out[PROGRESS_KEY_LEN + 1], const char *material);
/* Read spool/work/ID.marks (absent, or written for another spool file of
 * that id: no marks). A torn last line is ignored. */
void progress_load(struct progress *p, int rootfd, const char *id, unsigned long long ino);
/* The mark of key (durable or pending), or NULL. */
const struct progress_mark *progress_find(const struct progress *p, const char *key);
void progress_add(struct progress *p, const char *key, const char *src, const char *dst);
/* fsync spool/work (staged spool copies and the marks file's entry), then
 * append the pending marks and fdatasync. 0 or -1. */
int progress_commit(struct progress *p);
/* Forget pending marks, removing their staged files. */
void progress_abort(struct progress *p);
void progress_free(struct progress *p);
/* Root-relative path of a staged spool copy for key. */
void progress_stage_path(const char *id, const char *key, char *out, size_t sz);
/* After spool_done(): remove the marks file. */
void progress_remove(int rootfd, const char *id);
/* Start-up: remove marks and staged files of entries no longer queued. */
void progress_sweep(int rootfd);

#endif

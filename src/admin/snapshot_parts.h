/*
 * snapshot_parts - the parts of a SAVE CONFIG snapshot beyond the table
 * views (format 2): the CLI's, POP3's and SMTP's access maps, the admin
 * accounts, the AACL permission records, and a copy of every
 * configuration file (config_files.h) under files/. Used by
 * admin_cli_snapshot.c (writing) and admin_cli_restore.c (reading).
 *
 * Files of a format-2 snapshot besides the views, uservars.tab and
 * domainstate.tab:
 *   cli.ipmap.tab, pop3.ipmap.tab, smtp.ipmap.tab
 *                   "addr" "mask" "ALLOW|DENY[-OFF]" prec (as ctrl.ipmap.tab)
 *   listeners.ipmap.tab
 *                   "map" "addr" "mask" "ALLOW|DENY[-OFF]" prec: the rules of
 *                   single listeners (maps named <scope>.<host>.<port>)
 *   adminusers.tab  "name" "hash" "sealed" - the password hash and the copy
 *                   sealed with the data root's key (hex); SHOW prints
 *                   placeholders, the controller's file commands refuse it
 *   aacl.tab        "u|g" "principal" "permission" "domain" "grant|deny"
 *                   (domain "" = server-wide)
 *   files/REL       a copy of the configuration file ROOT/REL
 * MANIFEST gains "format<TAB>2"; a snapshot without it is format 1 and
 * restores as before (none of these parts is touched).
 */
#ifndef TERN_SNAPSHOT_PARTS_H
#define TERN_SNAPSHOT_PARTS_H

#include "admin.h"

#define SNAPSHOT_FORMAT 2
#define SNAPSHOT_FILES_DIR "files"

/* The access maps a snapshot holds besides ctrl.ipmap.tab. */
extern const char *const snapshot_extra_maps[]; /* "cli", "pop3", "smtp", NULL */

/* Write the format-2 parts into the snapshot directory tmp (relative to
 * rootfd). */
enum tern_err snapshot_write_parts(struct admin_ctx *ctx, int rootfd, const char *tmp);

/* Write b as dir/name under rootfd, atomically (temp, fsync, rename); -1 on error. */
int snapshot_put_file(int rootfd, const char *dir, const char *name, const struct buf *b);

/* adminusers.tab with the secret columns replaced by placeholders. */
void snapshot_mask_admins(struct buf *b);

/* Hex of a sealed box back to bytes; -1 on bad input. */
int snapshot_unhex(const char *hex, struct buf *out);

/* mkdir -p of the directories of base/rel (relative to rootfd), each new
 * one made durable in its parent. 0 or -1. */
int snapshot_mkdirs_for(int rootfd, const char *base, const char *rel);

/* ---- restoring the configuration files (admin_cli_restore_files.c) ---- */

struct snap_file {
	char *rel;
	struct buf data;
};

struct snap_files {
	struct snap_file *v;
	int n;
};

/* Every configuration file of the snapshot directory snapdir (relative to
 * rootfd, e.g. "snapshots/NAME"); none for a format-1 snapshot. */
enum tern_err snapshot_files_load(int rootfd, const char *snapdir, struct snap_files *out);
void snapshot_files_free(struct snap_files *sf);

/* Which domains and accounts a restore may touch files of: domain-scope
 * files of domains the snapshot holds, account files of accounts the
 * snapshot holds (by directory) that exist now. */
struct snap_scope {
	bool (*domain_ok)(void *arg, const char *domain);
	bool (*account_ok)(void *arg, const char *domain, const char *dir);
	void *arg;
};

/* Write the snapshot's files and remove the configuration files in scope
 * the snapshot lacks; counts into written/removed. */
enum tern_err snapshot_files_apply(int rootfd, const struct snap_files *sf, const struct snap_scope *sc,
				   int *written, int *removed);

#endif

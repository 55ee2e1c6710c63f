/*
 * config_files - what every file under the data root is: the one list
 * that says which files are configuration (and so go into SAVE CONFIG's
 * snapshots and come back with RESTORE ConfigSnapshot) and which are not.
 *
 * A pattern is a path relative to the root, compared component by
 * component with fnmatch() ('*' never crosses a '/'); a pattern whose last
 * component is two stars covers everything below its directory. The first
 * matching entry wins. To add a configuration file: add one line to the table in
 * config_files.c (class CFG_FILE for a plain file copied as it is;
 * CFG_STORE when the data lives in tern.db and is rendered as a table
 * of the snapshot). The integration test test_cli_snapshots_files.py walks
 * a configured root and fails on any file this list does not classify.
 */
#ifndef TERN_CONFIG_FILES_H
#define TERN_CONFIG_FILES_H

#include <stdbool.h>

enum cfg_class {
	CFG_UNKNOWN,
	CFG_FILE,    /* configuration kept as a file: copied into snapshots */
	CFG_STORE,   /* the directory store: its configuration is in the snapshot's tables */
	CFG_SECRET,  /* key material: never copied, never restored */
	CFG_MAIL,    /* mail and per-account state: not configuration */
	CFG_RUNTIME, /* queue, logs, trash, snapshots, pid: not configuration */
};

/* Scope of a CFG_FILE for restores: ROOT files are replaced as a set (one
 * the snapshot lacks is removed); DOMAIN files (domains/D/...) only for
 * the domains the snapshot holds (domains created since keep theirs). */
enum cfg_scope { CFG_SCOPE_ROOT, CFG_SCOPE_DOMAIN };

struct cfg_entry {
	const char *pattern;
	enum cfg_class cls;
	enum cfg_scope scope;
	const char *what;
};

/* The table, terminated by an entry with a NULL pattern. */
const struct cfg_entry *cfg_files_table(void);
const char *cfg_class_name(enum cfg_class c);
/* The entry for a relative path (NULL: unclassified). */
const struct cfg_entry *cfg_file_classify(const char *rel);

/* Every CFG_FILE under the root (regular files only, no symlinks
 * followed, temporaries skipped), in sorted order. fn returns non-zero to
 * stop. Returns 0, or -1 when a directory could not be read. */
int cfg_files_walk(int rootfd, int (*fn)(void *arg, const char *rel, const struct cfg_entry *e), void *arg);

/* Is rel a safe relative path that names a CFG_FILE (no "..", no empty
 * or dot components)? Used before anything from a snapshot is written. */
bool cfg_file_path_ok(const char *rel);

#endif

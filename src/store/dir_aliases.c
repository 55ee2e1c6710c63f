/*
 * dir_aliases - user aliases (exact and wildcard) and external aliases.
 */
#include <stdio.h>
#include <string.h>

#include "dir_internal.h"

bool dir_alias_exists(struct dir_conn *c, const char *domain, const char *alias)
{
	return dir_has_row(c, "SELECT 1 FROM aliases WHERE domain = ? AND alias = ?", "ss", domain, alias) == 1;
}

enum tern_err dir_alias_add(struct dir_conn *c, const char *domain, const char *alias, const char *target)
{
	return dir_exec(c, "INSERT INTO aliases(domain, alias, target) VALUES(?, ?, ?)", "sss", domain, alias,
			target);
}

enum tern_err dir_alias_del(struct dir_conn *c, const char *domain, const char *alias)
{
	return dir_exec(c, "DELETE FROM aliases WHERE domain = ? AND alias = ?", "ss", domain, alias);
}

enum tern_err dir_alias_list(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT domain, alias, target FROM aliases ORDER BY id", "");
}

enum tern_err dir_alias_delete_all(struct dir_conn *c)
{
	return dir_exec(c, "DELETE FROM aliases", "");
}

bool dir_alias_resolve(struct dir_conn *c, const char *domain, const char *name, char *target_r, size_t sz)
{
	sqlite3_stmt *st = dir_q(c, "SELECT target FROM aliases WHERE domain = ? AND alias = ?", "ss", domain, name);
	bool found = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		dir_copy_col(st, 0, target_r, sz);
		found = true;
	}
	sqlite3_reset(st);
	if (found)
		return true;
	/* Wildcard entries: the longest pattern text wins. */
	st = dir_q(c,
		   "SELECT target FROM aliases WHERE (instr(domain || alias, '*') > 0 OR"
		   " instr(domain || alias, '?') > 0) AND wildmat(domain, ?) AND wildmat(alias, ?)"
		   " ORDER BY length(domain) + length(alias) DESC, id LIMIT 1",
		   "ss", domain, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		dir_copy_col(st, 0, target_r, sz);
		found = true;
	}
	sqlite3_reset(st);
	return found;
}

bool dir_exalias_exists(struct dir_conn *c, const char *rdomain, const char *rname)
{
	return dir_has_row(c, "SELECT 1 FROM exaliases WHERE rdomain = ? AND rname = ?", "ss", rdomain, rname) == 1;
}

bool dir_exalias_resolve(struct dir_conn *c, const char *rdomain, const char *rname, char *local_r, size_t sz)
{
	sqlite3_stmt *st = dir_q(c, "SELECT lname, ldomain FROM exaliases WHERE rdomain = ? AND rname = ?", "ss", rdomain,
				 rname);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		snprintf(local_r, sz, "%s@%s", (const char *)sqlite3_column_text(st, 0),
			 (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return found;
}

enum tern_err dir_exalias_add(struct dir_conn *c, const char *rdomain, const char *rname, const char *ldomain,
			      const char *lname)
{
	return dir_exec(c, "INSERT INTO exaliases(rdomain, rname, ldomain, lname) VALUES(?, ?, ?, ?)", "ssss",
			rdomain, rname, ldomain, lname);
}

enum tern_err dir_exalias_del(struct dir_conn *c, const char *rdomain, const char *rname)
{
	return dir_exec(c, "DELETE FROM exaliases WHERE rdomain = ? AND rname = ?", "ss", rdomain, rname);
}

enum tern_err dir_exalias_list(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT rdomain, rname, ldomain, lname FROM exaliases ORDER BY id", "");
}

enum tern_err dir_exalias_delete_all(struct dir_conn *c)
{
	return dir_exec(c, "DELETE FROM exaliases", "");
}

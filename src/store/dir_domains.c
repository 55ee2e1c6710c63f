/*
 * dir_domains - handled domains and alias domains.
 */
#include <stdio.h>
#include <string.h>

#include "../core/wildmat.h"
#include "dir_internal.h"

bool dir_domain_exists(struct dir_conn *c, const char *name)
{
	return dir_has_row(c, "SELECT 1 FROM domains WHERE name = ?", "s", name) == 1;
}

bool dir_domain_resolve(struct dir_conn *c, const char *name, char *real_r, size_t sz)
{
	if (dir_domain_exists(c, name)) {
		sqlite3_stmt *st = dir_q(c, "SELECT name FROM domains WHERE name = ?", "s", name);
		bool ok = sqlite3_step(st) == SQLITE_ROW;
		if (ok)
			dir_copy_col(st, 0, real_r, sz);
		sqlite3_reset(st);
		return ok;
	}
	sqlite3_stmt *st = dir_q(c, "SELECT real FROM aliasdomains WHERE alias = ?", "s", name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		dir_copy_col(st, 0, real_r, sz);
		sqlite3_reset(st);
		return dir_domain_exists(c, real_r);
	}
	sqlite3_reset(st);
	st = dir_q(c,
		   "SELECT real FROM aliasdomains WHERE (instr(alias, '*') > 0 OR instr(alias, '?') > 0"
		   " OR instr(alias, '[') > 0) AND wildmat(alias, ?) ORDER BY id LIMIT 1",
		   "s", name);
	bool found = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		dir_copy_col(st, 0, real_r, sz);
		found = true;
	}
	sqlite3_reset(st);
	return found && dir_domain_exists(c, real_r);
}

enum tern_err dir_domain_add(struct dir_conn *c, const char *name)
{
	return dir_exec(c, "INSERT INTO domains(name) VALUES(lower(?))", "s", name);
}

enum tern_err dir_domain_del(struct dir_conn *c, const char *name)
{
	static const char *const steps[] = {
		"DELETE FROM mlusers WHERE list_id IN (SELECT id FROM users WHERE domain = ?1)",
		"DELETE FROM users WHERE domain = ?1",
		"DELETE FROM aliases WHERE domain = ?1",
		"DELETE FROM exaliases WHERE ldomain = ?1",
		"DELETE FROM poplinks WHERE ldomain = ?1",
		"DELETE FROM aliasdomains WHERE real = ?1",
		"DELETE FROM domains WHERE name = ?1",
	};
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		enum tern_err e = dir_exec(c, steps[i], "s", name);
		if (e)
			return e;
	}
	return TERN_OK;
}

bool dir_domain_enabled(struct dir_conn *c, const char *name)
{
	return dir_has_row(c, "SELECT 1 FROM domains WHERE name = ? AND enabled = 0", "s", name) != 1;
}

enum tern_err dir_domain_set_enabled(struct dir_conn *c, const char *name, bool on)
{
	return dir_exec(c, "UPDATE domains SET enabled = ? WHERE name = ?", "is", (int64_t)(on ? 1 : 0), name);
}

enum tern_err dir_domain_list_state(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT name, enabled FROM domains ORDER BY id", "");
}

enum tern_err dir_domain_list(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT name FROM domains ORDER BY id", "");
}

enum tern_err dir_domain_delete_all(struct dir_conn *c)
{
	return dir_exec(c, "DELETE FROM domains", "");
}

bool dir_aliasdomain_exists(struct dir_conn *c, const char *alias)
{
	return dir_has_row(c, "SELECT 1 FROM aliasdomains WHERE alias = ?", "s", alias) == 1;
}

enum tern_err dir_aliasdomain_add(struct dir_conn *c, const char *alias, const char *real)
{
	return dir_exec(c, "INSERT INTO aliasdomains(alias, real) VALUES(lower(?), lower(?))", "ss", alias,
			real);
}

enum tern_err dir_aliasdomain_del(struct dir_conn *c, const char *alias)
{
	return dir_exec(c, "DELETE FROM aliasdomains WHERE alias = ?", "s", alias);
}

enum tern_err dir_aliasdomain_list(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT alias, real FROM aliasdomains ORDER BY id", "");
}

enum tern_err dir_aliasdomain_delete_all(struct dir_conn *c)
{
	return dir_exec(c, "DELETE FROM aliasdomains", "");
}

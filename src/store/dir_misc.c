/*
 * dir_misc - POP3 links, access maps, settings and admin accounts.
 */
#include <stdio.h>
#include <string.h>

#include "dir_internal.h"

bool dir_poplink_exists(struct dir_conn *c, const char *ld, const char *lu, const char *rh, const char *ru)
{
	return dir_has_row(c,
			   "SELECT 1 FROM poplinks WHERE ldomain = ? AND luser = ? AND rhost = ? AND ruser = ?",
			   "ssss", ld, lu, rh, ru) == 1;
}

enum tern_err dir_poplink_add(struct dir_conn *c, const char *ld, const char *lu, const char *rh, const char *ru,
			      const void *pwbox, size_t pwlen, const char *auth, bool enabled)
{
	return dir_exec(c,
			"INSERT INTO poplinks(ldomain, luser, rhost, ruser, pwbox, auth, enabled)"
			" VALUES(?, ?, ?, ?, ?, ?, ?)",
			"ssssbsi", ld, lu, rh, ru, pwbox, pwlen, auth, (int64_t)enabled);
}

enum tern_err dir_poplink_del(struct dir_conn *c, const char *ld, const char *lu, const char *rh, const char *ru)
{
	return dir_exec(c, "DELETE FROM poplinks WHERE ldomain = ? AND luser = ? AND rhost = ? AND ruser = ?",
			"ssss", ld, lu, rh, ru);
}

enum tern_err dir_poplink_enable(struct dir_conn *c, bool on, const char *ld, const char *lu, const char *rh,
				 const char *ru, int *n_r)
{
	enum tern_err e = dir_exec(c,
				   "UPDATE poplinks SET enabled = ?1 WHERE ldomain = ?2 AND luser = ?3"
				   " AND (?4 IS NULL OR rhost = ?4) AND (?5 IS NULL OR ruser = ?5)",
				   "issss", (int64_t)on, ld, lu, rh, ru);
	*n_r = e ? 0 : sqlite3_changes(c->db);
	return e;
}

enum tern_err dir_poplink_list(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT ldomain, luser, rhost, ruser, auth, enabled FROM poplinks ORDER BY id",
			"");
}

bool dir_poplink_get_enabled(struct dir_conn *c, const char *ld, const char *lu, const char *rh, const char *ru,
			     bool *on_r)
{
	sqlite3_stmt *st = dir_q(c,
				 "SELECT enabled FROM poplinks WHERE ldomain = ? AND luser = ? AND rhost = ?"
				 " AND ruser = ?",
				 "ssss", ld, lu, rh, ru);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		*on_r = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return found;
}

bool dir_poplink_get_box(struct dir_conn *c, const char *ld, const char *lu, const char *rh, const char *ru,
			 void *box, size_t *len_io)
{
	sqlite3_stmt *st = dir_q(c,
				 "SELECT pwbox FROM poplinks WHERE ldomain = ? AND luser = ? AND rhost = ?"
				 " AND ruser = ?",
				 "ssss", ld, lu, rh, ru);
	bool ok = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (n <= *len_io) {
			if (n)
				memcpy(box, sqlite3_column_blob(st, 0), n);
			*len_io = n;
			ok = true;
		}
	}
	sqlite3_reset(st);
	return ok;
}

enum tern_err dir_poplink_delete_all(struct dir_conn *c)
{
	return dir_exec(c, "DELETE FROM poplinks", "");
}

enum tern_err dir_ipmap_list(struct dir_conn *c, const char *map, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT addr, mask, action, prec FROM ipmaps WHERE map = ? ORDER BY id", "s",
			map);
}

/* The listeners' maps are named "<scope>.<host>.<port>" (the service maps
 * have no dot). */
enum tern_err dir_ipmap_list_listeners(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg,
			"SELECT map, addr, mask, action, prec FROM ipmaps WHERE instr(map, '.') > 0 ORDER BY map, id", "");
}

enum tern_err dir_ipmap_delete_listeners(struct dir_conn *c)
{
	return dir_exec(c, "DELETE FROM ipmaps WHERE instr(map, '.') > 0", "");
}

enum tern_err dir_ipmap_replace_begin(struct dir_conn *c, const char *map)
{
	return dir_exec(c, "DELETE FROM ipmaps WHERE map = ?", "s", map);
}

enum tern_err dir_ipmap_append(struct dir_conn *c, const char *map, const char *addr, const char *mask,
			       const char *action, int prec)
{
	return dir_exec(c, "INSERT INTO ipmaps(map, addr, mask, action, prec) VALUES(?, ?, ?, ?, ?)", "ssssi", map,
			addr, mask, action, (int64_t)prec);
}

bool dir_setting_get(struct dir_conn *c, const char *name, char *val_r, size_t sz)
{
	sqlite3_stmt *st = dir_q(c, "SELECT value FROM settings WHERE name = ?", "s", name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		dir_copy_col(st, 0, val_r, sz);
	sqlite3_reset(st);
	return found;
}

enum tern_err dir_setting_set(struct dir_conn *c, const char *name, const char *value)
{
	return dir_exec(c, "INSERT INTO settings(name, value) VALUES(?1, ?2)"
			   " ON CONFLICT(name) DO UPDATE SET value = ?2",
			"ss", name, value);
}

enum tern_err dir_setting_del(struct dir_conn *c, const char *name)
{
	return dir_exec(c, "DELETE FROM settings WHERE name = ?", "s", name);
}

enum tern_err dir_setting_list(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT name, value FROM settings ORDER BY name", "");
}

enum tern_err dir_setting_delete_all(struct dir_conn *c)
{
	return dir_exec(c, "DELETE FROM settings", "");
}

bool dir_admin_get(struct dir_conn *c, const char *name, struct dir_admin *a_r)
{
	sqlite3_stmt *st = dir_q(c, "SELECT id, name, pwhash, box FROM admins WHERE name = ?", "s", name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		a_r->id = sqlite3_column_int64(st, 0);
		dir_copy_col(st, 1, a_r->name, sizeof a_r->name);
		dir_copy_col(st, 2, a_r->pwhash, sizeof a_r->pwhash);
		size_t n = (size_t)sqlite3_column_bytes(st, 3);
		if (n > sizeof a_r->box)
			n = 0;
		if (n)
			memcpy(a_r->box, sqlite3_column_blob(st, 3), n);
		a_r->box_len = n;
	}
	sqlite3_reset(st);
	return found;
}

int64_t dir_admin_count(struct dir_conn *c)
{
	sqlite3_stmt *st = dir_q(c, "SELECT count(*) FROM admins", "");
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return n;
}

enum tern_err dir_admin_put(struct dir_conn *c, const char *name, const char *hash, const void *box, size_t len)
{
	return dir_exec(c, "INSERT INTO admins(name, pwhash, box) VALUES(?1, ?2, ?3)"
			   " ON CONFLICT(name) DO UPDATE SET pwhash = ?2, box = ?3",
			"ssb", name, hash, box, len);
}

/* rows: name (admin accounts, by name) */
enum tern_err dir_admin_list(struct dir_conn *c, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT name FROM admins ORDER BY name", "");
}

enum tern_err dir_admin_del(struct dir_conn *c, const char *name)
{
	return dir_exec(c, "DELETE FROM admins WHERE name = ?", "s", name);
}

bool dir_admin_first(struct dir_conn *c, char *name_r, size_t sz)
{
	sqlite3_stmt *st = dir_q(c, "SELECT name FROM admins ORDER BY id LIMIT 1", "");
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		dir_copy_col(st, 0, name_r, sz);
	sqlite3_reset(st);
	return found;
}

enum tern_err dir_perm_set(struct dir_conn *c, char kind, const char *principal, const char *perm,
			   const char *domain, bool deny)
{
	char k[2] = {kind, 0};
	return dir_exec(c, "INSERT INTO aacl_perms(kind, principal, perm, domain, deny) VALUES(?1, ?2, ?3, ?4, ?5)"
			   " ON CONFLICT(kind, principal, perm, domain) DO UPDATE SET deny = ?5",
			"ssssi", k, principal, perm, domain, (int64_t)deny);
}

enum tern_err dir_perm_del(struct dir_conn *c, char kind, const char *principal, const char *perm,
			   const char *domain)
{
	char k[2] = {kind, 0};
	return dir_exec(c, "DELETE FROM aacl_perms WHERE kind = ? AND principal = ? AND perm = ? AND domain = ?",
			"ssss", k, principal, perm, domain);
}

enum tern_err dir_perm_del_all(struct dir_conn *c, char kind, const char *principal)
{
	char k[2] = {kind, 0};
	return dir_exec(c, "DELETE FROM aacl_perms WHERE kind = ? AND principal = ?", "ss", k, principal);
}

enum tern_err dir_perm_list(struct dir_conn *c, char kind, const char *principal, dir_row_fn fn, void *arg)
{
	char k[2] = {kind, 0};
	return dir_rows(c, fn, arg,
			"SELECT perm, domain, deny FROM aacl_perms WHERE kind = ? AND principal = ?"
			" ORDER BY domain, perm",
			"ss", k, principal);
}

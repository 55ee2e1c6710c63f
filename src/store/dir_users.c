/*
 * dir_users - accounts, their variables and mailing-list members.
 */
#include <stdio.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/wildmat.h"
#include "../core/xmalloc.h"
#include "dir_internal.h"

static void fill_user(sqlite3_stmt *st, struct dir_user *u)
{
	u->id = sqlite3_column_int64(st, 0);
	dir_copy_col(st, 1, u->domain, sizeof u->domain);
	dir_copy_col(st, 2, u->name, sizeof u->name);
	dir_copy_col(st, 3, u->dir, sizeof u->dir);
	const char *t = (const char *)sqlite3_column_text(st, 4);
	u->type = t && t[0] == 'M' ? 'M' : 'U';
	dir_copy_col(st, 5, u->pwhash, sizeof u->pwhash);
	u->has_pending = sqlite3_column_type(st, 6) != SQLITE_NULL;
	u->last_login_time = sqlite3_column_int64(st, 7);
	dir_copy_col(st, 8, u->last_login_ip, sizeof u->last_login_ip);
}

bool dir_user_get(struct dir_conn *c, const char *domain, const char *name, struct dir_user *u_r)
{
	sqlite3_stmt *st = dir_q(c,
				 "SELECT id, domain, name, dir, type, pwhash, pending IS NOT NULL,"
				 " last_login_time, last_login_ip FROM users WHERE domain = ? AND name = ?",
				 "ss", domain, name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found && u_r) {
		fill_user(st, u_r);
		u_r->has_pending = sqlite3_column_int(st, 6) != 0;
	}
	sqlite3_reset(st);
	return found;
}

bool dir_user_pending(struct dir_conn *c, int64_t id, void *box, size_t *len_io)
{
	sqlite3_stmt *st = dir_q(c, "SELECT pending FROM users WHERE id = ? AND pending IS NOT NULL", "i", id);
	bool ok = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (n <= *len_io) {
			memcpy(box, sqlite3_column_blob(st, 0), n);
			*len_io = n;
			ok = true;
		}
	}
	sqlite3_reset(st);
	return ok;
}

enum tern_err dir_user_add(struct dir_conn *c, const char *domain, const char *name, char type,
			   const void *pending, size_t pending_len, const char *vars, int64_t id_or_0,
			   int64_t *id_r)
{
	char t[2] = {type == 'M' ? 'M' : 'U', 0};
	enum tern_err e;
	if (id_or_0 > 0)
		e = dir_exec(c,
			     "INSERT INTO users(id, domain, name, dir, type, pending, vars) VALUES(?, ?, ?, ?, ?, ?, ?)",
			     "issssbs", id_or_0, domain, name, name, t, pending, pending_len, vars ? vars : "");
	else
		e = dir_exec(c, "INSERT INTO users(domain, name, dir, type, pending, vars) VALUES(?, ?, ?, ?, ?, ?)",
			     "ssssbs", domain, name, name, t, pending, pending_len, vars ? vars : "");
	if (e == TERN_OK && id_r)
		*id_r = sqlite3_last_insert_rowid(c->db);
	return e;
}

bool dir_user_names(struct dir_conn *c, int64_t id, char *dom, size_t dsz, char *name, size_t nsz)
{
	sqlite3_stmt *st = dir_q(c, "SELECT domain, name FROM users WHERE id = ?", "i", id);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		dir_copy_col(st, 0, dom, dsz);
		dir_copy_col(st, 1, name, nsz);
	}
	sqlite3_reset(st);
	return found;
}

enum tern_err dir_user_del(struct dir_conn *c, int64_t id)
{
	char dom[256], name[256], full[520];
	if (!dir_user_names(c, id, dom, sizeof dom, name, sizeof name))
		return TERN_E_USER_NOT_FOUND;
	snprintf(full, sizeof full, "%s@%s", name, dom);
	enum tern_err e;
	if ((e = dir_exec(c, "DELETE FROM mlusers WHERE list_id = ?", "i", id)) ||
	    (e = dir_exec(c, "DELETE FROM poplinks WHERE ldomain = ? AND luser = ?", "ss", dom, name)) ||
	    (e = dir_exec(c, "DELETE FROM exaliases WHERE ldomain = ? AND lname = ?", "ss", dom, name)) ||
	    (e = dir_exec(c, "DELETE FROM aliases WHERE (domain = ? AND target = ?) OR target = ?", "sss", dom,
			  name, full)) ||
	    (e = dir_exec(c, "DELETE FROM users WHERE id = ?", "i", id)))
		return e;
	return TERN_OK;
}

enum tern_err dir_user_set_pending(struct dir_conn *c, int64_t id, const void *box, size_t len)
{
	return dir_exec(c, "UPDATE users SET pending = ?, pwhash = NULL, secret = NULL WHERE id = ?", "bi", box, len,
			id);
}

enum tern_err dir_user_set_hash_if(struct dir_conn *c, int64_t id, const char *hash, const void *box, size_t len)
{
	return dir_exec(c,
			"UPDATE users SET pwhash = ?1,"
			" secret = CASE WHEN instr(char(10) || vars, char(10) || 'EnableChallengeAuth' || char(9) || '1'"
			" || char(10)) > 0 THEN pending ELSE NULL END, pending = NULL WHERE id = ?2 AND pending = ?3",
			"sib", hash, id, box, len);
}

bool dir_user_secret(struct dir_conn *c, int64_t id, void *box, size_t *len_io)
{
	sqlite3_stmt *st = dir_q(c, "SELECT coalesce(pending, secret) FROM users WHERE id = ?"
				    " AND (secret IS NOT NULL OR (pending IS NOT NULL AND instr(char(10) || vars,"
				    " char(10) || 'EnableChallengeAuth' || char(9) || '1' || char(10)) > 0))",
				 "i", id);
	bool ok = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (n <= *len_io) {
			memcpy(box, sqlite3_column_blob(st, 0), n);
			*len_io = n;
			ok = true;
		}
	}
	sqlite3_reset(st);
	return ok;
}

enum tern_err dir_user_clear_secret(struct dir_conn *c, int64_t id)
{
	return dir_exec(c, "UPDATE users SET secret = NULL WHERE id = ?", "i", id);
}

int dir_user_pending_batch(struct dir_conn *c, int max, int64_t *ids, void **boxes, size_t *lens)
{
	sqlite3_stmt *st = dir_q(c, "SELECT id, pending FROM users WHERE pending IS NOT NULL ORDER BY id LIMIT ?",
				 "i", (int64_t)max);
	int n = 0;
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(st, 0);
		lens[n] = (size_t)sqlite3_column_bytes(st, 1);
		boxes[n] = xmalloc(lens[n] + 1);
		memcpy(boxes[n], sqlite3_column_blob(st, 1), lens[n]);
		n++;
	}
	sqlite3_reset(st);
	return n;
}

enum tern_err dir_user_list(struct dir_conn *c, const char *dpat, const char *upat, int64_t offset, int64_t limit,
			    dir_row_fn fn, void *arg)
{
	const char *sql;
	const char *dexact = NULL, *dwild = NULL, *uexact = NULL, *uwild = NULL;
	if (dpat) {
		if (wildmat_has_wild(dpat))
			dwild = dpat;
		else
			dexact = dpat;
	}
	if (upat) {
		if (wildmat_has_wild(upat))
			uwild = upat;
		else
			uexact = upat;
	}
	if (dexact && uexact)
		return dir_rows(c, fn, arg,
				"SELECT domain, name, type, id, dir FROM users WHERE domain = ?1 AND name = ?2"
				" LIMIT ?3 OFFSET ?4",
				"ssii", dexact, uexact, limit < 0 ? (int64_t)-1 : limit, offset < 0 ? (int64_t)0 : offset);
	sql = "SELECT domain, name, type, id, dir FROM users WHERE"
	      " (?1 IS NULL OR domain = ?1) AND (?2 IS NULL OR wildmat(?2, domain))"
	      " AND (?3 IS NULL OR name = ?3) AND (?4 IS NULL OR wildmat(?4, name))"
	      " ORDER BY id LIMIT ?5 OFFSET ?6";
	return dir_rows(c, fn, arg, sql, "ssssii", dexact, dwild, uexact, uwild, limit < 0 ? (int64_t)-1 : limit,
			offset < 0 ? (int64_t)0 : offset);
}

enum tern_err dir_user_count(struct dir_conn *c, const char *dpat, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg,
			"SELECT d.name, (SELECT count(*) FROM users u WHERE u.domain = d.name) FROM domains d"
			" WHERE ?1 IS NULL OR wildmat(?1, d.name) ORDER BY d.id",
			"s", dpat);
}

int64_t dir_user_count_kind(struct dir_conn *c, const char *domain, char type, const char *var, const char *value,
			    bool match)
{
	/* vars is "name<TAB>value<LF>"..., every line ending in LF */
	sqlite3_stmt *st = dir_q(c,
				 "SELECT count(*) FROM users WHERE domain = ?1 AND type = ?2 AND (?3 IS NULL OR"
				 " (instr(char(10) || vars, char(10) || ?3 || char(9) || ?4 || char(10)) > 0) = ?5)",
				 "ssssi", domain, (char[]){type, 0}, var, value ? value : "", (int64_t)(match ? 1 : 0));
	int64_t n = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

enum tern_err dir_user_delete_all(struct dir_conn *c)
{
	enum tern_err e;
	if ((e = dir_exec(c, "DELETE FROM mlusers", "")))
		return e;
	return dir_exec(c, "DELETE FROM users", "");
}

static bool vars_get(struct dir_conn *c, int64_t uid, struct buf *out)
{
	sqlite3_stmt *st = dir_q(c, "SELECT vars FROM users WHERE id = ?", "i", uid);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		buf_puts(out, t ? t : "");
	}
	sqlite3_reset(st);
	return found;
}

enum tern_err dir_uservar_list(struct dir_conn *c, int64_t uid, dir_row_fn fn, void *arg)
{
	struct buf v = BUF_INIT;
	if (!vars_get(c, uid, &v))
		return TERN_OK;
	char *save = NULL;
	for (char *line = strtok_r(v.data ? v.data : (char[]){0}, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		const char *f[2] = {line, tab + 1};
		if (fn(arg, f, 2))
			break;
	}
	buf_free(&v);
	return TERN_OK;
}

/* Rewrite the serialised variables with name removed and, when value is
 * not NULL, set (in place, or appended when new). */
static enum tern_err vars_edit(struct dir_conn *c, int64_t uid, const char *name, const char *value)
{
	struct buf v = BUF_INIT, out = BUF_INIT;
	if (!vars_get(c, uid, &v))
		return TERN_E_RECORD_NOT_FOUND;
	size_t nl = strlen(name);
	bool done = false;
	char *p = v.data ? v.data : (char[]){0};
	while (*p) {
		char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		bool same = len > nl && p[nl] == '\t' && !strncmp(p, name, nl);
		if (!same) {
			buf_append(&out, p, len);
			buf_putc(&out, '\n');
		} else if (value && !done) {
			buf_printf(&out, "%s\t%s\n", name, value);
			done = true;
		}
		p += len + (end ? 1 : 0);
	}
	if (value && !done)
		buf_printf(&out, "%s\t%s\n", name, value);
	enum tern_err e = dir_exec(c, "UPDATE users SET vars = ? WHERE id = ?", "si", out.data ? out.data : "", uid);
	buf_free(&v);
	buf_free(&out);
	return e;
}

enum tern_err dir_uservar_set(struct dir_conn *c, int64_t uid, const char *name, const char *value)
{
	return vars_edit(c, uid, name, value);
}

enum tern_err dir_uservar_del(struct dir_conn *c, int64_t uid, const char *name)
{
	return vars_edit(c, uid, name, NULL);
}

bool dir_mluser_exists(struct dir_conn *c, int64_t list_id, const char *addr)
{
	return dir_has_row(c, "SELECT 1 FROM mlusers WHERE list_id = ? AND address = ?", "is", list_id, addr) == 1;
}

enum tern_err dir_mluser_add(struct dir_conn *c, int64_t list_id, const char *addr, const char *perms)
{
	return dir_exec(c, "INSERT INTO mlusers(list_id, address, perms) VALUES(?, ?, ?)", "iss", list_id, addr,
			perms);
}

enum tern_err dir_mluser_del(struct dir_conn *c, int64_t list_id, const char *addr)
{
	return dir_exec(c, "DELETE FROM mlusers WHERE list_id = ? AND address = ?", "is", list_id, addr);
}

enum tern_err dir_mluser_list(struct dir_conn *c, int64_t list_id, dir_row_fn fn, void *arg)
{
	return dir_rows(c, fn, arg, "SELECT address, perms FROM mlusers WHERE list_id = ? ORDER BY id", "i",
			list_id);
}

enum tern_err dir_user_set_type(struct dir_conn *c, int64_t id, char type)
{
	return dir_exec(c, "UPDATE users SET type = ? WHERE id = ?", "si", type == 'M' ? "M" : "U", id);
}

bool dir_user_id_taken(struct dir_conn *c, int64_t id)
{
	return dir_has_row(c, "SELECT 1 FROM users WHERE id = ?", "i", id) != 0;
}

enum tern_err dir_user_set_login(struct dir_conn *c, int64_t id, int64_t when, const char *ip)
{
	return dir_exec(c, "UPDATE users SET last_login_time = ?, last_login_ip = ? WHERE id = ?", "isi", when, ip, id);
}

/*
 * dir_rename - renames in the directory: every row that names the object
 * follows it, inside the caller's write transaction (so a rename is all
 * or nothing in the store).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dir_internal.h"

/* SQL: x with its domain part "@?1" replaced by "@?2" (case-insensitive
 * match), other values unchanged. */
#define SWAP_DOMAIN(x)                                                                            \
	"CASE WHEN lower(substr(" x ", -length(?1) - 1)) = '@' || lower(?1) THEN substr(" x ", 1," \
	" length(" x ") - length(?1)) || ?2 ELSE " x " END"

/* The subscriber names lists keep as variables "MemberName.<addr>". */
static enum tern_err member_var_rename(struct dir_conn *c, const char *old_addr, const char *new_addr)
{
	char from[700], to[700];
	snprintf(from, sizeof from, "\nMemberName.%s\t", old_addr);
	snprintf(to, sizeof to, "\nMemberName.%s\t", new_addr);
	return dir_exec(c,
			"UPDATE users SET vars = substr(replace(char(10) || vars, ?1, ?2), 2)"
			" WHERE type = 'M' AND instr(char(10) || vars, ?1) > 0",
			"ss", from, to);
}

/* How long a rename is followed for mail received before it. */
#define FOLLOW_KEEP (7 * 86400)

static enum tern_err record(struct dir_conn *c, const char *kind, const char *old, const char *new_name)
{
	int64_t now = (int64_t)time(NULL);
	enum tern_err e = dir_exec(c, "DELETE FROM renames WHERE at < ?", "i", now - FOLLOW_KEEP);
	if (!e)
		e = dir_exec(c, "INSERT INTO renames(kind, old, new, at) VALUES(?, ?, lower(?), ?)", "sssi", kind, old,
			     new_name, now);
	return e;
}

bool dir_rename_follow(struct dir_conn *c, const char *addr, int64_t received, char *out, size_t sz)
{
	char cur[600];
	snprintf(cur, sizeof cur, "%s", addr);
	bool moved = false;
	/* A grace of an hour: RCPT was checked before the rename, the end of
	 * DATA (the received time) may come after it. */
	int64_t since = received - 3600;
	for (int hop = 0; hop < 8; hop++) {
		char next[600] = "";
		sqlite3_stmt *st = dir_q(c, "SELECT new FROM renames WHERE kind = 'a' AND old = ? AND at >= ?"
					    " ORDER BY id DESC LIMIT 1", "si", cur, since);
		if (sqlite3_step(st) == SQLITE_ROW)
			dir_copy_col(st, 0, next, sizeof next);
		sqlite3_reset(st);
		const char *at = strrchr(cur, '@');
		if (!next[0] && at) {
			char dom[300] = "";
			st = dir_q(c, "SELECT new FROM renames WHERE kind = 'd' AND old = ? AND at >= ?"
				      " ORDER BY id DESC LIMIT 1", "si", at + 1, since);
			if (sqlite3_step(st) == SQLITE_ROW)
				dir_copy_col(st, 0, dom, sizeof dom);
			sqlite3_reset(st);
			if (dom[0])
				snprintf(next, sizeof next, "%.*s@%s", (int)(at - cur), cur, dom);
		}
		if (!next[0] || !strcasecmp(next, cur))
			break;
		snprintf(cur, sizeof cur, "%s", next);
		moved = true;
	}
	if (moved)
		snprintf(out, sz, "%s", cur);
	return moved;
}

enum tern_err dir_user_rename(struct dir_conn *c, int64_t id, const char *new_name, const char *new_dir)
{
	char dom[256], old[256], ofull[520], nfull[520];
	if (!dir_user_names(c, id, dom, sizeof dom, old, sizeof old))
		return TERN_E_RECORD_NOT_FOUND;
	snprintf(ofull, sizeof ofull, "%s@%s", old, dom);
	snprintf(nfull, sizeof nfull, "%s@%s", new_name, dom);
	enum tern_err e;
	if ((e = dir_exec(c, "UPDATE users SET name = lower(?), dir = ? WHERE id = ?", "ssi", new_name, new_dir, id)) ||
	    /* aliases of its domain ("name") and of any domain ("name@dom") */
	    (e = dir_exec(c, "UPDATE aliases SET target = lower(?1) WHERE domain = ?2 AND target = ?3", "sss",
			  new_name, dom, old)) ||
	    (e = dir_exec(c, "UPDATE aliases SET target = lower(?1) WHERE target = ?2", "ss", nfull, ofull)) ||
	    (e = dir_exec(c, "UPDATE exaliases SET lname = lower(?1) WHERE ldomain = ?2 AND lname = ?3", "sss",
			  new_name, dom, old)) ||
	    (e = dir_exec(c, "UPDATE poplinks SET luser = lower(?1) WHERE ldomain = ?2 AND luser = ?3", "sss",
			  new_name, dom, old)) ||
	    (e = record(c, "a", ofull, nfull)))
		return e;
	return dir_mluser_rename(c, 0, ofull, nfull);
}

enum tern_err dir_mluser_rename(struct dir_conn *c, int64_t list_id, const char *old_addr, const char *new_addr)
{
	enum tern_err e;
	char nl[520];
	snprintf(nl, sizeof nl, "%s", new_addr);
	for (char *p = nl; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (list_id > 0) {
		if (dir_mluser_exists(c, list_id, nl))
			return TERN_E_MLUSER_EXISTS;
		if (!dir_mluser_exists(c, list_id, old_addr))
			return TERN_E_MLUSER_NOT_FOUND;
		if ((e = dir_exec(c, "UPDATE mlusers SET address = ?1 WHERE list_id = ?2 AND address = ?3", "sis", nl,
				  list_id, old_addr)))
			return e;
		char from[700], to[700];
		snprintf(from, sizeof from, "\nMemberName.%s\t", old_addr);
		snprintf(to, sizeof to, "\nMemberName.%s\t", nl);
		return dir_exec(c, "UPDATE users SET vars = substr(replace(char(10) || vars, ?1, ?2), 2) WHERE id = ?3",
				"ssi", from, to, list_id);
	}
	/* Every list: a list that has both addresses keeps one. */
	if ((e = dir_exec(c,
			  "DELETE FROM mlusers WHERE address = ?1 AND list_id IN"
			  " (SELECT list_id FROM mlusers WHERE address = ?2)",
			  "ss", old_addr, nl)) ||
	    (e = dir_exec(c, "UPDATE mlusers SET address = ?1 WHERE address = ?2", "ss", nl, old_addr)))
		return e;
	return member_var_rename(c, old_addr, nl);
}

enum tern_err dir_domain_rename(struct dir_conn *c, const char *old, const char *new_name)
{
	static const char *const steps[] = {
		"UPDATE domains SET name = lower(?2) WHERE name = ?1",
		"UPDATE users SET domain = lower(?2) WHERE domain = ?1",
		"UPDATE aliases SET domain = lower(?2) WHERE domain = ?1",
		"UPDATE aliases SET target = " SWAP_DOMAIN("target") " WHERE instr(target, '@') > 0",
		"UPDATE exaliases SET ldomain = lower(?2) WHERE ldomain = ?1",
		"UPDATE poplinks SET ldomain = lower(?2) WHERE ldomain = ?1",
		"UPDATE aliasdomains SET real = lower(?2) WHERE real = ?1",
		"DELETE FROM mlusers WHERE " SWAP_DOMAIN("address") " <> address AND EXISTS (SELECT 1 FROM mlusers m2"
		" WHERE m2.list_id = mlusers.list_id AND m2.address = " SWAP_DOMAIN("mlusers.address") ")",
		"UPDATE mlusers SET address = " SWAP_DOMAIN("address"),
		"UPDATE aacl_perms SET domain = lower(?2) WHERE domain = ?1",
		/* server settings that name a domain of ours */
		"UPDATE settings SET value = lower(?2) WHERE name IN ('RootDomain', 'POP3Domain')"
		" AND lower(value) = lower(?1)",
	};
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		enum tern_err e = dir_exec(c, steps[i], "ss", old, new_name);
		if (e)
			return e;
	}
	return record(c, "d", old, new_name);
}

enum tern_err dir_admin_rename(struct dir_conn *c, const char *old, const char *new_name)
{
	return dir_exec(c, "UPDATE admins SET name = ?2 WHERE name = ?1", "ss", old, new_name);
}

enum tern_err dir_perm_rename(struct dir_conn *c, char kind, const char *old, const char *new_name)
{
	char k[2] = {kind, 0};
	return dir_exec(c, "UPDATE aacl_perms SET principal = ?3 WHERE kind = ?1 AND principal = ?2", "sss", k, old,
			new_name);
}

enum tern_err dir_setting_rename(struct dir_conn *c, const char *old, const char *new_name)
{
	enum tern_err e = dir_exec(c, "DELETE FROM settings WHERE name = ?", "s", new_name);
	if (!e)
		e = dir_exec(c, "UPDATE settings SET name = ?2 WHERE name = ?1", "ss", old, new_name);
	return e;
}

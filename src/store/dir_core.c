/*
 * dir_core - opening the SQLite directory, the schema, the statement cache
 * and the group-committing writer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../core/wildmat.h"
#include "../core/xmalloc.h"
#include "dir_internal.h"

struct write_req {
	dir_write_fn fn;
	void *arg;
	enum tern_err rc;
	bool done;
	struct write_req *next;
};

struct dir {
	char *path;
	struct dir_conn *wconn;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct write_req *head, *tail;
	bool busy;
	uint64_t commits, writes;
	int64_t last_write_ms; /* monotonic, of writes other than idle_except */
	dir_write_fn idle_except;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS domains(id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE COLLATE NOCASE);"
	"CREATE TABLE IF NOT EXISTS aliasdomains(id INTEGER PRIMARY KEY,"
	" alias TEXT NOT NULL UNIQUE COLLATE NOCASE, real TEXT NOT NULL COLLATE NOCASE);"
	"CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY,"
	" domain TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE,"
	" dir TEXT NOT NULL, type TEXT NOT NULL, pwhash TEXT, pending BLOB,"
	" last_login_time INTEGER NOT NULL DEFAULT 0, last_login_ip TEXT NOT NULL DEFAULT '',"
	" vars TEXT NOT NULL DEFAULT '', secret BLOB,"
	" UNIQUE(domain, name));"
	"CREATE INDEX IF NOT EXISTS users_pending ON users(id) WHERE pending IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS aliases(id INTEGER PRIMARY KEY,"
	" domain TEXT NOT NULL COLLATE NOCASE, alias TEXT NOT NULL COLLATE NOCASE,"
	" target TEXT NOT NULL COLLATE NOCASE, UNIQUE(domain, alias));"
	"CREATE INDEX IF NOT EXISTS aliases_target ON aliases(target);"
	"CREATE TABLE IF NOT EXISTS exaliases(id INTEGER PRIMARY KEY,"
	" rdomain TEXT NOT NULL COLLATE NOCASE, rname TEXT NOT NULL COLLATE NOCASE,"
	" ldomain TEXT NOT NULL COLLATE NOCASE, lname TEXT NOT NULL COLLATE NOCASE,"
	" UNIQUE(rdomain, rname));"
	"CREATE INDEX IF NOT EXISTS exaliases_local ON exaliases(ldomain, lname);"
	"CREATE TABLE IF NOT EXISTS mlusers(id INTEGER PRIMARY KEY, list_id INTEGER NOT NULL,"
	" address TEXT NOT NULL COLLATE NOCASE, perms TEXT NOT NULL, UNIQUE(list_id, address));"
	"CREATE TABLE IF NOT EXISTS poplinks(id INTEGER PRIMARY KEY,"
	" ldomain TEXT NOT NULL COLLATE NOCASE, luser TEXT NOT NULL COLLATE NOCASE,"
	" rhost TEXT NOT NULL COLLATE NOCASE, ruser TEXT NOT NULL COLLATE NOCASE,"
	" pwbox BLOB, auth TEXT NOT NULL, enabled INTEGER NOT NULL,"
	" UNIQUE(ldomain, luser, rhost, ruser));"
	"CREATE TABLE IF NOT EXISTS ipmaps(id INTEGER PRIMARY KEY, map TEXT NOT NULL,"
	" addr TEXT NOT NULL, mask TEXT NOT NULL, action TEXT NOT NULL, prec INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS admins(id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE COLLATE NOCASE, pwhash TEXT NOT NULL, box BLOB);"
	/* Admin permissions (added later: IF NOT EXISTS upgrades older roots). */
	"CREATE TABLE IF NOT EXISTS aacl_perms(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
	" principal TEXT NOT NULL COLLATE NOCASE, perm TEXT NOT NULL, domain TEXT NOT NULL COLLATE NOCASE,"
	" deny INTEGER NOT NULL, UNIQUE(kind, principal, perm, domain));"
	/* Renames, so that mail accepted before one reaches the new name
	 * (kind 'a': old/new "user@domain", 'd': domains). */
	"CREATE TABLE IF NOT EXISTS renames(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
	" old TEXT NOT NULL COLLATE NOCASE, new TEXT NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS renames_old ON renames(old);"
	"INSERT OR IGNORE INTO meta(k, v) VALUES('schema', '1');";

/* Upgrades of data roots made by earlier versions, in order; each is run
 * when its test finds nothing (so a new root gets them too). */
static const struct {
	const char *test, *change;
} migrations[] = {
	{"SELECT 1 FROM pragma_table_info('domains') WHERE name = 'enabled'",
	 "ALTER TABLE domains ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1"},
};

static int migrate(sqlite3 *db)
{
	for (size_t i = 0; i < sizeof migrations / sizeof *migrations; i++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, migrations[i].test, -1, &st, NULL) != SQLITE_OK)
			return -1;
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			continue;
		if (rc != SQLITE_DONE)
			return -1;
		char *err = NULL;
		if (sqlite3_exec(db, migrations[i].change, NULL, NULL, &err) != SQLITE_OK) {
			log_err("directory upgrade (%s): %s", migrations[i].change, err ? err : "?");
			sqlite3_free(err);
			return -1;
		}
		log_info("directory upgraded: %s", migrations[i].change);
	}
	return 0;
}

static void sql_wildmat(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *p = (const char *)sqlite3_value_text(argv[0]);
	const char *v = (const char *)sqlite3_value_text(argv[1]);
	sqlite3_result_int(ctx, p && v && wildmat(p, v));
}

static struct dir_conn *conn_new(const char *path, bool create)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		log_err("cannot open directory %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 30000);
	/* The writer gets a larger page cache; readers (one per session
	 * thread) stay small, so memory does not grow with sessions. */
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
			 "PRAGMA secure_delete=ON;",
		     NULL, NULL, NULL);
	sqlite3_exec(db, create ? "PRAGMA cache_size=-16000;" : "PRAGMA cache_size=-2000;", NULL, NULL, NULL);
	sqlite3_create_function(db, "wildmat", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_wildmat,
				NULL, NULL);
	struct dir_conn *c = xcalloc(1, sizeof *c);
	c->db = db;
	return c;
}

enum tern_err dir_open(const char *path, struct dir **dir_r)
{
	struct dir_conn *w = conn_new(path, true);
	if (!w)
		return TERN_E_INTERNAL;
	char *err = NULL;
	if (sqlite3_exec(w->db, schema, NULL, NULL, &err) != SQLITE_OK) {
		log_err("directory schema: %s", err ? err : "?");
		sqlite3_free(err);
		dir_conn_close(w);
		return TERN_E_INTERNAL;
	}
	if (migrate(w->db) < 0) {
		dir_conn_close(w);
		return TERN_E_INTERNAL;
	}
	struct dir *d = xcalloc(1, sizeof *d);
	d->path = xstrdup(path);
	d->wconn = w;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	*dir_r = d;
	return TERN_OK;
}

void dir_close(struct dir *d)
{
	if (!d)
		return;
	dir_conn_close(d->wconn);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d->path);
	free(d);
}

struct dir_conn *dir_conn_open(struct dir *d)
{
	return conn_new(d->path, false);
}

void dir_conn_close(struct dir_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->ncache; i++)
		sqlite3_finalize(c->cache[i].st);
	sqlite3_close(c->db);
	free(c);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t dir_idle_ms(struct dir *d, dir_write_fn except)
{
	pthread_mutex_lock(&d->mu);
	d->idle_except = except;
	int64_t idle = now_ms() - d->last_write_ms;
	pthread_mutex_unlock(&d->mu);
	return idle;
}

static void run_batch(struct dir *d, struct write_req *batch)
{
	sqlite3 *db = d->wconn->db;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("directory: cannot begin: %s", sqlite3_errmsg(db));
		for (struct write_req *r = batch; r; r = r->next)
			r->rc = TERN_E_INTERNAL;
		return;
	}
	uint64_t n = 0;
	bool foreground = false;
	for (struct write_req *r = batch; r; r = r->next) {
		if (r->fn != d->idle_except)
			foreground = true;
		sqlite3_exec(db, "SAVEPOINT w", NULL, NULL, NULL);
		r->rc = r->fn(d->wconn, r->arg);
		if (r->rc != TERN_OK)
			sqlite3_exec(db, "ROLLBACK TO w", NULL, NULL, NULL);
		sqlite3_exec(db, "RELEASE w", NULL, NULL, NULL);
		n++;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("directory: commit failed: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		for (struct write_req *r = batch; r; r = r->next)
			r->rc = TERN_E_INTERNAL;
		return;
	}
	d->commits++;
	d->writes += n;
	if (foreground)
		d->last_write_ms = now_ms();
}

enum tern_err dir_write(struct dir *d, dir_write_fn fn, void *arg)
{
	struct write_req req = {.fn = fn, .arg = arg};
	pthread_mutex_lock(&d->mu);
	if (d->tail)
		d->tail->next = &req;
	else
		d->head = &req;
	d->tail = &req;
	while (!req.done) {
		if (d->busy) {
			pthread_cond_wait(&d->cv, &d->mu);
			continue;
		}
		d->busy = true;
		struct write_req *batch = d->head;
		d->head = d->tail = NULL;
		pthread_mutex_unlock(&d->mu);
		run_batch(d, batch);
		pthread_mutex_lock(&d->mu);
		for (struct write_req *r = batch, *next; r; r = next) {
			next = r->next;
			r->done = true;
		}
		d->busy = false;
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	return req.rc;
}

void dir_write_stats(struct dir *d, uint64_t *commits_r, uint64_t *writes_r)
{
	pthread_mutex_lock(&d->mu);
	*commits_r = d->commits;
	*writes_r = d->writes;
	pthread_mutex_unlock(&d->mu);
}

static sqlite3_stmt *prepare_cached(struct dir_conn *c, const char *sql)
{
	for (int i = 0; i < c->ncache; i++)
		if (c->cache[i].sql == sql) {
			sqlite3_reset(c->cache[i].st);
			sqlite3_clear_bindings(c->cache[i].st);
			return c->cache[i].st;
		}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		fatal("directory: bad statement (%s): %s", sqlite3_errmsg(c->db), sql);
	if (c->ncache < DIR_STMT_CACHE) {
		c->cache[c->ncache].sql = sql;
		c->cache[c->ncache].st = st;
		c->ncache++;
	} else {
		fatal("directory: statement cache full");
	}
	return st;
}

static void bind_v(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int i = 1;
	for (const char *f = fmt; f && *f; f++, i++) {
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (s)
				sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i);
			break;
		}
		case 'i':
			sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			if (p)
				sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i);
			break;
		}
		default:
			fatal("dir_q: bad format %c", *f);
		}
	}
}

sqlite3_stmt *dir_q(struct dir_conn *c, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = prepare_cached(c, sql);
	va_list ap;
	va_start(ap, fmt);
	bind_v(st, fmt, ap);
	va_end(ap);
	return st;
}

enum tern_err dir_sqlite_err(struct dir_conn *c, int rc)
{
	log_err("directory: sqlite error %d: %s", rc, sqlite3_errmsg(c->db));
	return TERN_E_INTERNAL;
}

enum tern_err dir_exec(struct dir_conn *c, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = prepare_cached(c, sql);
	va_list ap;
	va_start(ap, fmt);
	bind_v(st, fmt, ap);
	va_end(ap);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return dir_sqlite_err(c, rc);
	return TERN_OK;
}

int dir_has_row(struct dir_conn *c, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = prepare_cached(c, sql);
	va_list ap;
	va_start(ap, fmt);
	bind_v(st, fmt, ap);
	va_end(ap);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	dir_sqlite_err(c, rc);
	return -1;
}

enum tern_err dir_rows(struct dir_conn *c, dir_row_fn fn, void *arg, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = prepare_cached(c, sql);
	va_list ap;
	va_start(ap, fmt);
	bind_v(st, fmt, ap);
	va_end(ap);
	int rc;
	const char *f[16];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);
		if (n > 16)
			n = 16;
		for (int i = 0; i < n; i++) {
			const char *t = (const char *)sqlite3_column_text(st, i);
			f[i] = t ? t : "";
		}
		if (fn(arg, f, n)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return dir_sqlite_err(c, rc);
	return TERN_OK;
}

void dir_copy_col(sqlite3_stmt *st, int col, char *out, size_t sz)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	snprintf(out, sz, "%s", t ? t : "");
}

/*
 * dir_internal - what the directory's implementation files share: the
 * connection with its statement cache and the small query helpers.
 *
 * dir_q() returns a cached prepared statement, reset and with the given
 * parameters bound. Parameter formats: 's' const char * (NULL binds NULL),
 * 'i' int64_t, 'b' const void * followed by size_t. dir_exec() runs a
 * statement to completion; dir_rows() streams its rows to a dir_row_fn as
 * text fields.
 */
#ifndef TERN_DIR_INTERNAL_H
#define TERN_DIR_INTERNAL_H

#include <sqlite3.h>
#include <stdarg.h>

#include "directory.h"

#define DIR_STMT_CACHE 128

struct dir_conn {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[DIR_STMT_CACHE];
	int ncache;
};

sqlite3_stmt *dir_q(struct dir_conn *c, const char *sql, const char *fmt, ...);
enum tern_err dir_exec(struct dir_conn *c, const char *sql, const char *fmt, ...);
enum tern_err dir_rows(struct dir_conn *c, dir_row_fn fn, void *arg, const char *sql, const char *fmt, ...);
/* 1 if the query returns a row, 0 if not, -1 on error. */
int dir_has_row(struct dir_conn *c, const char *sql, const char *fmt, ...);
void dir_copy_col(sqlite3_stmt *st, int col, char *out, size_t sz);
enum tern_err dir_sqlite_err(struct dir_conn *c, int rc);
/* The domain and name of account id; false when there is none. */
bool dir_user_names(struct dir_conn *c, int64_t id, char *dom, size_t dsz, char *name, size_t nsz);

#endif

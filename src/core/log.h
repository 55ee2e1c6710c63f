/*
 * log - the daemon's log: one line per event, to stderr and to a log file.
 *
 * log_open() adds ROOT/logs/ternd.log as a second destination. All functions
 * are thread-safe. fatal() logs and aborts: it is for broken invariants only;
 * problems of the environment are logged with log_err() and handled.
 */
#ifndef TERN_LOG_H
#define TERN_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };

void log_set_level(enum log_level lvl);
int log_open(const char *path);
void log_close(void);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)

#endif

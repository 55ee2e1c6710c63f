/*
 * qlog - the per-entry attempt log, spool/remote/<id>.log (what frozgetlog
 * and the queue views show).
 */
#ifndef TERN_QLOG_H
#define TERN_QLOG_H

/* Append "YYYY-MM-DD HH:MM:SS line" (UTC); failures are logged, not fatal. */
void qlog_attempt(int rootfd, const char *id, const char *line);

/* Several lines (LF-separated) in one write, each with the time stamp. */
void qlog_lines(int rootfd, const char *id, const char *lines);

#endif

/*
 * fsutil - durable file-system operations.
 *
 * Every function that changes something makes it durable before it returns:
 * data is fsync'd, renames are followed by an fsync of the directories
 * involved. Functions return 0 on success and -1 with errno set on failure.
 * The *at() forms work relative to an open directory descriptor.
 */
#ifndef TERN_FSUTIL_H
#define TERN_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

int fs_fsync_dir_at(int dirfd, const char *path);
int fs_fsync_parent(const char *path);
/* Write data to path atomically (temp file, fsync, rename, fsync dir). */
int fs_write_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode);
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
int fs_read_all_at(int dirfd, const char *path, size_t max, struct buf *out);
int fs_read_all(const char *path, size_t max, struct buf *out);
/* mkdir -p; existing directories are fine. Does not fsync. */
int fs_mkdir_p(const char *path, mode_t mode);
/* Remove a tree (no symlinks are followed). */
int fs_rm_rf(const char *path);
int fs_rm_rf_at(int dirfd, const char *path);
/* rename() then fsync both parent directories. */
int fs_move(const char *from, const char *to);
/* Unlink and fsync the parent directory; a missing file is success. */
int fs_unlink_durable_at(int dirfd, const char *path);

/* Coalesced directory fsyncs: callers that each need "my rename in this
 * directory is durable" share one fsync when they arrive together. A
 * caller returns once an fsync that started after its call has finished. */
struct dirsync;
struct dirsync *dirsync_new(int dirfd_owned);
int dirsync_wait(struct dirsync *ds);
void dirsync_free(struct dirsync *ds);

#endif

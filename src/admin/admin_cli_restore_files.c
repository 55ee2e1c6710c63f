/*
 * admin_cli_restore_files - the configuration files of a snapshot
 * (files/REL) brought back into the data root; see snapshot_parts.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "config_files.h"
#include "snapshot_parts.h"

#define MAX_CFG_FILE (16u << 20)

struct load {
	int fd;
	struct snap_files *out;
	bool failed;
};

static int load_one(void *arg, const char *rel, const struct cfg_entry *e)
{
	(void)e;
	struct load *l = arg;
	if (!cfg_file_path_ok(rel))
		return 0;
	struct buf b = BUF_INIT;
	if (fs_read_all_at(l->fd, rel, MAX_CFG_FILE, &b) < 0) {
		log_err("restore: cannot read %s from the snapshot: %s", rel, strerror(errno));
		buf_free(&b);
		l->failed = true;
		return 1;
	}
	l->out->v = xrealloc(l->out->v, (size_t)(l->out->n + 1) * sizeof *l->out->v);
	l->out->v[l->out->n].rel = xstrdup(rel);
	l->out->v[l->out->n].data = b;
	l->out->n++;
	return 0;
}

enum tern_err snapshot_files_load(int rootfd, const char *snapdir, struct snap_files *out)
{
	memset(out, 0, sizeof *out);
	char rel[400];
	snprintf(rel, sizeof rel, "%s/%s", snapdir, SNAPSHOT_FILES_DIR);
	int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? TERN_OK : TERN_E_NO_FILE;
	struct load l = {.fd = fd, .out = out};
	int rc = cfg_files_walk(fd, load_one, &l);
	close(fd);
	if (rc < 0 || l.failed) {
		snapshot_files_free(out);
		return TERN_E_NO_FILE;
	}
	return TERN_OK;
}

void snapshot_files_free(struct snap_files *sf)
{
	for (int i = 0; i < sf->n; i++) {
		free(sf->v[i].rel);
		buf_free(&sf->v[i].data);
	}
	free(sf->v);
	memset(sf, 0, sizeof *sf);
}

/* May the restore touch rel (write it, or remove it when absent from the
 * snapshot)? */
static bool in_scope(const char *rel, const struct snap_scope *sc)
{
	const struct cfg_entry *e = cfg_file_classify(rel);
	if (!e || e->cls != CFG_FILE)
		return false;
	if (e->scope == CFG_SCOPE_ROOT)
		return true;
	/* domains/D/FILE or domains/D/DIR/FILE */
	char buf[700], *c[5];
	int n = 0;
	snprintf(buf, sizeof buf, "%s", rel);
	char *save = NULL;
	for (char *t = strtok_r(buf, "/", &save); t && n < 5; t = strtok_r(NULL, "/", &save))
		c[n++] = t;
	if (n < 3 || strcmp(c[0], "domains"))
		return false;
	if (n == 3)
		return sc->domain_ok(sc->arg, c[1]);
	return n == 4 && sc->domain_ok(sc->arg, c[1]) && sc->account_ok(sc->arg, c[1], c[2]);
}

static const struct buf *find(const struct snap_files *sf, const char *rel)
{
	for (int i = 0; i < sf->n; i++)
		if (!strcmp(sf->v[i].rel, rel))
			return &sf->v[i].data;
	return NULL;
}

struct rm_pass {
	int rootfd;
	const struct snap_files *sf;
	const struct snap_scope *sc;
	char **gone;
	int n;
};

static int collect_gone(void *arg, const char *rel, const struct cfg_entry *e)
{
	(void)e;
	struct rm_pass *rp = arg;
	if (!find(rp->sf, rel) && in_scope(rel, rp->sc)) {
		rp->gone = xrealloc(rp->gone, (size_t)(rp->n + 1) * sizeof *rp->gone);
		rp->gone[rp->n++] = xstrdup(rel);
	}
	return 0;
}

enum tern_err snapshot_files_apply(int rootfd, const struct snap_files *sf, const struct snap_scope *sc,
				   int *written, int *removed)
{
	enum tern_err e = TERN_OK;
	struct rm_pass rp = {.rootfd = rootfd, .sf = sf, .sc = sc};
	/* what to remove is decided before anything is written */
	if (cfg_files_walk(rootfd, collect_gone, &rp) < 0)
		e = TERN_E_CREATE_FILE;
	for (int i = 0; !e && i < sf->n; i++) {
		const char *rel = sf->v[i].rel;
		if (!cfg_file_path_ok(rel) || !in_scope(rel, sc))
			continue;
		const struct buf *b = &sf->v[i].data;
		if (snapshot_mkdirs_for(rootfd, ".", rel) < 0 ||
		    fs_write_atomic_at(rootfd, rel, b->data ? b->data : "", b->len, 0600) < 0) {
			log_err("restore: cannot write %s: %s", rel, strerror(errno));
			e = TERN_E_CREATE_FILE;
			break;
		}
		(*written)++;
	}
	for (int i = 0; i < rp.n; i++) {
		if (!e) {
			if (fs_unlink_durable_at(rootfd, rp.gone[i]) < 0) {
				log_err("restore: cannot remove %s: %s", rp.gone[i], strerror(errno));
				e = TERN_E_CREATE_FILE;
			} else {
				(*removed)++;
			}
		}
		free(rp.gone[i]);
	}
	free(rp.gone);
	return e;
}

/*
 * config_files - the classification of the data root (see config_files.h).
 */
#include "config_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/xmalloc.h"

/* Order matters: the first match wins. One line per kind of file. */
static const struct cfg_entry table[] = {
	/* configuration kept as files */
	{"userdef.tab", CFG_FILE, CFG_SCOPE_ROOT, "server-wide defaults of new accounts"},
	{"smtpfwd.tab", CFG_FILE, CFG_SCOPE_ROOT, "outbound routing: forward a domain to hosts"},
	{"smtpgw.tab", CFG_FILE, CFG_SCOPE_ROOT, "outbound routing: gateways per domain"},
	{"custdomains/*.tab", CFG_FILE, CFG_SCOPE_ROOT, "custom domain processing"},
	{"userauth/smtp/*.tab", CFG_FILE, CFG_SCOPE_ROOT, "outbound SMTP authentication per host"},
	{"domains/*/userdef.tab", CFG_FILE, CFG_SCOPE_DOMAIN, "a domain's defaults of new accounts"},
	{"domains/*/services.tab", CFG_FILE, CFG_SCOPE_DOMAIN, "a domain's enabled services"},
	{"domains/*/adminlimits.tab", CFG_FILE, CFG_SCOPE_DOMAIN, "a domain's admin limits"},
	{"domains/*/mailproc.tab", CFG_FILE, CFG_SCOPE_DOMAIN, "a domain's mail processing"},
	{"domains/*/*/mailproc.tab", CFG_FILE, CFG_SCOPE_DOMAIN, "an account's mail processing"},
	/* the store: settings, access maps, domains, accounts, aliases, admins,
	 * permissions (rendered as the snapshot's tables) */
	{"tern.db", CFG_STORE, CFG_SCOPE_ROOT, "the directory store (rendered as tables)"},
	{"tern.db-*", CFG_STORE, CFG_SCOPE_ROOT, "the store's journal files"},
	/* never in snapshots */
	{"keys/**", CFG_SECRET, CFG_SCOPE_ROOT, "the data root's sealing key"},
	{"tls/**", CFG_SECRET, CFG_SCOPE_ROOT, "the TLS identity"},
	{"domains/*/*/Maildir/**", CFG_MAIL, CFG_SCOPE_ROOT, "mailboxes"},
	{"pop3links/**", CFG_MAIL, CFG_SCOPE_ROOT, "POP3 fetch state (messages already fetched)"},
	{"spool/**", CFG_RUNTIME, CFG_SCOPE_ROOT, "the mail queue"},
	{"logs/**", CFG_RUNTIME, CFG_SCOPE_ROOT, "logs"},
	{"trash/**", CFG_RUNTIME, CFG_SCOPE_ROOT, "deleted domains and accounts, kept TrashKeepDays"},
	{"snapshots/**", CFG_RUNTIME, CFG_SCOPE_ROOT, "SAVE CONFIG's snapshots"},
	{"ternd.pid", CFG_RUNTIME, CFG_SCOPE_ROOT, "the daemon's lock file"},
	{"sendcounters.tab*", CFG_RUNTIME, CFG_SCOPE_ROOT, "the accounts' send-limit counters (and a damaged copy)"},
	{"rename.intent*", CFG_RUNTIME, CFG_SCOPE_ROOT, "a rename in progress, completed at the next start"},
	{NULL, CFG_UNKNOWN, CFG_SCOPE_ROOT, NULL},
};

const struct cfg_entry *cfg_files_table(void)
{
	return table;
}

const char *cfg_class_name(enum cfg_class c)
{
	switch (c) {
	case CFG_FILE:
		return "config-file";
	case CFG_STORE:
		return "config-store";
	case CFG_SECRET:
		return "secret";
	case CFG_MAIL:
		return "mail";
	case CFG_RUNTIME:
		return "runtime";
	default:
		return "unknown";
	}
}

#define MAX_DEPTH 8

static int split(char *s, char **v)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(s, "/", &save); t && n < MAX_DEPTH; t = strtok_r(NULL, "/", &save))
		v[n++] = t;
	return n;
}

/* Does pattern p cover path components c[0..n)? With prefix, whether a
 * path below them could still match (for the walk). */
static bool pat_match(const char *p, char *const *c, int n, bool prefix)
{
	char buf[200], *pv[MAX_DEPTH];
	snprintf(buf, sizeof buf, "%s", p);
	int pn = split(buf, pv);
	bool tree = pn > 0 && !strcmp(pv[pn - 1], "**");
	if (tree)
		pn--;
	for (int i = 0; i < pn && i < n; i++)
		if (fnmatch(pv[i], c[i], 0) != 0)
			return false;
	if (prefix)
		return n < pn || tree;
	return n == pn || (tree && n > pn);
}

const struct cfg_entry *cfg_file_classify(const char *rel)
{
	char buf[1024], *c[MAX_DEPTH + 1];
	if (strlen(rel) >= sizeof buf)
		return NULL;
	snprintf(buf, sizeof buf, "%s", rel);
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (n == MAX_DEPTH)
			return NULL;
		c[n++] = t;
	}
	if (!n)
		return NULL;
	for (const struct cfg_entry *e = table; e->pattern; e++)
		if (pat_match(e->pattern, c, n, false))
			return e;
	return NULL;
}

bool cfg_file_path_ok(const char *rel)
{
	if (!*rel || rel[0] == '/' || strlen(rel) > 600 || strstr(rel, "//"))
		return false;
	const char *p = rel;
	while (*p) {
		size_t l = strcspn(p, "/");
		if (!l || (p[0] == '.' && (l == 1 || (l == 2 && p[1] == '.'))) || !strncmp(p, ".tmp.", 5))
			return false;
		for (size_t i = 0; i < l; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == '\\')
				return false;
		p += l;
		if (*p == '/')
			p++;
	}
	const struct cfg_entry *e = cfg_file_classify(rel);
	return e && e->cls == CFG_FILE;
}

/* Could a CFG_FILE lie below the directory c[0..n)? */
static bool may_hold_config(char *const *c, int n)
{
	for (const struct cfg_entry *e = table; e->pattern; e++) {
		/* a non-file subtree that covers the directory ends the search */
		if (e->cls != CFG_FILE && pat_match(e->pattern, c, n, false))
			return false;
		if (e->cls == CFG_FILE && pat_match(e->pattern, c, n, true))
			return true;
	}
	return false;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct walk {
	int (*fn)(void *, const char *, const struct cfg_entry *);
	void *arg;
	int rootfd;
	bool failed, stop;
};

static void walk_dir(struct walk *w, char *rel, size_t cap, char **c, int n)
{
	int fd = n ? openat(w->rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
		   : openat(w->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) /* removed while we walk: nothing to take */
			w->failed = true;
		return;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		w->failed = true;
		return;
	}
	char **names = NULL;
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strncmp(de->d_name, ".tmp.", 5))
			continue;
		names = xrealloc(names, (nn + 1) * sizeof *names);
		names[nn++] = xstrdup(de->d_name);
	}
	if (nn)
		qsort(names, nn, sizeof *names, name_cmp);
	size_t base = strlen(rel);
	for (size_t i = 0; i < nn; i++) {
		if (w->stop || base + strlen(names[i]) + 2 >= cap) {
			free(names[i]);
			continue;
		}
		struct stat st;
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(names[i]);
			continue;
		}
		snprintf(rel + base, cap - base, "%s%s", base ? "/" : "", names[i]);
		c[n] = names[i];
		if (S_ISDIR(st.st_mode) && n + 1 < MAX_DEPTH && may_hold_config(c, n + 1)) {
			walk_dir(w, rel, cap, c, n + 1);
		} else if (S_ISREG(st.st_mode)) {
			const struct cfg_entry *e = cfg_file_classify(rel);
			if (e && e->cls == CFG_FILE && w->fn(w->arg, rel, e))
				w->stop = true;
		}
		rel[base] = '\0';
		free(names[i]);
	}
	free(names);
	closedir(d);
}

int cfg_files_walk(int rootfd, int (*fn)(void *arg, const char *rel, const struct cfg_entry *e), void *arg)
{
	struct walk w = {.fn = fn, .arg = arg, .rootfd = rootfd};
	char rel[1024] = "";
	char *c[MAX_DEPTH];
	walk_dir(&w, rel, sizeof rel, c, 0);
	return w.failed ? -1 : 0;
}

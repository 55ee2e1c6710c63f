/*
 * live_listeners - binding and closing the CLI-edited listeners while the
 * daemon runs; see live_listeners.h.
 */
#include "live_listeners.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../auth/lstacl.h"
#include "../core/listen.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "settings.h"

#define MAX_ENTRIES 64
#define MAX_SVCS 8

struct entry {
	int svc; /* index into svcs */
	char addr[80];
	int fd;
	bool managed; /* bound from the stored lists (closed when they drop it) */
};

struct live_listeners {
	pthread_mutex_t mu; /* one sync at a time */
	struct dir *dir;
	struct evloop *lp;
	struct live_svc svcs[MAX_SVCS];
	int nsvcs;
	bool dev, have_tls;
	struct entry e[MAX_ENTRIES];
	int n;
	struct entry base[MAX_ENTRIES]; /* dev mode: stored at start-up, served by the dev ports */
	int nbase;
};

struct live_listeners *live_listeners_new(struct dir *dir, struct evloop *lp, const struct live_svc *svcs, int n,
					  bool dev, bool have_tls)
{
	struct live_listeners *ll = xcalloc(1, sizeof *ll);
	pthread_mutex_init(&ll->mu, NULL);
	ll->dir = dir;
	ll->lp = lp;
	ll->nsvcs = n < MAX_SVCS ? n : MAX_SVCS;
	memcpy(ll->svcs, svcs, (size_t)ll->nsvcs * sizeof *svcs);
	ll->dev = dev;
	ll->have_tls = have_tls;
	return ll;
}

void live_listeners_note(struct live_listeners *ll, int service, bool tls, const char *addr, int fd)
{
	for (int i = 0; i < ll->nsvcs; i++) {
		if (ll->svcs[i].service != service || ll->svcs[i].tls != tls || ll->n >= MAX_ENTRIES)
			continue;
		struct entry *x = &ll->e[ll->n++];
		*x = (struct entry){.svc = i, .fd = fd, .managed = !ll->dev};
		snprintf(x->addr, sizeof x->addr, "%.79s", addr);
		return;
	}
}

/* The stored addresses of svcs[i] (canonical), and whether each is enabled. */
static int stored(struct dir_conn *c, const struct live_svc *v, char (*addrs)[80], bool *enabled, int max)
{
	char list[4096];
	struct listen_addr a[LISTEN_MAX_ADDRS];
	settings_get(c, v->setting, list, sizeof list);
	int k = listen_parse_list(list, 0, a, LISTEN_MAX_ADDRS);
	if (k > max)
		k = max;
	for (int j = 0; j < k; j++) {
		lstacl_addr(addrs[j], 80, a[j].family, a[j].host, a[j].port);
		if (enabled)
			enabled[j] = lstacl_enabled(c, v->scope, addrs[j]);
	}
	return k;
}

static int find(const struct entry *e, int n, int svc, const char *addr);

void live_listeners_baseline(struct live_listeners *ll)
{
	struct dir_conn *c = dir_conn_open(ll->dir);
	if (!c)
		return;
	for (int i = 0; i < ll->nsvcs; i++) {
		char addrs[LISTEN_MAX_ADDRS][80];
		bool on[LISTEN_MAX_ADDRS];
		int k = stored(c, &ll->svcs[i], addrs, on, LISTEN_MAX_ADDRS);
		for (int j = 0; j < k; j++) {
			int x = find(ll->e, ll->n, i, addrs[j]);
			if (x >= 0) {
				ll->e[x].managed = true; /* a dev port the configuration names */
			} else if (on[j] && ll->nbase < MAX_ENTRIES) {
				ll->base[ll->nbase] = (struct entry){.svc = i, .fd = -1};
				snprintf(ll->base[ll->nbase++].addr, 80, "%.79s", addrs[j]);
			}
		}
	}
	dir_conn_close(c);
}

static int find(const struct entry *e, int n, int svc, const char *addr)
{
	for (int i = 0; i < n; i++)
		if (e[i].svc == svc && !strcmp(e[i].addr, addr))
			return i;
	return -1;
}

static const char *bind_error(int err)
{
	switch (err) {
	case EADDRINUSE:
		return "address already in use";
	case EACCES:
		return "permission denied: a privileged port, which the daemon can only open at start-up "
		       "(restart it)";
	case EADDRNOTAVAIL:
		return "not an address of this host";
	default:
		return strerror(err);
	}
}

static void add_why(char *why, size_t sz, const char *fmt, const char *a, const char *b)
{
	size_t off = strlen(why);
	if (off + 1 < sz)
		snprintf(why + off, sz - off, fmt, off ? "; " : "", a, b);
}

static void close_entry(struct live_listeners *ll, int k)
{
	struct entry *x = &ll->e[k];
	const struct live_svc *v = &ll->svcs[x->svc];
	int rc = v->fn ? evloop_detach(ll->lp, x->fd) : listen_detach(x->fd);
	if (rc < 0)
		log_warn("listener %s for %s was not attached", x->addr, v->what);
	log_info("no longer listening: %s %s", v->what, x->addr);
	ll->e[k] = ll->e[--ll->n];
}

static bool open_entry(struct live_listeners *ll, int svc, const char *addr, char *why, size_t sz)
{
	const struct live_svc *v = &ll->svcs[svc];
	struct listen_addr a[1];
	char spec[96];
	snprintf(spec, sizeof spec, "%s", addr);
	if (ll->n >= MAX_ENTRIES || listen_parse_list(spec, 0, a, 1) != 1) {
		add_why(why, sz, "%s%s: %s", addr, "too many listeners");
		return false;
	}
	if (v->tls && !ll->have_tls) {
		add_why(why, sz, "%s%s: %s", addr, "TLS is not available on this server");
		log_err("cannot listen on %s for %s: TLS is not available", addr, v->what);
		return false;
	}
	int fd = listen_bind(&a[0]);
	if (fd < 0) {
		int err = errno;
		add_why(why, sz, "%s%s: %s", addr, bind_error(err));
		log_err("cannot listen on %s for %s: %s", addr, v->what, strerror(err));
		return false;
	}
	struct listener l = {.fd = fd, .service = v->service, .tls = v->tls};
	snprintf(l.addr, sizeof l.addr, "%s", addr);
	snprintf(l.desc, sizeof l.desc, "%s %s", v->what, addr);
	int rc = v->fn ? evloop_attach(ll->lp, &l, v->fn, v->arg) : listen_attach(&l);
	if (rc < 0) {
		close(fd);
		add_why(why, sz, "%s%s: %s", addr, "the accept loop cannot take it");
		log_err("cannot attach listener %s", l.desc);
		return false;
	}
	ll->e[ll->n++] = (struct entry){.svc = svc, .fd = fd, .managed = true};
	snprintf(ll->e[ll->n - 1].addr, sizeof ll->e[0].addr, "%.79s", addr);
	log_info("listening: %s (live change)", l.desc);
	return true;
}

int live_listeners_sync(void *arg, const char *scope, char *why, size_t sz)
{
	struct live_listeners *ll = arg;
	if (sz)
		why[0] = '\0';
	pthread_mutex_lock(&ll->mu);
	struct dir_conn *c = dir_conn_open(ll->dir);
	if (!c) {
		pthread_mutex_unlock(&ll->mu);
		snprintf(why, sz, "cannot read the configuration");
		return -1;
	}
	/* what should be open: the enabled stored listeners of scope (dev mode:
	 * less those the dev ports stand for) */
	struct entry want[MAX_ENTRIES];
	int nwant = 0;
	for (int i = 0; i < ll->nsvcs; i++) {
		if (strcmp(ll->svcs[i].scope, scope) != 0)
			continue;
		char addrs[LISTEN_MAX_ADDRS][80];
		bool on[LISTEN_MAX_ADDRS];
		int k = stored(c, &ll->svcs[i], addrs, on, LISTEN_MAX_ADDRS);
		/* a start-up address the lists dropped is no longer stood for */
		for (int b = 0; b < ll->nbase;) {
			bool kept = ll->base[b].svc != i;
			for (int j = 0; j < k && !kept; j++)
				kept = !strcmp(addrs[j], ll->base[b].addr);
			if (kept)
				b++;
			else
				ll->base[b] = ll->base[--ll->nbase];
		}
		for (int j = 0; j < k && nwant < MAX_ENTRIES; j++) {
			if (!on[j] || find(ll->base, ll->nbase, i, addrs[j]) >= 0)
				continue;
			want[nwant] = (struct entry){.svc = i, .fd = -1};
			snprintf(want[nwant++].addr, 80, "%.79s", addrs[j]);
		}
	}
	dir_conn_close(c);
	/* close first (a listener that moves between lists, or to a port another one frees) */
	for (int k = 0; k < ll->n;) {
		const struct entry *x = &ll->e[k];
		if (x->managed && !strcmp(ll->svcs[x->svc].scope, scope) && find(want, nwant, x->svc, x->addr) < 0)
			close_entry(ll, k);
		else
			k++;
	}
	int failed = 0;
	for (int j = 0; j < nwant; j++) {
		int x = find(ll->e, ll->n, want[j].svc, want[j].addr);
		if (x >= 0)
			ll->e[x].managed = true; /* dev mode: a dev port the configuration now names */
		else if (!open_entry(ll, want[j].svc, want[j].addr, why, sz))
			failed++;
	}
	pthread_mutex_unlock(&ll->mu);
	return failed ? -1 : 0;
}

void live_listeners_free(struct live_listeners *ll)
{
	if (!ll)
		return;
	pthread_mutex_destroy(&ll->mu);
	free(ll);
}

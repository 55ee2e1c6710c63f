/*
 * evloop - libevent base in its own thread, listeners, TLS bufferevents.
 */
#include "evloop.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tls.h"
#include "xmalloc.h"

#define MAX_LISTENERS 64
#define MAX_SERVICES 16

struct evloop_listener {
	struct evloop *lp;
	struct evconnlistener *el;
	struct listener l;
	evloop_accept_fn fn;
	void *arg;
};

struct closer {
	struct evloop *lp;
	struct bufferevent *bev;
	struct event *timer;
	int ticks;
	struct closer *prev, *next;
};

struct evloop {
	struct closer *closers;
	struct event_base *base;
	pthread_t thread;
	bool running;
	/* loop thread only once the loop runs (evloop_attach/detach go through it) */
	struct evloop_listener *ls[MAX_LISTENERS];
	int nls;
	/* calls run in the loop thread for other threads (in_loop) */
	pthread_cond_t call_cv;
	int counters[MAX_SERVICES];
	/* Services stopped by the admin (START/STOP Service): their
	 * connections are accepted and closed at once, after the refusal
	 * line on plain listeners. Loop thread and admin threads: mu. */
	pthread_mutex_t mu;
	bool stopped[MAX_SERVICES];
	char refusal[MAX_SERVICES][128];
};

static void use_threads(void)
{
	if (evthread_use_pthreads() < 0)
		fatal("libevent without thread support");
}

struct evloop *evloop_new(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, use_threads);
	struct evloop *lp = xcalloc(1, sizeof *lp);
	lp->base = event_base_new();
	if (!lp->base)
		fatal("event_base_new failed");
	pthread_mutex_init(&lp->mu, NULL);
	pthread_cond_init(&lp->call_cv, NULL);
	return lp;
}

struct event_base *evloop_base(struct evloop *lp)
{
	return lp->base;
}

int *evloop_counter(struct evloop *lp, int service)
{
	return &lp->counters[service % MAX_SERVICES];
}

static bool peer_refused(const struct sockaddr *sa)
{
	if (sa->sa_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *a = (const void *)sa;
	return IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&a->sin6_addr);
}

static void on_accept(struct evconnlistener *el, evutil_socket_t fd, struct sockaddr *sa, int len, void *p)
{
	(void)el;
	(void)len;
	struct evloop_listener *x = p;
	if (peer_refused(sa)) {
		close(fd);
		return;
	}
	struct evloop *lp = x->lp;
	int svc = x->l.service % MAX_SERVICES;
	pthread_mutex_lock(&lp->mu);
	bool stopped = lp->stopped[svc];
	char line[sizeof lp->refusal[0]];
	snprintf(line, sizeof line, "%s", lp->refusal[svc]);
	pthread_mutex_unlock(&lp->mu);
	if (stopped) {
		/* A fresh socket's buffer takes one short line without blocking. */
		if (!x->l.tls && line[0]) {
			ssize_t r = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)r;
		}
		close(fd);
		return;
	}
	x->fn(x->lp, fd, &x->l, x->arg);
}

int evloop_listen(struct evloop *lp, struct listener *l, evloop_accept_fn fn, void *arg)
{
	if (lp->nls >= MAX_LISTENERS)
		return -1;
	struct evloop_listener *x = xcalloc(1, sizeof *x);
	x->lp = lp;
	x->l = *l;
	x->fn = fn;
	x->arg = arg;
	evutil_make_socket_nonblocking(l->fd);
	x->el = evconnlistener_new(lp->base, on_accept, x, LEV_OPT_CLOSE_ON_FREE, -1, l->fd);
	if (!x->el) {
		free(x);
		return -1;
	}
	lp->ls[lp->nls++] = x;
	return 0;
}

static int unlisten(struct evloop *lp, int fd)
{
	for (int i = 0; i < lp->nls; i++) {
		if (lp->ls[i]->l.fd != fd)
			continue;
		evconnlistener_free(lp->ls[i]->el); /* closes fd */
		free(lp->ls[i]);
		lp->ls[i] = lp->ls[--lp->nls];
		return 0;
	}
	return -1;
}

/* A call another thread makes in the loop thread (so that no accept
 * callback of a listener runs while it is created or freed). */
struct loop_call {
	struct evloop *lp;
	bool attach;
	struct listener *l;
	evloop_accept_fn fn;
	void *arg;
	int rc;
	bool done;
};

static void run_call(struct loop_call *c)
{
	c->rc = c->attach ? evloop_listen(c->lp, c->l, c->fn, c->arg) : unlisten(c->lp, c->l->fd);
}

static void loop_call_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct loop_call *c = arg;
	run_call(c);
	pthread_mutex_lock(&c->lp->mu);
	c->done = true;
	pthread_cond_broadcast(&c->lp->call_cv);
	pthread_mutex_unlock(&c->lp->mu);
}

static int in_loop(struct loop_call *c)
{
	struct evloop *lp = c->lp;
	pthread_mutex_lock(&lp->mu);
	bool running = lp->running && !pthread_equal(pthread_self(), lp->thread);
	pthread_mutex_unlock(&lp->mu);
	if (!running) {
		run_call(c);
		return c->rc;
	}
	struct timeval now = {0, 0};
	if (event_base_once(lp->base, -1, EV_TIMEOUT, loop_call_cb, c, &now) < 0)
		return -1;
	pthread_mutex_lock(&lp->mu);
	while (!c->done && lp->running) /* evloop_halt() ends the wait */
		pthread_cond_wait(&lp->call_cv, &lp->mu);
	int rc = c->done ? c->rc : -1;
	pthread_mutex_unlock(&lp->mu);
	return rc;
}

int evloop_attach(struct evloop *lp, struct listener *l, evloop_accept_fn fn, void *arg)
{
	struct loop_call c = {.lp = lp, .attach = true, .l = l, .fn = fn, .arg = arg};
	return in_loop(&c);
}

int evloop_detach(struct evloop *lp, int fd)
{
	struct listener l = {.fd = fd};
	struct loop_call c = {.lp = lp, .l = &l};
	return in_loop(&c);
}

void evloop_set_stopped(struct evloop *lp, int service, bool stopped, const char *refusal)
{
	int svc = service % MAX_SERVICES;
	pthread_mutex_lock(&lp->mu);
	lp->stopped[svc] = stopped;
	snprintf(lp->refusal[svc], sizeof lp->refusal[svc], "%s", refusal ? refusal : "");
	pthread_mutex_unlock(&lp->mu);
}

bool evloop_stopped(struct evloop *lp, int service)
{
	pthread_mutex_lock(&lp->mu);
	bool s = lp->stopped[service % MAX_SERVICES];
	pthread_mutex_unlock(&lp->mu);
	return s;
}

static void *loop_main(void *p)
{
	struct evloop *lp = p;
	event_base_loop(lp->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int evloop_start(struct evloop *lp)
{
	pthread_mutex_lock(&lp->mu);
	int rc = pthread_create(&lp->thread, NULL, loop_main, lp);
	lp->running = rc == 0;
	pthread_mutex_unlock(&lp->mu);
	return rc == 0 ? 0 : -1;
}

void evloop_halt(struct evloop *lp)
{
	if (!lp || !lp->running)
		return;
	event_base_loopexit(lp->base, NULL);
	pthread_join(lp->thread, NULL);
	pthread_mutex_lock(&lp->mu);
	lp->running = false;
	pthread_cond_broadcast(&lp->call_cv);
	pthread_mutex_unlock(&lp->mu);
}

static void closer_free(struct closer *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->lp->closers = c->next;
	if (c->next)
		c->next->prev = c->prev;
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
}

static size_t pending_out(struct bufferevent *bev)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(bev));
	struct bufferevent *under = bufferevent_get_underlying(bev);
	if (under)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

static void closer_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct closer *c = arg;
	if (pending_out(c->bev) == 0 || ++c->ticks > 500) {
		closer_free(c);
		return;
	}
	struct timeval tv = {0, 10000};
	evtimer_add(c->timer, &tv);
}

void evloop_free_when_flushed(struct evloop *lp, struct bufferevent *bev)
{
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	struct closer *c = xcalloc(1, sizeof *c);
	c->lp = lp;
	c->bev = bev;
	c->timer = evtimer_new(lp->base, closer_tick, c);
	c->next = lp->closers;
	if (lp->closers)
		lp->closers->prev = c;
	lp->closers = c;
	/* give the write side a chance to run first */
	struct timeval tv = {0, 0};
	evtimer_add(c->timer, &tv);
}

void evloop_free(struct evloop *lp)
{
	if (!lp)
		return;
	evloop_halt(lp);
	while (lp->closers)
		closer_free(lp->closers);
	for (int i = 0; i < lp->nls; i++) {
		evconnlistener_free(lp->ls[i]->el);
		free(lp->ls[i]);
	}
	event_base_free(lp->base);
	pthread_mutex_destroy(&lp->mu);
	pthread_cond_destroy(&lp->call_cv);
	free(lp);
}

struct bufferevent *evloop_tls_socket(struct event_base *b, int fd, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(b, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

struct bufferevent *evloop_tls_upgrade(struct event_base *b, struct bufferevent *plain, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	tls_note_fd(ssl, bufferevent_getfd(plain));
	return bufferevent_openssl_filter_new(b, plain, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

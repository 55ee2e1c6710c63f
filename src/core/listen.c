/*
 * listen - binding listeners and the thread-per-session accept loop.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

#define MAX_SERVICES 16
#define MAX_SESSIONS 8192

static int stop_pipe[2] = {-1, -1};
static pthread_mutex_t sess_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sess_cv = PTHREAD_COND_INITIALIZER;
static int active[MAX_SERVICES];
static int active_total;
static int session_fds[MAX_SESSIONS];
static bool stopped[MAX_SERVICES];
static char refusal[MAX_SERVICES][128];

/* The live set of listeners the accept loop polls (listen_attach,
 * listen_detach). Only the loop thread accepts and polls; a detach waits
 * until the loop has rebuilt its poll set without the socket before it is
 * closed, so no accept can be in progress on a closed (or reused) fd. */
#define MAX_LIVE 64
static pthread_mutex_t set_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t set_cv = PTHREAD_COND_INITIALIZER;
static struct listener live[MAX_LIVE];
static int nlive;
static unsigned set_gen, seen_gen;
static bool loop_running;
static int wake_pipe[2] = {-1, -1};

int listen_parse_list(const char *s, int port_offset, struct listen_addr *out, int max)
{
	int n = 0;
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		if (n >= max)
			return -1;
		struct listen_addr *a = &out[n];
		const char *end;
		if (*p == '[') {
			end = strchr(p, ']');
			if (!end || end[1] != ':' || end - p - 1 >= (long)sizeof a->host)
				return -1;
			snprintf(a->host, sizeof a->host, "%.*s", (int)(end - p - 1), p + 1);
			a->family = AF_INET6;
			p = end + 2;
		} else {
			end = strchr(p, ':');
			if (!end || end - p >= (long)sizeof a->host)
				return -1;
			snprintf(a->host, sizeof a->host, "%.*s", (int)(end - p), p);
			a->family = AF_INET;
			p = end + 1;
		}
		char *e;
		long port = strtol(p, &e, 10);
		if (e == p || port < 1 || port > 65535)
			return -1;
		p = e;
		if (*p && *p != ',' && *p != ' ')
			return -1;
		a->port = (int)port + port_offset;
		if (a->port > 65535)
			return -1;
		unsigned char tmp[16];
		if (inet_pton(a->family, a->host, tmp) != 1)
			return -1;
		n++;
	}
	return n;
}

int listen_bind(const struct listen_addr *a)
{
	int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int rc;
	if (a->family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)a->port)};
		inet_pton(AF_INET6, a->host, &sa.sin6_addr);
		rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port)};
		inet_pton(AF_INET, a->host, &sa.sin_addr);
		rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	}
	if (rc < 0 || listen(fd, 256) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int listen_init(void)
{
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	for (int i = 0; i < MAX_SESSIONS; i++)
		session_fds[i] = -1;
	return 0;
}

void listen_stop(void)
{
	if (stop_pipe[1] >= 0) {
		ssize_t r = write(stop_pipe[1], "x", 1);
		(void)r;
	}
}

void listen_set_stopped(int service, bool stop, const char *line)
{
	if (service < 0 || service >= MAX_SERVICES)
		return;
	pthread_mutex_lock(&sess_mu);
	stopped[service] = stop;
	snprintf(refusal[service], sizeof refusal[service], "%s", line ? line : "");
	pthread_mutex_unlock(&sess_mu);
}

bool listen_stopped(int service)
{
	pthread_mutex_lock(&sess_mu);
	bool s = service >= 0 && service < MAX_SERVICES && stopped[service];
	pthread_mutex_unlock(&sess_mu);
	return s;
}

/* A connection of a stopped service: the refusal line (plain listeners), closed. */
static bool refuse_stopped(const struct listener *l, int fd)
{
	char line[sizeof refusal[0]];
	pthread_mutex_lock(&sess_mu);
	bool s = stopped[l->service];
	snprintf(line, sizeof line, "%s", refusal[l->service]);
	pthread_mutex_unlock(&sess_mu);
	if (!s)
		return false;
	if (!l->tls && line[0]) {
		ssize_t r = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)r;
	}
	close(fd);
	return true;
}

int listen_active(int service)
{
	pthread_mutex_lock(&sess_mu);
	int n = (service >= 0 && service < MAX_SERVICES) ? active[service] : 0;
	pthread_mutex_unlock(&sess_mu);
	return n;
}

int listen_attach(const struct listener *l)
{
	pthread_mutex_lock(&set_mu);
	if (nlive >= MAX_LIVE) {
		pthread_mutex_unlock(&set_mu);
		return -1;
	}
	live[nlive++] = *l;
	set_gen++;
	pthread_mutex_unlock(&set_mu);
	if (wake_pipe[1] >= 0) {
		ssize_t r = write(wake_pipe[1], "w", 1);
		(void)r;
	}
	return 0;
}

int listen_detach(int fd)
{
	pthread_mutex_lock(&set_mu);
	int i = 0;
	while (i < nlive && live[i].fd != fd)
		i++;
	if (i == nlive) {
		pthread_mutex_unlock(&set_mu);
		return -1;
	}
	live[i] = live[--nlive];
	unsigned mine = ++set_gen;
	if (wake_pipe[1] >= 0) {
		ssize_t r = write(wake_pipe[1], "w", 1);
		(void)r;
	}
	while (loop_running && (int)(seen_gen - mine) < 0)
		pthread_cond_wait(&set_cv, &set_mu);
	pthread_mutex_unlock(&set_mu);
	close(fd);
	return 0;
}

struct session_start {
	int fd;
	int slot;
	struct listener l; /* a copy: the listener may be closed while the session runs */
	listen_session_fn fn;
};

static void *session_thread(void *arg)
{
	struct session_start *s = arg;
	s->fn(s->fd, &s->l);
	pthread_mutex_lock(&sess_mu);
	active[s->l.service]--;
	active_total--;
	session_fds[s->slot] = -1;
	pthread_cond_broadcast(&sess_cv);
	pthread_mutex_unlock(&sess_mu);
	free(s);
	return NULL;
}

static bool peer_refused(const struct sockaddr_storage *ss)
{
	if (ss->ss_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *a = (const void *)ss;
	return IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&a->sin6_addr);
}

static void start_session(const struct listener *l, int fd, listen_session_fn fn)
{
	pthread_mutex_lock(&sess_mu);
	int slot = -1;
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (session_fds[i] < 0) {
			slot = i;
			break;
		}
	if (slot < 0) {
		pthread_mutex_unlock(&sess_mu);
		close(fd);
		return;
	}
	session_fds[slot] = fd;
	active[l->service]++;
	active_total++;
	pthread_mutex_unlock(&sess_mu);
	struct session_start *s = xmalloc(sizeof *s);
	*s = (struct session_start){.fd = fd, .slot = slot, .l = *l, .fn = fn};
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	pthread_t t;
	if (pthread_create(&t, &attr, session_thread, s) != 0) {
		log_err("cannot start session thread");
		pthread_mutex_lock(&sess_mu);
		active[l->service]--;
		active_total--;
		session_fds[slot] = -1;
		pthread_mutex_unlock(&sess_mu);
		close(fd);
		free(s);
	}
	pthread_attr_destroy(&attr);
}

void listen_run(struct listener *ls, int n, listen_session_fn fn)
{
	for (int i = 0; i < n; i++)
		if (listen_attach(&ls[i]) < 0) {
			log_err("too many listeners: %s not served", ls[i].desc);
			close(ls[i].fd);
		}
	struct listener cur[MAX_LIVE];
	struct pollfd pfd[MAX_LIVE + 2];
	int ncur = 0;
	unsigned built = 0;
	pthread_mutex_lock(&set_mu);
	loop_running = true;
	built = set_gen - 1; /* build at once */
	pthread_mutex_unlock(&set_mu);
	for (;;) {
		pthread_mutex_lock(&set_mu);
		if (built != set_gen) {
			ncur = nlive;
			memcpy(cur, live, (size_t)nlive * sizeof *cur);
			built = seen_gen = set_gen;
			pthread_cond_broadcast(&set_cv);
		}
		pthread_mutex_unlock(&set_mu);
		for (int i = 0; i < ncur; i++)
			pfd[i] = (struct pollfd){.fd = cur[i].fd, .events = POLLIN};
		pfd[ncur] = (struct pollfd){.fd = stop_pipe[0], .events = POLLIN};
		pfd[ncur + 1] = (struct pollfd){.fd = wake_pipe[0], .events = POLLIN};
		int r = poll(pfd, (nfds_t)ncur + 2, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[ncur].revents)
			break;
		if (pfd[ncur + 1].revents) {
			char drain[64];
			while (read(wake_pipe[0], drain, sizeof drain) > 0)
				;
		}
		for (int i = 0; i < ncur; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			struct sockaddr_storage ss;
			socklen_t sl = sizeof ss;
			int fd = accept4(cur[i].fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			if (peer_refused(&ss)) {
				close(fd);
				continue;
			}
			if (refuse_stopped(&cur[i], fd))
				continue;
			start_session(&cur[i], fd, fn);
		}
	}
	pthread_mutex_lock(&set_mu);
	loop_running = false;
	pthread_cond_broadcast(&set_cv);
	for (int i = 0; i < nlive; i++)
		close(live[i].fd);
	nlive = 0;
	pthread_mutex_unlock(&set_mu);
	/* Ask running sessions to end and wait for them (bounded). */
	pthread_mutex_lock(&sess_mu);
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (session_fds[i] >= 0)
			shutdown(session_fds[i], SHUT_RDWR);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	while (active_total > 0)
		if (pthread_cond_timedwait(&sess_cv, &sess_mu, &until) != 0)
			break;
	pthread_mutex_unlock(&sess_mu);
}

void listen_peer_text(int fd, char *out, size_t sz)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	out[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)sz);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)sz);
}

/*
 * ternd - the Tern mail server daemon.
 *
 * Usage: ternd [--root DIR] [--dev] [--port-offset N]
 *
 * Opens (and on first start initialises) the data root: the directory
 * store, the secret key, the TLS identity and the first admin account
 * ("admin", password from TERN_ADMIN_PASSWORD or generated and printed
 * once). Then binds the listeners, drops privileges when started as root
 * (production mode), and serves until SIGTERM or SIGINT.
 *
 * --dev listens on loopback (127.0.0.1 and ::1) on the development ports
 * (controller 6017, controller with implicit TLS 6018, CLI 7000, CLI with
 * implicit TLS 7001, and the mail ports); --port-offset adds
 * N to every development port, for tests. Without --dev the listener
 * settings decide.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/admin_rename.h"
#include "admin/live_listeners.h"
#include "admin/settings.h"
#include "core/dns.h"
#include "auth/lstacl.h"
#include "auth/rehash.h"
#include "core/fsutil.h"
#include "core/listen.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/evloop.h"
#include "core/tls.h"
#include "core/workq.h"
#include "deliver/deliver.h"
#include "fetch/poplink.h"
#include "pop3/pop3.h"
#include "queue/outbound.h"
#include "queue/spool.h"
#include "smtp/send_store.h"
#include "smtp/smtp.h"
#include "cli/cli.h"
#include "ctrl/ctrl.h"
#include "version.h"

enum { SVC_CTRL = 0, SVC_CLI = 1, SVC_SMTP = 10, SVC_SUBMISSION = 11, SVC_SMTPS = 12, SVC_POP3 = 20, SVC_POP3S = 21 };

static struct ctrl_server ctrl_srv;
static struct cli_server cli_srv;

static void on_signal(int sig)
{
	(void)sig;
	listen_stop();
}

static void session(int fd, const struct listener *l)
{
	if (l->service == SVC_CTRL)
		ctrl_session_run(&ctrl_srv, fd, l->tls);
	else if (l->service == SVC_CLI)
		cli_session_run(&cli_srv, fd, l->tls, l->addr);
	else
		close(fd);
}

static void requeue(void *dl, const char *id)
{
	deliver_enqueue(dl, id);
}

static void to_outbound(void *ob, const char *id)
{
	outbound_enqueue(ob, id);
}

/* START/STOP Service (struct service_ops): which listening services a
 * name covers, and the line a refused connection gets. */
struct service_ctl {
	struct evloop *lp;
	struct outbound *ob;
};

static const struct {
	const char *name;
	int ids[3];
	int n;
	bool evloop;
	const char *refusal;
} svc_map[] = {
	{"smtpIncoming", {SVC_SMTP, SVC_SUBMISSION, SVC_SMTPS}, 3, true, "421 Service stopped by the administrator\r\n"},
	{"pop3", {SVC_POP3, SVC_POP3S}, 2, true, "-ERR Service stopped by the administrator\r\n"},
	{"cli", {SVC_CLI}, 1, false, "-ERR: Service stopped by the administrator\r\n"},
};

static int svc_set_running(void *arg, const char *service, bool run)
{
	struct service_ctl *sc = arg;
	if (!strcmp(service, "smtpOutgoing")) {
		outbound_pause(sc->ob, !run);
		return 0;
	}
	for (size_t i = 0; i < sizeof svc_map / sizeof *svc_map; i++) {
		if (strcmp(service, svc_map[i].name))
			continue;
		for (int k = 0; k < svc_map[i].n; k++) {
			if (svc_map[i].evloop)
				evloop_set_stopped(sc->lp, svc_map[i].ids[k], !run, svc_map[i].refusal);
			else
				listen_set_stopped(svc_map[i].ids[k], !run, svc_map[i].refusal);
		}
		return 0;
	}
	return -1;
}

static int svc_running(void *arg, const char *service)
{
	struct service_ctl *sc = arg;
	if (!strcmp(service, "smtpOutgoing"))
		return !outbound_paused(sc->ob);
	for (size_t i = 0; i < sizeof svc_map / sizeof *svc_map; i++)
		if (!strcmp(service, svc_map[i].name)) {
			int id = svc_map[i].ids[0];
			return svc_map[i].evloop ? !evloop_stopped(sc->lp, id) : !listen_stopped(id);
		}
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ternd [--root DIR] [--dev] [--port-offset N] [--version]\n"
		   "       ternd [--root DIR] --set-admin NAME   (password from TERN_ADMIN_PASSWORD or stdin)\n");
}

/* Offline: create an admin account or replace its password. */
static int set_admin(struct admin_env *env, const char *name)
{
	const char *pw = getenv("TERN_ADMIN_PASSWORD");
	char line[1024];
	if (!pw || !*pw) {
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "password for %s: ", name);
		if (!fgets(line, sizeof line, stdin)) {
			fprintf(stderr, "ternd: no password given\n");
			return 1;
		}
		line[strcspn(line, "\r\n")] = '\0';
		pw = line;
	}
	if (!*pw || admin_check_user(name) != TERN_OK || !admin_value_ok(pw)) {
		fprintf(stderr, "ternd: bad admin name or password\n");
		return 1;
	}
	if (admin_account_set(env, name, pw) != TERN_OK)
		return 1;
	log_info("admin account '%s' set from the command line", name);
	secret_wipe(line, sizeof line);
	return 0;
}

static const char default_userdef[] = "\"RealName\"\t\"??\"\n"
				      "\"HomePage\"\t\"??\"\n"
				      "\"Address\"\t\"??\"\n"
				      "\"Telephone\"\t\"??\"\n"
				      "\"MaxMBSize\"\t\"10000\"\n"
				      "\"SmtpPerms\"\t\"MR\"\n"
				      "\"ReceiveEnable\"\t\"1\"\n"
				      "\"PopEnable\"\t\"1\"\n";

static int init_root(const char *root)
{
	static const char *const dirs[] = {"",	    "/logs",  "/tls",	   "/keys",	     "/domains",
					   "/trash", "/custdomains", "/spool", "/userauth", "/userauth/smtp"};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof p, "%s%s", root, dirs[i]);
		if (fs_mkdir_p(p, 0700) < 0) {
			fprintf(stderr, "ternd: cannot create %s: %s\n", p, strerror(errno));
			return -1;
		}
	}
	char p[PATH_MAX + 32];
	snprintf(p, sizeof p, "%s/userdef.tab", root);
	if (access(p, F_OK) != 0)
		fs_write_atomic(p, default_userdef, sizeof default_userdef - 1, 0600);
	return 0;
}

static int first_admin(struct admin_env *env, struct dir_conn *c)
{
	if (dir_admin_count(c) > 0)
		return 0;
	const char *pw = getenv("TERN_ADMIN_PASSWORD");
	char gen[25];
	if (!pw || !*pw) {
		secret_random_hex(gen, 12);
		pw = gen;
		fprintf(stdout,
			"ternd: created admin account 'admin' with password %s\n"
			"ternd: this password is shown only once; keep it.\n",
			pw);
		fflush(stdout);
	}
	if (admin_account_set(env, "admin", pw) != TERN_OK) {
		log_err("cannot create the admin account");
		return -1;
	}
	log_info("created admin account 'admin'");
	return 0;
}

/* The access-control scope of a listening service (auth/lstacl.h); NULL: none. */
static const char *scope_of(int service)
{
	if (service == SVC_CLI)
		return "cli";
	if (service == SVC_SMTP || service == SVC_SUBMISSION || service == SVC_SMTPS)
		return "smtp";
	if (service == SVC_POP3 || service == SVC_POP3S)
		return "pop3";
	return NULL;
}

/* Bind the addresses of list, except the listeners disabled through the
 * CLI (SET enable no: kept in the configuration, not opened). */
static int add_listeners(struct dir_conn *c, struct listener *ls, int *n, const char *list, int offset, int service,
			 bool tls, const char *what)
{
	struct listen_addr a[LISTEN_MAX_ADDRS];
	int k = listen_parse_list(list, offset, a, LISTEN_MAX_ADDRS);
	if (k < 0) {
		log_err("bad listener list for %s: %s", what, list);
		return -1;
	}
	for (int i = 0; i < k; i++) {
		char addr[80];
		lstacl_addr(addr, sizeof addr, a[i].family, a[i].host, a[i].port);
		if (scope_of(service) && !lstacl_enabled(c, scope_of(service), addr)) {
			log_info("not listening on %s for %s: the listener is disabled", addr, what);
			continue;
		}
		int fd = listen_bind(&a[i]);
		if (fd < 0) {
			log_err("cannot listen on %s port %d for %s: %s", a[i].host, a[i].port, what, strerror(errno));
			return -1;
		}
		struct listener *l = &ls[(*n)++];
		l->fd = fd;
		l->service = service;
		l->tls = tls;
		snprintf(l->addr, sizeof l->addr, "%s", addr);
		snprintf(l->desc, sizeof l->desc, "%s %s%s%s:%d", what, a[i].family == 10 ? "[" : "", a[i].host,
			 a[i].family == 10 ? "]" : "", a[i].port);
		log_info("listening: %s", l->desc);
	}
	return 0;
}

static uid_t own_uid;
static gid_t own_gid;

static int own_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if ((st->st_uid != own_uid || st->st_gid != own_gid) && lchown(path, own_uid, own_gid) < 0)
		log_warn("cannot chown %s: %s", path, strerror(errno));
	return 0;
}

static int drop_privileges(const char *root, const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_warn("user '%s' does not exist: still running as root (create it to drop privileges)", user);
		return 0;
	}
	/* Everything under the data root must belong to the daemon's user,
	 * including what an earlier run as root created. */
	own_uid = pw->pw_uid;
	own_gid = pw->pw_gid;
	nftw(root, own_entry, 32, FTW_PHYS | FTW_MOUNT);
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot drop privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	log_info("running as %s", user);
	return 0;
}

static pthread_mutex_t hk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hk_cv = PTHREAD_COND_INITIALIZER;
static bool hk_stop;

static void *housekeeping(void *arg)
{
	struct admin_env *env = arg;
	struct dir_conn *c = dir_conn_open(env->dir);
	pthread_mutex_lock(&hk_mu);
	while (!hk_stop) {
		pthread_mutex_unlock(&hk_mu);
		if (c)
			admin_trash_purge(env, c);
		pthread_mutex_lock(&hk_mu);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 3600;
		while (!hk_stop && pthread_cond_timedwait(&hk_cv, &hk_mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&hk_mu);
	dir_conn_close(c);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *root_arg = "./var";
	const char *admin_name = NULL;
	bool dev = false;
	int offset = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			root_arg = argv[++i];
		} else if (!strcmp(argv[i], "--dev")) {
			dev = true;
		} else if (!strcmp(argv[i], "--port-offset") && i + 1 < argc) {
			offset = atoi(argv[++i]);
			if (offset < 0 || offset > 50000) {
				fprintf(stderr, "ternd: bad --port-offset\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--set-admin") && i + 1 < argc) {
			admin_name = argv[++i];
		} else if (!strcmp(argv[i], "--version")) {
			printf("ternd %s\n", TERN_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	if (fs_mkdir_p(root_arg, 0700) < 0) {
		fprintf(stderr, "ternd: cannot create %s: %s\n", root_arg, strerror(errno));
		return 1;
	}
	char root[PATH_MAX];
	if (!realpath(root_arg, root)) {
		fprintf(stderr, "ternd: %s: %s\n", root_arg, strerror(errno));
		return 1;
	}
	if (init_root(root) < 0)
		return 1;
	/* Work inside the root: after the privilege drop, paths must not
	 * depend on the parent directories being reachable. */
	if (chdir(root) < 0) {
		fprintf(stderr, "ternd: cannot enter %s: %s\n", root, strerror(errno));
		return 1;
	}
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/logs/ternd.log", root);
	log_open(path);
	if (!admin_name) {
		/* One daemon per data root. (--set-admin may run beside it:
		 * the store takes care of concurrent writers.) */
		snprintf(path, sizeof path, "%s/ternd.pid", root);
		int pidfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (pidfd < 0 || flock(pidfd, LOCK_EX | LOCK_NB) < 0) {
			log_err("another ternd is running on %s", root);
			return 1;
		}
		char pidtxt[32];
		int pl = snprintf(pidtxt, sizeof pidtxt, "%d\n", (int)getpid());
		if (ftruncate(pidfd, 0) < 0 || write(pidfd, pidtxt, (size_t)pl) != pl)
			log_warn("cannot write %s", path);
	}

	snprintf(path, sizeof path, "%s/keys/secret.key", root);
	if (secret_box_init(path) < 0) {
		log_err("cannot load or create %s", path);
		return 1;
	}
	struct admin_env env = {.root = root};
	env.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof path, "%s/tern.db", root);
	if (env.rootfd < 0 || dir_open("tern.db", &env.dir) != TERN_OK) {
		log_err("cannot open the directory store %s", path);
		return 1;
	}
	if (admin_name) {
		int rc = set_admin(&env, admin_name);
		dir_close(env.dir);
		return rc;
	}
	struct dir_conn *c = dir_conn_open(env.dir);
	if (!c || first_admin(&env, c) < 0)
		return 1;
	admin_rename_recover(&env, c); /* an interrupted rename, before any service */

	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	char cert[PATH_MAX + 64], key[PATH_MAX + 64];
	snprintf(cert, sizeof cert, "%s/tls/server.crt", root);
	snprintf(key, sizeof key, "%s/tls/server.key", root);
	SSL_CTX *tls = NULL;
	if (tls_ensure_identity(cert, key, host) == 0)
		tls = tls_server_ctx(cert, key);
	if (!tls)
		log_warn("TLS is not available: #!TLS and the implicit-TLS listeners are off");
	if (tls) {
		/* the Tls* settings; changes through the CLI apply to new connections at once */
		struct tls_params tp;
		char why[300];
		settings_tls_params(c, &tp);
		if (tls_server_apply(&tp, why, sizeof why) < 0) {
			log_warn("TLS settings not usable (%s): using the defaults", why);
			struct tls_params def;
			tls_params_default(&def);
			tls_server_apply(&def, why, sizeof why);
		}
	}

	ctrl_srv = (struct ctrl_server){.env = &env, .tls = tls, .service_id = SVC_CTRL, .version = TERN_VERSION};
	cli_srv = (struct cli_server){.env = &env, .tls = tls, .service_id = SVC_CLI, .version = TERN_VERSION};
	if (listen_init() < 0)
		return 1;
	/* Before the first listener is bound: a SIGTERM sent as soon as a
	 * port answers must stop the server cleanly, not kill it. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct listener ls[4 * LISTEN_MAX_ADDRS];
	int nls = 0;
	char ctrl_list[512], ctrls_list[512];
	if (dev) {
		snprintf(ctrl_list, sizeof ctrl_list, "127.0.0.1:6017,[::1]:6017");
		snprintf(ctrls_list, sizeof ctrls_list, "127.0.0.1:6018,[::1]:6018");
	} else {
		settings_get(c, "CtrlListen", ctrl_list, sizeof ctrl_list);
		settings_get(c, "CtrlsListen", ctrls_list, sizeof ctrls_list);
	}
	int off = dev ? offset : 0;
	if (add_listeners(c, ls, &nls, ctrl_list, off, SVC_CTRL, false, "controller") < 0)
		return 1;
	if (tls && add_listeners(c, ls, &nls, ctrls_list, off, SVC_CTRL, true, "controller-tls") < 0)
		return 1;
	/* The admin CLI: thread-per-session like the controller. */
	char cli_list[512], clis_list[512];
	if (dev) {
		snprintf(cli_list, sizeof cli_list, "127.0.0.1:7000,[::1]:7000");
		snprintf(clis_list, sizeof clis_list, "127.0.0.1:7001,[::1]:7001");
	} else {
		settings_get(c, "CliListen", cli_list, sizeof cli_list);
		settings_get(c, "CliTlsListen", clis_list, sizeof clis_list);
	}
	if (add_listeners(c, ls, &nls, cli_list, off, SVC_CLI, false, "cli") < 0)
		return 1;
	if (tls && add_listeners(c, ls, &nls, clis_list, off, SVC_CLI, true, "cli-tls") < 0)
		return 1;
	/* Mail services: bound now (before dropping privileges), served by the
	 * event loop. */
	static const struct {
		const char *setting, *dev, *what;
		int service;
		bool tls;
	} mail[] = {
		{"SmtpListen", "127.0.0.1:2525,[::1]:2525", "smtp", SVC_SMTP, false},
		{"SubmissionListen", "127.0.0.1:2587,[::1]:2587", "submission", SVC_SUBMISSION, false},
		{"SmtpsListen", "127.0.0.1:2465,[::1]:2465", "smtps", SVC_SMTPS, true},
		{"Pop3Listen", "127.0.0.1:2110,[::1]:2110", "pop3", SVC_POP3, false},
		{"Pop3sListen", "127.0.0.1:2995,[::1]:2995", "pop3s", SVC_POP3S, true},
	};
	struct listener mls[5 * LISTEN_MAX_ADDRS];
	int nmls = 0;
	for (size_t i = 0; i < sizeof mail / sizeof *mail; i++) {
		if (mail[i].tls && !tls)
			continue;
		char list[512];
		if (dev)
			snprintf(list, sizeof list, "%s", mail[i].dev);
		else
			settings_get(c, mail[i].setting, list, sizeof list);
		if (add_listeners(c, mls, &nmls, list, off, mail[i].service, mail[i].tls, mail[i].what) < 0)
			return 1;
	}
	if (!dev && geteuid() == 0) {
		char user[128];
		settings_get(c, "RunAsUser", user, sizeof user);
		if (drop_privileges(root, user) < 0)
			return 1;
		struct dir_conn *probe = dir_conn_open(env.dir);
		if (!probe) {
			log_err("user %s cannot open %s/tern.db: every parent directory of the data root must be "
				"searchable by that user",
				user, root);
			return 1;
		}
		dir_conn_close(probe);
	}
	dir_conn_close(c);

	if (spool_init(env.rootfd) < 0) {
		log_err("cannot prepare the spool: %s", strerror(errno));
		return 1;
	}
	struct workq *io = workq_new(16, "io");
	struct deliver *dl = deliver_start(&env, 4);
	env.requeue = requeue;
	env.requeue_arg = dl;
	dns_set_tuning_source(settings_dns_tuning, env.dir);
	struct dir_conn *sc = dir_conn_open(env.dir);
	int out_threads = (int)settings_get_int(sc, "SmtpOutThreads");
	dir_conn_close(sc);
	struct outbound *ob = outbound_start(&env, dl, out_threads);
	env.outbound = to_outbound;
	env.outbound_arg = ob;
	env.queue = outbound_ops(ob);
	struct evloop *lp = evloop_new();
	struct smtp_server *smtp = smtp_server_new(&env, lp, io, dl, tls);
	/* the send counters of the last run (smtp/send_store.h) */
	struct dir_conn *lc = dir_conn_open(env.dir);
	struct send_store *sends_store = send_store_open(smtp_server_sends(smtp), env.rootfd, lc);
	dir_conn_close(lc);
	env.sends = smtp_server_sends(smtp);
	struct pop3_server *pop3 = pop3_server_new(&env, lp, io, tls);
	for (int i = 0; i < nmls; i++) {
		bool is_smtp = mls[i].service < SVC_POP3;
		if (evloop_listen(lp, &mls[i], is_smtp ? smtp_accept : pop3_accept, is_smtp ? (void *)smtp : (void *)pop3) <
		    0) {
			log_err("cannot attach listener %s", mls[i].desc);
			return 1;
		}
	}
	/* the listeners the CLI edits: live changes after a COMMIT */
	const struct live_svc live_svcs[] = {
		{"cli", "CliListen", SVC_CLI, false, NULL, NULL, "cli"},
		{"cli", "CliTlsListen", SVC_CLI, true, NULL, NULL, "cli-tls"},
		{"smtp", "SmtpListen", SVC_SMTP, false, smtp_accept, smtp, "smtp"},
		{"smtp", "SmtpsListen", SVC_SMTPS, true, smtp_accept, smtp, "smtps"},
		{"pop3", "Pop3Listen", SVC_POP3, false, pop3_accept, pop3, "pop3"},
		{"pop3", "Pop3sListen", SVC_POP3S, true, pop3_accept, pop3, "pop3s"},
	};
	struct live_listeners *live =
		live_listeners_new(env.dir, lp, live_svcs, (int)(sizeof live_svcs / sizeof *live_svcs), dev, tls != NULL);
	for (int i = 0; i < nls; i++)
		live_listeners_note(live, ls[i].service, ls[i].tls, ls[i].addr, ls[i].fd);
	for (int i = 0; i < nmls; i++)
		live_listeners_note(live, mls[i].service, mls[i].tls, mls[i].addr, mls[i].fd);
	if (dev)
		live_listeners_baseline(live);
	if (evloop_start(lp) < 0)
		return 1;
	static struct service_ctl svc_ctl;
	static struct service_ops svc_ops;
	svc_ctl = (struct service_ctl){.lp = lp, .ob = ob};
	svc_ops = (struct service_ops){&svc_ctl, svc_set_running, svc_running};
	env.services = &svc_ops;
	env.listeners_arg = live;
	env.listeners_sync = live_listeners_sync;
	deliver_recover(dl);
	struct poplink *links = poplink_start(&env, dl);

	rehash_start(&env);
	pthread_t hk;
	pthread_create(&hk, NULL, housekeeping, &env);
	log_info("ternd %s ready (data root %s%s)", TERN_VERSION, root, dev ? ", development mode" : "");
	listen_run(ls, nls, session);
	log_info("stopping");
	poplink_stop(links);
	env.services = NULL;
	env.listeners_sync = NULL;
	env.sends = NULL;
	evloop_halt(lp);
	workq_free(io);
	send_store_close(sends_store); /* the last counts, written */
	smtp_server_free(smtp);
	pop3_server_free(pop3);
	evloop_free(lp);
	live_listeners_free(live);
	outbound_halt(ob);
	deliver_stop(dl);
	outbound_free(ob);
	pthread_mutex_lock(&hk_mu);
	hk_stop = true;
	pthread_cond_broadcast(&hk_cv);
	pthread_mutex_unlock(&hk_mu);
	pthread_join(hk, NULL);
	rehash_stop();
	dir_close(env.dir);
	if (tls)
		SSL_CTX_free(tls);
	tls_server_cleanup();
	close(env.rootfd);
	log_info("stopped");
	log_close();
	return 0;
}

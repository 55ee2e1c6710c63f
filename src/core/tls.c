/*
 * tls - self-signed identity generation, server context set-up and the
 * server's current TLS parameters (see tls.h).
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"

static int pem_to_buf_key(EVP_PKEY *k, struct buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(b);
		return -1;
	}
	char *p;
	long n = BIO_get_mem_data(b, &p);
	buf_append(out, p, (size_t)n);
	BIO_free(b);
	return 0;
}

static int pem_to_buf_cert(X509 *x, struct buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || !PEM_write_bio_X509(b, x)) {
		BIO_free(b);
		return -1;
	}
	char *p;
	long n = BIO_get_mem_data(b, &p);
	buf_append(out, p, (size_t)n);
	BIO_free(b);
	return 0;
}

int tls_ensure_identity(const char *certfile, const char *keyfile, const char *hostname)
{
	if (access(certfile, R_OK) == 0 && access(keyfile, R_OK) == 0)
		return 0;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	int rc = -1;
	struct buf kb = BUF_INIT, cb = BUF_INIT;
	if (!key || !x)
		goto out;
	unsigned char serial[16];
	FILE *ur = fopen("/dev/urandom", "rb");
	if (!ur || fread(serial, 1, sizeof serial, ur) != sizeof serial) {
		if (ur)
			fclose(ur);
		goto out;
	}
	fclose(ur);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Tern", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(x, name);
	char san[300];
	snprintf(san, sizeof san, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(x, key, EVP_sha256()))
		goto out;
	if (pem_to_buf_key(key, &kb) < 0 || pem_to_buf_cert(x, &cb) < 0)
		goto out;
	if (fs_write_atomic(keyfile, kb.data, kb.len, 0600) < 0 ||
	    fs_write_atomic(certfile, cb.data, cb.len, 0644) < 0)
		goto out;
	log_info("created self-signed TLS certificate %s for %s", certfile, hostname);
	rc = 0;
out:
	if (rc < 0)
		log_err("could not create TLS identity in %s", certfile);
	buf_free(&kb);
	buf_free(&cb);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* ---- the current parameters ---- */

struct tls_live {
	int refs; /* under live_mu */
	int minv, maxv;
	char *ciphers;
	int prefer;
	EVP_PKEY *dh;
	int depth;
};

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tls_live *live;

static void live_put(struct tls_live *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&live_mu);
	bool last = --l->refs == 0;
	pthread_mutex_unlock(&live_mu);
	if (last) {
		free(l->ciphers);
		EVP_PKEY_free(l->dh);
		free(l);
	}
}

static void why_set(char *why, size_t wsz, const char *fmt, const char *arg)
{
	if (why && wsz)
		snprintf(why, wsz, fmt, arg);
}

/* "(tls1_2 tls1_3)" into the lowest and highest version; -1 (why) if bad. */
static int parse_versions(const char *v, int *minv, int *maxv, char *why, size_t wsz)
{
	char tmp[128];
	if (strlen(v) >= sizeof tmp) {
		why_set(why, wsz, "%s", "too long");
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s", v);
	int lo = 0, hi = 0;
	char *save = NULL;
	for (char *w = strtok_r(tmp, " \t,()", &save); w; w = strtok_r(NULL, " \t,()", &save)) {
		int ver;
		if (!strcasecmp(w, "tls1_2")) {
			ver = TLS1_2_VERSION;
		} else if (!strcasecmp(w, "tls1_3")) {
			ver = TLS1_3_VERSION;
		} else if (!strcasecmp(w, "tls1") || !strcasecmp(w, "tls1_1") || !strcasecmp(w, "ssl3") ||
			   !strcasecmp(w, "ssl2")) {
			why_set(why, wsz, "%s is refused: this server speaks TLS 1.2 and TLS 1.3 only", w);
			return -1;
		} else {
			why_set(why, wsz, "%s is not a protocol version (tls1_2, tls1_3)", w);
			return -1;
		}
		if (!lo || ver < lo)
			lo = ver;
		if (ver > hi)
			hi = ver;
	}
	if (!lo) {
		why_set(why, wsz, "%s", "at least one version is needed (tls1_2, tls1_3)");
		return -1;
	}
	*minv = lo;
	*maxv = hi;
	return 0;
}

static bool no_dhfile(const char *f)
{
	return !*f || !strcasecmp(f, "none");
}

/* Open a file below the working directory (the data root) without '..',
 * absolute paths or symlinks; the store and the key directory are refused. */
static int open_under_root(const char *rel, char *why, size_t wsz)
{
	char tmp[512];
	if (strlen(rel) >= sizeof tmp || rel[0] == '/' || strstr(rel, "..") || strchr(rel, '\\')) {
		why_set(why, wsz, "%s: a path relative to the data root, without '..'", rel);
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s", rel);
	char *comp[32];
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(tmp, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (n == 32) {
			why_set(why, wsz, "%s: too deep", rel);
			return -1;
		}
		comp[n++] = t;
	}
	if (!n || !strcmp(comp[0], "keys") || !strncmp(comp[0], "tern.db", 7)) {
		why_set(why, wsz, "%s: not a file this server may read", rel);
		return -1;
	}
	int dfd = AT_FDCWD;
	for (int i = 0; i < n; i++) {
		int last = i == n - 1;
		int fd = openat(dfd, comp[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY));
		if (dfd != AT_FDCWD)
			close(dfd);
		if (fd < 0) {
			why_set(why, wsz, "%s: not found or not readable (symbolic links are not followed)", rel);
			return -1;
		}
		dfd = fd;
	}
	struct stat st;
	if (fstat(dfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 65536) {
		close(dfd);
		why_set(why, wsz, "%s: not a regular file of at most 64 KB", rel);
		return -1;
	}
	return dfd;
}

/* The DH parameters of a PEM file under the data root. */
static EVP_PKEY *load_dh(const char *rel, char *why, size_t wsz)
{
	int fd = open_under_root(rel, why, wsz);
	if (fd < 0)
		return NULL;
	char data[65536];
	size_t len = 0;
	ssize_t r;
	while (len < sizeof data && (r = read(fd, data + len, sizeof data - len)) > 0)
		len += (size_t)r;
	close(fd);
	BIO *b = BIO_new_mem_buf(data, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_Parameters(b, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (!k || !EVP_PKEY_is_a(k, "DH")) {
		EVP_PKEY_free(k);
		why_set(why, wsz, "%s: no PEM Diffie-Hellman parameters in it", rel);
		return NULL;
	}
	return k;
}

/* Build (and check against a scratch context) the parameters p. */
static struct tls_live *live_build(const struct tls_params *p, char *why, size_t wsz)
{
	struct tls_live *l = calloc(1, sizeof *l);
	SSL_CTX *scratch = SSL_CTX_new(TLS_server_method());
	if (!l || !scratch) {
		why_set(why, wsz, "%s", "out of memory");
		goto fail;
	}
	l->refs = 1;
	l->prefer = p->prefer_server;
	l->depth = p->depth;
	if (parse_versions(p->versions, &l->minv, &l->maxv, why, wsz) < 0)
		goto fail;
	if (SSL_CTX_set_cipher_list(scratch, p->ciphers) != 1) {
		why_set(why, wsz, "%s: no TLS 1.2 cipher of this server matches", p->ciphers);
		goto fail;
	}
	l->ciphers = strdup(p->ciphers);
	if (!l->ciphers) {
		why_set(why, wsz, "%s", "out of memory");
		goto fail;
	}
	if (!no_dhfile(p->dhfile)) {
		l->dh = load_dh(p->dhfile, why, wsz);
		if (!l->dh)
			goto fail;
		EVP_PKEY_up_ref(l->dh);
		if (SSL_CTX_set0_tmp_dh_pkey(scratch, l->dh) != 1) {
			EVP_PKEY_free(l->dh);
			why_set(why, wsz, "%s: the DH parameters are too weak for this server (2048 bits or more)",
				p->dhfile);
			goto fail;
		}
	}
	ERR_clear_error();
	SSL_CTX_free(scratch);
	return l;
fail:
	ERR_clear_error();
	SSL_CTX_free(scratch);
	if (l) {
		free(l->ciphers);
		EVP_PKEY_free(l->dh);
		free(l);
	}
	return NULL;
}

int tls_setting_check(const char *name, const char *value, char *why, size_t wsz)
{
	struct tls_params p = {"(tls1_2 tls1_3)", "DEFAULT", 1, "none", 9};
	if (!strcmp(name, "TlsAllowedVersions")) {
		int lo, hi;
		return parse_versions(value, &lo, &hi, why, wsz);
	}
	if (!strcmp(name, "TlsCipherSuite"))
		snprintf(p.ciphers, sizeof p.ciphers, "%s", value);
	else if (!strcmp(name, "TlsDhParamFile"))
		snprintf(p.dhfile, sizeof p.dhfile, "%s", value);
	else
		return 0;
	if (strlen(value) >= (name[3] == 'C' ? sizeof p.ciphers : sizeof p.dhfile)) {
		why_set(why, wsz, "%s", "too long");
		return -1;
	}
	struct tls_live *l = live_build(&p, why, wsz);
	if (!l)
		return -1;
	live_put(l);
	return 0;
}

int tls_server_apply(const struct tls_params *p, char *why, size_t wsz)
{
	struct tls_live *l = live_build(p, why, wsz);
	if (!l)
		return -1;
	pthread_mutex_lock(&live_mu);
	struct tls_live *old = live;
	live = l;
	pthread_mutex_unlock(&live_mu);
	live_put(old);
	return 0;
}

void tls_server_cleanup(void)
{
	pthread_mutex_lock(&live_mu);
	struct tls_live *old = live;
	live = NULL;
	pthread_mutex_unlock(&live_mu);
	live_put(old);
}

/* At each ClientHello, before the version and the cipher are chosen: the
 * parameters current now. */
static int on_client_hello(SSL *ssl, int *al, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&live_mu);
	struct tls_live *l = live;
	if (l)
		l->refs++;
	pthread_mutex_unlock(&live_mu);
	if (!l)
		return SSL_CLIENT_HELLO_SUCCESS;
	int ok = SSL_set_min_proto_version(ssl, l->minv) == 1 && SSL_set_max_proto_version(ssl, l->maxv) == 1 &&
		 SSL_set_cipher_list(ssl, l->ciphers) == 1;
	if (l->prefer)
		SSL_set_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
	else
		SSL_clear_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (ok && l->dh) {
		EVP_PKEY_up_ref(l->dh);
		if (SSL_set0_tmp_dh_pkey(ssl, l->dh) != 1) {
			EVP_PKEY_free(l->dh);
			ok = 0;
		}
	}
	SSL_set_verify_depth(ssl, l->depth);
	live_put(l);
	if (!ok) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

SSL_CTX *tls_server_ctx(const char *certfile, const char *keyfile)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_client_hello_cb(ctx, on_client_hello, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_err("cannot load TLS certificate %s / key %s", certfile, keyfile);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

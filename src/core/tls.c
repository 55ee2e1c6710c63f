/*
 * tls - self-signed identity generation, server context set-up and the
 * server's current TLS parameters (see tls.h).
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
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
#include "listen.h"
#include "log.h"
#include "tls_files.h"
#include "xmalloc.h"

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
	char *ciphers;  /* TLS 1.2 list as applied */
	char *suites13; /* TLS 1.3 suites; NULL: OpenSSL's */
	int prefer;
	EVP_PKEY *dh;
	int depth;
	X509 *cert; /* NULL: the context's own (tls/server.crt) */
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
	int request;
	X509_STORE *cas;
	STACK_OF(X509_NAME) *ca_names;
};

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tls_live *live;

static void live_free(struct tls_live *l)
{
	free(l->ciphers);
	free(l->suites13);
	EVP_PKEY_free(l->dh);
	X509_free(l->cert);
	sk_X509_pop_free(l->chain, X509_free);
	EVP_PKEY_free(l->key);
	X509_STORE_free(l->cas);
	sk_X509_NAME_pop_free(l->ca_names, X509_NAME_free);
	free(l);
}

static void live_put(struct tls_live *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&live_mu);
	bool last = --l->refs == 0;
	pthread_mutex_unlock(&live_mu);
	if (last)
		live_free(l);
}

static void why_set(char *why, size_t wsz, const char *fmt, const char *arg)
{
	if (why && wsz)
		snprintf(why, wsz, fmt, arg);
}

void tls_params_default(struct tls_params *p)
{
	*p = (struct tls_params){.versions = "(tls1_2 tls1_3)", .ciphers = "DEFAULT", .prefer_server = 1,
				 .dhfile = "none", .depth = 9, .certfile = "tls/server.crt", .cafile = "none",
				 .request_client = 0, .ephemeral = 1};
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

static bool no_file(const char *f)
{
	return !*f || !strcasecmp(f, "none");
}

/* Does the cipher list of ctx hold the TLS 1.3 suite named name? */
static bool has_suite(SSL_CTX *ctx, const char *name)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk); i++)
		if (!strcmp(SSL_CIPHER_standard_name(sk_SSL_CIPHER_value(sk, i)), name))
			return true;
	return false;
}

#define NOT_EPHEMERAL ":!kRSA:!kRSAPSK:!kPSK"

/* Split the list into its TLS 1.2 part and its TLS 1.3 suites (each entry
 * checked on its own, so that the refusal names it) and check the result
 * on the scratch context. */
static int build_ciphers(struct tls_live *l, const char *list, int ephemeral, SSL_CTX *scratch, char *why,
			 size_t wsz)
{
	char tmp[1024];
	if (strlen(list) >= sizeof tmp) {
		why_set(why, wsz, "%s", "too long");
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s", list);
	struct buf v12 = BUF_INIT, v13 = BUF_INIT;
	int rc = -1;
	char *save = NULL;
	for (char *w = strtok_r(tmp, ": ,", &save); w; w = strtok_r(NULL, ": ,", &save)) {
		if (!strncasecmp(w, "TLS_", 4)) {
			for (char *c = w; *c; c++)
				*c = (char)toupper((unsigned char)*c);
			if (SSL_CTX_set_ciphersuites(scratch, w) != 1 || !has_suite(scratch, w)) {
				why_set(why, wsz,
					"%s: not a TLS 1.3 suite of this server (TLS_AES_256_GCM_SHA384, "
					"TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256, TLS_AES_128_CCM_SHA256)",
					w);
				goto out;
			}
			buf_printf(&v13, "%s%s", v13.len ? ":" : "", w);
			continue;
		}
		if (!strchr("!-+@", w[0]) && SSL_CTX_set_cipher_list(scratch, w) != 1) {
			why_set(why, wsz, "%s: no TLS 1.2 cipher of this server matches", w);
			goto out;
		}
		buf_printf(&v12, "%s%s", v12.len ? ":" : "", w);
	}
	if (!v12.len && !v13.len) {
		why_set(why, wsz, "%s", "empty (DEFAULT: OpenSSL's defaults)");
		goto out;
	}
	if (!v12.len)
		buf_printf(&v12, "DEFAULT");
	if (SSL_CTX_set_cipher_list(scratch, v12.data) != 1) {
		why_set(why, wsz, "%s: no TLS 1.2 cipher of this server matches", v12.data);
		goto out;
	}
	if (ephemeral) {
		buf_printf(&v12, NOT_EPHEMERAL);
		if (SSL_CTX_set_cipher_list(scratch, v12.data) != 1) {
			v12.data[v12.len - strlen(NOT_EPHEMERAL)] = '\0';
			why_set(why, wsz,
				"%s: no TLS 1.2 cipher with an ephemeral (EC)DHE key exchange matches "
				"(useEphemeralKey yes)",
				v12.data);
			goto out;
		}
	}
	if (v13.len && SSL_CTX_set_ciphersuites(scratch, v13.data) != 1) {
		why_set(why, wsz, "%s: not a list of TLS 1.3 suites", v13.data);
		goto out;
	}
	l->ciphers = xstrndup(v12.data, v12.len);
	l->suites13 = v13.len ? xstrndup(v13.data, v13.len) : NULL;
	rc = 0;
out:
	buf_free(&v12);
	buf_free(&v13);
	return rc;
}

static int part_dh(struct tls_live *l, const char *file, SSL_CTX *scratch, char *why, size_t wsz)
{
	if (no_file(file))
		return 0;
	l->dh = tls_load_dh(file, why, wsz);
	if (!l->dh)
		return -1;
	EVP_PKEY_up_ref(l->dh);
	if (SSL_CTX_set0_tmp_dh_pkey(scratch, l->dh) != 1) {
		EVP_PKEY_free(l->dh);
		why_set(why, wsz, "%s: the DH parameters are too weak for this server (2048 bits or more)", file);
		return -1;
	}
	return 0;
}

static int part_cert(struct tls_live *l, const char *file, SSL_CTX *scratch, char *why, size_t wsz)
{
	if (!*file) {
		why_set(why, wsz, "%s", "a PEM file under the data root is needed");
		return -1;
	}
	if (tls_load_identity(file, &l->cert, &l->chain, &l->key, why, wsz) < 0)
		return -1;
	if (SSL_CTX_use_cert_and_key(scratch, l->cert, l->key, l->chain, 1) != 1) {
		const char *r = ERR_reason_error_string(ERR_peek_last_error());
		if (why && wsz)
			snprintf(why, wsz, "%.300s: the certificate is not usable (%s)", file, r ? r : "refused");
		return -1;
	}
	return 0;
}

static int part_cas(struct tls_live *l, const char *file, char *why, size_t wsz)
{
	if (no_file(file))
		return 0;
	l->cas = tls_load_cas(file, &l->ca_names, why, wsz);
	return l->cas ? 0 : -1;
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
	l->request = p->request_client;
	if (parse_versions(p->versions, &l->minv, &l->maxv, why, wsz) < 0 ||
	    build_ciphers(l, p->ciphers, p->ephemeral, scratch, why, wsz) < 0 ||
	    part_dh(l, p->dhfile, scratch, why, wsz) < 0 || part_cert(l, p->certfile, scratch, why, wsz) < 0 ||
	    part_cas(l, p->cafile, why, wsz) < 0)
		goto fail;
	if (p->request_client && !l->cas) {
		why_set(why, wsz, "%s",
			"requestClientAuth yes needs a caFile (PEM CA certificates under the data root) to verify "
			"client certificates");
		goto fail;
	}
	ERR_clear_error();
	SSL_CTX_free(scratch);
	return l;
fail:
	ERR_clear_error();
	SSL_CTX_free(scratch);
	if (l)
		live_free(l);
	return NULL;
}

int tls_params_check(const struct tls_params *p, char *why, size_t wsz)
{
	struct tls_live *l = live_build(p, why, wsz);
	if (!l)
		return -1;
	live_put(l);
	return 0;
}

/* One setting on its own; the combinations are checked by
 * tls_params_check() at the COMMIT that stores them. */
int tls_setting_check(const char *name, const char *value, char *why, size_t wsz)
{
	if (!strcmp(name, "TlsAllowedVersions")) {
		int lo, hi;
		return parse_versions(value, &lo, &hi, why, wsz);
	}
	if (strcmp(name, "TlsCipherSuite") && strcmp(name, "TlsDhParamFile") && strcmp(name, "TlsCertFile") &&
	    strcmp(name, "TlsCaFile"))
		return 0;
	if (strlen(value) >= (strcmp(name, "TlsCipherSuite") ? 512 : 1024)) {
		why_set(why, wsz, "%s", "too long");
		return -1;
	}
	struct tls_live *l = calloc(1, sizeof *l);
	SSL_CTX *scratch = SSL_CTX_new(TLS_server_method());
	int rc = -1;
	if (!l || !scratch)
		why_set(why, wsz, "%s", "out of memory");
	else if (!strcmp(name, "TlsCipherSuite"))
		rc = build_ciphers(l, value, 0, scratch, why, wsz);
	else if (!strcmp(name, "TlsDhParamFile"))
		rc = part_dh(l, value, scratch, why, wsz);
	else if (!strcmp(name, "TlsCertFile"))
		rc = part_cert(l, value, scratch, why, wsz);
	else
		rc = part_cas(l, value, why, wsz);
	ERR_clear_error();
	SSL_CTX_free(scratch);
	if (l)
		live_free(l);
	return rc;
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

/* ---- client certificates in the log ---- */

static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
static int idx_fd = -1, idx_logged = -1;

static void idx_init(void)
{
	idx_fd = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	idx_logged = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

void tls_note_fd(SSL *ssl, int fd)
{
	pthread_once(&idx_once, idx_init);
	if (ssl && idx_fd >= 0)
		SSL_set_ex_data(ssl, idx_fd, (void *)(intptr_t)(fd + 1));
}

static void peer_of(SSL *ssl, char *out, size_t sz)
{
	int fd = SSL_get_fd(ssl);
	if (fd < 0 && idx_fd >= 0)
		fd = (int)(intptr_t)SSL_get_ex_data(ssl, idx_fd) - 1;
	if (fd >= 0)
		listen_peer_text(fd, out, sz);
	else
		snprintf(out, sz, "?");
}

/* "CN=x,O=y" (RFC 2253, printable ASCII only). */
static void name_text(X509_NAME *n, char *out, size_t sz)
{
	out[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	char *p;
	long len = BIO_get_mem_data(b, &p);
	size_t j = 0;
	for (long i = 0; i < len && j + 1 < sz; i++)
		out[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	out[j] = '\0';
	BIO_free(b);
}

static int on_verify(int ok, X509_STORE_CTX *xc)
{
	if (ok)
		return 1;
	SSL *ssl = X509_STORE_CTX_get_ex_data(xc, SSL_get_ex_data_X509_STORE_CTX_idx());
	X509 *x = X509_STORE_CTX_get_current_cert(xc);
	char peer[128], subj[256] = "";
	if (x)
		name_text(X509_get_subject_name(x), subj, sizeof subj);
	if (ssl)
		peer_of(ssl, peer, sizeof peer);
	else
		snprintf(peer, sizeof peer, "?");
	log_warn("tls %s: client certificate refused: %s (depth %d, subject %s)", peer,
		 X509_verify_cert_error_string(X509_STORE_CTX_get_error(xc)), X509_STORE_CTX_get_error_depth(xc),
		 *subj ? subj : "-");
	return 0;
}

static void on_info(const SSL *cssl, int where, int ret)
{
	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_DONE))
		return;
	SSL *ssl = (SSL *)cssl;
	X509 *x = SSL_get0_peer_certificate(ssl);
	if (!x || SSL_get_verify_result(ssl) != X509_V_OK || idx_logged < 0 || SSL_get_ex_data(ssl, idx_logged))
		return;
	SSL_set_ex_data(ssl, idx_logged, (void *)1);
	char peer[128], subj[256], iss[256];
	peer_of(ssl, peer, sizeof peer);
	name_text(X509_get_subject_name(x), subj, sizeof subj);
	name_text(X509_get_issuer_name(x), iss, sizeof iss);
	log_info("tls %s: client certificate verified: subject=%s issuer=%s", peer, subj, iss);
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
		 SSL_set_cipher_list(ssl, l->ciphers) == 1 &&
		 (!l->suites13 || SSL_set_ciphersuites(ssl, l->suites13) == 1);
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
	if (ok && l->cert) {
		/* only this identity: none of the context's may be chosen */
		SSL_certs_clear(ssl);
		ok = SSL_use_cert_and_key(ssl, l->cert, l->key, l->chain, 1) == 1;
	}
	if (ok && l->request && l->cas) {
		STACK_OF(X509_NAME) *names = SSL_dup_CA_list(l->ca_names);
		ok = names && SSL_set1_verify_cert_store(ssl, l->cas) == 1;
		if (ok)
			SSL_set_client_CA_list(ssl, names);
		else
			sk_X509_NAME_pop_free(names, X509_NAME_free);
		SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, on_verify);
	}
	SSL_set_verify_depth(ssl, l->depth);
	live_put(l);
	if (!ok) {
		ERR_clear_error();
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

SSL_CTX *tls_server_ctx(const char *certfile, const char *keyfile)
{
	pthread_once(&idx_once, idx_init);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_client_hello_cb(ctx, on_client_hello, NULL);
	SSL_CTX_set_info_callback(ctx, on_info);
	/* sessions resumed while client certificates are asked for need it */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tern", 4);
	if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_err("cannot load TLS certificate %s / key %s", certfile, keyfile);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

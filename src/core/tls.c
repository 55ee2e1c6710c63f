/*
 * tls - self-signed identity generation and server context set-up.
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
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

SSL_CTX *tls_server_ctx(const char *certfile, const char *keyfile)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_err("cannot load TLS certificate %s / key %s", certfile, keyfile);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

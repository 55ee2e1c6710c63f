/*
 * tls_files - PEM files under the data root (see tls_files.h).
 */
#include "tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void why_set(char *why, size_t wsz, const char *fmt, const char *arg)
{
	if (why && wsz)
		snprintf(why, wsz, fmt, arg);
}

/* Never ask for a pass phrase: encrypted keys are refused. */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Open a file below the working directory (the data root) without '..',
 * absolute paths or symlinks; the store and the key directory are refused. */
static int open_under_root(const char *rel, size_t max, char *why, size_t wsz)
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
	if (fstat(dfd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(dfd);
		if (max >= 1024 * 1024)
			why_set(why, wsz, "%s: not a regular file of at most 1 MB", rel);
		else
			why_set(why, wsz, "%s: not a regular file of at most 64 KB", rel);
		return -1;
	}
	return dfd;
}

char *tls_read_under_root(const char *rel, size_t max, size_t *len_r, char *why, size_t wsz)
{
	int fd = open_under_root(rel, max, why, wsz);
	if (fd < 0)
		return NULL;
	char *data = malloc(max + 1);
	size_t len = 0;
	ssize_t r = 0;
	while (data && len < max && (r = read(fd, data + len, max - len)) > 0)
		len += (size_t)r;
	close(fd);
	if (!data || r < 0) {
		free(data);
		why_set(why, wsz, "%s: cannot be read", rel);
		return NULL;
	}
	data[len] = '\0';
	*len_r = len;
	return data;
}

EVP_PKEY *tls_load_dh(const char *rel, char *why, size_t wsz)
{
	size_t len;
	char *data = tls_read_under_root(rel, 65536, &len, why, wsz);
	if (!data)
		return NULL;
	BIO *b = BIO_new_mem_buf(data, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_Parameters(b, NULL) : NULL;
	BIO_free(b);
	free(data);
	ERR_clear_error();
	if (!k || !EVP_PKEY_is_a(k, "DH")) {
		EVP_PKEY_free(k);
		why_set(why, wsz, "%s: no PEM Diffie-Hellman parameters in it", rel);
		return NULL;
	}
	return k;
}

/* The private key in data (NULL: none). */
static EVP_PKEY *key_of(const char *data, size_t len)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_pass, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	return k;
}

int tls_load_identity(const char *rel, X509 **cert_r, STACK_OF(X509) **chain_r, EVP_PKEY **key_r, char *why,
		      size_t wsz)
{
	size_t len;
	char *data = tls_read_under_root(rel, 65536, &len, why, wsz);
	if (!data)
		return -1;
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	EVP_PKEY *key = NULL;
	BIO *b = BIO_new_mem_buf(data, (int)len);
	X509 *x;
	while (b && chain && (x = PEM_read_bio_X509(b, NULL, no_pass, NULL))) {
		if (!leaf)
			leaf = x;
		else if (!sk_X509_push(chain, x))
			X509_free(x);
	}
	BIO_free(b);
	ERR_clear_error();
	int rc = -1;
	if (!leaf || !chain) {
		why_set(why, wsz, "%s: no PEM certificate in it", rel);
		goto out;
	}
	key = key_of(data, len);
	size_t rl = strlen(rel);
	if (!key && rl > 4 && !strcmp(rel + rl - 4, ".crt")) {
		char kf[512];
		snprintf(kf, sizeof kf, "%.*s.key", (int)(rl - 4), rel);
		size_t klen;
		char *kd = tls_read_under_root(kf, 65536, &klen, NULL, 0);
		if (kd) {
			key = key_of(kd, klen);
			OPENSSL_cleanse(kd, klen);
			free(kd);
		}
	}
	if (!key) {
		why_set(why, wsz, "%s: no unencrypted PEM private key in it", rel);
		goto out;
	}
	if (X509_check_private_key(leaf, key) != 1) {
		why_set(why, wsz, "%s: the private key does not match the certificate", rel);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_cleanse(data, len);
	free(data);
	if (rc < 0) {
		X509_free(leaf);
		sk_X509_pop_free(chain, X509_free);
		EVP_PKEY_free(key);
		return -1;
	}
	*cert_r = leaf;
	*chain_r = chain;
	*key_r = key;
	return 0;
}

X509_STORE *tls_load_cas(const char *rel, STACK_OF(X509_NAME) **names_r, char *why, size_t wsz)
{
	size_t len;
	char *data = tls_read_under_root(rel, 1024 * 1024, &len, why, wsz);
	if (!data)
		return NULL;
	X509_STORE *st = X509_STORE_new();
	STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
	BIO *b = BIO_new_mem_buf(data, (int)len);
	int n = 0, bad = 0;
	X509 *x;
	while (st && names && b && !bad && (x = PEM_read_bio_X509(b, NULL, no_pass, NULL))) {
		X509_NAME *nm = X509_NAME_dup(X509_get_subject_name(x));
		if (X509_check_ca(x) == 0)
			bad = 1;
		else if (X509_STORE_add_cert(st, x) != 1 || !nm || !sk_X509_NAME_push(names, nm))
			bad = 2;
		else
			nm = NULL, n++;
		X509_NAME_free(nm);
		X509_free(x);
	}
	BIO_free(b);
	free(data);
	ERR_clear_error();
	if (!st || !names || bad || !n) {
		X509_STORE_free(st);
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		why_set(why, wsz,
			bad == 1 ? "%s: a certificate in it is not a CA certificate"
			: bad	 ? "%s: cannot be loaded"
				 : "%s: no PEM CA certificate in it",
			rel);
		return NULL;
	}
	*names_r = names;
	return st;
}

/*
 * secret - OpenSSL-backed helpers for secrets.
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

static unsigned char box_key[32];
static bool box_ready;

void secret_random(void *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1)
		fatal("RAND_bytes failed");
}

void secret_random_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	while (n) {
		size_t k = n < sizeof raw ? n : sizeof raw;
		secret_random(raw, k);
		for (size_t i = 0; i < k; i++) {
			*out++ = hex[raw[i] >> 4];
			*out++ = hex[raw[i] & 15];
		}
		n -= k;
	}
	*out = '\0';
}

void secret_md5_hex(const void *data, size_t len, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
		fatal("MD5 digest failed");
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}

bool secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

bool secret_equal_str(const char *a, const char *b)
{
	return secret_equal(a, strlen(a), b, strlen(b));
}

void secret_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int secret_box_init(const char *keyfile)
{
	struct buf b = BUF_INIT;
	if (fs_read_all(keyfile, 64, &b) == 0 && b.len == sizeof box_key) {
		memcpy(box_key, b.data, sizeof box_key);
		secret_wipe(b.data, b.len);
		buf_free(&b);
		box_ready = true;
		return 0;
	}
	if (b.len) {
		buf_free(&b);
		log_err("%s: wrong size, refusing to replace it", keyfile);
		errno = EINVAL;
		return -1;
	}
	buf_free(&b);
	if (access(keyfile, F_OK) == 0) {
		log_err("%s: unreadable", keyfile);
		return -1;
	}
	secret_random(box_key, sizeof box_key);
	if (fs_write_atomic(keyfile, box_key, sizeof box_key, 0600) < 0)
		return -1;
	box_ready = true;
	return 0;
}

void secret_box_seal(const void *plain, size_t len, struct buf *out)
{
	if (!box_ready)
		fatal("secret box used before init");
	unsigned char nonce[12], tag[16];
	secret_random(nonce, sizeof nonce);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c)
		fatal("EVP_CIPHER_CTX_new failed");
	buf_reserve(out, len + 28);
	buf_append(out, nonce, sizeof nonce);
	int n = 0, fin = 0;
	if (!EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, box_key, nonce) ||
	    !EVP_EncryptUpdate(c, (unsigned char *)out->data + out->len, &n, plain, (int)len) ||
	    !EVP_EncryptFinal_ex(c, (unsigned char *)out->data + out->len + n, &fin) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag))
		fatal("AES-GCM seal failed");
	out->len += (size_t)(n + fin);
	buf_append(out, tag, sizeof tag);
	EVP_CIPHER_CTX_free(c);
}

int secret_box_open(const void *box, size_t len, struct buf *plain_r)
{
	if (!box_ready || len < 28)
		return -1;
	const unsigned char *p = box;
	size_t clen = len - 28;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c)
		fatal("EVP_CIPHER_CTX_new failed");
	buf_reserve(plain_r, clen + 16);
	int n = 0, fin = 0, ok;
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, box_key, p) &&
	     EVP_DecryptUpdate(c, (unsigned char *)plain_r->data + plain_r->len, &n, p + 12, (int)clen) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(p + 12 + clen)) &&
	     EVP_DecryptFinal_ex(c, (unsigned char *)plain_r->data + plain_r->len + n, &fin) > 0;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		secret_wipe(plain_r->data + plain_r->len, clen);
		return -1;
	}
	plain_r->len += (size_t)(n + fin);
	plain_r->data[plain_r->len] = '\0';
	return 0;
}

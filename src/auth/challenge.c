/*
 * challenge - CRAM-MD5 and APOP verification against sealed secrets.
 */
#include "challenge.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/secret.h"
#include "../smtp/smtp_parse.h"

void challenge_make(const char *host, char *out, size_t sz)
{
	char rnd[17];
	secret_random_hex(rnd, 8);
	snprintf(out, sz, "<%s.%lld@%s>", rnd, (long long)time(NULL), host);
}

bool challenge_verify(struct dir_conn *c, const char *address, enum challenge_kind kind, const char *challenge,
		      const char *hexdigest, struct dir_user *u_r)
{
	char local[256], dom[256], real[256];
	struct dir_user u;
	if (!smtp_addr_split(address, local, sizeof local, dom, sizeof dom) ||
	    !dir_domain_resolve(c, dom, real, sizeof real) || !dir_user_get(c, real, local, &u) || u.type != 'U')
		return false;
	unsigned char box[2048];
	size_t len = sizeof box;
	if (!dir_user_secret(c, u.id, box, &len))
		return false;
	struct buf secret = BUF_INIT;
	if (secret_box_open(box, len, &secret) < 0) {
		buf_free(&secret);
		return false;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (kind == CHALLENGE_CRAM_MD5) {
		HMAC(EVP_md5(), secret.data, (int)secret.len, (const unsigned char *)challenge, strlen(challenge), md,
		     &mdlen);
	} else {
		struct buf in = BUF_INIT;
		buf_puts(&in, challenge);
		buf_append(&in, secret.data, secret.len);
		EVP_Digest(in.data, in.len, md, &mdlen, EVP_md5(), NULL);
		secret_wipe(in.data, in.len);
		buf_free(&in);
	}
	secret_wipe(secret.data, secret.len);
	buf_free(&secret);
	char want[33], got[33];
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < 16 && i < mdlen; i++) {
		want[2 * i] = hex[md[i] >> 4];
		want[2 * i + 1] = hex[md[i] & 15];
	}
	want[32] = '\0';
	if (strlen(hexdigest) != 32)
		return false;
	for (int i = 0; i < 32; i++)
		got[i] = (char)tolower((unsigned char)hexdigest[i]);
	got[32] = '\0';
	bool ok = secret_equal(got, 32, want, 32);
	if (ok && u_r)
		*u_r = u;
	return ok;
}

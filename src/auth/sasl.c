/*
 * sasl - base64 and the PLAIN mechanism.
 */
#include "sasl.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "../core/secret.h"

int sasl_b64_decode(const char *in, char *out, size_t outsz)
{
	size_t n = strlen(in);
	if (n == 0 || n % 4 || n / 4 * 3 >= outsz)
		return -1;
	int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
	if (len < 0)
		return -1;
	if (in[n - 1] == '=')
		len--;
	if (n >= 2 && in[n - 2] == '=')
		len--;
	out[len] = '\0';
	return len;
}

int sasl_plain_parse(const char *b64, char *user, size_t usz, char *pass, size_t psz)
{
	char raw[1200];
	int n = sasl_b64_decode(b64, raw, sizeof raw);
	const char *authz = raw, *u = NULL, *p = NULL;
	if (n > 0) {
		const char *z1 = memchr(raw, 0, (size_t)n);
		if (z1) {
			u = z1 + 1;
			const char *z2 = memchr(u, 0, (size_t)(raw + n - u));
			if (z2)
				p = z2 + 1;
		}
	}
	int rc = -1;
	if (u && p && (!*authz || !strcasecmp(authz, u)) && strlen(u) < usz && strlen(p) < psz) {
		memcpy(user, u, strlen(u) + 1);
		memcpy(pass, p, strlen(p) + 1);
		rc = 0;
	}
	secret_wipe(raw, sizeof raw);
	return rc;
}

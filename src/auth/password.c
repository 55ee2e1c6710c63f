/*
 * password - yescrypt hashing and verification through crypt_r().
 */
#include "password.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/secret.h"
#include "../core/xmalloc.h"

int pw_hash(const char *password, int cost, char *out, size_t outsz)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned char rnd[32];
	secret_random(rnd, sizeof rnd);
	if (cost < 1 || cost > 11)
		cost = 5;
	if (!crypt_gensalt_rn("$y$", (unsigned long)cost, (const char *)rnd, sizeof rnd, salt, sizeof salt))
		return -1;
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *h = crypt_r(password, salt, cd);
	int rc = -1;
	if (h && h[0] == '$' && strlen(h) < outsz) {
		snprintf(out, outsz, "%s", h);
		rc = 0;
	}
	secret_wipe(cd, sizeof *cd);
	free(cd);
	return rc;
}

bool pw_verify(const char *password, const char *hash)
{
	if (!hash || hash[0] != '$')
		return false;
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *h = crypt_r(password, hash, cd);
	bool ok = h && h[0] == '$' && secret_equal_str(h, hash);
	secret_wipe(cd, sizeof *cd);
	free(cd);
	return ok;
}

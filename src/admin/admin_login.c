/*
 * admin_login - admin accounts: creation and controller login (clear text
 * or XMail's MD5 challenge), with the reversible secret the MD5 form needs
 * kept in the data root's secret box.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../auth/password.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "admin.h"
#include "admin_cli.h"

struct account_put {
	const char *name;
	char hash[160];
	struct buf box;
};

static enum tern_err put_account(struct dir_conn *c, void *arg)
{
	struct account_put *a = arg;
	return dir_admin_put(c, a->name, a->hash, a->box.data, a->box.len);
}

enum tern_err admin_account_set(struct admin_env *env, const char *name, const char *password)
{
	struct account_put a = {.name = name, .box = BUF_INIT};
	if (pw_hash(password, 5, a.hash, sizeof a.hash) < 0)
		return TERN_E_INTERNAL;
	secret_box_seal(password, strlen(password), &a.box);
	enum tern_err e = dir_write(env->dir, put_account, &a);
	buf_free(&a.box);
	return e;
}

static char dummy_hash[160];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	char pw[33];
	secret_random_hex(pw, 16);
	if (pw_hash(pw, 5, dummy_hash, sizeof dummy_hash) < 0)
		dummy_hash[0] = '\0';
}

enum tern_err admin_login_clear(struct admin_ctx *ctx, const char *name, const char *password)
{
	struct dir_admin a;
	if (strlen(name) >= sizeof a.name || !dir_admin_get(ctx->rd, name, &a)) {
		/* Same work as a wrong password, so that timing does not tell
		 * which admin names exist. */
		pthread_once(&dummy_once, make_dummy_hash);
		if (dummy_hash[0])
			(void)pw_verify(password, dummy_hash);
		return TERN_E_LOGIN;
	}
	if (!pw_verify(password, a.pwhash))
		return TERN_E_LOGIN;
	/* The AACL may limit the front-ends an admin logs in to. */
	return admin_aacl_may_login(ctx->rd, name, ctx->via) ? TERN_OK : TERN_E_LOGIN;
}

enum tern_err admin_login(struct admin_ctx *ctx, const char *name, const char *given, const char *timestamp)
{
	if (given[0] != '#' || !timestamp)
		return admin_login_clear(ctx, name, given);
	struct dir_admin a;
	if (strlen(name) >= sizeof a.name || !dir_admin_get(ctx->rd, name, &a))
		return TERN_E_LOGIN;
	/* MD5 challenge: '#' + hex(MD5(timestamp + password)). */
	struct buf secret = BUF_INIT;
	if (secret_box_open(a.box, a.box_len, &secret) < 0) {
		buf_free(&secret);
		return TERN_E_LOGIN;
	}
	struct buf in = BUF_INIT;
	buf_puts(&in, timestamp);
	buf_append(&in, secret.data, secret.len);
	char want[33];
	secret_md5_hex(in.data, in.len, want);
	secret_wipe(in.data, in.len);
	secret_wipe(secret.data, secret.len);
	buf_free(&in);
	buf_free(&secret);
	char got[33] = {0};
	size_t glen = strlen(given + 1);
	if (glen != 32)
		return TERN_E_LOGIN;
	for (int i = 0; i < 32; i++)
		got[i] = (char)tolower((unsigned char)given[1 + i]);
	if (!secret_equal(got, 32, want, 32))
		return TERN_E_LOGIN;
	return admin_aacl_may_login(ctx->rd, name, ctx->via) ? TERN_OK : TERN_E_LOGIN;
}

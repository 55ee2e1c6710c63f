/*
 * tls_client - TLS for the tern client with real certificate checks.
 *
 * The peer's chain is verified against the system's trust store (and
 * --ca FILE), and its name against the host given. Two relaxations can be
 * asked for, each on its own, through OpenSSL's verification callback:
 *   allow_self_signed  X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT and
 *                      X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN are accepted;
 *   allow_expired      X509_V_ERR_CERT_HAS_EXPIRED is accepted.
 * Every other error (wrong name, unknown issuer, bad signature, not yet
 * valid...) still fails, and a self-signed certificate that has also
 * expired needs both.
 */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "tern.h"

static int policy_idx = -1;

struct verify_state {
	const struct tls_opts *o;
	int first_err;   /* first refused error, 0 if none */
	int first_depth;
};

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	if (ok)
		return 1;
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct verify_state *st = ssl ? SSL_get_ex_data(ssl, policy_idx) : NULL;
	int e = X509_STORE_CTX_get_error(x);
	if (!st)
		return 0;
	if ((e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN) &&
	    st->o->allow_self_signed)
		return 1;
	if (e == X509_V_ERR_CERT_HAS_EXPIRED && st->o->allow_expired)
		return 1;
	if (!st->first_err) {
		st->first_err = e;
		st->first_depth = X509_STORE_CTX_get_error_depth(x);
	}
	return 0;
}

static const char *hint(int e)
{
	switch (e) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return " (use --ca FILE to trust it, or --ssl-allow-self-signed)";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return " (--ssl-allow-expired accepts it)";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return " (use --ca FILE to trust its issuer)";
	default:
		return "";
	}
}

int tern_tls_start(struct client *c, const char *host, const struct tls_opts *o, char *err, size_t errsz)
{
	struct verify_state st = {o, 0, 0};
	err[0] = '\0';
	if (policy_idx < 0)
		policy_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx) {
		snprintf(err, errsz, "cannot create a TLS context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		/* no system store: only --ca can be trusted */
	}
	if (o->ca_file && SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1) {
		snprintf(err, errsz, "cannot load CA file %s", o->ca_file);
		return -1;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, verify_cb);
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl) {
		snprintf(err, errsz, "cannot create a TLS session");
		return -1;
	}
	SSL_set_ex_data(c->ssl, policy_idx, &st);
	X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(param, host);
	} else {
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		X509_VERIFY_PARAM_set1_host(param, host, 0);
		SSL_set_tlsext_host_name(c->ssl, host);
	}
	SSL_set_fd(c->ssl, c->fd);
	buf_reset(&c->in);
	int r = SSL_connect(c->ssl);
	SSL_set_ex_data(c->ssl, policy_idx, NULL);
	if (r == 1)
		return 0;
	if (st.first_err)
		snprintf(err, errsz, "certificate check failed at depth %d: %s%s", st.first_depth,
			 X509_verify_cert_error_string(st.first_err), hint(st.first_err));
	else {
		unsigned long e = ERR_peek_last_error();
		const char *why = e ? ERR_reason_error_string(e) : NULL;
		snprintf(err, errsz, "TLS handshake failed%s%s", why ? ": " : "", why ? why : "");
	}
	ERR_clear_error();
	return -1;
}

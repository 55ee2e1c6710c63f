/*
 * smtp_out - outbound SMTP client session.
 */
#include "smtp_out.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/buf.h"
#include "smtp_reply.h"
#include "spool.h"

#define REPLY_LINE_MAX 4096

/* Read a (multi-line) reply: the code, or -1. text gets the last line. */
static int read_reply(struct smtp_out *s, char *text, size_t tsz)
{
	struct buf l = BUF_INIT;
	int code = -1;
	for (int lines = 0; lines < 200; lines++) {
		bool last;
		int c;
		if (client_read_line(&s->c, &l, REPLY_LINE_MAX) < 0 || smtp_reply_line(l.data, l.len, &c, &last, NULL) < 0)
			break;
		if (code >= 0 && c != code)
			break; /* a multi-line reply keeps its code */
		code = c;
		if (last) {
			snprintf(text, tsz, "%s", l.data);
			buf_free(&l);
			return code;
		}
	}
	buf_free(&l);
	snprintf(text, tsz, "no valid SMTP reply");
	return -1;
}

static int send_line(struct smtp_out *s, const char *line)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s\r\n", line);
	int rc = client_send(&s->c, b.data, b.len);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	return rc;
}

static int command(struct smtp_out *s, const char *line, char *text, size_t tsz)
{
	if (send_line(s, line) < 0)
		return -1;
	return read_reply(s, text, tsz);
}

/* EHLO, remembering whether STARTTLS was offered. */
static int ehlo(struct smtp_out *s, const char *helo, bool *starttls, char *text, size_t tsz)
{
	char line[300];
	snprintf(line, sizeof line, "EHLO %s", helo);
	if (send_line(s, line) < 0)
		return -1;
	s->pipelining = false;
	s->auth_mechs[0] = '\0';
	*starttls = false;
	struct buf l = BUF_INIT;
	int code = -1;
	for (int lines = 0; lines < 200; lines++) {
		bool last;
		size_t toff;
		int c;
		if (client_read_line(&s->c, &l, REPLY_LINE_MAX) < 0 || smtp_reply_line(l.data, l.len, &c, &last, &toff) < 0) {
			code = -1;
			break;
		}
		code = c;
		if (lines > 0) {
			const char *kw = l.data + toff;
			if (!strncasecmp(kw, "PIPELINING", 10) && (!kw[10] || kw[10] == ' '))
				s->pipelining = true;
			else if (!strncasecmp(kw, "STARTTLS", 8) && (!kw[8] || kw[8] == ' '))
				*starttls = true;
			else if (!strncasecmp(kw, "AUTH", 4) && (kw[4] == ' ' || kw[4] == '='))
				snprintf(s->auth_mechs, sizeof s->auth_mechs, " %.250s ", kw + 5);
		}
		if (last) {
			snprintf(text, tsz, "%s", l.data);
			break;
		}
	}
	buf_free(&l);
	return code;
}

static bool offers(const struct smtp_out *s, const char *mech)
{
	char needle[40];
	snprintf(needle, sizeof needle, " %s ", mech);
	return strcasestr(s->auth_mechs, needle) != NULL;
}

static void b64(const void *in, size_t n, char *out, size_t osz)
{
	if (osz < 4 * ((n + 2) / 3) + 1) {
		out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* 0 authenticated; else the failing reply code (or -1). */
static int authenticate(struct smtp_out *s, const struct route_auth *a, char *text, size_t tsz)
{
	char line[1200], enc[1100];
	int code;
	if (a->mech == AUTH_CRAM_MD5 && offers(s, "CRAM-MD5")) {
		code = command(s, "AUTH CRAM-MD5", text, tsz);
		if (code != 334)
			return code;
		unsigned char chal[600];
		const char *p = text + 4;
		size_t pl = strlen(p);
		if (pl > 790)
			return -1;
		int n = EVP_DecodeBlock(chal, (const unsigned char *)p, (int)pl);
		if (n < 0)
			return -1;
		while (n > 0 && pl && p[pl - 1] == '=') { /* DecodeBlock counts padding as zero bytes */
			n--;
			pl--;
		}
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int ml = 0;
		HMAC(EVP_md5(), a->pass, (int)strlen(a->pass), chal, (size_t)n, mac, &ml);
		char resp[600];
		int rl = snprintf(resp, sizeof resp, "%s ", a->user);
		for (unsigned i = 0; i < ml && rl < (int)sizeof resp - 3; i++)
			rl += snprintf(resp + rl, sizeof resp - (size_t)rl, "%02x", mac[i]);
		b64(resp, strlen(resp), enc, sizeof enc);
		code = command(s, enc, text, tsz);
	} else if (a->mech == AUTH_LOGIN && offers(s, "LOGIN")) {
		code = command(s, "AUTH LOGIN", text, tsz);
		if (code != 334)
			return code;
		b64(a->user, strlen(a->user), enc, sizeof enc);
		code = command(s, enc, text, tsz);
		if (code != 334)
			return code;
		b64(a->pass, strlen(a->pass), enc, sizeof enc);
		code = command(s, enc, text, tsz);
	} else if (offers(s, "PLAIN") && a->mech != AUTH_NONE) {
		/* PLAIN also serves when the configured mechanism is not offered */
		char raw[600];
		size_t ul = strlen(a->user), pl = strlen(a->pass);
		raw[0] = '\0';
		memcpy(raw + 1, a->user, ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, a->pass, pl);
		b64(raw, 2 + ul + pl, enc, sizeof enc);
		explicit_bzero(raw, sizeof raw);
		snprintf(line, sizeof line, "AUTH PLAIN %s", enc);
		code = command(s, line, text, tsz);
	} else {
		snprintf(text, tsz, "the smart host offers no usable AUTH mechanism (offered:%.200s)",
			 s->auth_mechs[0] ? s->auth_mechs : " none ");
		explicit_bzero(enc, sizeof enc);
		return 454;
	}
	explicit_bzero(enc, sizeof enc);
	explicit_bzero(line, sizeof line);
	return code == 235 ? 0 : code;
}

int smtp_out_open(struct smtp_out *s, struct client *c, const char *helo, int need_tls,
		  const struct route_auth *auth, char *why, size_t wsz)
{
	memset(s, 0, sizeof *s);
	s->c = *c;
	s->open = true;
	char text[300];
	bool starttls = false;
	int code = read_reply(s, text, sizeof text);
	if (code != 220) {
		snprintf(why, wsz, "greeting: %s", code < 0 ? "no valid SMTP greeting" : text);
		goto fail;
	}
	code = ehlo(s, helo, &starttls, text, sizeof text);
	if (code != 250) {
		char line[300];
		snprintf(line, sizeof line, "HELO %s", helo);
		code = code < 0 ? -1 : command(s, line, text, sizeof text);
		if (code != 250) {
			snprintf(why, wsz, "EHLO/HELO: %s", code < 0 ? "connection lost" : text);
			goto fail;
		}
	}
	if (starttls && need_tls > 0) {
		code = command(s, "STARTTLS", text, sizeof text);
		if (code == 220) {
			if (client_start_tls(&s->c) < 0) {
				snprintf(why, wsz, "TLS handshake failed");
				goto fail;
			}
			s->tls = true;
			code = ehlo(s, helo, &starttls, text, sizeof text);
			if (code != 250) {
				snprintf(why, wsz, "EHLO after STARTTLS: %s", code < 0 ? "connection lost" : text);
				goto fail;
			}
		} else if (code < 0 || need_tls == 2) {
			snprintf(why, wsz, "STARTTLS refused: %s", code < 0 ? "connection lost" : text);
			goto fail;
		}
	}
	if (need_tls == 2 && !s->tls) {
		snprintf(why, wsz, "TLS is required for this host (NeedTLS=2) but was not offered");
		goto fail;
	}
	if (auth && auth->mech != AUTH_NONE) {
		if (!s->tls) {
			snprintf(why, wsz, "credentials are configured but the session is not encrypted; not sent");
			goto fail;
		}
		code = authenticate(s, auth, text, sizeof text);
		if (code != 0) {
			snprintf(why, wsz, "authentication failed: %s", code < 0 ? "connection lost" : text);
			goto fail;
		}
	}
	return 0;
fail:
	smtp_out_close(s);
	return -1;
}

/* The spooled body: LF to CR LF, dot-stuffed, then the end marker. */
static int send_body(struct smtp_out *s, int fd, off_t off)
{
	char in[65536];
	struct buf out = BUF_INIT;
	bool bol = true;
	ssize_t r;
	int rc = 0;
	/* read ahead one chunk so the end marker goes out with the last data */
	while (rc == 0 && (r = pread(fd, in, sizeof in, off)) > 0) {
		off += r;
		for (ssize_t i = 0; i < r; i++) {
			char ch = in[i];
			if (bol && ch == '.')
				buf_putc(&out, '.');
			if (ch == '\n') {
				buf_puts(&out, "\r\n");
				bol = true;
				continue;
			}
			bol = false;
			buf_putc(&out, ch);
		}
		if (out.len >= sizeof in) {
			rc = client_send(&s->c, out.data, out.len);
			buf_reset(&out);
		}
	}
	if (rc == 0 && r < 0)
		rc = -1;
	if (rc == 0) {
		buf_puts(&out, bol ? ".\r\n" : "\r\n.\r\n");
		rc = client_send(&s->c, out.data, out.len);
	}
	buf_free(&out);
	return rc;
}

static void set_res(struct rcpt_result *r, int code, const char *text)
{
	r->code = code;
	snprintf(r->text, sizeof r->text, "%.299s", text);
}

bool smtp_out_send(struct smtp_out *s, const struct envelope *env, const int *idx, int nidx, int fd, off_t off,
		   struct rcpt_result *res)
{
	char text[300], line[400];
	struct buf cmds = BUF_INIT;
	bool pipe = s->pipelining;
	buf_printf(&cmds, "MAIL FROM:<%s>\r\n", env->from);
	if (pipe) {
		for (int k = 0; k < nidx; k++)
			buf_printf(&cmds, "RCPT TO:<%s>\r\n", env->rcpt[idx[k]]);
		buf_puts(&cmds, "DATA\r\n");
	}
	int rc = client_send(&s->c, cmds.data, cmds.len);
	buf_free(&cmds);
	int code = rc < 0 ? -1 : read_reply(s, text, sizeof text);
	if (code < 0) {
		smtp_out_close(s);
		return false;
	}
	bool mail_ok = code / 100 == 2;
	int accepted = 0;
	for (int k = 0; k < nidx; k++) {
		int i = idx[k];
		if (!pipe && !mail_ok) {
			set_res(&res[i], code, text);
			continue;
		}
		if (!pipe) {
			snprintf(line, sizeof line, "RCPT TO:<%s>", env->rcpt[i]);
			if (send_line(s, line) < 0)
				goto lost;
		}
		int rcode = read_reply(s, res[i].text, sizeof res[i].text);
		if (rcode < 0)
			goto lost;
		res[i].code = mail_ok ? rcode : code;
		if (!mail_ok)
			snprintf(res[i].text, sizeof res[i].text, "%s", text);
		else if (rcode / 100 == 2)
			accepted++;
	}
	int dcode;
	if (pipe) {
		dcode = read_reply(s, line, sizeof line);
		if (dcode < 0)
			goto lost;
		if (dcode == 354 && !accepted) {
			/* RFC 2920 §3.1: an empty message, then its reply is ignored */
			if (client_send(&s->c, ".\r\n", 3) < 0 || read_reply(s, line, sizeof line) < 0)
				goto lost;
		}
	} else {
		if (!accepted)
			goto done;
		dcode = command(s, "DATA", line, sizeof line);
		if (dcode < 0)
			goto lost;
	}
	if (!accepted)
		goto done;
	if (dcode != 354) {
		for (int k = 0; k < nidx; k++)
			if (res[idx[k]].code / 100 == 2)
				set_res(&res[idx[k]], dcode, line);
		goto done;
	}
	code = send_body(s, fd, off) == 0 ? read_reply(s, text, sizeof text) : -1;
	for (int k = 0; k < nidx; k++) {
		struct rcpt_result *r = &res[idx[k]];
		if (r->code / 100 != 2)
			continue;
		if (code < 0)
			set_res(r, 0, "connection lost during DATA; will retry");
		else
			set_res(r, code, text);
	}
	if (code < 0) {
		smtp_out_close(s);
		return true;
	}
done:
	s->transactions++;
	return true;
lost:
	/* verdicts read so far stand; the rest is unknown */
	for (int k = 0; k < nidx; k++) {
		struct rcpt_result *r = &res[idx[k]];
		if (r->code / 100 == 2 || r->code == 0)
			set_res(r, 0, "connection lost; will retry");
	}
	smtp_out_close(s);
	return true;
}

void smtp_out_close(struct smtp_out *s)
{
	if (!s->open)
		return;
	char text[64];
	if (send_line(s, "QUIT") == 0)
		read_reply(s, text, sizeof text);
	client_close(&s->c);
	s->open = false;
}

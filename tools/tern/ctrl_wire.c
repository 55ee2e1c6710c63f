/*
 * ctrl_wire - the tern client's side of the XMail controller protocol.
 *
 * A session: connect; with --ssl a TLS handshake first (the CTRLS port);
 * the greeting "+00000 <timestamp> ..."; with --tls the in-band upgrade
 * ("#!TLS", "+00000 Ready to start TLS mode", handshake, no new greeting);
 * the login line "user"<TAB>"#md5(timestamp+password)" (or the clear
 * password with --clear) and "+00000 OK". Certificates are checked by
 * tls_client.c against --host, in both TLS modes.
 *
 * Then each command line gets one answer: a RESSTRING "+DDDDD text" or
 * "-DDDDD text"; +00100 is followed by a dot-stuffed listing ended by
 * "."; +00101 asks for an upload (dot-stuffed, ended by ".") after which
 * the final RESSTRING comes. The password and the login line are wiped
 * from memory after use and never printed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../../src/core/buf.h"
#include "../../src/core/secret.h"
#include "tern.h"

#define MAX_LINE (1u << 20)
#define MAX_LISTING (256u << 20)

/* "+DDDDD text" */
static bool parse_resstring(const char *s, struct ctrl_reply *r)
{
	if ((s[0] != '+' && s[0] != '-') || strlen(s) < 6)
		return false;
	for (int i = 1; i < 6; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	if (s[6] && s[6] != ' ')
		return false;
	memcpy(r->code, s, 6);
	r->code[6] = '\0';
	snprintf(r->message, sizeof r->message, "%s", s[6] ? s + 7 : "");
	r->ok = s[0] == '+';
	return true;
}

static void put_quoted(struct buf *b, const char *v)
{
	buf_putc(b, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			buf_putc(b, '\\');
		buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

static int tls_or_fail(struct client *c, const struct ctrl_conn_opts *o)
{
	char err[512];
	if (tern_tls_start(c, o->host, &o->tlsv, err, sizeof err) == 0)
		return 0;
	fprintf(stderr, "tern: TLS with %s port %s: %s\n", o->host, o->port, err);
	return -1;
}

int ctrl_open(struct client *c, const struct ctrl_conn_opts *o)
{
	if (client_connect(c, o->host, o->port, 60) < 0) {
		fprintf(stderr, "tern: cannot connect to %s port %s\n", o->host, o->port);
		return -1;
	}
	if (o->ssl && tls_or_fail(c, o) < 0)
		return -1;
	struct buf greet = BUF_INIT, line = BUF_INIT;
	int rc = -1;
	if (client_read_line(c, &greet, MAX_LINE) < 0 || greet.data[0] != '+') {
		fprintf(stderr, "tern: no controller greeting from %s port %s%s%s\n", o->host, o->port,
			greet.len ? ": " : "", greet.len ? greet.data : "");
		goto out;
	}
	if (o->tls) {
		if (client_send(c, "#!TLS\r\n", 7) < 0 || client_read_line(c, &line, MAX_LINE) < 0) {
			fprintf(stderr, "tern: TLS upgrade with %s port %s: connection closed\n", o->host, o->port);
			goto out;
		}
		if (strncmp(line.data, "+00000", 6)) {
			fprintf(stderr, "tern: TLS upgrade refused by %s port %s: %s\n", o->host, o->port, line.data);
			goto out;
		}
		if (tls_or_fail(c, o) < 0)
			goto out;
	}
	/* The MD5 answer covers the timestamp with its angle brackets; it is
	 * the plain greeting's also after an upgrade. */
	char *ts0 = strchr(greet.data, '<'), *ts1 = ts0 ? strchr(ts0, '>') : NULL;
	char digest[34];
	const char *secret = o->pass;
	if (!o->clear && ts0 && ts1) {
		struct buf in = BUF_INIT;
		buf_append(&in, ts0, (size_t)(ts1 - ts0 + 1));
		buf_puts(&in, o->pass);
		digest[0] = '#';
		secret_md5_hex(in.data, in.len, digest + 1);
		tern_wipe(in.data, in.len);
		buf_free(&in);
		secret = digest;
	} else if (o->pass[0] == '#') {
		fprintf(stderr, "tern: a password starting with '#' needs the MD5 login (drop --clear)\n");
		goto out;
	}
	if (strpbrk(o->user, "\t\r\n\"") || strpbrk(o->pass, "\t\r\n")) {
		fprintf(stderr, "tern: the user name or password holds a TAB, quote or line end\n");
		goto out;
	}
	buf_reset(&line);
	put_quoted(&line, o->user);
	buf_putc(&line, '\t');
	put_quoted(&line, secret);
	buf_puts(&line, "\r\n");
	int sent = client_send(c, line.data, line.len);
	tern_wipe(line.data, line.len);
	tern_wipe(digest, sizeof digest);
	if (sent < 0 || client_read_line(c, &line, MAX_LINE) < 0) {
		fprintf(stderr, "tern: login failed: connection closed\n");
		goto out;
	}
	if (strncmp(line.data, "+00000", 6)) {
		fprintf(stderr, "tern: login failed: %s\n", line.data);
		goto out;
	}
	rc = 0;
out:
	buf_free(&greet);
	buf_free(&line);
	return rc;
}

static int send_upload(struct client *c, FILE *upload)
{
	struct buf up = BUF_INIT;
	char *l = NULL;
	size_t cap = 0;
	ssize_t n;
	while (upload && (n = getline(&l, &cap, upload)) >= 0) {
		while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
			n--;
		if (n && l[0] == '.')
			buf_putc(&up, '.');
		buf_append(&up, l, (size_t)n);
		buf_puts(&up, "\r\n");
	}
	free(l);
	buf_puts(&up, ".\r\n");
	int rc = client_send(c, up.data, up.len);
	buf_free(&up);
	return rc;
}

int ctrl_exchange(struct client *c, const char *line, size_t len, FILE *upload, struct ctrl_reply *r)
{
	memset(r, 0, sizeof *r);
	struct buf l = BUF_INIT;
	int rc = -1;
	bool bad_answer = false;
	if (client_send(c, line, len) < 0 || client_read_line(c, &l, MAX_LINE) < 0)
		goto out;
	if (!parse_resstring(l.data, r)) {
		snprintf(r->message, sizeof r->message, "not a controller answer: %.400s", l.data);
		bad_answer = true;
		goto out;
	}
	if (!strcmp(r->code, "+00101")) {
		if (send_upload(c, upload) < 0 || client_read_line(c, &l, MAX_LINE) < 0 || !parse_resstring(l.data, r)) {
			r->code[0] = '\0';
			goto out;
		}
	}
	if (!strcmp(r->code, "+00100")) {
		r->listing = true;
		size_t total = 0;
		for (;;) {
			if (client_read_line(c, &l, MAX_LINE) < 0 || (total += l.len) > MAX_LISTING) {
				r->code[0] = '\0';
				goto out;
			}
			if (l.len == 1 && l.data[0] == '.')
				break;
			const char *p = l.data ? l.data : "";
			size_t k = l.len;
			if (p[0] == '.') {
				p++;
				k--;
			}
			tern_lines_add(&r->data, p, k);
		}
	}
	rc = 0;
out:
	if (rc < 0 && !bad_answer)
		snprintf(r->message, sizeof r->message, "connection closed");
	if (rc < 0) { /* no complete answer: nothing of it is reported */
		r->code[0] = '\0';
		r->ok = false;
		r->listing = false;
		tern_lines_free(&r->data);
	}
	buf_free(&l);
	return rc;
}

void ctrl_reply_free(struct ctrl_reply *r)
{
	tern_lines_free(&r->data);
}

void ctrl_close(struct client *c, bool say_quit)
{
	if (say_quit && c->fd >= 0) {
		struct buf l = BUF_INIT;
		if (client_send(c, "\"quit\"\r\n", 8) == 0)
			client_read_line(c, &l, MAX_LINE);
		buf_free(&l);
	}
	client_close(c);
}

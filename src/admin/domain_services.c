/*
 * domain_services - a domain's enabled services (see domain_services.h).
 */
#include "domain_services.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../core/fsutil.h"
#include "../smtp/smtp_parse.h"

static const struct {
	const char *name;
	unsigned bit; /* 0: a service Tern does not have */
} names[] = {
	{"pop3", DOMSVC_POP3}, {"smtpIn", DOMSVC_SMTPIN}, {"smtpOut", DOMSVC_SMTPOUT},
	{"imap", 0},           {"webmail", 0},            {"webadmin", 0},
};

#define SEPS "() ,\t\r\n"

/* strict: unknown names fail; else they are skipped */
static bool parse(const char *list, unsigned *mask_r, char *bad, size_t bsz, bool strict)
{
	unsigned m = 0;
	for (const char *p = list; *p;) {
		p += strspn(p, SEPS);
		size_t l = strcspn(p, SEPS);
		if (!l)
			break;
		bool known = false;
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			if (strlen(names[i].name) == l && !strncasecmp(p, names[i].name, l) && names[i].bit) {
				m |= names[i].bit;
				known = true;
			}
		if (!known && strict) {
			if (bad)
				snprintf(bad, bsz, "%.*s", (int)(l > 64 ? 64 : l), p);
			return false;
		}
		p += l;
	}
	*mask_r = m;
	return true;
}

bool domain_services_parse(const char *list, unsigned *mask_r, char *bad, size_t bsz)
{
	return parse(list, mask_r, bad, bsz, true);
}

void domain_services_format(unsigned mask, char *out, size_t sz)
{
	size_t o = 0;
	o += (size_t)snprintf(out + o, sz - o, "(");
	for (size_t i = 0; i < sizeof names / sizeof *names && o < sz; i++)
		if (names[i].bit & mask)
			o += (size_t)snprintf(out + o, sz - o, "%s%s", o > 1 ? " " : "", names[i].name);
	if (o < sz)
		snprintf(out + o, sz - o, ")");
}

unsigned domain_services_get(int rootfd, const char *domain)
{
	char rel[300];
	if (!domain[0] || strlen(domain) > 253 || strchr(domain, '/') || domain[0] == '.')
		return DOMSVC_ALL;
	snprintf(rel, sizeof rel, "domains/%s/services.tab", domain);
	struct buf b = BUF_INIT;
	unsigned m = DOMSVC_ALL;
	if (fs_read_all_at(rootfd, rel, 4096, &b) >= 0) {
		buf_putc(&b, '\0');
		parse(b.data, &m, NULL, 0, false);
	}
	buf_free(&b);
	return m;
}

unsigned domain_services_of_addr(struct dir_conn *c, int rootfd, const char *addr)
{
	char local[256], dom[256], real[256];
	if (!smtp_addr_split(addr, local, sizeof local, dom, sizeof dom) ||
	    !dir_domain_resolve(c, dom, real, sizeof real))
		return DOMSVC_ALL;
	return domain_services_get(rootfd, real);
}

enum tern_err domain_services_set(struct admin_ctx *ctx, const char *domain, unsigned mask)
{
	char d[256], rel[300], line[64] = "";
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(d, sizeof d, domain);
	if (!dir_domain_exists(ctx->rd, d))
		return TERN_E_DOMAIN_NOT_HANDLED;
	snprintf(rel, sizeof rel, "domains/%s/services.tab", d);
	if ((mask & DOMSVC_ALL) == DOMSVC_ALL) /* the default: no file */
		return admin_cfgfile_set(ctx, rel, "", 0, NULL);
	size_t o = 0;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (names[i].bit & mask)
			o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", o ? " " : "", names[i].name);
	snprintf(line + o, sizeof line - o, "\n");
	return admin_cfgfile_set(ctx, rel, line, strlen(line), NULL);
}

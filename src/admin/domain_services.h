/*
 * domain_services - the services enabled for a whole domain (the CLI's
 * domain `SET services`): pop3 (POP3 logins of its accounts), smtpIn (mail
 * to its addresses, refused at RCPT) and smtpOut (MAIL FROM of its
 * authenticated users). They combine with an account's own services
 * (PopEnable, ReceiveEnable, SmtpSendEnable) as AND.
 *
 * Stored in domains/<domain>/services.tab: one line with the enabled
 * services separated by spaces ("" = none); no file = all three (the
 * default, so the file goes away when all are enabled again). The file is
 * written durably (temp file, fsync, rename); the controller can read and
 * write it with cfgfileget/cfgfileset (unknown words in it are ignored). It
 * is removed with the domain's directory. Tern has no IMAP or webmail:
 * those services are refused when set, and never listed.
 */
#ifndef TERN_DOMAIN_SERVICES_H
#define TERN_DOMAIN_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "admin.h"

enum {
	DOMSVC_POP3 = 1,
	DOMSVC_SMTPIN = 2,
	DOMSVC_SMTPOUT = 4,
	DOMSVC_ALL = 7,
};

/* Parse a list like "(pop3 smtpIn)" (separators: space, comma, parens).
 * An unknown or unsupported name gives false with it in bad. */
bool domain_services_parse(const char *list, unsigned *mask_r, char *bad, size_t bsz);
/* "(pop3 smtpIn smtpOut)" form of a mask. */
void domain_services_format(unsigned mask, char *out, size_t sz);

/* The services of a (real, lower-case) domain; DOMSVC_ALL when it has no
 * services.tab or the name is not a plain domain name. */
unsigned domain_services_get(int rootfd, const char *domain);
/* Same for the domain of an address, its alias domains resolved. */
unsigned domain_services_of_addr(struct dir_conn *c, int rootfd, const char *addr);

/* Store durably (before returning TERN_OK). */
enum tern_err domain_services_set(struct admin_ctx *ctx, const char *domain, unsigned mask);

#endif

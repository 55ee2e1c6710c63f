/*
 * hdraddr - the recipient addresses named in a message's header.
 *
 * hdr_rcpt_addrs() reads the header block (up to the first empty line) of
 * a message with LF or CRLF line ends, unfolds the To, Cc and Bcc fields
 * and calls fn once per address found in them: the addr-spec of
 * "Name <addr>" forms, bare addr-specs, and the members of groups
 * ("team: a@x, b@y;"); comments and display names are dropped. Only
 * addresses that pass smtp_addr_valid() are reported. Returns the number
 * reported.
 */
#ifndef TERN_HDRADDR_H
#define TERN_HDRADDR_H

#include <stddef.h>

int hdr_rcpt_addrs(const char *msg, size_t len, void (*fn)(void *arg, const char *addr), void *arg);

#endif

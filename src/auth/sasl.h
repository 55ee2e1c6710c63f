/*
 * sasl - decoding of SASL responses shared by SMTP AUTH and POP3 AUTH.
 *
 * sasl_b64_decode() decodes strict base64 (length a multiple of 4) into
 * out and NUL-terminates it; it returns the decoded length or -1.
 * sasl_plain_parse() reads an RFC 4616 PLAIN response: the authorization
 * identity must be empty or the same as the user; the password is copied
 * and every intermediate copy wiped. 0 on success, -1 on a bad response.
 */
#ifndef TERN_SASL_H
#define TERN_SASL_H

#include <stddef.h>

int sasl_b64_decode(const char *in, char *out, size_t outsz);
int sasl_plain_parse(const char *b64, char *user, size_t usz, char *pass, size_t psz);

#endif

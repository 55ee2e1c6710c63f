/*
 * settings - the registry of server settings.
 *
 * Each setting has a name (its server.tab variable name), a type, a default
 * and bounds; the registry validates values and answers effective values
 * (stored value or default). Settings are data in the directory; they are
 * read when needed, so changes apply without a restart except for listener
 * addresses, which are read at start-up. Names not in the registry may be
 * stored too (kept verbatim from imported server.tab files) but have no
 * effect.
 */
#ifndef TERN_SETTINGS_H
#define TERN_SETTINGS_H

#include <stddef.h>

#include "../store/directory.h"
#include "errors.h"

enum setting_type { SET_BOOL, SET_INT, SET_STR, SET_LISTEN };

struct setting_def {
	const char *name;
	enum setting_type type;
	const char *def;
	long min, max;
	const char *help;
};

const struct setting_def *settings_table(size_t *n_r);
const struct setting_def *settings_find(const char *name);
enum tern_err settings_validate(const char *name, const char *value);
/* settings_validate with the reason of a refusal in why (when known, else ""). */
enum tern_err settings_check(const char *name, const char *value, char *why, size_t wsz);
struct tls_params;
/* The effective Tls* settings (core/tls.h). */
void settings_tls_params(struct dir_conn *c, struct tls_params *p);
/* The same with name/value pairs (pending edits; NULL value: the default)
 * over the stored values. */
void settings_tls_params_over(struct dir_conn *c, const char **pairs, int n, struct tls_params *p);
void settings_get(struct dir_conn *c, const char *name, char *out, size_t sz);
long settings_get_int(struct dir_conn *c, const char *name);

/* The resolver's tuning from DnsTimeout/DnsRetries (a dns_tuning_fn;
 * dir is the daemon's struct dir). */
struct dns_tuning;
void settings_dns_tuning(void *dir, struct dns_tuning *t);

#endif

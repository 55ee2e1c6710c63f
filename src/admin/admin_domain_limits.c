/*
 * admin_domain_limits - per-domain administrative limits: storage
 * (domains/D/adminlimits.tab) and the checks the account and list verbs
 * run. See admin_limits.h for the rules.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/tabline.h"
#include "../core/xmalloc.h"
#include "admin_cli.h"
#include "admin_limits.h"

static const char *const names[ADMIN_LIM__COUNT] = {
	[ADMIN_LIM_ACCOUNTS] = "maxAccounts",
	[ADMIN_LIM_MAILLISTS] = "maxMaillists",
	[ADMIN_LIM_GROUPS] = "maxGroups",
	[ADMIN_LIM_QUOTA] = "maxAccountMessageSizeQuota",
	[ADMIN_LIM_COUNT_QUOTA] = "maxAccountMessageCountQuota",
	[ADMIN_LIM_FOLDER_SIZE] = "maxAccountFolderMessageSizeQuota",
	[ADMIN_LIM_FOLDER_COUNT] = "maxAccountFolderMessageCountQuota",
};

/* The account variable each ceiling limits. */
static const struct {
	enum admin_limit lim;
	const char *var;
} ceilings[] = {
	{ADMIN_LIM_QUOTA, "MaxMBSize"},
	{ADMIN_LIM_COUNT_QUOTA, "MaxMessages"},
	{ADMIN_LIM_FOLDER_SIZE, "FolderMaxMBSize"},
	{ADMIN_LIM_FOLDER_COUNT, "FolderMaxMessages"},
};
#define NCEILINGS (int)(sizeof ceilings / sizeof *ceilings)

bool admin_limits_ceiling_of(const char *var, enum admin_limit *l_r)
{
	for (int i = 0; i < NCEILINGS; i++)
		if (!strcmp(var, ceilings[i].var)) {
			*l_r = ceilings[i].lim;
			return true;
		}
	return false;
}

const char *admin_limit_name(enum admin_limit l)
{
	return (unsigned)l < ADMIN_LIM__COUNT ? names[l] : "?";
}

bool admin_limit_find(const char *name, enum admin_limit *l_r)
{
	for (int i = 0; i < ADMIN_LIM__COUNT; i++)
		if (!strcasecmp(name, names[i])) {
			*l_r = (enum admin_limit)i;
			return true;
		}
	return false;
}

/* A whole number 0..ADMIN_LIMIT_MAX written in decimal digits only. */
static bool parse_num(const char *v, int64_t *out)
{
	if (!*v || strlen(v) > 12)
		return false;
	for (const char *p = v; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	long long x = strtoll(v, NULL, 10);
	if (x < 0 || x > ADMIN_LIMIT_MAX)
		return false;
	*out = x;
	return true;
}

void admin_limits_parse(const char *text, size_t len, const char *what, struct admin_limits *out)
{
	memset(out, 0, sizeof *out);
	char *copy = xstrndup(text ? text : "", len);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		while (l && line[l - 1] == '\r')
			line[--l] = '\0';
		char *f[3];
		enum admin_limit lim;
		int64_t v;
		if (line[0] == '#' || tab_split(line, f, 3) != 2)
			continue;
		if (admin_limit_find(f[0], &lim) && parse_num(f[1], &v))
			out->v[lim] = v;
		else
			log_warn("%s: ignoring the line for %s", what, f[0]);
	}
	free(copy);
}

void admin_limits_get(struct admin_env *env, const char *domain, struct admin_limits *out)
{
	memset(out, 0, sizeof *out);
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return;
	char d[256], rel[320];
	admin_lower_copy(d, sizeof d, domain);
	snprintf(rel, sizeof rel, "domains/%s/%s", d, ADMIN_LIMITS_FILE);
	struct buf raw = BUF_INIT;
	if (fs_read_all_at(env->rootfd, rel, 65536, &raw) < 0) {
		if (errno != ENOENT)
			log_warn("cannot read %s: %s", rel, strerror(errno));
		buf_free(&raw);
		return;
	}
	admin_limits_parse(raw.data, raw.len, rel, out);
	buf_free(&raw);
}

enum tern_err admin_limits_set(struct admin_ctx *ctx, const char *domain, const struct admin_limits *lim)
{
	char d[256], rel[320];
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(d, sizeof d, domain);
	if (!dir_domain_exists(ctx->rd, d))
		return TERN_E_DOMAIN_NOT_HANDLED;
	struct buf out = BUF_INIT;
	for (int i = 0; i < ADMIN_LIM__COUNT; i++) {
		if (lim->v[i] < 0 || lim->v[i] > ADMIN_LIMIT_MAX) {
			buf_free(&out);
			return TERN_E_INVALID;
		}
		if (!lim->v[i])
			continue;
		char num[32];
		snprintf(num, sizeof num, "%lld", (long long)lim->v[i]);
		tab_put_escaped(&out, names[i]);
		buf_putc(&out, '\t');
		tab_put_escaped(&out, num);
		buf_putc(&out, '\n');
	}
	snprintf(rel, sizeof rel, "domains/%s", d);
	if (mkdirat(ctx->env->rootfd, rel, 0700) < 0 && errno != EEXIST) {
		buf_free(&out);
		return TERN_E_CREATE_DIR;
	}
	snprintf(rel, sizeof rel, "domains/%s/%s", d, ADMIN_LIMITS_FILE);
	/* no limit set: the file is removed */
	enum tern_err e = admin_cfgfile_set(ctx, rel, out.data ? out.data : "", out.len, NULL);
	buf_free(&out);
	if (!e)
		log_info("domain %s admin limits set by %s from %s", d, ctx->admin ? ctx->admin : "-",
			 ctx->peer ? ctx->peer : "-");
	return e;
}

static void put_detail(char *detail, size_t dsz, enum admin_limit l, int64_t v)
{
	if (detail && dsz)
		snprintf(detail, dsz, "%s=%lld", names[l], (long long)v);
}

enum tern_err admin_limits_check_new(struct dir_conn *c, const char *domain, const struct admin_limits *lim,
				     char type, bool group, char *detail, size_t dsz)
{
	enum admin_limit l = type == 'U' ? ADMIN_LIM_ACCOUNTS : group ? ADMIN_LIM_GROUPS : ADMIN_LIM_MAILLISTS;
	if (!lim->v[l])
		return TERN_OK;
	int64_t n;
	if (type == 'U')
		n = dir_user_count_kind(c, domain, 'U', NULL, NULL, true);
	else
		n = dir_user_count_kind(c, domain, 'M', ADMIN_CLI_KIND_VAR, "group", group);
	if (n < 0)
		return TERN_E_INTERNAL;
	if (n >= lim->v[l]) {
		put_detail(detail, dsz, l, lim->v[l]);
		return TERN_E_LIMIT_REACHED;
	}
	return TERN_OK;
}

static enum tern_err check_ceiling(const struct admin_limits *lim, enum admin_limit l, const char *value,
				   char *detail, size_t dsz)
{
	int64_t ceiling = lim->v[l], v;
	if (!ceiling)
		return TERN_OK;
	/* no limit (removed, 0, or not a number delivery could use) is above any ceiling */
	if (!value || !parse_num(value, &v) || v == 0 || v > ceiling) {
		put_detail(detail, dsz, l, ceiling);
		return TERN_E_OVER_CEILING;
	}
	return TERN_OK;
}

enum tern_err admin_limits_check_var(const struct admin_limits *lim, const char *var, const char *value, char *detail,
				     size_t dsz)
{
	enum admin_limit l;
	return admin_limits_ceiling_of(var, &l) ? check_ceiling(lim, l, value, detail, dsz) : TERN_OK;
}

char *admin_limits_cap_vars(const struct admin_limits *lim, char *vars)
{
	for (int c = 0; c < NCEILINGS; c++) {
		int64_t ceiling = lim->v[ceilings[c].lim];
		if (!ceiling)
			continue;
		size_t vl = strlen(ceilings[c].var);
		struct buf out = BUF_INIT;
		bool kept = false; /* a value within the ceiling */
		const char *p = vars ? vars : "";
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			bool mine = len > vl && !strncmp(p, ceilings[c].var, vl) && p[vl] == '\t';
			char v[32] = "";
			if (mine)
				snprintf(v, sizeof v, "%.*s", (int)(len - vl - 1 < 31 ? len - vl - 1 : 31), p + vl + 1);
			if (!mine || (!kept && check_ceiling(lim, ceilings[c].lim, v, NULL, 0) == TERN_OK)) {
				kept = kept || mine;
				buf_append(&out, p, len);
				buf_putc(&out, '\n');
			}
			p += len + (nl ? 1 : 0);
		}
		/* none, or above the ceiling: the account starts at the ceiling */
		if (!kept)
			buf_printf(&out, "%s\t%lld\n", ceilings[c].var, (long long)ceiling);
		free(vars);
		vars = xstrdup(out.data ? out.data : "");
		buf_free(&out);
	}
	return vars;
}

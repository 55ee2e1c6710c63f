/*
 * cli_table - the one context table: every part of the CLI (a file that
 * defines some contexts and their commands, see struct cli_part) is listed
 * here once; the contexts and the command table the parser, HELP and the
 * tools read are joined from these parts at first use.
 *
 * To add a context: give it an id in enum cli_ctx (cli.h), write its
 * attributes, handlers and command rows in a cli_ctx_<name>.c file that
 * exports a struct cli_part, and add that part to `parts` below. Rows say
 * where a command leads with CLI_ENTERS()/CLI_SWITCHES()/CLI_LEAVES().
 * A part may also extend a context of another part (struct cli_ctx_ext:
 * more attributes, loaded on entry and stored at COMMIT): list it in
 * `exts` below.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

extern const struct cli_part cli_part_core;
extern const struct cli_part cli_part_domain;
extern const struct cli_part cli_part_server;
extern const struct cli_part cli_part_listener;
extern const struct cli_part cli_part_dnr;
extern const struct cli_part cli_part_aacl;
extern const struct cli_part cli_part_snapshots;
extern const struct cli_part cli_part_queue;
extern const struct cli_part cli_part_adminlimits;
extern const struct cli_part cli_part_multiline;

static const struct cli_part *const parts[] = {
	&cli_part_core,
	&cli_part_domain,
	&cli_part_server,
	&cli_part_listener,
	&cli_part_dnr,
	&cli_part_aacl,
	&cli_part_snapshots,
	&cli_part_queue,
	&cli_part_adminlimits,
	&cli_part_multiline,
};

#define NPARTS (int)(sizeof parts / sizeof *parts)

extern const struct cli_ctx_ext cli_ext_domain_services;

static const struct cli_ctx_ext *const exts[] = {
	&cli_ext_domain_services,
};

#define NEXTS (int)(sizeof exts / sizeof *exts)

static struct cli_ctx_def ctxs[CLI_CTX__COUNT];
static bool sub[CLI_CTX__COUNT];
static struct cli_cmd *cmds;
static int ncmds;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void join(void)
{
	int n = 0;
	for (int i = 0; i < NPARTS; i++) {
		n += parts[i]->ncmds;
		for (int k = 0; k < parts[i]->nctxs; k++) {
			const struct cli_ctx_reg *r = &parts[i]->ctxs[k];
			if ((unsigned)r->id < CLI_CTX__COUNT)
				ctxs[r->id] = r->def;
		}
	}
	for (int i = 0; i < NEXTS; i++) {
		struct cli_ctx_def *d = &ctxs[exts[i]->id];
		struct cli_attr *a = calloc((size_t)(d->nattrs + exts[i]->nattrs), sizeof *a);
		if (!a)
			abort();
		if (d->nattrs)
			memcpy(a, d->attrs, (size_t)d->nattrs * sizeof *a);
		memcpy(a + d->nattrs, exts[i]->attrs, (size_t)exts[i]->nattrs * sizeof *a);
		d->attrs = a; /* lives as long as the process */
		d->nattrs += exts[i]->nattrs;
	}
	for (int c = 0; c < CLI_CTX__COUNT; c++)
		if (!ctxs[c].element) /* an id without a part: keep names printable */
			ctxs[c] = (struct cli_ctx_def){"", "?", "object", NULL, 0, CLI_CTX_ROOT};
	cmds = calloc((size_t)n, sizeof *cmds);
	if (!cmds)
		abort();
	for (int i = 0; i < NPARTS; i++)
		for (int k = 0; k < parts[i]->ncmds; k++) {
			const struct cli_cmd *c = &parts[i]->cmds[k];
			cmds[ncmds++] = *c;
			if (cli_cmd_go(c) == CLI_GO_DONE)
				for (int x = 0; x < CLI_CTX__COUNT; x++)
					if (c->ctx & CLI_IN(x))
						sub[x] = true;
		}
}

const struct cli_cmd *cli_commands(int *n_r)
{
	pthread_once(&once, join);
	*n_r = ncmds;
	return cmds;
}

const struct cli_ctx_ext *cli_ctx_ext_of(enum cli_ctx c)
{
	for (int i = 0; i < NEXTS; i++)
		if (exts[i]->id == c)
			return exts[i];
	return NULL;
}

const struct cli_ctx_def *cli_ctx_def(enum cli_ctx c)
{
	pthread_once(&once, join);
	return &ctxs[(unsigned)c < CLI_CTX__COUNT ? c : CLI_CTX_ROOT];
}

bool cli_ctx_is_sub(enum cli_ctx c)
{
	pthread_once(&once, join);
	return (unsigned)c < CLI_CTX__COUNT && sub[c];
}

const struct cli_attr *cli_attr_find(enum cli_ctx c, const char *name)
{
	const struct cli_ctx_def *d = cli_ctx_def(c);
	for (int i = 0; i < d->nattrs; i++)
		if (cli_word_is(d->attrs[i].name, name))
			return &d->attrs[i];
	return NULL;
}

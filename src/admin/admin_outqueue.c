/*
 * admin_outqueue - the admin verbs over the live outbound queue: list,
 * retry, NDR, delete, force, etrn. The queue itself belongs to outbound
 * delivery (src/queue/outbound.c), reached through env->queue.
 */
#include <ctype.h>
#include <string.h>

#include "../core/log.h"
#include "admin.h"

static bool id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= 64)
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return false;
	return id[0] != '.';
}

static enum tern_err ready(struct admin_ctx *ctx, const char *id)
{
	if (!ctx->env->queue)
		return TERN_E_NOT_IMPLEMENTED;
	if (id && !id_ok(id))
		return TERN_E_QUEUE_NOT_FOUND; /* no id of that shape can exist */
	return TERN_OK;
}

enum tern_err admin_queue_list(struct admin_ctx *ctx, queue_row_fn fn, void *arg)
{
	enum tern_err e = ready(ctx, NULL);
	if (e)
		return e;
	ctx->env->queue->list(ctx->env->queue->arg, fn, arg);
	return TERN_OK;
}

static enum tern_err by_id(struct admin_ctx *ctx, const char *id, int (*op)(void *, const char *), const char *what)
{
	enum tern_err e = ready(ctx, id);
	if (e)
		return e;
	if (op(ctx->env->queue->arg, id) < 0)
		return TERN_E_QUEUE_NOT_FOUND;
	log_info("queue %s %s by %s from %s via %s", what, id, ctx->admin, ctx->peer, ctx->via ? ctx->via : "?");
	return TERN_OK;
}

enum tern_err admin_queue_retry(struct admin_ctx *ctx, const char *id)
{
	return by_id(ctx, id, ctx->env->queue ? ctx->env->queue->retry : NULL, "retry");
}

enum tern_err admin_queue_ndr(struct admin_ctx *ctx, const char *id)
{
	return by_id(ctx, id, ctx->env->queue ? ctx->env->queue->ndr : NULL, "ndr (bounced to the sender, removed)");
}

enum tern_err admin_queue_delete(struct admin_ctx *ctx, const char *id)
{
	return by_id(ctx, id, ctx->env->queue ? ctx->env->queue->remove : NULL, "delete (removed without notice)");
}

enum tern_err admin_queue_freeze(struct admin_ctx *ctx, const char *id)
{
	return by_id(ctx, id, ctx->env->queue ? ctx->env->queue->freeze : NULL, "freeze (moved to the frozen queue)");
}

enum tern_err admin_queue_force(struct admin_ctx *ctx, int *count_r)
{
	enum tern_err e = ready(ctx, NULL);
	if (e)
		return e;
	*count_r = ctx->env->queue->flush(ctx->env->queue->arg, NULL);
	log_info("queue force: %d message(s) scheduled now by %s from %s via %s", *count_r, ctx->admin, ctx->peer,
		 ctx->via ? ctx->via : "?");
	return TERN_OK;
}

enum tern_err admin_queue_etrn(struct admin_ctx *ctx, char *const *patterns, int n, int *count_r)
{
	enum tern_err e = ready(ctx, NULL);
	if (e)
		return e;
	*count_r = 0;
	for (int i = 0; i < n; i++) {
		if (!patterns[i][0] || !admin_value_ok(patterns[i]))
			return TERN_E_INVALID;
	}
	for (int i = 0; i < n; i++)
		*count_r += ctx->env->queue->flush(ctx->env->queue->arg, patterns[i]);
	log_info("queue etrn: %d message(s) scheduled now by %s from %s via %s", *count_r, ctx->admin, ctx->peer,
		 ctx->via ? ctx->via : "?");
	return TERN_OK;
}

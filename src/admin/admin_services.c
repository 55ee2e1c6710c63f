/*
 * admin_services - START/STOP Service: the admin's side of the daemon's
 * struct service_ops (see admin.h). Runtime state, logged.
 */
#include <string.h>
#include <strings.h>

#include "../core/log.h"
#include "admin.h"

static bool known(const char *service)
{
	static const char *const names[] = {"cli", "smtpIncoming", "smtpOutgoing", "pop3"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(service, names[i]))
			return true;
	return false;
}

enum tern_err admin_service_running(struct admin_ctx *ctx, const char *service, bool *running_r)
{
	const struct service_ops *ops = ctx->env->services;
	if (!known(service))
		return TERN_E_INVALID;
	if (!ops)
		return TERN_E_NOT_IMPLEMENTED;
	int r = ops->running(ops->arg, service);
	if (r < 0)
		return TERN_E_INVALID;
	*running_r = r == 1;
	return TERN_OK;
}

enum tern_err admin_service_set(struct admin_ctx *ctx, const char *service, bool run)
{
	bool now;
	enum tern_err e = admin_service_running(ctx, service, &now);
	if (e)
		return e;
	/* The front-end the admin is using is the service of the same name. */
	if (!run && ctx->via && !strcasecmp(ctx->via, service))
		return TERN_E_BUSY;
	const struct service_ops *ops = ctx->env->services;
	if (now != run && ops->set_running(ops->arg, service, run) < 0)
		return TERN_E_INTERNAL;
	log_info("%s: admin %s from %s %s service %s%s", ctx->via ? ctx->via : "admin", ctx->admin ? ctx->admin : "-",
		 ctx->peer ? ctx->peer : "-", run ? "started" : "stopped", service,
		 now == run ? (run ? " (already running)" : " (already stopped)") : "");
	return TERN_OK;
}

/*
 * workq - a fixed pool of threads for blocking work (fsync'd writes,
 * password checks, delivery) on behalf of the event loop.
 *
 * workq_submit() queues fn(arg) and returns at once. The job runs on a pool
 * thread; to hand a result back to the loop, the job ends with
 * event_active() on an event of the session (libevent is set up for
 * threads, so that is safe from a pool thread).
 */
#ifndef TERN_WORKQ_H
#define TERN_WORKQ_H

typedef void (*workq_fn)(void *arg);

struct workq;

struct workq *workq_new(int threads, const char *name);
void workq_submit(struct workq *q, workq_fn fn, void *arg);
/* Finish every queued job, then stop the threads. */
void workq_free(struct workq *q);

#endif

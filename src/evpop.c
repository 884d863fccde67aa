/*
 * evpop.c -- the core's side of the event queue (ct.h, ct_evq_pop): what
 * the layers above wait for, made from what every backend reports.  It is
 * the one producer of NC_EVX_EMPTIED: every process pr_empty is preceded
 * by one for its contract, so that stop(), run() and the release of the
 * event loop do not depend on each backend making it; a pr_empty the
 * backend queued for this purpose only (NC_EVF_INTERNAL: the user's sets
 * leave it out) leaves nothing but that record.
 *
 * It is handed the backend's ct_evq_next rather than calling it, so that
 * the core links without a backend (ct-keeper uses it so).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

static pthread_mutex_t pop_lock = PTHREAD_MUTEX_INITIALIZER;
static ct_evrec_t held;		/* a pr_empty that follows its notice */
static bool holding;

/* With pop_lock: the next record, a pr_empty turned into its notice. */
static int
pop_one(int (*next)(ct_evrec_t *), ct_evrec_t *ev)
{
	bool internal;
	int err;

	if ((err = next(ev)) != 0)
		return (err);
	if (ev->cttype != CT_TYPE_PROCESS || ev->type != NC_PR_EV_EMPTY)
		return (0);
	internal = (ev->flags & NC_EVF_INTERNAL) != 0;
	ev->flags &= ~(uint32_t)NC_EVF_INTERNAL;
	/* The notice first: a pr_empty listener may dispose the contract. */
	if (!internal) {
		held = *ev;
		holding = true;
	} else {
		ct_evrec_fini(ev);
	}
	ct_evrec_t n = { 0 };
	n.ctid = ev->ctid;
	n.gen = ev->gen;
	n.cttype = ev->cttype;
	n.type = NC_EVX_EMPTIED;
	n.flags = NC_EVF_INFO;
	*ev = n;
	return (0);
}

int
ct_evq_pop(int (*next)(ct_evrec_t *), ct_evrec_t *ev)
{
	int err;

	(void) pthread_mutex_lock(&pop_lock);
	if (holding) {
		*ev = held;
		holding = false;
		err = 0;
	} else {
		err = pop_one(next, ev);
	}
	(void) pthread_mutex_unlock(&pop_lock);
	return (err);
}

/*
 * evq.c -- the core's side of the event queue (ct.h, ct_evq_pop): what
 * the layers above wait for, made from what every backend reports.  A
 * process pr_empty is preceded by an NC_EVX_EMPTIED record for its
 * contract, so that stop(), run() and the release of the event loop do
 * not depend on each backend remembering to send one; a pr_empty the
 * backend subscribed for this purpose only (NC_EVF_INTERNAL) leaves
 * nothing but that record.
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

/*
 * The contracts whose NC_EVX_EMPTIED came from the backend itself
 * (Linux sends it just before its pr_empty): their pr_empty gets no
 * second one.  A few suffice; a miss only repeats a notice the layers
 * above take as often as it comes.
 */
#define	RECENT	8

static pthread_mutex_t pop_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	ct_id_t ctid;
	uint64_t gen;
} recent[RECENT];
static unsigned nrecent;
static ct_evrec_t held;		/* a pr_empty that follows its notice */
static bool holding;

static bool
recent_take(const ct_evrec_t *ev)
{
	for (unsigned i = 0; i < RECENT && i < nrecent; i++) {
		if (recent[i].ctid == ev->ctid && recent[i].gen == ev->gen) {
			recent[i].ctid = 0;
			return (true);
		}
	}
	return (false);
}

static void
recent_put(const ct_evrec_t *ev)
{
	recent[nrecent % RECENT].ctid = ev->ctid;
	recent[nrecent % RECENT].gen = ev->gen;
	nrecent++;
}

/* With pop_lock: one step; EAGAIN: an internal pr_empty was dropped. */
static int
pop_one(int (*next)(ct_evrec_t *), ct_evrec_t *ev)
{
	bool internal;
	int err;

	if ((err = next(ev)) != 0)
		return (err);
	if (ev->type == NC_EVX_EMPTIED) {
		recent_put(ev);
		return (0);
	}
	if (ev->cttype != CT_TYPE_PROCESS || ev->type != NC_PR_EV_EMPTY)
		return (0);
	internal = (ev->flags & NC_EVF_INTERNAL) != 0;
	ev->flags &= ~(uint32_t)NC_EVF_INTERNAL;
	if (recent_take(ev)) {
		if (!internal)
			return (0);
		ct_evrec_fini(ev);
		return (EAGAIN);
	}
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
		while ((err = pop_one(next, ev)) == EAGAIN)
			;
	}
	(void) pthread_mutex_unlock(&pop_lock);
	return (err);
}

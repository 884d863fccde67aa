/*
 * publish.c -- what a watch says: events into the queue of evloop.c (with
 * the critical ones counted until acknowledged, and auto-acknowledged
 * where nobody holds the contract), and what it answers when asked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "lx.h"
#include "watch.h"

static void
nevents_sync(lx_watch_t *w)
{
	if (w->held)
		(void) lx_meta_set_u64(lx_watch_dirfd(w), LX_META_NEVENTS,
		    w->nunacked);
}

ct_evrec_t *
lx_watch_notify(lx_watch_t *w, uint32_t type)
{
	return (lx_evq_push(w->id, w->gen, w->terms.type, type,
	    NC_EVF_INFO));
}

ct_evrec_t *
lx_watch_publish_as(lx_watch_t *w, uint32_t type, pid_t pid, bool critical)
{
	uint32_t flags = 0;
	ct_evrec_t *ev;

	if (!critical)
		flags = NC_EVF_INFO;
	else if (!w->held && (w->orphaned || lx_holder_absent(lx_watch_dirfd(w))))
		flags = NC_EVF_ACK;	/* nobody holds it: auto-acked */
	if ((ev = lx_evq_push(w->id, w->gen, w->terms.type, type, flags)) ==
	    NULL) {
		w->lost++;
		return (NULL);
	}
	if (pid != 0) {
		ev->pid = pid;
		ev->have = CT_EVP_PID;
	}
	if (critical && w->held) {
		if (w->nunacked == w->capunacked) {
			size_t cap = w->capunacked == 0 ? 4 : w->capunacked * 2;
			ct_evid_t *u = realloc(w->unacked, cap * sizeof (*u));
			if (u == NULL)
				return (ev);
			w->unacked = u;
			w->capunacked = cap;
		}
		w->unacked[w->nunacked++] = ev->evid;
		nevents_sync(w);
	}
	return (ev);
}

ct_evrec_t *
lx_watch_publish(lx_watch_t *w, uint32_t type, pid_t pid)
{
	bool critical = (w->terms.critical & type) != 0;

	if (!critical && (w->terms.informative & type) == 0)
		return (NULL);
	return (lx_watch_publish_as(w, type, pid, critical));
}

void
lx_watch_publish_empty(lx_watch_t *w, pid_t pid)
{
	const uint32_t e = NC_PR_EV_EMPTY;
	ct_evrec_t *ev;

	if (((w->terms.critical | w->terms.informative) & e) != 0) {
		(void) lx_watch_publish(w, e, pid);
		return;
	}
	/* Not asked for: internal, only for the core's notice. */
	if ((ev = lx_evq_push(w->id, w->gen, w->terms.type, e,
	    NC_EVF_INFO | NC_EVF_INTERNAL)) == NULL) {
		w->lost++;
		return;
	}
	if (pid != 0) {
		ev->pid = pid;
		ev->have = CT_EVP_PID;
	}
}

int
lx_watch_ack(lx_watch_t *w, ct_evid_t evid)
{
	for (size_t i = 0; i < w->nunacked; i++) {
		if (w->unacked[i] == evid) {
			w->unacked[i] = w->unacked[--w->nunacked];
			nevents_sync(w);
			return (0);
		}
	}
	return (ct_err_set(ESRCH, "ct_ctl_ack", "event %" PRIu64 " is not an "
	    "unacknowledged critical event of contract %" PRId32, evid,
	    w->id));
}

/*
 * Linux never asks before a device changes state, so every move out of
 * the A-set is an asynchronous break ("Device breaks" in
 * docs/ARCHITECTURE.md): a critical event
 * without CTE_NEG, published even if not subscribed.  Moves inside the
 * A-set are published as the sets say.
 */
void
lx_watch_devstate(lx_watch_t *w, uint32_t state)
{
	if (state == w->dev_state)
		return;
	w->dev_state = state;
	if (w->held)
		(void) lx_meta_set_u64(lx_watch_dirfd(w), LX_META_DEVSTATE,
		    state);
	bool brk = (w->terms.dev_aset & state) == 0;
	bool critical = brk || (w->terms.critical & state) != 0;
	if (!critical && (w->terms.informative & state) == 0)
		return;
	(void) lx_watch_publish_as(w, state, 0, critical);
}

/* ---- accessors ---- */

void
lx_watch_sending(lx_watch_t *w, int sig)
{
	w->sending = sig;
}

bool
lx_watch_fatal_killed(const lx_watch_t *w)
{
	return (w->fatal_kill);
}

void
lx_watch_set_fatal_killed(lx_watch_t *w)
{
	w->fatal_kill = true;
}

int
lx_watch_sent(const lx_watch_t *w)
{
	return (w->sending);
}

uint32_t
lx_watch_nevents(const lx_watch_t *w)
{
	return ((uint32_t)w->nunacked);
}

uint64_t
lx_watch_lost(const lx_watch_t *w)
{
	return (w->lost);
}

void
lx_watch_add_lost(lx_watch_t *w, uint64_t n)
{
	w->lost += n;
}

bool
lx_watch_held(const lx_watch_t *w)
{
	return (w->held);
}

const lx_terms_t *
lx_watch_terms(const lx_watch_t *w)
{
	return (&w->terms);
}

ct_id_t
lx_watch_id(const lx_watch_t *w)
{
	return (w->id);
}

uint64_t
lx_watch_gen(const lx_watch_t *w)
{
	return (w->gen);
}

uint32_t
lx_watch_dev_state(const lx_watch_t *w)
{
	return (w->dev_state);
}

const char *
lx_watch_devpath(const lx_watch_t *w)
{
	return (w->terms.dev_path != NULL ? w->terms.dev_path : "");
}

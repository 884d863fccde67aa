/*
 * test_evpop.c -- the core's ct_evq_pop (src/evpop.c) over a scripted backend
 * queue: every process pr_empty is preceded by one NC_EVX_EMPTIED, an
 * internal pr_empty leaves only that, and each contract (id and
 * generation) gets its own.
 * Prints failures as file:line, then "N passed, N failed".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../src/evpop.c"

#include "check.h"

/* The scripted backend queue. */
static ct_evrec_t script[16];
static size_t nscript, next;

static int
next_scripted(ct_evrec_t *ev)
{
	if (next == nscript)
		return (ENOENT);
	*ev = script[next++];
	return (0);
}

static void
queue(ct_id_t ctid, uint64_t gen, ct_type_t cttype, uint32_t type,
    uint32_t flags)
{
	ct_evrec_t *ev = &script[nscript++];

	memset(ev, 0, sizeof (*ev));
	ev->ctid = ctid;
	ev->gen = gen;
	ev->cttype = cttype;
	ev->type = type;
	ev->flags = flags;
	ev->evid = nscript;
}

/* The types ct_evq_pop gives, in order, as "ctid:type" pairs. */
static size_t
drain(uint32_t *types, ct_id_t *ids, uint32_t *flags, size_t max)
{
	ct_evrec_t ev;
	size_t n = 0;

	while (ct_evq_pop(next_scripted, &ev) == 0 && n < max) {
		types[n] = ev.type;
		ids[n] = ev.ctid;
		flags[n++] = ev.flags;
		ct_evrec_fini(&ev);
	}
	nscript = next = 0;
	return (n);
}

int
main(void)
{
	uint32_t t[16], f[16];
	ct_id_t id[16];
	size_t n;

	/* A kernel's pr_empty: the notice, then the event (flags kept). */
	queue(5, 0, CT_TYPE_PROCESS, NC_PR_EV_EXIT, NC_EVF_INFO);
	queue(5, 0, CT_TYPE_PROCESS, NC_PR_EV_EMPTY, 0);
	n = drain(t, id, f, 16);
	CHECK(n == 3);
	CHECK(t[0] == NC_PR_EV_EXIT && t[1] == NC_EVX_EMPTIED &&
	    t[2] == NC_PR_EV_EMPTY);
	CHECK(id[1] == 5 && f[1] == NC_EVF_INFO && f[2] == 0);

	/* One the backend subscribed itself: only the notice. */
	queue(6, 0, CT_TYPE_PROCESS, NC_PR_EV_EMPTY,
	    NC_EVF_INFO | NC_EVF_INTERNAL);
	n = drain(t, id, f, 16);
	CHECK(n == 1 && t[0] == NC_EVX_EMPTIED && id[0] == 6);

	/* Two contracts of one id (generations): one notice each, in order. */
	queue(7, 2, CT_TYPE_PROCESS, NC_PR_EV_EMPTY, NC_EVF_INFO |
	    NC_EVF_INTERNAL);
	queue(7, 3, CT_TYPE_PROCESS, NC_PR_EV_EMPTY, 0);
	n = drain(t, id, f, 16);
	CHECK(n == 3 && t[0] == NC_EVX_EMPTIED && t[1] == NC_EVX_EMPTIED &&
	    t[2] == NC_PR_EV_EMPTY);

	/* Device events with the same bit are not pr_empty. */
	queue(8, 0, CT_TYPE_DEVICE, NC_DEV_EV_ONLINE, 0);
	n = drain(t, id, f, 16);
	CHECK(n == 1 && t[0] == NC_DEV_EV_ONLINE);

	/* Nothing queued: ENOENT, and the queue is not disturbed. */
	ct_evrec_t ev;
	CHECK(ct_evq_pop(next_scripted, &ev) == ENOENT);

	return (check_report());
}

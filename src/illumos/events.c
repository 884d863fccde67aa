/*
 * events.c -- contract events for the illumos backend (see il.h): every
 * endpoint is associated with one event port, the fd the binding polls,
 * and ct_evq_dispatch() drains those that fired into a FIFO of
 * ct_evrec_t.  Also what this host delivers (ct_features_get) and the
 * bundle reader of ctwatch.
 */
#include "il.h"

#include <sys/stat.h>
#include <port.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

typedef struct evnode {
	struct evnode *next;
	ct_evrec_t rec;
} evnode_t;

/* Guarded by the backend's lock (il_lock). */
static evnode_t *g_qhead, **g_qtail = &g_qhead;
static endpoint_t g_bundle[CT_TYPE_COUNT] = {
	{ -1, CT_TYPE_PROCESS, IL_EP_BUNDLE, NULL },
	{ -1, CT_TYPE_DEVICE, IL_EP_BUNDLE, NULL }
};

int
ct_evq_fd(int *fdp)
{
	int err;

	il_lock();
	if ((err = il_port_ready()) == 0)
		*fdp = il_port;
	il_unlock();
	return (err);
}

/* A core file path of the event, copied; absent is no error. */
static int
event_str(int (*get)(ct_evthdl_t, const char **), ct_evthdl_t ev,
    char **dstp)
{
	const char *s = NULL;

	if (get(ev, &s) != 0 || s == NULL)
		return (0);
	return ((*dstp = strdup(s)) == NULL ? ENOMEM : 0);
}

/* Record a payload field when its getter has it (ENOENT: absent). */
#define	FIELD(call, var, field, bit)	\
	do {				\
		if ((call) == 0) {	\
			r->field = var;	\
			r->have |= (bit); \
		}			\
	} while (0)

/*
 * The payload that libcontract's getters give.  pr_core's signal is in
 * the event's nvlist too, but libcontract's getter answers only for
 * pr_signal and its handle's layout is private, so it is left out
 * (documented in docs/api.md, "On illumos") rather than read behind libcontract's back.
 */
static int
event_payload(ct_evthdl_t ev, ct_evrec_t *r)
{
	pid_t pid;
	ctid_t ct;
	ctevid_t nevid;
	int i, err = 0;

	if (r->type == CT_EV_NEGEND) {
		FIELD(ct_event_get_nevid(ev, &nevid), nevid, nevid,
		    CT_EVP_NEVID);
		FIELD(ct_event_get_newct(ev, &ct), ct, newct, CT_EVP_NEWCT);
		return (0);
	}
	if (r->cttype != CT_TYPE_PROCESS)
		return (0);	/* device events carry nothing else */
	FIELD(ct_pr_event_get_pid(ev, &pid), pid, pid, CT_EVP_PID);
	switch (r->type) {
	case CT_PR_EV_FORK:
		FIELD(ct_pr_event_get_ppid(ev, &pid), pid, ppid, CT_EVP_PPID);
		break;
	case CT_PR_EV_EXIT:
		FIELD(ct_pr_event_get_exitstatus(ev, &i), i, exitstatus,
		    CT_EVP_EXITSTATUS);
		break;
	case CT_PR_EV_SIGNAL:
		FIELD(ct_pr_event_get_signal(ev, &i), i, signal,
		    CT_EVP_SIGNAL);
		FIELD(ct_pr_event_get_sender(ev, &pid), pid, sender,
		    CT_EVP_SENDER);
		FIELD(ct_pr_event_get_senderct(ev, &ct), ct, sender_ctid,
		    CT_EVP_SENDCT);
		break;
	case CT_PR_EV_CORE:
		if ((err = event_str(ct_pr_event_get_pcorefile, ev,
		    &r->pcorefile)) == 0 &&
		    (err = event_str(ct_pr_event_get_gcorefile, ev,
		    &r->gcorefile)) == 0)
			err = event_str(ct_pr_event_get_zcorefile, ev,
			    &r->zcorefile);
		break;
	}
	return (err);
}
#undef FIELD

/*
 * An event on our pbundle for a contract no handle here has open (never
 * opened, or every handle closed): nobody would ever acknowledge it, so
 * do it now rather than let it pile up in the kernel, as ctrun does.  A
 * contract an observer here has open is not stray: its handle shows the
 * event, unacknowledged, as the kernel has it.  And a contract kept to be
 * reaped (contract.c) is abandoned when it empties.
 */
static void
stray(ct_type_t type, watch_t *w, ct_id_t id, ct_evthdl_t ev)
{
	char path[IL_PATH_MAX];
	int fd;

	if ((ct_event_get_flags(ev) & (CTE_INFO | CTE_ACK)) == 0 &&
	    (fd = il_open_exact(il_path(path, il_type_dirs[type], id, "ctl"),
	    O_WRONLY)) >= 0) {
		(void) ct_ctl_ack(fd, ct_event_get_evid(ev));
		(void) close(fd);
	}
	/* Never opened here: abandon it, or it counts against the limit. */
	if (w == NULL && type == CT_TYPE_PROCESS &&
	    ct_event_get_type(ev) == CT_PR_EV_EMPTY) {
		il_stray_empty(id);
		return;
	}
	if (w != NULL && w->reap && ct_event_get_type(ev) == CT_PR_EV_EMPTY) {
		if (il_abandon_id(type, id) == 0)
			w->owned = false;
		w->reap = false;
		il_watch_put(w);
	}
}

/*
 * Whether src queued evid and the other source had not brought it yet:
 * then it is taken off the list.  pend[src] is oldest first.
 */
static bool
pend_take(watch_t *w, int src, ct_evid_t evid)
{
	ct_evid_t *p = w->pend[src];

	for (unsigned i = 0; i < w->npend[src]; i++) {
		if (p[i] != evid)
			continue;
		(void) memmove(&p[i], &p[i + 1],
		    (w->npend[src] - i - 1) * sizeof (*p));
		w->npend[src]--;
		return (true);
	}
	return (false);
}

/* Note evid queued from src; the oldest is forgotten once full. */
static void
pend_add(watch_t *w, int src, ct_evid_t evid)
{
	ct_evid_t *p = w->pend[src];

	if (w->npend[src] == IL_PEND) {
		(void) memmove(&p[0], &p[1], (IL_PEND - 1) * sizeof (*p));
		w->npend[src]--;
	}
	p[w->npend[src]++] = evid;
}

/*
 * Whether an event read from ep goes to the queue.  Each source of a
 * watch notes the newest event id it queued; one the other source queued
 * already is dropped (il.h).  *wp: the watch, if any.
 */
static bool
event_wanted(endpoint_t *ep, ct_evthdl_t ev, watch_t **wp)
{
	ct_id_t id = (ct_id_t)ct_event_get_ctid(ev);
	ct_evid_t evid = ct_event_get_evid(ev);
	watch_t *w;
	int src;

	*wp = NULL;
	if (ep->kind == IL_EP_BUNDLE)
		return (true);
	w = *wp = il_watch_find(id);
	if (w == NULL || w->nhandles == 0) {
		if (ep->kind == IL_EP_PBUNDLE)
			stray(ep->type, w, id, ev);
		return (false);
	}
	src = ep->kind == IL_EP_PBUNDLE ? 0 : 1;
	if (pend_take(w, 1 - src, evid))
		return (false);
	/* Only while the other source can still bring it. */
	if (src == 0 ? w->ev.fd >= 0 : w->owned)
		pend_add(w, src, evid);
	return (true);
}

/* With the lock: queue ev, read from ep, if a handle here wants it. */
static int
event_take(endpoint_t *ep, ct_evthdl_t ev, bool *queuedp)
{
	watch_t *w;
	evnode_t *n;
	int err;

	if (!event_wanted(ep, ev, &w))
		return (0);
	if (w != NULL && ep->type == CT_TYPE_PROCESS) {
		uint_t type = ct_event_get_type(ev);

		if (w->trace != NULL)
			il_trace_event(w->trace, ev);
		/* A trace's pr_fork/pr_exit the user did not ask for. */
		if ((type & w->hidden & (CT_PR_EV_FORK | CT_PR_EV_EXIT)) != 0)
			return (0);
	}
	if ((n = calloc(1, sizeof (*n))) == NULL)
		return (ENOMEM);
	n->rec.ctid = (ct_id_t)ct_event_get_ctid(ev);
	n->rec.cttype = ep->type;
	n->rec.evid = ct_event_get_evid(ev);
	n->rec.type = ct_event_get_type(ev);
	n->rec.flags = ct_event_get_flags(ev) & (CTE_ACK | CTE_INFO | CTE_NEG);
	if (w != NULL && (w->hidden & CT_PR_EV_EMPTY) != 0 &&
	    ep->type == CT_TYPE_PROCESS &&
	    n->rec.type == CT_PR_EV_EMPTY)
		n->rec.flags |= NC_EVF_INTERNAL;
	if ((err = event_payload(ev, &n->rec)) != 0) {
		ct_evrec_fini(&n->rec);
		free(n);
		return (err);
	}
	*g_qtail = n;
	g_qtail = &n->next;
	*queuedp = true;
	return (0);
}

/* With the lock: read ep until EAGAIN (it never blocks), then re-arm it. */
int
il_ep_drain(endpoint_t *ep)
{
	ct_evthdl_t ev;
	bool queued = false;
	int err, first = 0;

	while ((err = ct_event_read(ep->fd, &ev)) == 0) {
		int e = event_take(ep, ev, &queued);

		ct_event_free(ev);
		if (e != 0 && first == 0)
			first = ct_err_set(e, NULL, "out of memory: a %s "
			    "contract event was lost", il_type_dirs[ep->type]);
	}
	if (err != EAGAIN && first == 0)
		first = ct_err_set(err, "ct_event_read",
		    "cannot read %s contract events", il_type_dirs[ep->type]);
	/* Armed after draining: an event that came in between fires now. */
	if ((err = il_ep_arm(ep)) != 0 && first == 0)
		first = err;
	/* Queued outside ct_evq_dispatch: make the port fire for it. */
	if (queued && !il_dispatching)
		(void) port_send(il_port, 0, NULL);
	return (first);
}

int
il_pbundle_drain(ct_type_t type)
{
	endpoint_t *ep = il_pbundle(type);

	return (ep->fd < 0 ? 0 : il_ep_drain(ep));
}

int
ct_evq_dispatch(void)
{
	port_event_t pe[64];
	struct timespec zero = { 0, 0 };
	uint_t n;
	int first = 0, err;

	il_lock();
	il_dispatching = true;
	while (il_port >= 0) {
		/*
		 * -1 and ETIME: fewer events than asked for, n says how many
		 * (maybe 0); -1 and another errno: n is not updated; an
		 * errno returned: n is valid.
		 */
		n = 1;
		if (port_getn(il_port, pe, 64, &n, &zero) == -1 &&
		    errno != ETIME) {
			if (errno == EINTR)
				continue;
			first = ct_err_set(errno, "port_getn",
			    "cannot collect contract events");
			break;
		}
		for (uint_t i = 0; i < n; i++) {
			endpoint_t *ep = pe[i].portev_user;

			/* PORT_SOURCE_USER: a wake-up from il_ep_drain. */
			if (pe[i].portev_source != PORT_SOURCE_FD ||
			    ep->fd < 0)
				continue;
			if ((err = il_ep_drain(ep)) != 0 && first == 0)
				first = err;
		}
		if (n < 64)
			break;
	}
	il_dispatching = false;
	il_watch_flush();
	il_unlock();
	return (first);
}

int
ct_evq_next(ct_evrec_t *ev)
{
	evnode_t *n;

	il_lock();
	if ((n = g_qhead) != NULL && (g_qhead = n->next) == NULL)
		g_qtail = &g_qhead;
	il_unlock();
	if (n == NULL)
		return (ENOENT);
	*ev = n->rec;
	free(n);
	return (0);
}

int
il_bundle_watch(ct_type_t type, bool reliable, bool reset)
{
	char path[IL_PATH_MAX];
	int err = 0;

	if ((unsigned)type >= CT_TYPE_COUNT)
		return (ct_err_set(EINVAL, NULL, "unknown contract type %d",
		    (int)type));
	il_lock();
	if (g_bundle[type].fd < 0)
		err = il_ep_open(&g_bundle[type], il_path(path,
		    il_type_dirs[type], 0, "bundle"), reset, reliable);
	il_unlock();
	return (err);
}

/* ------------------------------------------------------------------ */
/* Backend: what this host delivers */

int
ct_features_get(ct_features_t *f)
{
	struct stat sb;

	(void) memset(f, 0, sizeof (*f));
	f->backend = "illumos";
	f->pr_events = NC_PR_ALLEVENT;
	f->devices = true;
	f->holder_death = true;	/* the kernel applies it */
	f->spawn = CT_SPAWN_KERNEL;
	f->trace = true;	/* from pr_fork and pr_exit (trace.c) */
	/* freeze, usage, memory: false; the JS layer never asks for them. */
	if (stat(CTFS_ROOT "/all", &sb) == 0)
		return ((f->root = strdup(CTFS_ROOT)) == NULL ? ENOMEM : 0);
	f->root_errno = errno;
	if (asprintf(&f->root_error, "ctfs is not mounted on %s: %s",
	    CTFS_ROOT, strerror(f->root_errno)) < 0) {
		f->root_error = NULL;
		return (ENOMEM);
	}
	return (0);
}

/*
 * ctfs.c -- the illumos backend's plumbing (see il.h): ctfs paths and
 * descriptors, the one event port, the pbundles, and the watches.
 */
#include "il.h"

#include <sys/stat.h>
#include <port.h>
#include <poll.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ct.h carries the illumos numbers under its own names: check them. */
#define	SAME(a, b)	_Static_assert((long)(a) == (long)(b), #a " != " #b)
SAME(NC_EV_NEGEND, CT_EV_NEGEND);
SAME(NC_PR_EV_EMPTY, CT_PR_EV_EMPTY);	SAME(NC_PR_EV_FORK, CT_PR_EV_FORK);
SAME(NC_PR_EV_EXIT, CT_PR_EV_EXIT);	SAME(NC_PR_EV_CORE, CT_PR_EV_CORE);
SAME(NC_PR_EV_SIGNAL, CT_PR_EV_SIGNAL);	SAME(NC_PR_EV_HWERR, CT_PR_EV_HWERR);
SAME(NC_PR_ALLEVENT, CT_PR_ALLEVENT);	SAME(NC_PR_ALLFATAL, CT_PR_ALLFATAL);
SAME(NC_PR_INHERIT, CT_PR_INHERIT);	SAME(NC_PR_NOORPHAN, CT_PR_NOORPHAN);
SAME(NC_PR_PGRPONLY, CT_PR_PGRPONLY);	SAME(NC_PR_REGENT, CT_PR_REGENT);
SAME(NC_PR_ALLPARAM, CT_PR_ALLPARAM);
SAME(NC_DEV_EV_ONLINE, CT_DEV_EV_ONLINE);
SAME(NC_DEV_EV_DEGRADED, CT_DEV_EV_DEGRADED);
SAME(NC_DEV_EV_OFFLINE, CT_DEV_EV_OFFLINE);
SAME(NC_DEV_ALLEVENT, CT_DEV_ALLEVENT);
SAME(NC_EVF_ACK, CTE_ACK);	SAME(NC_EVF_INFO, CTE_INFO);
SAME(NC_EVF_NEG, CTE_NEG);
SAME(NC_ST_OWNED, CTS_OWNED);	SAME(NC_ST_INHERITED, CTS_INHERITED);
SAME(NC_ST_ORPHAN, CTS_ORPHAN);	SAME(NC_ST_DEAD, CTS_DEAD);
SAME(NC_PARAM_MAX_SIZE, CT_PARAM_MAX_SIZE);
SAME(CT_TYPE_PROCESS, CTT_PROCESS);	SAME(CT_TYPE_DEVICE, CTT_DEVICE);
SAME(CT_TYPE_COUNT, CTT_MAXTYPE);
SAME(sizeof (ct_evid_t), sizeof (ctevid_t));
/* Our flag must be one the kernel never sets. */
_Static_assert((NC_EVF_INTERNAL & (CTE_ACK | CTE_INFO | CTE_NEG)) == 0,
    "NC_EVF_INTERNAL collides with a kernel flag");
#undef SAME

const char *const il_type_dirs[CT_TYPE_COUNT] = { "process", "device" };

/* ------------------------------------------------------------------ */
/* Paths and descriptors */

const char *
il_path(char *buf, const char *dir, ct_id_t id, const char *file)
{
	char num[16] = "";

	if (id != 0)
		(void) snprintf(num, sizeof (num), "/%d", (int)id);
	(void) snprintf(buf, IL_PATH_MAX, "%s/%s%s%s%s", CTFS_ROOT, dir, num,
	    file != NULL ? "/" : "", file != NULL ? file : "");
	return (buf);
}

int
il_open_exact(const char *path, int flags)
{
	int fd, err;

	while ((fd = open(path, flags)) < 0 && errno == EINTR)
		;
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		err = errno;
		(void) close(fd);
		errno = err;
		return (-1);
	}
	return (fd);
}

int
il_open(const char *path, int flags)
{
	int fd;

	while ((fd = open(path, flags | O_CLOEXEC)) < 0 && errno == EINTR)
		;
	return (fd);
}

int
il_ctid_type(ct_id_t id, ct_type_t *typep)
{
	char path[IL_PATH_MAX];
	struct stat sb;

	for (int t = 0; id > 0 && t < CT_TYPE_COUNT; t++) {
		if (stat(il_path(path, il_type_dirs[t], id, NULL), &sb) == 0) {
			*typep = (ct_type_t)t;
			return (0);
		}
	}
	return (ct_err_set(ESRCH, "stat", "no contract %d is visible here",
	    (int)id));
}

int
il_latest_read(ct_type_t type, ct_id_t *idp, char *path)
{
	ct_stathdl_t st;
	int fd, err;

	/* latest opens the contract's status; it takes O_RDONLY only. */
	fd = il_open_exact(il_path(path, il_type_dirs[type], 0, "latest"),
	    O_RDONLY);
	if (fd < 0)
		return (errno);
	err = ct_status_read(fd, CTD_COMMON, &st);
	(void) close(fd);
	if (err == 0) {
		*idp = (ct_id_t)ct_status_get_id(st);
		ct_status_free(st);
	}
	return (err);
}

int
il_abandon_id(ct_type_t type, ct_id_t id)
{
	char path[IL_PATH_MAX];
	int fd, err;

	fd = il_open_exact(il_path(path, il_type_dirs[type], id, "ctl"),
	    O_WRONLY);
	if (fd < 0)
		return (errno);
	err = ct_ctl_abandon(fd);
	(void) close(fd);
	return (err);
}

/* ------------------------------------------------------------------ */
/* The lock, the port, endpoints */

#define	WBUCKETS	1024	/* ids are sequential: chains stay even */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
int il_port = -1;
static endpoint_t g_pb[CT_TYPE_COUNT] = {
	{ -1, CT_TYPE_PROCESS, IL_EP_PBUNDLE, NULL },
	{ -1, CT_TYPE_DEVICE, IL_EP_PBUNDLE, NULL }
};
static watch_t *g_watches[WBUCKETS];

void
il_lock(void)
{
	(void) pthread_mutex_lock(&g_lock);
}

void
il_unlock(void)
{
	(void) pthread_mutex_unlock(&g_lock);
}

int
il_port_ready(void)
{
	int fd, err;

	if (il_port >= 0)
		return (0);
	if ((fd = port_create()) < 0)
		return (ct_err_set(errno, "port_create",
		    "cannot create an event port for contract events"));
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		err = errno;
		(void) close(fd);
		return (ct_err_set(err, "fcntl", "cannot set FD_CLOEXEC"));
	}
	il_port = fd;
	return (0);
}

/* Event ports are one-shot: arm ep for its next POLLIN. */
int
il_ep_arm(endpoint_t *ep)
{
	if (port_associate(il_port, PORT_SOURCE_FD, (uintptr_t)ep->fd, POLLIN,
	    ep) != 0)
		return (ct_err_set(errno, "port_associate",
		    "cannot watch a %s event endpoint", il_type_dirs[ep->type]));
	return (0);
}

/*
 * A new listener starts at the tail of its queue; rewind moves it to the head
 * first, so that the critical events still unacknowledged there are read too
 * (docs/ARCHITECTURE.md, "The process bundle").  reliable asks the kernel to
 * keep every event for this listener (ctwatch -r; needs the contract_event
 * privilege).
 */
bool il_reliable_refused;

bool
il_reliable_was_refused(void)
{
	return (il_reliable_refused);
}

int
il_ep_open(endpoint_t *ep, const char *path, bool rewind, bool reliable)
{
	int err;

	if ((err = il_port_ready()) != 0)
		return (err);
	/* Non-blocking is latched at open; fcntl() cannot add it later. */
	if ((ep->fd = il_open_exact(path, O_RDONLY | O_NONBLOCK)) < 0)
		return (ct_err_set(errno, "open", "cannot open %s", path));
	/*
	 * Refused without the contract_event privilege (contract.c:2679):
	 * the endpoint still delivers, only not reliably, so it is kept and
	 * the refusal noted, as illumos's ctwatch warns and carries on.
	 */
	if (reliable && ct_event_reliable(ep->fd) != 0)
		il_reliable_refused = true;
	if (rewind && (err = ct_event_reset(ep->fd)) != 0)
		err = ct_err_set(err, "ct_event_reset", "cannot rewind %s",
		    path);
	if (err != 0 || (err = il_ep_arm(ep)) != 0) {
		(void) close(ep->fd);
		ep->fd = -1;
	}
	return (err);
}

void
il_ep_close(endpoint_t *ep)
{
	if (ep->fd < 0)
		return;
	/* This also drops an event fired but not yet retrieved. */
	(void) port_dissociate(il_port, PORT_SOURCE_FD, (uintptr_t)ep->fd);
	(void) close(ep->fd);
	ep->fd = -1;
}

int
il_pbundle_ready(ct_type_t type)
{
	char path[IL_PATH_MAX];

	if (g_pb[type].fd >= 0)
		return (0);
	return (il_ep_open(&g_pb[type], il_path(path, il_type_dirs[type], 0,
	    "pbundle"), true, false));
}

endpoint_t *
il_pbundle(ct_type_t type)
{
	return (&g_pb[type]);
}

/* ------------------------------------------------------------------ */
/* Watches */

static watch_t **
watch_slot(ct_id_t id)
{
	watch_t **pp = &g_watches[(uint32_t)id % WBUCKETS];

	while (*pp != NULL && (*pp)->ctid != id)
		pp = &(*pp)->next;
	return (pp);
}

watch_t *
il_watch_find(ct_id_t id)
{
	return (*watch_slot(id));
}

watch_t *
il_watch_get(ct_id_t id, ct_type_t type)
{
	watch_t **pp = watch_slot(id), *w = *pp;

	if (w == NULL && (w = calloc(1, sizeof (*w))) != NULL) {
		w->ctid = id;
		w->type = type;
		w->ev.fd = -1;
		w->ev.type = type;
		w->ev.kind = IL_EP_EVENTS;
		w->ev.w = w;
		*pp = w;
	}
	return (w);
}

/*
 * While ct_evq_dispatch() works through a batch from the port, an entry
 * of the batch may point at the events endpoint of a watch freed by an
 * earlier entry: such watches are freed after the batch.
 */
bool il_dispatching;
static watch_t *g_dead;

void
il_watch_put(watch_t *w)
{
	if (w->nhandles != 0 || w->reap)
		return;
	il_ep_close(&w->ev);
	il_trace_free(w->trace);
	w->trace = NULL;
	*watch_slot(w->ctid) = w->next;
	if (il_dispatching) {
		w->next = g_dead;
		g_dead = w;
		return;
	}
	free(w);
}

void
il_watch_flush(void)
{
	watch_t *w;

	while ((w = g_dead) != NULL) {
		g_dead = w->next;
		free(w);
	}
}

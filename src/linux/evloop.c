/*
 * evloop.c -- the one fd the event loop polls (ct_evq_fd), and the queue of
 * records the binding drains (ct_evq_next).
 *
 * An epoll set gathers every source; each source registers its fd with a
 * handler and is called when it is readable (this file names none of
 * them).  An eventfd wakes the loop for records queued outside a dispatch.
 * Sources that learn only that a contract may have changed (a cgroup.events
 * write, a removed directory) say so with lx_evq_notice(); the watches
 * re-read that contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lx.h"

typedef struct source {
	lx_evq_fn_t *fn;
	void *arg;
} source_t;

typedef struct qnode {
	struct qnode *next;
	ct_evrec_t ev;
} qnode_t;

#define	MAX_HOOKS	4

static int epfd = -1, efd = -1;
static lx_map_t sources;		/* fd -> source_t */
static source_t hooks[MAX_HOOKS];	/* called at every dispatch */
static size_t nhooks;
static void (*notice_fn)(ct_id_t);
static qnode_t *qhead, *qtail;
static ct_evid_t next_evid[CT_TYPE_COUNT] = { 1, 1 };

static void
drain_kick(void *arg)
{
	uint64_t junk;

	(void) arg;
	(void) !read(efd, &junk, sizeof (junk));
}

static int
evq_init(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	source_t *s;
	int err;

	if (epfd >= 0)
		return (0);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return (ct_err_set(errno, "epoll_create1", "cannot create the "
		    "event poller: %s", strerror(errno)));
	if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		err = errno;
		goto fail;
	}
	ev.data.fd = efd;
	if ((s = calloc(1, sizeof (*s))) == NULL) {
		err = ENOMEM;
		goto fail;
	}
	s->fn = drain_kick;
	if ((err = lx_map_put(&sources, efd, s)) != 0) {
		free(s);
		goto fail;
	}
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev) != 0) {
		err = errno;
		free(lx_map_del(&sources, efd));
		goto fail;
	}
	return (0);
fail:
	if (efd >= 0)
		(void) close(efd);
	(void) close(epfd);
	efd = epfd = -1;
	return (ct_err_set(err, "eventfd", "cannot set up the event queue: %s",
	    strerror(err)));
}

int
lx_evq_add(int fd, lx_evq_fn_t *fn, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	source_t *s;
	int err;

	if ((err = evq_init()) != 0)
		return (err);
	if ((s = calloc(1, sizeof (*s))) == NULL)
		return (ENOMEM);
	s->fn = fn;
	s->arg = arg;
	if ((err = lx_map_put(&sources, fd, s)) != 0) {
		free(s);
		return (err);
	}
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		err = errno;
		free(lx_map_del(&sources, fd));
		return (err);
	}
	return (0);
}

void
lx_evq_del(int fd)
{
	if (epfd >= 0)
		(void) epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	free(lx_map_del(&sources, fd));
}

int
lx_evq_on_dispatch(lx_evq_fn_t *fn, void *arg)
{
	for (size_t i = 0; i < nhooks; i++) {
		if (hooks[i].fn == fn && hooks[i].arg == arg)
			return (0);
	}
	if (nhooks == MAX_HOOKS)
		return (ENOSPC);
	hooks[nhooks].fn = fn;
	hooks[nhooks++].arg = arg;
	return (0);
}

void
lx_evq_on_notice(void (*fn)(ct_id_t))
{
	notice_fn = fn;
}

void
lx_evq_notice(ct_id_t id)
{
	if (notice_fn != NULL)
		notice_fn(id);
}

void
lx_evq_kick(void)
{
	uint64_t one = 1;

	if (efd >= 0)
		(void) !write(efd, &one, sizeof (one));
}

int
ct_evq_fd(int *fdp)
{
	int err;

	if ((err = evq_init()) != 0)
		return (err);
	*fdp = epfd;
	return (0);
}

int
ct_evq_dispatch(void)
{
	struct epoll_event evs[8];
	int n;

	if (epfd < 0)
		return (0);
	for (size_t i = 0; i < nhooks; i++)
		hooks[i].fn(hooks[i].arg);
	n = epoll_wait(epfd, evs, 8, 0);
	for (int i = 0; i < n; i++) {
		/* Looked up per fd: a handler may remove a later source. */
		source_t *s = lx_map_get(&sources, evs[i].data.fd);
		if (s != NULL)
			s->fn(s->arg);
	}
	return (0);
}

ct_evrec_t *
lx_evq_push(ct_id_t id, uint64_t gen, ct_type_t cttype, uint32_t type,
    uint32_t flags)
{
	qnode_t *n = calloc(1, sizeof (*n));

	if (n == NULL)
		return (NULL);
	n->ev.ctid = id;
	n->ev.gen = gen;
	n->ev.cttype = cttype;
	n->ev.type = type;
	n->ev.flags = flags;
	if (type < NC_EVX_LOST)
		n->ev.evid = next_evid[cttype]++;
	if (qtail != NULL)
		qtail->next = n;
	else
		qhead = n;
	qtail = n;
	return (&n->ev);
}

int
ct_evq_next(ct_evrec_t *ev)
{
	qnode_t *n = qhead;

	if (n == NULL)
		return (ENOENT);
	if ((qhead = n->next) == NULL)
		qtail = NULL;
	*ev = n->ev;
	free(n);
	return (0);
}

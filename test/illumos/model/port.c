/*
 * port.c -- the model's event ports (port_create(3C) and friends), as the
 * backend uses them: PORT_SOURCE_FD associations fire once, when their
 * descriptor has an event to read, and must be associated again;
 * port_send queues a PORT_SOURCE_USER event; port_getn with a zero
 * timeout returns what is there, and -1 with ETIME when fewer than asked
 * for (then *nget says how many).  Written from illumos's port(3C) man
 * pages and usr/src/uts/common/fs/portfs.  Not illumos.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <port.h>

#include "mint.h"

#define	MAX_ASSOC	256

static struct {
	int port, fd;
	void *user;
	bool used;
} assoc[MAX_ASSOC];
static int ports[8];
static unsigned nports, nuser;
static void *user_ev[MAX_ASSOC];

void
port_reset(void)
{
	memset(assoc, 0, sizeof (assoc));
	for (unsigned i = 0; i < nports; i++)
		(void) close(ports[i]);
	nports = nuser = 0;
}

void
port_forget(int fd)
{
	for (int i = 0; i < MAX_ASSOC; i++) {
		if (assoc[i].used && assoc[i].fd == fd)
			assoc[i].used = false;
	}
}

static bool
is_port(int port)
{
	for (unsigned i = 0; i < nports; i++) {
		if (ports[i] == port)
			return (true);
	}
	return (false);
}

/*
 * A port's fd is readable exactly while it has something to collect, so
 * that libuv can poll it as it would an illumos port: kept so after every
 * change (the kernel's publications, associations, collections).
 */
static void
kick(int port)
{
	uint64_t v = 1;
	bool ready = model_port_ready(port);

	if (ready && write(port, &v, sizeof (v)) < 0)
		abort();
	if (!ready)
		(void) read(port, &v, sizeof (v));	/* EAGAIN: clear */
}

void
port_kick_all(void)
{
	for (unsigned i = 0; i < nports; i++)
		kick(ports[i]);
}

int
port_create(void)
{
	int fd;

	if (nports == sizeof (ports) / sizeof (ports[0]))
		abort();
	if ((fd = model_port_fd()) >= 0)
		ports[nports++] = fd;
	return (fd);
}

int
port_associate(int port, int source, uintptr_t obj, int events, void *user)
{
	int free_slot = -1;

	(void) events;
	if (!is_port(port) || source != PORT_SOURCE_FD ||
	    !model_is_fd((int)obj)) {
		errno = EBADF;
		return (-1);
	}
	for (int i = 0; i < MAX_ASSOC; i++) {
		if (assoc[i].used && assoc[i].port == port &&
		    assoc[i].fd == (int)obj) {
			assoc[i].user = user;
			kick(port);
			return (0);
		}
		if (!assoc[i].used && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		abort();
	assoc[free_slot].used = true;
	assoc[free_slot].port = port;
	assoc[free_slot].fd = (int)obj;
	assoc[free_slot].user = user;
	kick(port);
	return (0);
}

int
port_dissociate(int port, int source, uintptr_t obj)
{
	(void) source;
	for (int i = 0; i < MAX_ASSOC; i++) {
		if (assoc[i].used && assoc[i].port == port &&
		    assoc[i].fd == (int)obj) {
			assoc[i].used = false;
			return (0);
		}
	}
	errno = ENOENT;
	return (-1);
}

int
port_send(int port, int events, void *user)
{
	(void) events;
	if (!is_port(port)) {
		errno = EBADF;
		return (-1);
	}
	if (nuser == MAX_ASSOC)
		abort();
	user_ev[nuser++] = user;
	kick(port);
	return (0);
}

int
port_getn(int port, port_event_t list[], uint_t max, uint_t *nget,
    struct timespec *timeout)
{
	uint_t n = 0;

	(void) timeout;		/* the backend only polls */
	if (!is_port(port)) {
		errno = EBADF;
		return (-1);
	}
	while (nuser > 0 && n < max) {
		memset(&list[n], 0, sizeof (list[n]));
		list[n].portev_source = PORT_SOURCE_USER;
		list[n++].portev_user = user_ev[--nuser];
	}
	for (int i = 0; i < MAX_ASSOC && n < max; i++) {
		if (!assoc[i].used || assoc[i].port != port ||
		    !model_readable(assoc[i].fd))
			continue;
		assoc[i].used = false;	/* fired: dissociated */
		memset(&list[n], 0, sizeof (list[n]));
		list[n].portev_source = PORT_SOURCE_FD;
		list[n].portev_object = (uintptr_t)assoc[i].fd;
		list[n].portev_events = 1;
		list[n++].portev_user = assoc[i].user;
	}
	kick(port);
	if (n < *nget) {
		*nget = n;
		errno = ETIME;
		return (-1);
	}
	*nget = n;
	return (0);
}

/* Whether a port has something to collect (the binding's poll). */
bool
model_port_ready(int port)
{
	if (nuser > 0)
		return (true);
	for (int i = 0; i < MAX_ASSOC; i++) {
		if (assoc[i].used && assoc[i].port == port &&
		    model_readable(assoc[i].fd))
			return (true);
	}
	return (false);
}

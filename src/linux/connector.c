/*
 * connector.c -- the netlink proc connector: FORK, EXIT and COREDUMP of
 * every process on the host, in one socket per process, handed to the sink
 * that opened it (members.c attributes them to contracts).
 *
 * Kernel facts: since 6.6 a listener may filter by event type (we ask
 * for the three we use); some kernels let any uid listen, others (older
 * ones, and 6.18 as built here) need CAP_NET_ADMIN (EPERM); a network
 * namespace other than the host's is
 * refused (ECONNREFUSED); and where the listener has a pid namespace of
 * its own in the host's network namespace (docker --network=host,
 * rootless runc) the kernel accepts the listen request and ignores it,
 * silently.  So the socket is trusted only once it has delivered the FORK
 * of a child we made for the purpose (probe): the kernel queues that
 * message in the forking parent's context, before fork returns, so it is
 * there to read at once or never (ENOMSG).  The receive buffer overflows
 * in fork storms: recv then fails with ENOBUFS, and the sink resynchronises.
 */
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

static int nlfd = -1;
static int nl_status = ENOTCONN;	/* 0 once open */
static const lx_cn_sink_t *sink;
static int holds;			/* spawns between fork and commit */
static int exec_asks;			/* traces that want EXEC events */
static uint64_t event_ns;		/* timestamp of the event delivered */
static uint64_t hold_since;

#define	HOLD_MAX_NS	(100 * 1000 * 1000)	/* a commit that never came */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/*
 * Between a fork and its commit the new child is no member yet: a FORK of
 * its own child read meanwhile would be dropped.  With one thread no read
 * can come in between; with worker threads another thread's dispatch
 * could, so reading waits (the kernel keeps the messages) until every
 * such spawn is committed, or a commit is overdue (a spawnSync with a
 * template active commits nothing).
 */
void
lx_cn_hold(bool on)
{
	if (on) {
		holds++;
		hold_since = now_ns();
	} else if (holds > 0 && --holds == 0) {
		lx_evq_kick();
	}
}

static bool
held(void)
{
	if (holds > 0 && now_ns() - hold_since > HOLD_MAX_NS)
		holds = 0;
	return (holds > 0);
}

bool
lx_cn_held(void)
{
	return (held());
}

/* Kernels since 6.6 filter connector events per socket. */
static bool
connector_filters(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	return (uname(&u) == 0 && sscanf(u.release, "%d.%d", &maj, &min) == 2 &&
	    (maj > 6 || (maj == 6 && min >= 6)));
}

/* One message: decode it (its data is unaligned: copy it out) and tell. */
static void
deliver(const void *data, size_t len, void *arg)
{
	struct proc_event pe;

	(void) arg;
	memset(&pe, 0, sizeof (pe));
	memcpy(&pe, data, len < sizeof (pe) ? len : sizeof (pe));
	event_ns = pe.timestamp_ns;
	switch (pe.what) {
	case PROC_EVENT_FORK:
		/* Threads share their process's membership: skip them. */
		if (pe.event_data.fork.child_pid ==
		    pe.event_data.fork.child_tgid)
			sink->fork(pe.event_data.fork.parent_tgid,
			    pe.event_data.fork.child_tgid);
		break;
	case PROC_EVENT_EXIT:
		if (pe.event_data.exit.process_pid ==
		    pe.event_data.exit.process_tgid)
			sink->exit(pe.event_data.exit.process_tgid,
			    (int)pe.event_data.exit.exit_code);
		break;
	case PROC_EVENT_COREDUMP:
		sink->coredump(pe.event_data.coredump.process_tgid);
		break;
	case PROC_EVENT_EXEC:
		/* Older kernels send it unasked: only traces want it. */
		if (exec_asks > 0 && sink->exec != NULL)
			sink->exec(pe.event_data.exec.process_tgid);
		break;
	default:
		break;
	}
	event_ns = 0;
}

void
lx_cn_drain(void)
{
	char buf[16384] __attribute__((aligned(8)));
	struct sockaddr_nl from;
	struct iovec iov = { buf, sizeof (buf) };
	struct msghdr mh;
	ssize_t n;

	while (nlfd >= 0 && !held()) {
		memset(&mh, 0, sizeof (mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof (from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(nlfd, &mh, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			sink->lost();
			continue;
		}
		if (n <= 0)
			return;
		/* The kernel's only (nl_pid 0); one cut short lost events. */
		if (mh.msg_namelen < sizeof (from) || from.nl_pid != 0)
			continue;
		if (mh.msg_flags & MSG_TRUNC)
			sink->lost();
		(void) lx_nl_cn_walk(buf, (long)n, deliver, NULL);
	}
}

static void
on_readable(void *arg)
{
	(void) arg;
	lx_cn_drain();
}

/*
 * Subscribe: nlmsghdr, cn_msg, the op, and (6.6+) an event filter.  A
 * second LISTEN on the same socket replaces its filter (the kernel keeps
 * one per socket), so EXEC is asked for only while a trace wants it:
 * tracing off costs nothing (docs/trace.md).
 */
static int
listen_on(int fd)
{
	char req[NLMSG_SPACE(sizeof (struct cn_msg) + 8)]
	    __attribute__((aligned(8)));
	struct nlmsghdr *nl = (struct nlmsghdr *)req;
	struct cn_msg *cn = NLMSG_DATA(nl);
	uint32_t body[2] = { PROC_CN_MCAST_LISTEN,
	    PROC_EVENT_FORK | PROC_EVENT_EXIT | PROC_EVENT_COREDUMP |
	    (exec_asks > 0 ? PROC_EVENT_EXEC : 0) };
	size_t blen = connector_filters() ? 8 : 4;
	size_t len = NLMSG_LENGTH(sizeof (struct cn_msg) + blen);

	memset(req, 0, sizeof (req));
	nl->nlmsg_len = (uint32_t)len;
	nl->nlmsg_type = NLMSG_DONE;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = (uint16_t)blen;
	memcpy(cn->data, body, blen);
	return (send(fd, req, len, 0) < 0 ? errno : 0);
}

typedef struct probe {
	pid_t parent, child;
	bool seen;
} probe_t;

static void
probe_deliver(const void *data, size_t len, void *arg)
{
	struct proc_event pe;
	probe_t *p = arg;

	memset(&pe, 0, sizeof (pe));
	memcpy(&pe, data, len < sizeof (pe) ? len : sizeof (pe));
	if (pe.what == PROC_EVENT_FORK &&
	    (pid_t)pe.event_data.fork.parent_tgid == p->parent &&
	    (pid_t)pe.event_data.fork.child_tgid == p->child)
		p->seen = true;
}

/*
 * Fork a child that exits at once (vfork: no copy of our address space;
 * every signal blocked meanwhile, so no handler of ours runs in it), reap
 * it, and read what the socket has: its FORK must be there.  What else is
 * read happened before the connector was open to the sink (not yet set):
 * it is dropped, as it would have been before the bind.
 */
static int
probe(int fd)
{
	char buf[8192] __attribute__((aligned(8)));
	sigset_t all, old;
	probe_t p = { getpid(), -1, false };

	for (int attempt = 0; attempt < 3 && !p.seen; attempt++) {
		(void) sigfillset(&all);
		(void) sigprocmask(SIG_SETMASK, &all, &old);
		pid_t pid = vfork();
		if (pid == 0)
			_exit(0);
		(void) sigprocmask(SIG_SETMASK, &old, NULL);
		if (pid < 0)
			return (errno);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		p.child = pid;
		for (;;) {
			struct sockaddr_nl from;
			socklen_t fl = sizeof (from);
			ssize_t n = recvfrom(fd, buf, sizeof (buf), MSG_DONTWAIT,
			    (struct sockaddr *)&from, &fl);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == ENOBUFS)
				break;		/* dropped: probe again */
			if (n <= 0)
				break;
			if (fl >= sizeof (from) && from.nl_pid == 0)
				(void) lx_nl_cn_walk(buf, (long)n,
				    probe_deliver, &p);
		}
	}
	return (p.seen ? 0 : ENOMSG);
}

int
lx_cn_open(const lx_cn_sink_t *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
	    .nl_groups = CN_IDX_PROC };
	int size = 8 << 20, fd, err;

	/* Refusals are final; other failures may pass. */
	if (nl_status == 0 || nl_status == EPERM || nl_status == EACCES ||
	    nl_status == EPROTONOSUPPORT || nl_status == ECONNREFUSED ||
	    nl_status == ENOMSG)
		return (nl_status);
	/* For tests: behave as on a kernel that refuses us the connector. */
	if (LX_TEST_ENV("ILLUMOS_CONTRACT_TEST_NO_CONNECTOR") != NULL)
		return (nl_status = EPERM);
	fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_CONNECTOR);
	if (fd < 0)
		return (nl_status = errno);
	/* For tests: a small buffer, to make the kernel drop messages. */
	const char *small = LX_TEST_ENV("ILLUMOS_CONTRACT_TEST_RCVBUF");
	if (small != NULL && atoi(small) > 0)
		size = atoi(small);
	/* Room for fork storms: forced where we may, else what we get. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof (size)) != 0)
		(void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof (size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof (sa)) != 0)
		err = errno;
	else if ((err = listen_on(fd)) == 0 && (err = probe(fd)) == 0)
		err = lx_evq_add(fd, on_readable, NULL);
	if (err != 0) {
		(void) close(fd);
		return (nl_status = err);
	}
	sink = s;
	nlfd = fd;
	return (nl_status = 0);
}

int
lx_cn_exec(bool on)
{
	bool was = exec_asks > 0;

	if (on)
		exec_asks++;
	else if (exec_asks > 0)
		exec_asks--;
	if (nlfd < 0 || was == (exec_asks > 0) || !connector_filters())
		return (0);
	return (listen_on(nlfd));
}

uint64_t
lx_cn_event_ns(void)
{
	return (event_ns);
}

const char *
lx_cn_why(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return ("a network namespace other than the host's");
	case ENOMSG:
		return ("the kernel accepted the listen request and delivered "
		    "nothing: a pid namespace of its own in the host's network "
		    "namespace");
	case EPERM:
	case EACCES:
		return ("this kernel lets only CAP_NET_ADMIN listen");
	default:
		return (strerror(err));
	}
}

int
lx_cn_status(void)
{
	return (nl_status);
}

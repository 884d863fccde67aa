/*
 * watch.c -- where Linux contract events come from, and the queue the
 * binding drains (ct_evq_*).
 *
 * One epoll fd gathers every source, so the event loop polls one fd:
 *   inotify   IN_MODIFY on each watched contract's cgroup.events:
 *             populated 0 -> pr_empty (the backstop; always re-read the file,
 *             notifications coalesce and are rate-limited by the kernel);
 *             frozen 0/1 -> the freeze()/thaw() completions
 *   netlink   the proc connector (one socket per process): FORK, EXIT,
 *             COREDUMP of every process, attributed to contracts through a
 *             pid -> member map seeded from cgroup.procs and kept by FORK
 *   eventfd   wakes the loop for events queued outside a dispatch
 *   timerfd   re-checks contracts that read "populated 0" while an EXIT of
 *             a member is still on its way, so pr_empty always follows the
 *             last pr_exit and is never lost
 * On every member EXIT cgroup.events is re-read at once, so a short-lived
 * contract empties in microseconds, not after the kernel's ~10 ms limit.
 *
 * The root is watched for IN_DELETE too: rmdir of a contract cancels the
 * cgroup.events notification the kernel still held back for its rate
 * limit (cgroup_rm_file deletes the timer), and no inotify event at all
 * reaches a watch on a file of a removed cgroup.  A watcher that knows no
 * member whose EXIT to wait for (an observer that came late) hears of the
 * end only from the removal.
 *
 * Ids are reused once a directory is gone, so a watch is for one
 * directory (its inode, the "generation"), not for an id: a contract
 * opened under the id of an older one we still watch gets a watch of its
 * own, and the old one is retired (kept for its handles, under no id).
 * Events carry the generation, so the binding hands them only to the
 * handles of that contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

#define	EMPTY_GRACE_NS	(25 * 1000 * 1000)	/* wait for late EXITs */
#define	RECHECK_NS	(1 * 1000 * 1000)

struct lx_watch {
	ct_id_t id;
	uint64_t gen;		/* the directory's inode: which contract */
	lx_watch_t *prev, *next;	/* every watch, retired ones too */
	int dirfd;
	int wd;			/* inotify watch, or -1 */
	ct_type_t type;
	uint32_t critical, informative, fatal, params;
	int refs;		/* ct_contract_t handles */
	bool held;		/* we are the holder */
	bool opened;		/* a handle was ever handed out */
	bool emptied;		/* pr_empty was published */
	bool kept;		/* counted in the keeper's holds */
	bool retired;		/* its id names a newer one: not in by_id */
	bool orphaned;		/* we abandoned it with members left */
	bool fatal_kill;	/* we SIGKILLed members for a fatal event */
	int frozen;
	int sending;		/* signal we sent with sigsend, or 0 */
	size_t npids;		/* members in pids */
	pid_t last_exit;
	uint64_t pending_since;	/* populated 0 seen, EXITs outstanding */
	ct_evid_t *unacked;
	size_t nunacked, capunacked;
	uint64_t lost;
	char *devpath;		/* device contracts: "/devices/..." */
	uint32_t dev_state, dev_aset;
	lx_terms_t terms;	/* fixed for the contract's life */
};

typedef struct member {
	lx_watch_t *w;
	bool core;		/* COREDUMP seen */
	char *corefile;		/* where its core goes (lx_core_path) */
} member_t;

typedef struct qnode {
	struct qnode *next;
	ct_evrec_t ev;
} qnode_t;

static int epfd = -1, inofd = -1, nlfd = -1, efd = -1, tfd = -1;
static int nl_status = ENOTCONN;	/* 0 once the connector is open */
static lx_map_t by_id, by_wd, by_pid;
static lx_watch_t *watches;	/* all of them, for the sweeps */
static int root_wd = -1;	/* IN_DELETE on the contract root */
static dev_t root_dev;
static ino_t root_ino;
static qnode_t *qhead, *qtail;
static ct_evid_t next_evid[CT_TYPE_COUNT] = { 1, 1 };
static size_t npending;		/* watches with pending_since != 0 */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static void
kick(void)
{
	uint64_t one = 1;

	if (efd >= 0)
		(void) !write(efd, &one, sizeof (one));
}

static int
add_fd(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno);
}

static int evq_init(void);

int
lx_evq_add(int fd)
{
	int err;

	return ((err = evq_init()) != 0 ? err : add_fd(fd));
}

void
lx_evq_del(int fd)
{
	if (epfd >= 0)
		(void) epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Count held watches for the keeper, once each. */
static void
kept(lx_watch_t *w, bool on)
{
	if (w->kept != on) {
		w->kept = on;
		lx_keeper_hold(on);
	}
}

static int
evq_init(void)
{
	int err;

	if (epfd >= 0)
		return (0);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return (ct_err_set(errno, "epoll_create1", "cannot create the "
		    "event poller: %s", strerror(errno)));
	inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (inofd < 0 || efd < 0 || tfd < 0) {
		err = errno;
		goto fail;
	}
	if ((err = add_fd(inofd)) != 0 || (err = add_fd(efd)) != 0 ||
	    (err = add_fd(tfd)) != 0)
		goto fail;
	return (0);
fail:
	if (inofd >= 0)
		(void) close(inofd);
	if (efd >= 0)
		(void) close(efd);
	if (tfd >= 0)
		(void) close(tfd);
	(void) close(epfd);
	inofd = efd = tfd = epfd = -1;
	return (ct_err_set(err, "inotify_init1", "cannot set up event "
	    "sources: %s", strerror(err)));
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

static int
connector_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
	    .nl_groups = CN_IDX_PROC };
	/* nlmsghdr, cn_msg, then the op and (6.6+) an event filter. */
	char req[NLMSG_SPACE(sizeof (struct cn_msg) + 8)]
	    __attribute__((aligned(8)));
	struct nlmsghdr *nl = (struct nlmsghdr *)req;
	struct cn_msg *cn = NLMSG_DATA(nl);
	uint32_t body[2] = { PROC_CN_MCAST_LISTEN,
	    PROC_EVENT_FORK | PROC_EVENT_EXIT | PROC_EVENT_COREDUMP };
	size_t blen, len;
	int size = 8 << 20, fd, err;

	if (nl_status == 0 || nl_status == EPERM || nl_status == EACCES ||
	    nl_status == EPROTONOSUPPORT)
		return (nl_status);
	/* For tests: behave as on a kernel that refuses us the connector. */
	if (getenv("ILLUMOS_CONTRACT_TEST_NO_CONNECTOR") != NULL)
		return (nl_status = EPERM);
	blen = connector_filters() ? 8 : 4;
	len = NLMSG_LENGTH(sizeof (struct cn_msg) + blen);
	fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_CONNECTOR);
	if (fd < 0)
		return (nl_status = errno);
	/* For tests: a small buffer, to make the kernel drop messages. */
	const char *small = getenv("ILLUMOS_CONTRACT_TEST_RCVBUF");
	if (small != NULL && atoi(small) > 0)
		size = atoi(small);
	/* Room for fork storms: forced where we may, else what we get. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof (size)) != 0)
		(void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof (size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof (sa)) != 0) {
		err = errno;
		(void) close(fd);
		return (nl_status = err);
	}
	memset(req, 0, sizeof (req));
	nl->nlmsg_len = (uint32_t)len;
	nl->nlmsg_type = NLMSG_DONE;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = (uint16_t)blen;
	memcpy(cn->data, body, blen);
	if (send(fd, req, len, 0) < 0 || (err = add_fd(fd)) != 0) {
		err = errno;
		(void) close(fd);
		return (nl_status = err);
	}
	nlfd = fd;
	return (nl_status = 0);
}

int
lx_watch_connector_status(void)
{
	if (evq_init() != 0)
		return (ENOTCONN);
	return (connector_open());
}

int
ct_evq_fd(int *fdp)
{
	int err;

	if ((err = evq_init()) != 0)
		return (err);
	(void) connector_open();
	*fdp = epfd;
	return (0);
}

/* ---- the queue ---- */

/* No live holder (orphan, dead): its critical events are auto-acked. */
static bool
unheld(lx_watch_t *w)
{
	lx_hstate_t hs;

	if (w->orphaned || lx_state_read(w->dirfd, &hs) != 0)
		return (true);
	return (hs.state == LX_ORPHAN || hs.state == LX_DEAD ||
	    lx_state_holder_gone(&hs));
}

static ct_evrec_t *
push(lx_watch_t *w, uint32_t type, bool critical)
{
	qnode_t *n = calloc(1, sizeof (*n));

	if (n == NULL)
		return (NULL);
	n->ev.ctid = w->id;
	n->ev.gen = w->gen;
	n->ev.cttype = w->type;
	n->ev.type = type;
	if (type < NC_EVX_LOST) {
		n->ev.evid = next_evid[w->type]++;
		if (!critical)
			n->ev.flags |= NC_EVF_INFO;
		else if (!w->held && unheld(w))
			n->ev.flags |= NC_EVF_ACK;	/* orphans auto-ack */
	} else {
		n->ev.flags = NC_EVF_INFO;
	}
	if (qtail != NULL)
		qtail->next = n;
	else
		qhead = n;
	qtail = n;
	return (&n->ev);
}

static void
nevents_sync(lx_watch_t *w)
{
	if (w->held)
		(void) lx_xattr_set_u64(w->dirfd, "user.ct.nevents",
		    w->nunacked);
}

/*
 * Publish an event of type if the contract's sets ask for it; critical
 * events held by us count until acked.
 */
static ct_evrec_t *
publish_as(lx_watch_t *w, uint32_t type, pid_t pid, bool critical)
{
	ct_evrec_t *ev;

	if ((ev = push(w, type, critical)) == NULL) {
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

static ct_evrec_t *
publish(lx_watch_t *w, uint32_t type, pid_t pid)
{
	bool critical = (w->critical & type) != 0;

	if (!critical && (w->informative & type) == 0)
		return (NULL);
	return (publish_as(w, type, pid, critical));
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

/* ---- members ---- */

static void
member_add(lx_watch_t *w, pid_t pid)
{
	member_t *m = lx_map_get(&by_pid, pid);

	if (m != NULL) {
		if (m->w == w)
			return;
		m->w->npids--;	/* a reused pid: the old one is gone */
		free(m->corefile);
		m->corefile = NULL;
	} else if ((m = calloc(1, sizeof (*m))) == NULL ||
	    lx_map_put(&by_pid, pid, m) != 0) {
		free(m);
		return;
	}
	m->w = w;
	m->core = false;
	w->npids++;
}

static void
member_drop(pid_t pid)
{
	member_t *m = lx_map_del(&by_pid, pid);

	if (m != NULL) {
		m->w->npids--;
		free(m->corefile);
		free(m);
	}
}

static void
pending_set(lx_watch_t *w, bool on)
{
	if (on && w->pending_since == 0) {
		w->pending_since = now_ns();
		if (npending++ == 0) {
			struct itimerspec its = {
				.it_interval = { 0, RECHECK_NS },
				.it_value = { 0, RECHECK_NS } };
			(void) timerfd_settime(tfd, 0, &its, NULL);
		}
	} else if (!on && w->pending_since != 0) {
		w->pending_since = 0;
		if (--npending == 0) {
			struct itimerspec its = { { 0, 0 }, { 0, 0 } };
			(void) timerfd_settime(tfd, 0, &its, NULL);
		}
	}
}

static void watch_free(lx_watch_t *w);

/*
 * A watch nobody holds a handle on ends once nothing needs it.  An owned
 * contract whose every handle was disposed is abandoned when it empties
 * (nothing else could ever abandon it); one never handed out stays on
 * disk for a later latest() until the process exits.
 */
static void
settle(lx_watch_t *w)
{
	if (w->refs > 0)
		return;
	/* Retired: its directory is gone and nothing can open it again. */
	if (!w->retired) {
		/* Held: kept until empty and its handles were handed back. */
		if (w->held && (!w->emptied || !w->opened))
			return;
		/* An orphan we made: we see it die and remove it. */
		if (w->orphaned && !w->emptied)
			return;
		if (w->held && w->opened)
			lx_cg_bury(w->id, w->dirfd);
	}
	watch_free(w);
}

/*
 * Re-read cgroup.events: publish pr_empty once the contract is empty and
 * every member's EXIT has been seen (or the grace period ran out), and
 * report freezer transitions.
 */
static void
recheck(lx_watch_t *w)
{
	int pop, frozen;

	int err = lx_cg_events(w->dirfd, &pop, &frozen);
	if (err == ENOENT || err == ENODEV) {
		pop = 0;	/* directory gone: it was empty */
	} else if (err != 0) {
		/* Cannot tell (EMFILE...): never guess empty; look again. */
		if (!w->emptied && w->pending_since == 0)
			pending_set(w, true);
		return;
	}
	if (frozen >= 0 && frozen != w->frozen) {
		w->frozen = frozen;
		(void) push(w, frozen ? NC_EVX_FROZEN : NC_EVX_THAWED, false);
	}
	if (pop != 0 || w->emptied) {
		pending_set(w, false);
		return;
	}
	if (w->npids > 0 && (w->pending_since == 0 ||
	    now_ns() - w->pending_since < EMPTY_GRACE_NS)) {
		pending_set(w, true);	/* an EXIT is still on its way */
		return;
	}
	if (w->npids > 0) {
		/* Their EXITs never came: count them, say so, move on. */
		size_t i = 0, gone = 0;
		int32_t pid;
		void *v;
		while (lx_map_next(&by_pid, &i, &pid, &v)) {
			if (((member_t *)v)->w == w) {
				member_drop(pid);
				gone++;
				i = 0;
			}
		}
		ct_evrec_t *ev = push(w, NC_EVX_LOST, false);
		if (ev != NULL) {
			ev->have = CT_EVP_LOST;
			ev->lost_exits = gone;
		}
		w->lost += gone;
	}
	pending_set(w, false);
	w->emptied = true;
	/* The internal notice first: a pr_empty listener may dispose. */
	(void) push(w, NC_EVX_EMPTIED, false);
	(void) publish(w, NC_PR_EV_EMPTY, w->last_exit);
	if (!w->held) {
		/* An orphan dies with its last member (spec c.6). */
		lx_hstate_t hs;
		if (lx_state_read(w->dirfd, &hs) == 0 &&
		    (hs.state == LX_ORPHAN || lx_state_holder_gone(&hs)))
			lx_cg_bury(w->id, w->dirfd);
	}
	settle(w);
}

/* ---- fatal events (spec c.4) ---- */

static pid_t
pgid_of(pid_t pid)
{
	return (getpgid(pid));
}

static void
fatal_kill(lx_watch_t *w, pid_t culprit, pid_t pgid)
{
	w->fatal_kill = true;
	if (!(w->params & NC_PR_PGRPONLY)) {
		(void) lx_cg_write(w->dirfd, "cgroup.kill", "1");
		return;
	}
	pid_t *pids;
	size_t n;
	if (pgid <= 0 || lx_cg_procs(w->dirfd, &pids, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (pids[i] != culprit && pgid_of(pids[i]) == pgid)
			(void) kill(pids[i], SIGKILL);
	}
	free(pids);
}

/* ---- connector messages ---- */

static void
on_fork(pid_t ppid, pid_t pid, pid_t tgid)
{
	member_t *m;
	ct_evrec_t *ev;

	if (pid != tgid || (m = lx_map_get(&by_pid, ppid)) == NULL)
		return;		/* a thread, or not one of ours */
	lx_watch_t *w = m->w;
	member_add(w, pid);
	if ((ev = publish(w, NC_PR_EV_FORK, pid)) != NULL) {
		ev->ppid = ppid;
		ev->have |= CT_EVP_PPID;
	}
}

static void
on_exit_(pid_t pid, pid_t tgid, int status)
{
	member_t *m;
	ct_evrec_t *ev;

	if (pid != tgid || (m = lx_map_get(&by_pid, pid)) == NULL)
		return;
	lx_watch_t *w = m->w;
	bool core = m->core;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		uint32_t type = core ? NC_PR_EV_CORE : NC_PR_EV_SIGNAL;
		/* Our own fatal kills are internal: no pr_signal for them. */
		bool ours = w->fatal_kill && sig == SIGKILL && !core;
		if (!ours) {
			pid_t pgid = (w->params & NC_PR_PGRPONLY) ?
			    pgid_of(pid) : 0;
			if ((ev = publish(w, type, pid)) != NULL) {
				ev->signal = sig;
				ev->have |= CT_EVP_SIGNAL;
				if (core && WCOREDUMP(status)) {
					ev->pcorefile = lx_core_finish(
					    m->corefile, sig);
					m->corefile = NULL;
				}
				if (!core && w->sending == sig) {
					ct_id_t own;
					ev->sender = getpid();
					ev->have |= CT_EVP_SENDER;
					if (lx_root_own_ctid(&own) == 0) {
						ev->sender_ctid = own;
						ev->have |= CT_EVP_SENDCT;
					}
				}
			}
			if (w->held && (w->fatal & type) && !w->fatal_kill)
				fatal_kill(w, pid, pgid);
		}
	}
	if ((ev = publish(w, NC_PR_EV_EXIT, pid)) != NULL) {
		ev->exitstatus = status;
		ev->have |= CT_EVP_EXITSTATUS;
	}
	w->last_exit = pid;
	member_drop(pid);
	recheck(w);
}

/* Lost messages: rebuild every contract's members from cgroup.procs. */
static void
resync(void)
{
	for (lx_watch_t *w = watches, *nx; w != NULL; w = nx) {
		nx = w->next;	/* recheck may free w */
		if (w->type != CT_TYPE_PROCESS)
			continue;
		pid_t *pids = NULL;
		size_t n = 0, before = w->npids;
		int err = lx_cg_procs(w->dirfd, &pids, &n);
		/*
		 * Drop this contract's members, then re-add the live ones:
		 * none if its directory is gone.  Cannot tell (EMFILE...):
		 * keep them, recheck's grace period settles it.
		 */
		if (err == 0 || err == ENOENT || err == ENODEV) {
			size_t j = 0;
			int32_t pid;
			void *mv;
			while (lx_map_next(&by_pid, &j, &pid, &mv)) {
				if (((member_t *)mv)->w == w) {
					member_drop(pid);
					j = 0;
				}
			}
			for (size_t k = 0; err == 0 && k < n; k++)
				member_add(w, pids[k]);
			free(pids);
		}
		size_t added = w->npids;
		ct_evrec_t *ev = push(w, NC_EVX_LOST, false);
		if (ev != NULL) {
			ev->have = CT_EVP_LOST;
			ev->lost_exits = before > added ? before - added : 0;
			ev->lost_forks = added > before ? added - before : 0;
		}
		w->lost++;
		recheck(w);
	}
}

static void
drain_connector(void)
{
	char buf[16384] __attribute__((aligned(8)));
	ssize_t n;

	for (;;) {
		n = recv(nlfd, buf, sizeof (buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			resync();
			continue;
		}
		if (n <= 0)
			return;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		    NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct cn_msg *cn = NLMSG_DATA(nh);
			if (nh->nlmsg_type != NLMSG_DONE ||
			    cn->id.idx != CN_IDX_PROC)
				continue;
			/* cn->data sits at offset 36: copy out, aligned. */
			struct proc_event ev, *pe = &ev;
			memset(&ev, 0, sizeof (ev));
			memcpy(&ev, cn->data, cn->len < sizeof (ev) ?
			    cn->len : sizeof (ev));
			switch (pe->what) {
			case PROC_EVENT_FORK:
				on_fork(pe->event_data.fork.parent_tgid,
				    pe->event_data.fork.child_pid,
				    pe->event_data.fork.child_tgid);
				break;
			case PROC_EVENT_EXIT:
				on_exit_(pe->event_data.exit.process_pid,
				    pe->event_data.exit.process_tgid,
				    (int)pe->event_data.exit.exit_code);
				break;
			case PROC_EVENT_COREDUMP: {
				member_t *m = lx_map_get(&by_pid,
				    pe->event_data.coredump.process_tgid);
				if (m != NULL && !m->core) {
					m->core = true;
					m->corefile = lx_core_path(
					    pe->event_data.coredump.process_tgid);
				}
				break;
			}
			default:
				break;
			}
		}
	}
}

/* Re-read every process contract (inotify dropped events). */
static void
recheck_all(void)
{
	for (lx_watch_t *w = watches, *nx; w != NULL; w = nx) {
		nx = w->next;	/* recheck may free w */
		if (w->type == CT_TYPE_PROCESS)
			recheck(w);
	}
}

/* <root>/<name> was removed: if it was a contract we watch, it is empty. */
static void
on_rmdir(const char *name)
{
	char *end;
	long id = strtol(name, &end, 10);
	lx_watch_t *w;

	if (*end != '\0' || id <= 0 || id > INT32_MAX ||
	    (w = lx_map_get(&by_id, (int32_t)id)) == NULL ||
	    w->type != CT_TYPE_PROCESS)
		return;
	recheck(w);	/* a newer one of that id reads "populated 1" */
}

static void
drain_inotify(void)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	while ((n = read(inofd, buf, sizeof (buf))) > 0) {
		for (char *p = buf; p < buf + n; ) {
			struct inotify_event *ie = (struct inotify_event *)p;
			p += sizeof (*ie) + ie->len;
			if (ie->mask & IN_Q_OVERFLOW) {
				recheck_all();
				continue;
			}
			if (ie->wd == root_wd) {
				if (ie->mask & IN_IGNORED)
					root_wd = -1;	/* watch it anew */
				else if (ie->len > 0)
					on_rmdir(ie->name);
				continue;
			}
			lx_watch_t *w = lx_map_get(&by_wd, ie->wd);
			if (w != NULL && (ie->mask & IN_IGNORED)) {
				(void) lx_map_del(&by_wd, ie->wd);
				w->wd = -1;	/* removed: it is empty */
			}
			if (w != NULL)
				recheck(w);
		}
	}
}

static void
drain_timer(void)
{
	uint64_t ticks;

	(void) !read(tfd, &ticks, sizeof (ticks));
	if (nlfd >= 0)
		drain_connector();	/* the EXITs we wait for */
	for (lx_watch_t *w = watches, *nx; npending > 0 && w != NULL;
	    w = nx) {
		nx = w->next;	/* recheck may free w */
		if (w->pending_since != 0)
			recheck(w);
	}
}

int
ct_evq_dispatch(void)
{
	struct epoll_event evs[8];
	uint64_t junk;
	int n;

	if (epfd < 0)
		return (0);
	lx_keeper_tick();
	n = epoll_wait(epfd, evs, 8, 0);
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		if (fd == nlfd)
			drain_connector();
		else if (fd == inofd)
			drain_inotify();
		else if (fd == tfd)
			drain_timer();
		else if (fd == efd)
			(void) !read(efd, &junk, sizeof (junk));
		else if (fd == lx_keeper_fd())
			lx_keeper_died();
		else if (fd == lx_dev_fd())
			lx_dev_drain();
	}
	return (0);
}

/* ---- watches ---- */

static void
link_watch(lx_watch_t *w)
{
	w->prev = NULL;
	if ((w->next = watches) != NULL)
		watches->prev = w;
	watches = w;
}

/*
 * Watch the contract root for removals (see the top of the file), once,
 * and anew if the root was removed and made again.
 */
static int
root_watch(const lx_root_t *r)
{
	const uint32_t mask = IN_DELETE | IN_ONLYDIR;
	struct stat sb;
	int wd, err;

	if (fstat(r->fd, &sb) != 0)
		return (errno);
	if (root_wd >= 0 && sb.st_ino == root_ino && sb.st_dev == root_dev)
		return (0);
	if ((wd = inotify_add_watch(inofd, r->path, mask)) < 0) {
		err = errno;
		return (ct_err_set(err, "inotify_add_watch", "cannot watch %s: "
		    "%s", r->path, strerror(err)));
	}
	if (root_wd >= 0 && root_wd != wd)
		(void) inotify_rm_watch(inofd, root_wd);
	root_wd = wd;
	root_dev = sb.st_dev;
	root_ino = sb.st_ino;
	return (0);
}

/*
 * For tests: the holder buries the contract just as we start to observe
 * it, after its inotify watch is set and before we first read it (the
 * race that lost pr_empty in the soak).  Only an empty one goes.
 */
static bool
test_bury_on_observe(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("ILLUMOS_CONTRACT_TEST_BURY_ON_OBSERVE") != NULL;
	return (on != 0);
}

/*
 * The id of w names a newer contract now: w's directory is gone, so its
 * contract is empty.  It stays, under no id, for the handles it has.
 */
static void
retire(lx_watch_t *w)
{
	(void) lx_map_del(&by_id, w->id);
	w->retired = true;
	if (w->refs == 0)
		watch_free(w);	/* never handed out: nobody to tell */
	else if (w->type == CT_TYPE_PROCESS)
		recheck(w);
}

int
lx_watch_get(ct_id_t id, int dirfd, const lx_terms_t *terms, bool held,
    pid_t born, lx_watch_t **wp)
{
	const lx_root_t *r;
	lx_watch_t *w = lx_map_get(&by_id, id);
	struct stat sb;
	char *path = NULL;
	int err;

	if (fstat(dirfd, &sb) != 0)
		return (errno);
	if (w != NULL && w->gen == (uint64_t)sb.st_ino) {
		w->refs++;
		w->held |= held;
		kept(w, w->held);
		*wp = w;
		return (0);
	}
	if (w != NULL)
		retire(w);
	if ((err = evq_init()) != 0 || (err = lx_root_get(&r)) != 0)
		return (err);
	if (terms->type == CT_TYPE_PROCESS) {
		(void) connector_open();
		/* Before reading cgroup.events: no removal goes unheard. */
		if ((err = root_watch(r)) != 0)
			return (err);
	}
	if ((w = calloc(1, sizeof (*w))) == NULL)
		return (ENOMEM);
	w->id = id;
	w->gen = (uint64_t)sb.st_ino;
	w->type = terms->type;
	w->critical = terms->critical;
	w->informative = terms->informative;
	w->fatal = terms->fatal;
	w->params = terms->params;
	w->held = held;
	w->refs = 1;
	w->frozen = -1;
	w->wd = -1;
	if ((err = lx_terms_copy(&w->terms, terms)) != 0) {
		free(w);
		return (err);
	}
	if ((w->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) < 0) {
		err = errno;
		lx_terms_fini(&w->terms);
		free(w);
		return (err);
	}
	if (w->type == CT_TYPE_DEVICE) {
		/* No members: its events come from uevents, not cgroup.events. */
		uint64_t st = NC_DEV_EV_ONLINE;
		(void) lx_xattr_get_u64(w->dirfd, "user.ct.devstate", &st);
		w->dev_state = (uint32_t)st;
		w->dev_aset = terms->dev_aset;
		if ((w->devpath = strdup(terms->dev_path != NULL ?
		    terms->dev_path : "")) == NULL ||
		    (err = lx_dev_listen()) != 0 ||
		    (err = lx_map_put(&by_id, id, w)) != 0) {
			free(w->devpath);
			(void) close(w->dirfd);
			lx_terms_fini(&w->terms);
			free(w);
			return (err != 0 ? err : ENOMEM);
		}
		link_watch(w);
		kept(w, held);
		*wp = w;
		return (0);
	}
	if (asprintf(&path, "%s/%" PRId32 "/cgroup.events", r->path, id) < 0 ||
	    (w->wd = inotify_add_watch(inofd, path, IN_MODIFY)) < 0 ||
	    (err = lx_map_put(&by_wd, w->wd, w)) != 0 ||
	    (err = lx_map_put(&by_id, id, w)) != 0) {
		err = errno != 0 ? errno : ENOMEM;
		(void) ct_err_set(err, "inotify_add_watch", "cannot watch "
		    "%s: %s", path != NULL ? path : "cgroup.events",
		    strerror(err));
		free(path);
		if (w->wd >= 0) {
			(void) lx_map_del(&by_wd, w->wd);
			(void) inotify_rm_watch(inofd, w->wd);
		}
		(void) close(w->dirfd);
		lx_terms_fini(&w->terms);
		free(w);
		return (err);
	}
	free(path);
	link_watch(w);
	kept(w, held);
	if (!held && test_bury_on_observe())
		lx_cg_bury(id, w->dirfd);
	/* Our own new child is its only member (later forks are reported). */
	if (nl_status == 0 && w->type == CT_TYPE_PROCESS && born == 0) {
		pid_t *pids;
		size_t n;
		if (lx_cg_procs(w->dirfd, &pids, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				member_add(w, pids[i]);
			free(pids);
		}
	}
	if (born != 0) {
		/* Our own child, its first member: fork event, then the rest. */
		ct_evrec_t *ev;
		if (nl_status == 0)
			member_add(w, born);
		if ((ev = publish(w, NC_PR_EV_FORK, born)) != NULL) {
			ev->ppid = getpid();
			ev->have |= CT_EVP_PPID;
		}
		w->last_exit = born;
		kick();
	}
	int pop;
	err = lx_cg_events(w->dirfd, &pop, &w->frozen);
	if (w->type == CT_TYPE_PROCESS && (err != 0 || pop == 0)) {
		/*
		 * Already empty: say so.  Or already gone (ENOENT): its holder
		 * buried it after our inotify_add_watch, and a watch on a file
		 * of a removed cgroup never fires; no member is left to exit
		 * either.  Anything else: recheck looks again.
		 */
		recheck(w);
		kick();
	}
	*wp = w;
	return (0);
}

static void
watch_free(lx_watch_t *w)
{
	size_t i = 0;
	int32_t pid;
	void *v;

	while (w->npids > 0 && lx_map_next(&by_pid, &i, &pid, &v)) {
		if (((member_t *)v)->w == w) {
			member_drop(pid);
			i = 0;
		}
	}
	pending_set(w, false);
	kept(w, false);
	if (!w->retired)
		(void) lx_map_del(&by_id, w->id);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		watches = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	if (w->wd >= 0) {
		(void) lx_map_del(&by_wd, w->wd);
		(void) inotify_rm_watch(inofd, w->wd);
	}
	(void) close(w->dirfd);
	free(w->unacked);
	free(w->devpath);
	lx_terms_fini(&w->terms);
	free(w);
}

void
lx_watch_opened(lx_watch_t *w)
{
	w->opened = true;
}

void
lx_watch_put(lx_watch_t *w)
{
	/* A held contract stays watched (fatal sets) until it empties. */
	if (--w->refs == 0)
		settle(w);
}

void
lx_watch_release(lx_watch_t *w, lx_state_t state)
{
	w->orphaned = state == LX_ORPHAN;
	w->held = false;
	kept(w, false);
	w->nunacked = 0;	/* pending critical events are auto-acked */
}

void
lx_watch_sending(lx_watch_t *w, int sig)
{
	w->sending = sig;
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

bool
lx_watch_emptied(const lx_watch_t *w)
{
	return (w->emptied);
}

bool
lx_watch_held(const lx_watch_t *w)
{
	return (w->held);
}

int
lx_watch_get_held(ct_id_t id, lx_watch_t **wp)
{
	lx_watch_t *w = lx_map_get(&by_id, id);

	if (w == NULL || !w->held)
		return (ESRCH);
	w->refs++;
	*wp = w;
	return (0);
}

const lx_terms_t *
lx_watch_terms(const lx_watch_t *w)
{
	return (&w->terms);
}

int
lx_watch_refs(const lx_watch_t *w)
{
	return (w->refs);
}

void
lx_watch_recheck(lx_watch_t *w)
{
	recheck(w);
	kick();
}

void
lx_watch_note_frozen(lx_watch_t *w, int frozen)
{
	/* Already in the asked-for state: no change will be reported. */
	if (frozen == w->frozen) {
		(void) push(w, frozen ? NC_EVX_FROZEN : NC_EVX_THAWED, false);
		kick();
	}
}

/*
 * Linux never asks before a device changes state, so every move out of
 * the A-set is an asynchronous break (spec d.3): a critical event without
 * CTE_NEG, published even if not subscribed.  Moves inside the A-set are
 * published as the sets say.
 */
void
lx_watch_devstate(lx_watch_t *w, uint32_t state)
{
	if (state == w->dev_state)
		return;
	w->dev_state = state;
	if (w->held)
		(void) lx_xattr_set_u64(w->dirfd, "user.ct.devstate", state);
	bool brk = (w->dev_aset & state) == 0;
	bool critical = brk || (w->critical & state) != 0;
	if (!critical && (w->informative & state) == 0)
		return;
	(void) publish_as(w, state, 0, critical);
}

uint32_t
lx_watch_dev_state(const lx_watch_t *w)
{
	return (w->dev_state);
}

void
lx_watch_each_device(void (*fn)(lx_watch_t *, const char *, void *),
    void *arg)
{
	size_t i = 0;
	int32_t key;
	void *v;

	while (lx_map_next(&by_id, &i, &key, &v)) {
		lx_watch_t *w = v;
		if (w->type == CT_TYPE_DEVICE)
			fn(w, w->devpath, arg);
	}
}

int
lx_watch_dirfd(const lx_watch_t *w)
{
	return (w->dirfd);
}

uint64_t
lx_watch_gen(const lx_watch_t *w)
{
	return (w->gen);
}

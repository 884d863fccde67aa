/*
 * sigsend.c -- a signal to every member of a contract and to nothing else
 * (docs/ARCHITECTURE.md, "Linux: signals reach members only").
 *
 * A pid read from a list names a process only while that process is not
 * reaped: between the list and a kill(2) it may have exited and its pid
 * been given to a stranger (pid_max is often 32768).  So each pid is
 * opened as a pidfd first, the members are listed again, and the signal
 * goes through the pidfd only when the pid is still listed and the
 * pidfd's process is still there to take it: listed after the pidfd was
 * opened and unreaped when signalled, the process listed is the one the
 * pidfd holds.  Nothing is kept open once the signal is sent.
 *
 * Members fork while they are signalled, so the passes repeat until one
 * finds no new pid.  A child the kernel has made but not yet put in its
 * parent's cgroup (cgroup_post_fork runs after fork's last signal check)
 * is in no list; a freeze closes that window: once cgroup.events says
 * "frozen 1" no member is inside fork, so one list is the whole tree.
 * The freeze is therefore waited for, within a bound (a member in an
 * uninterruptible sleep holds it off), before the first list.
 *
 * Where the members are a walk of children lists (reaper membership), a
 * process whose parent exits while a walk is under way can be in neither
 * list it reads: it leaves the parent's before the walk reaches it and
 * joins the anchor's after the walk read that.  Its parent was listed, so
 * we hold its pidfd; the kernel reparents a process's children before its
 * pidfd becomes readable.  So the pidfds of the processes a pass handled
 * are kept to the end of the call, and a pass that found nothing new is
 * not the last while one of them has exited since the previous look: the
 * next walk sees the orphans where they went.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/resource.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lx.h"

#ifndef SYS_pidfd_open
#define	SYS_pidfd_open		434	/* the same number on every arch */
#endif
#ifndef SYS_pidfd_send_signal
#define	SYS_pidfd_send_signal	424
#endif

/* How long a freeze may take to be reached before we signal without it. */
#define	LX_FREEZE_WAIT_MS	250

/*
 * How many pidfds one call keeps to see exits by: a bound on the fds a
 * huge tree could take from the process (RLIMIT_NOFILE); past it, the
 * exits of the rest go unseen, as before they were kept at all.
 */
#define	LX_SIG_KEEP_MAX		512

/* The pidfds of processes handled, to tell when one exited. */
typedef struct kept {
	struct pollfd *v;
	size_t n, cap;
} kept_t;

/* Keep fd to see its exit; past the bound (or out of memory), close it. */
static void
keep(kept_t *k, int fd)
{
	if (k->n == k->cap && k->cap < LX_SIG_KEEP_MAX) {
		size_t cap = k->cap == 0 ? 16 : k->cap * 2;
		struct pollfd *v = realloc(k->v, cap * sizeof (*v));
		if (v != NULL) {
			k->v = v;
			k->cap = cap;
		}
	}
	if (k->n == k->cap) {
		(void) close(fd);
		return;
	}
	k->v[k->n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
}

/* How many kept processes exited since the last look (and forget them). */
static size_t
exited(kept_t *k)
{
	size_t gone = 0;

	if (k->n == 0 || poll(k->v, k->n, 0) <= 0)
		return (0);
	for (size_t i = 0; i < k->n; ) {
		if (k->v[i].revents != 0) {
			(void) close(k->v[i].fd);
			k->v[i] = k->v[--k->n];
			gone++;
		} else {
			i++;
		}
	}
	return (gone);
}

static void
kept_fini(kept_t *k)
{
	for (size_t i = 0; i < k->n; i++)
		(void) close(k->v[i].fd);
	free(k->v);
}

/* In a list (sorted or not): the lists are short-lived and small. */
static bool
listed(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++) {
		if (pids[i] == pid)
			return (true);
	}
	return (false);
}

typedef struct opened {
	pid_t pid;
	int fd;		/* a pidfd, or -1: no pidfds here (before 5.3) */
} opened_t;

/*
 * Signal one opened pid that the second list still has.  Without
 * pidfds (ENOSYS), kill(2) by pid: the window is the one between the
 * second list and the kill, which the docs name.
 */
static int
send_one(const opened_t *o, int sig)
{
	if (o->fd >= 0) {
		return (syscall(SYS_pidfd_send_signal, o->fd, sig, NULL, 0) ==
		    0 ? 0 : errno);
	}
	return (kill(o->pid, sig) == 0 ? 0 : errno);
}

/*
 * Make room in our descriptor table for n more at once.  The kernel grows
 * it by doubling, and in a process whose threads share it (Node) each
 * growth waits for an RCU grace period: opening a pidfd for each of a
 * thousand members grew it five times, which took longer than the walk
 * itself (31 of a pass's 100 ms).  One descriptor placed past what we
 * will need grows it once (it never shrinks).  Best effort: under a low
 * limit it grows as before.
 */
static void
room(int anyfd, size_t n)
{
	struct rlimit rl;
	int fd;

	if (n < 64 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t want = (rlim_t)anyfd + n + LX_SIG_KEEP_MAX + 16;
	if (rl.rlim_cur != RLIM_INFINITY && want >= rl.rlim_cur)
		want = rl.rlim_cur - 1;
	if (want > INT_MAX || (fd = fcntl(anyfd, F_DUPFD_CLOEXEC,
	    (int)want)) < 0)
		return;
	(void) close(fd);
}

/* One pass over the pids not yet signalled: open, list again, send. */
static int
pass(const lx_mship_t *ms, int dirfd, int sig, const pid_t *pids,
    size_t n, lx_map_t *done, kept_t *k, lx_sig_want_t want, void *arg,
    lx_sig_result_t *r, bool *freshp)
{
	opened_t *o;
	size_t no = 0;
	pid_t *again;
	size_t nagain;
	int err;

	*freshp = false;
	if ((o = malloc((n == 0 ? 1 : n) * sizeof (*o))) == NULL)
		return (ENOMEM);
	room(dirfd, n);
	for (size_t i = 0; i < n; i++) {
		if (pids[i] <= 0 || lx_map_get(done, pids[i]) != NULL)
			continue;
		*freshp = true;
		int fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (fd < 0 && errno != ENOSYS)
			continue;	/* gone already: nothing to signal */
		o[no].pid = pids[i];
		o[no++].fd = fd;
	}
	if (no == 0) {
		free(o);
		return (0);
	}
	if ((err = ms->members(dirfd, &again, &nagain)) != 0) {
		for (size_t i = 0; i < no; i++) {
			if (o[i].fd >= 0)
				(void) close(o[i].fd);
		}
		free(o);
		return (err);
	}
	for (size_t i = 0; i < no; i++) {
		bool handled = false;
		if (listed(again, nagain, o[i].pid) &&
		    (want == NULL || want(o[i].pid, arg))) {
			int e = send_one(&o[i], sig);
			if (e == 0) {
				r->sent++;
				handled = true;
			} else if (e == EPERM) {
				r->denied++;
				handled = true;
			}
			/* ESRCH: it went; its pid may come back as another. */
		} else if (want != NULL && listed(again, nagain, o[i].pid)) {
			handled = true;
		}
		if (handled)
			(void) lx_map_put(done, o[i].pid, done);
		if (handled && o[i].fd >= 0)
			keep(k, o[i].fd);	/* its exit moves its children */
		else if (o[i].fd >= 0)
			(void) close(o[i].fd);
	}
	free(again);
	free(o);
	return (0);
}

/* Wait, within the bound, for an asked-for freeze to be reached. */
static void
await_frozen(const lx_mship_t *ms, int dirfd)
{
	if (ms->frozen_wait != NULL)
		(void) ms->frozen_wait(dirfd, LX_FREEZE_WAIT_MS);
}

int
lx_sigsend(const lx_mship_t *ms, int dirfd, int sig, int flags,
    lx_sig_want_t want, void *arg, lx_sig_result_t *r)
{
	lx_map_t done = { 0 };
	kept_t k = { 0 };
	bool fresh = true, asked = true, thaw = false;
	int err = 0;

	r->sent = r->denied = 0;
	if ((flags & LX_SIG_FREEZE) &&
	    ms->freezing(dirfd, &asked) == 0 && !asked &&
	    ms->freeze(dirfd, true) == 0) {
		thaw = true;
		await_frozen(ms, dirfd);
	} else if ((flags & LX_SIG_FREEZE) && asked) {
		await_frozen(ms, dirfd);	/* the user froze it: reached yet? */
	}
	for (int i = 0; fresh && i < 10000; i++) {
		pid_t *pids;
		size_t n;
		if ((err = ms->members(dirfd, &pids, &n)) != 0)
			break;
		err = pass(ms, dirfd, sig, pids, n, &done, &k, want, arg, r,
		    &fresh);
		free(pids);
		if (err != 0)
			break;
		/* Nothing new, but an exit may have hidden its orphans. */
		if (!fresh && exited(&k) > 0)
			fresh = true;
	}
	if (thaw)
		(void) ms->freeze(dirfd, false);
	kept_fini(&k);
	lx_map_fini(&done);
	return (err);
}

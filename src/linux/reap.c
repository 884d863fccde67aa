/*
 * reap.c -- the orphans handed to us, in two cases.  Node as PID 1 of a
 * pid namespace (docs/containers.md, "Node as PID 1"): every orphan of
 * the namespace.  A holder that spawns anchors (reaper membership) marks
 * itself child subreaper (ct_reap_subreaper), so that the tree of an
 * anchor a member killed comes back to it (custody.c sorts what comes;
 * docs/security.md, "A killed anchor").  Either way the orphan's
 * zombie stays until we wait for it.  We may wait only for the zombies
 * nobody else will: libuv waits for the pids of its own process handles
 * (waitpid(pid, WNOHANG) on SIGCHLD; a pid another waitpid took first is
 * never reported, so its 'exit' would never come), spawnSync for its own
 * pid, and the backend's own synchronous waits (connector.c's probe,
 * keep.c's first fork) run under ct_lock as every call here does.
 *
 * So a pass never waits for "any child": it lists our children
 * (/proc/self/task/<tid>/children: a child is on the list of the thread
 * that forked it, an orphan on that of the thread it was handed to),
 * reads each one's state, and waits by pid, WNOHANG, only for a zombie
 * that is not guarded.  Guarded: the pids JS told us libuv waits for
 * (lib/hook.js, from its spawn until libuv reaped it), the anchors
 * spawn.c reaps itself (ct_spawn_release), and the children we had when
 * we started (their waiter is unknown) until they are gone.  While a
 * spawn is in flight (its child may be a zombie before its pid is
 * guarded), no pass runs; the last one to end runs it.
 *
 * Everything here is off unless ct_reap_start turned it on (PID 1) or
 * ct_reap_subreaper did (at the first anchor we spawn): nothing changes
 * for any other process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lx.h"

static bool on;			/* PID 1 (/proc is our namespace's), or
				   a child subreaper */
static bool custody;		/* ct_reap_subreaper: anchors are ours */
static bool everyone;		/* PID 1: orphans of the whole namespace */
static bool started;		/* ct_reap_start decided */
static lx_map_t guarded;	/* pid -> times guarded (as a pointer) */
static lx_map_t before;		/* pid -> 1: our children at the start */
static unsigned inflight;	/* spawns whose pid is not guarded yet */
static bool due;		/* a pass was asked for while one was */

/* Every child of ours now, from each thread's list. */
static int
children(pid_t **pidsp, size_t *np)
{
	pid_t *all = NULL, *grown;
	size_t n = 0;
	struct dirent *d;
	DIR *dir;
	int fd, err = 0;

	*pidsp = NULL;
	*np = 0;
	if ((fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return (errno);
	if ((dir = fdopendir(fd)) == NULL) {
		err = errno;
		(void) close(fd);
		return (err);
	}
	while ((d = readdir(dir)) != NULL) {
		char path[NAME_MAX + 16], *buf;
		pid_t *pids;
		size_t k;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		(void) snprintf(path, sizeof (path), "%s/children", d->d_name);
		/* A thread that ended meanwhile has no children left. */
		if (lx_read_file(fd, path, &buf) != 0)
			continue;
		err = lx_parse_pids(buf, &pids, &k);
		free(buf);
		if (err != 0)
			break;
		if (k > 0 && (grown = realloc(all, (n + k) *
		    sizeof (*all))) == NULL) {
			free(pids);
			err = ENOMEM;
			break;
		}
		if (k > 0) {
			all = grown;
			memcpy(all + n, pids, k * sizeof (*all));
			n += k;
		}
		free(pids);
	}
	(void) closedir(dir);
	if (err != 0) {
		free(all);
		return (err);
	}
	*pidsp = all;
	*np = n;
	return (0);
}

/*
 * A subreaper's orphans go to its first thread that is not exiting (the
 * kernel's find_new_reaper): the leader's list, ours, holds every one;
 * the other threads' children are their spawns' (guarded).  One read
 * where PID 1 needs one per thread: a pass runs at every SIGCHLD.
 */
static int
leader_children(pid_t **pidsp, size_t *np)
{
	char path[48], *buf;
	int err;

	*pidsp = NULL;
	*np = 0;
	(void) snprintf(path, sizeof (path), "/proc/self/task/%d/children",
	    (int)getpid());
	if ((err = lx_read_file(AT_FDCWD, path, &buf)) != 0)
		return (err);
	err = lx_parse_pids(buf, pidsp, np);
	free(buf);
	return (err);
}

/*
 * One look at our children: reap the unguarded zombies; forget the
 * children we had at the start that are gone.  *reapedp: how many.
 */
static int
pass(size_t *reapedp)
{
	pid_t *pids;
	size_t n;
	int err;

	*reapedp = 0;
	if ((err = everyone ? children(&pids, &n) :
	    leader_children(&pids, &n)) != 0)
		return (err);
	/* The children we had at the start that are gone are forgotten. */
	lx_map_keep_only(&before, pids, n);
	/* Nobody else's: neither a waiter's nor there before. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (lx_map_get(&guarded, pids[i]) == NULL &&
		    lx_map_get(&before, pids[i]) == NULL)
			pids[m++] = pids[i];
	}
	/* What came is sorted (custody.c) before any of it is reaped. */
	if (custody && m > 0)
		lx_custody_sort(pids, m, lx_keeper_pid());
	for (size_t i = 0; i < m; i++) {
		pid_t got;
		char state;
		int st;

		/* A zombie stays one until reaped: it cannot be reused. */
		if (lx_proc_state(pids[i], &state) != 0 || state != 'Z')
			continue;
		/*
		 * By pid, WNOHANG: a group leader that is a zombie while its
		 * other threads run is not reapable yet (0), and is looked at
		 * again at its SIGCHLD.
		 */
		while ((got = waitpid(pids[i], &st, WNOHANG)) < 0 &&
		    errno == EINTR)
			;
		if (got == pids[i]) {
			lx_custody_reaped(pids[i]);
			(*reapedp)++;
		}
	}
	free(pids);
	return (0);
}

int
ct_reap(void)
{
	size_t reaped;
	int err;

	if (!on)
		return (0);
	if (inflight > 0) {
		due = true;
		return (0);
	}
	due = false;
	/*
	 * The children list is read from the kernel's list one pid at a
	 * time, and may skip an entry that moves meanwhile: look again as
	 * long as a look found something.  Bounded: a fork bomb of orphans
	 * is not ours to finish in one call (its SIGCHLDs call again).
	 */
	for (int i = 0; i < 16; i++) {
		if ((err = pass(&reaped)) != 0)
			return (err);
		if (reaped == 0)
			break;
	}
	return (0);
}

int
ct_reap_guard(pid_t pid, bool guard)
{
	uintptr_t count;

	if (!on || pid < 0)
		return (0);
	if (pid == 0) {
		if (guard) {
			inflight++;
			return (0);
		}
		/*
		 * A look even when no SIGCHLD came meanwhile: a live orphan
		 * handed to us brings none, and custody sorts what it has
		 * seen (a stranger first seen while a killed anchor's tree is
		 * being stopped would be taken for its member).  A failed
		 * look is retried at the next SIGCHLD: the count is done.
		 */
		if (inflight > 0 && --inflight == 0)
			(void) ct_reap();
		return (0);
	}
	count = (uintptr_t)lx_map_get(&guarded, pid);
	if (guard)
		return (lx_map_put(&guarded, pid, (void *)(count + 1)));
	if (count == 0)
		return (0);
	if (count > 1)
		return (lx_map_put(&guarded, pid, (void *)(count - 1)));
	(void) lx_map_del(&guarded, pid);
	lx_custody_reaped(pid);	/* an anchor's end: sorted now */
	/*
	 * Its waiter took it: a zombie handed to us meanwhile under the same
	 * pid (it was guarded then) is ours now.  Done either way: a failed
	 * look is retried at the next SIGCHLD.
	 */
	(void) ct_reap();
	return (0);
}

/* The children we have now: their waiters are unknown (guarded). */
static int
protect_children(void)
{
	pid_t *pids;
	size_t n;
	int err;

	if ((err = children(&pids, &n)) != 0)
		return (err);
	for (size_t i = 0; i < n && err == 0; i++)
		err = lx_map_put(&before, pids[i], (void *)1);
	free(pids);
	if (err != 0)
		lx_map_fini(&before);
	return (err);
}

/* Whether /proc is our pid namespace's: its "self" is us, PID 1. */
static bool
proc_is_ours(void)
{
	char buf[16];
	ssize_t n = readlink("/proc/self", buf, sizeof (buf) - 1);

	if (n <= 0)
		return (false);
	buf[n] = '\0';
	return (strcmp(buf, "1") == 0);
}

int
ct_reap_start(bool *onp)
{
	int err;

	if (started) {
		*onp = on;
		return (0);
	}
	/*
	 * Only PID 1: anywhere else the orphans go to a reaper that is not
	 * us, and our zombies are our own children's, whose waiters are ours
	 * to respect.  A /proc of another namespace would name other pids.
	 */
	if (getpid() != 1 || !proc_is_ours()) {
		started = true;
		*onp = false;
		return (0);
	}
	if ((err = protect_children()) != 0)
		return (err);
	started = on = everyone = true;
	*onp = true;
	return (0);
}

static void
look(void)
{
	(void) ct_reap();
}

/*
 * We are about to spawn an anchor: become a child subreaper, so that the
 * tree of one a member kills comes back to us, and reap (and sort) what
 * comes.  As PID 1 we are everyone's reaper already.
 */
int
ct_reap_subreaper(bool *onp)
{
	bool pid1;
	int err;

	if (custody) {
		*onp = true;
		return (0);
	}
	if ((err = ct_reap_start(&pid1)) != 0)
		return (err);
	if (!pid1) {
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
			return (errno);
		if ((err = protect_children()) != 0)
			return (err);
		on = true;
	}
	lx_custody_arm(look);
	custody = true;
	*onp = true;
	return (0);
}

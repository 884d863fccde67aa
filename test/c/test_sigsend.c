/*
 * test_sigsend.c -- lx_sigsend (src/linux/sigsend.c) over a scripted
 * membership: a pid is signalled only when the list taken after its pidfd
 * was opened still has it, so a process that was listed once and is not a
 * member by the time we signal (a reused pid: a stranger) is never
 * touched; forks made while signalling are signalled on the next pass; a
 * filter narrows the set; a pid that is gone is no error; a pass that
 * finds nothing new is not the last while a handled process exited.
 * Prints failures as file:line, then "N passed, N failed".
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/linux/map.c"
#include "../../src/linux/sigsend.c"

#include "check.h"

/* The scripted lists: members() call i gives lists[min(i, nlists-1)]. */
#define	MAXL	8
static pid_t lists[MAXL][4];
static size_t lens[MAXL], nlists, calls;

static int
scripted_members(int dirfd, pid_t **pidsp, size_t *np)
{
	size_t i = calls < nlists ? calls : nlists - 1;

	(void) dirfd;
	calls++;
	*np = lens[i];
	if ((*pidsp = malloc(sizeof (pid_t) * (lens[i] + 1))) == NULL)
		return (ENOMEM);
	memcpy(*pidsp, lists[i], sizeof (pid_t) * lens[i]);
	return (0);
}

static int
no_freeze(int dirfd, bool *onp)
{
	(void) dirfd;
	(void) onp;
	return (ENOTSUP);
}

static const lx_mship_t scripted = {
	.name = "scripted",
	.members = scripted_members,
	.freezing = no_freeze,
};

static void
script(size_t n, ...)
{
	va_list ap;

	va_start(ap, n);
	nlists = n;
	calls = 0;
	for (size_t i = 0; i < n; i++) {
		pid_t *l = va_arg(ap, pid_t *);
		lens[i] = 0;
		while (l[lens[i]] != 0)
			lists[i][lens[i]] = l[lens[i]], lens[i]++;
	}
	va_end(ap);
}

/* A child that waits to be signalled. */
static pid_t
sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		(void) pause();
		_exit(0);
	}
	return (pid);
}

/* How it ended: the signal, or 0 if it still runs (then it is killed). */
static int
ended_by(pid_t pid, bool expect_dead)
{
	int status;

	if (!expect_dead) {
		if (waitpid(pid, &status, WNOHANG) != 0)
			return (-1);
		(void) kill(pid, SIGKILL);
		(void) waitpid(pid, &status, 0);
		return (0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
		return (-1);
	return (WTERMSIG(status));
}

static bool
not_b(pid_t pid, void *arg)
{
	return (pid != *(pid_t *)arg);
}

int
main(void)
{
	lx_sig_result_t r;
	pid_t a, b;

	/* A member, listed before and after its pidfd opened: signalled. */
	a = sleeper();
	script(1, (pid_t[]){ a, 0 });
	CHECK_INT(lx_sigsend(&scripted, -1, SIGTERM, 0, NULL, NULL, &r), 0);
	CHECK_INT((int)r.sent, 1);
	CHECK_INT(ended_by(a, true), SIGTERM);

	/* Listed once, then no longer a member: never signalled. */
	a = sleeper();
	script(2, (pid_t[]){ a, 0 }, (pid_t[]){ 0 });
	CHECK_INT(lx_sigsend(&scripted, -1, SIGTERM, 0, NULL, NULL, &r), 0);
	CHECK_INT((int)r.sent, 0);
	CHECK_INT(ended_by(a, false), 0);

	/* A fork seen by the third list is signalled on the next pass. */
	a = sleeper();
	b = sleeper();
	script(3, (pid_t[]){ a, 0 }, (pid_t[]){ a, 0 }, (pid_t[]){ a, b, 0 });
	CHECK_INT(lx_sigsend(&scripted, -1, SIGTERM, 0, NULL, NULL, &r), 0);
	CHECK_INT((int)r.sent, 2);
	CHECK_INT(ended_by(a, true), SIGTERM);
	CHECK_INT(ended_by(b, true), SIGTERM);

	/* The filter: b is a member but not wanted. */
	a = sleeper();
	b = sleeper();
	script(1, (pid_t[]){ a, b, 0 });
	CHECK_INT(lx_sigsend(&scripted, -1, SIGUSR1, 0, not_b, &b, &r), 0);
	CHECK_INT((int)r.sent, 1);
	CHECK_INT(ended_by(a, true), SIGUSR1);
	CHECK_INT(ended_by(b, false), 0);

	/* A listed pid that has gone (reaped): no error, nothing sent. */
	a = sleeper();
	(void) kill(a, SIGKILL);
	(void) waitpid(a, NULL, 0);
	script(1, (pid_t[]){ a, 0 });
	CHECK_INT(lx_sigsend(&scripted, -1, SIGTERM, 0, NULL, NULL, &r), 0);
	CHECK_INT((int)r.sent, 0);

	/*
	 * A walk that misses an orphan: a exited (a zombie here) while the
	 * walk ran, so its child b was in neither list read (the third list
	 * has nothing new).  a's pidfd is readable: walk again, and b, where
	 * it went, is signalled.
	 */
	/*
	 * Without pidfds (before Linux 5.3, or under valgrind, which does not
	 * know the call) no exit is seen: the race stays, as the docs say.
	 */
	int probe = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (probe < 0)
		goto no_pidfds;
	(void) close(probe);
	a = fork();
	if (a == 0)
		_exit(0);
	{
		siginfo_t si;
		(void) waitid(P_PID, (id_t)a, &si, WEXITED | WNOWAIT);
	}
	b = sleeper();
	script(4, (pid_t[]){ a, 0 }, (pid_t[]){ a, 0 }, (pid_t[]){ 0 },
	    (pid_t[]){ b, 0 });
	CHECK_INT(lx_sigsend(&scripted, -1, SIGTERM, 0, NULL, NULL, &r), 0);
	CHECK_INT((int)r.sent, 2);
	/* Missed, b would sleep on: kill it rather than hang the test. */
	if (r.sent < 2)
		(void) kill(b, SIGKILL);
	CHECK_INT(ended_by(b, true), SIGTERM);
	(void) waitpid(a, NULL, 0);
no_pidfds:

	/* An empty contract: no pass signals anything. */
	script(1, (pid_t[]){ 0 });
	CHECK_INT(lx_sigsend(&scripted, -1, SIGTERM, 0, NULL, NULL, &r), 0);
	CHECK_INT((int)r.sent + (int)r.denied, 0);
	return (check_report());
}

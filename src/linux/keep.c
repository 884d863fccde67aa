/*
 * keep.c -- the holder's side of the keeper (src/helpers/keeper.c): start
 * one when this process first holds something, tell it when we hold
 * nothing (it leaves after a while), and start a new one if it dies while
 * we still hold contracts.  The keeper is ct-keeper in the helper
 * directory (beside the loaded addon, or beside this program).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lx.h"

extern char **environ;

static pid_t kpid;		/* the keeper, or 0 */
static int kpidfd = -1;		/* polled: readable when it dies */
static int kcmd = -1;		/* our end of its command pipe */
static bool kidle;
static bool idle_due;		/* holds reached 0 since the last tick */
static size_t holds;		/* things we hold: contracts, spares */
static ct_id_t passing;		/* lx_keeper_pass: a count changing hands */

static char *
keeper_path(void)
{
	const char *dir = ct_helper_dir();
	char *self = NULL, *path = NULL;

	/* No addon told us: we are ctrun or ctstat, shipped beside it. */
	if (dir == NULL) {
		if ((self = realpath("/proc/self/exe", NULL)) == NULL)
			return (NULL);
		dir = dirname(self);
	}
	if (asprintf(&path, "%s/ct-keeper", dir) < 0)
		path = NULL;
	free(self);
	return (path);
}

bool
lx_keeper_available(void)
{
	char *path = keeper_path();
	bool ok = path != NULL && access(path, X_OK) == 0;

	free(path);
	return (ok);
}

static void keeper_died(void *);
static void keeper_tick(void *);
static void tell_custody(ct_id_t, pid_t, uint64_t);

static int
keeper_start(void)
{
	const lx_root_t *r;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int cmd[2], ready[2], err, st, share;
	char *path, spid[16], sstart[24], buf[32];
	pid_t me, p;
	uint64_t start;
	size_t got = 0;
	ssize_t n;

	if ((err = lx_root_get(&r)) != 0)
		return (err);
	if ((path = keeper_path()) == NULL || access(path, X_OK) != 0) {
		free(path);
		return (ENOENT);
	}
	if (pipe2(cmd, O_CLOEXEC) != 0) {
		free(path);
		return (errno);
	}
	if (pipe2(ready, O_CLOEXEC) != 0) {
		err = errno;
		(void) close(cmd[0]);
		(void) close(cmd[1]);
		free(path);
		return (err);
	}
	lx_self(&me, &start);
	(void) snprintf(spid, sizeof (spid), "%d", (int)me);
	(void) snprintf(sstart, sizeof (sstart), "%" PRIu64, start);
	char *argv[] = { "ct-keeper", r->path, spid, sstart, NULL };
	(void) sigemptyset(&none);
	(void) sigfillset(&all);
	/*
	 * Only what it needs (docs/security.md, "Helpers"): stdio from
	 * /dev/null -- it outlives us, and must not hold our stdout pipe open
	 * (ctrun ... | cat would wait for it) -- and the two pipes; it closes
	 * anything else inherited itself.
	 */
	(void) posix_spawn_file_actions_init(&fa);
	(void) posix_spawn_file_actions_adddup2(&fa, cmd[0], 3);
	(void) posix_spawn_file_actions_adddup2(&fa, ready[1], 4);
	/*
	 * fd 5: what the membership has it hold for us (lx_mship_t,
	 * keeper_share), else /dev/null.  Copied above 5 first, so that no
	 * dup2 before it can have replaced it.
	 */
	share = lx_ms()->keeper_share != NULL ? lx_ms()->keeper_share() : -1;
	if (share >= 0)
		share = fcntl(share, F_DUPFD_CLOEXEC, 10);
	if (share >= 0)
		(void) posix_spawn_file_actions_adddup2(&fa, share, 5);
	else
		(void) posix_spawn_file_actions_addopen(&fa, 5, "/dev/null",
		    O_RDONLY, 0);
	for (int i = 0; i < 3; i++)
		(void) posix_spawn_file_actions_addopen(&fa, i, "/dev/null",
		    O_RDWR, 0);
	(void) posix_spawnattr_init(&attr);
	(void) posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	(void) posix_spawnattr_setsigmask(&attr, &none);
	(void) posix_spawnattr_setsigdefault(&attr, &all);
	/* posix_spawn runs no atfork handlers: it never joins a contract. */
	err = posix_spawn(&p, path, &fa, &attr, argv, environ);
	(void) posix_spawn_file_actions_destroy(&fa);
	(void) posix_spawnattr_destroy(&attr);
	free(path);
	(void) close(cmd[0]);
	(void) close(ready[1]);
	if (share >= 0)
		(void) close(share);
	if (err == 0)
		while (waitpid(p, &st, 0) < 0 && errno == EINTR)
			;
	while (err == 0 && got < sizeof (buf) - 1 &&
	    (n = read(ready[0], buf + got, sizeof (buf) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	(void) close(ready[0]);
	buf[got] = '\0';
	if (err != 0 || (kpid = (pid_t)atol(buf)) <= 0) {
		(void) close(cmd[1]);
		kpid = 0;
		return (err != 0 ? err : ECHILD);
	}
	kpidfd = (int)syscall(SYS_pidfd_open, kpid, 0);
	if (kpidfd >= 0) {
		(void) fcntl(kpidfd, F_SETFD, FD_CLOEXEC);
		(void) lx_evq_add(kpidfd, keeper_died, NULL);
	}
	(void) lx_evq_on_dispatch(keeper_tick, NULL);
	kcmd = cmd[1];
	(void) fcntl(kcmd, F_SETFL, O_NONBLOCK);
	kidle = false;
	/* What we hold in custody, so far and from now on. */
	lx_custody_on_note(tell_custody);
	return (0);
}

/*
 * Commands never block us (the pipe is non-blocking): one lost to a
 * full pipe costs only time -- an id not told is found by the keeper's
 * scan of the root, a 'k' lost makes a keeper leave that we then start
 * again (keeper_died).
 */
static void
tell(const char *cmd, size_t len)
{
	if (kcmd >= 0)
		(void) !write(kcmd, cmd, len);
}

/*
 * A member of a killed anchor's tree in our custody (custody.c): if we
 * die, the keeper applies the rules to it too.  One write, under
 * PIPE_BUF: it arrives whole, or (a full pipe) not at all.
 */
static void
tell_custody(ct_id_t id, pid_t pid, uint64_t start)
{
	char buf[64];
	int n = snprintf(buf, sizeof (buf), "o%" PRId32 " %d %" PRIu64 "\n",
	    id, (int)pid, start);

	tell(buf, (size_t)n);
}

void
lx_keeper_pass(ct_id_t id)
{
	passing = id;
}

bool
lx_keeper_pass_taken(void)
{
	bool taken = passing == 0;

	passing = 0;
	return (taken);
}

void
lx_keeper_hold(ct_id_t id, bool on)
{
	char buf[16];
	int n;

	if (on && id != 0 && id == passing) {
		passing = 0;	/* counted and told already */
		return;
	}
	if (on) {
		if (holds++ == 0 && kpid != 0 && kidle) {
			tell("k", 1);
			kidle = false;
		}
		if (kpid == 0)
			(void) keeper_start();
	} else if (holds > 0 && --holds == 0 && kpid != 0) {
		idle_due = true;	/* told at the next dispatch, if still so */
	}
	/*
	 * The id, for the keeper to reach first when we die (a new keeper
	 * learns only the ids held after it started: the scan finds the
	 * rest).
	 */
	n = snprintf(buf, sizeof (buf), "%c%" PRId32 "\n", on ? '+' : '-',
	    id);
	if (id > 0 && n > 0 && (size_t)n < sizeof (buf))
		tell(buf, (size_t)n);
}

/* Once per dispatch: tell an unneeded keeper it may leave. */
static void
keeper_tick(void *arg)
{
	(void) arg;
	/* A spare becoming a contract drops and raises holds in one go. */
	if (idle_due && holds == 0 && kpid != 0 && !kidle) {
		tell("q", 1);
		kidle = true;
	}
	idle_due = false;
}

/* It died: start another while we still hold anything. */
static void
keeper_died(void *arg)
{
	(void) arg;
	if (kpidfd >= 0) {
		lx_evq_del(kpidfd);
		(void) close(kpidfd);
	}
	if (kcmd >= 0)
		(void) close(kcmd);
	kpidfd = kcmd = -1;
	kpid = 0;
	if (holds > 0)
		(void) keeper_start();	/* the guarantee must not lapse */
}

pid_t
lx_keeper_pid(void)
{
	return (kpid);
}

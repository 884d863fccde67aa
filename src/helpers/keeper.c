/*
 * ct-keeper -- applies the holder-death rules when a holder dies without
 * abandoning its contracts (docs/ARCHITECTURE.md, "Linux: holder death").  Nothing in the
 * Linux kernel does what illumos does at owner exit, so each holder
 * process starts one keeper on first need:
 *
 *   ct-keeper ROOT HOLDER_PID HOLDER_START
 *     fd 3  commands from the holder: 'q' (idle: leave in 2 s), 'k' (stay),
 *           "+ID\n" / "-ID\n" (it starts / stops holding contract or
 *           spare ID: a hint, so that at its death the rules reach its
 *           contracts before the scan of the root that finds the rest)
 *     fd 4  the keeper writes its pid here once armed, then closes it
 *     fd 5  held, never used, until the rules are applied: what the
 *           membership shares with us (lx_mship_t, keeper_share: under
 *           cgroup membership the holder's inotify instance, whose last
 *           close would otherwise hold the holder's death back), or
 *           /dev/null
 *
 * It daemonizes (so the holder never has to reap it), moves into its own
 * cgroup <ROOT>/k<pid>-<start> (cgroup membership: so that it is in no
 * contract), and watches the holder through a pidfd.
 * When the holder dies it applies the rules of src/linux/holder.c to every contract the holder
 * owned (noorphan: kill; inherit with a regent: inherited; else orphan),
 * waits for the orphans to empty, removes them, and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lx.h"

#ifndef SYS_close_range
#define	SYS_close_range	436	/* the same on x86_64 and aarch64 */
#endif

#define	IDLE_MS	2000
#define	RECHECK_MS	1000

static const lx_root_t *root;
static int shared = -1;		/* fd 5, if we were given one */
static char *mydir;		/* k<pid>-<start> */

static void
leave(int code)
{
	/* Out of our own cgroup, so that it can be removed. */
	if (mydir != NULL) {
		(void) lx_cg_write(root->fd, "cgroup.procs", "0");
		(void) unlinkat(root->fd, mydir, AT_REMOVEDIR);
	}
	exit(code);
}

/*
 * What the holder told us it holds (fd 3): id -> how many of its things
 * (a spare, then the watch of the contract it became) name it.  Only a
 * hint, read by nobody else: the rules go to these first when the holder
 * dies, then to whatever the scan of the root finds besides (a command
 * lost to a full pipe, a keeper started after the holder took them).
 */
static lx_map_t told;

static void
told_apply(char sign, int64_t v)
{
	uintptr_t n;

	if (v <= 0 || v > INT32_MAX)
		return;
	n = (uintptr_t)lx_map_get(&told, (int32_t)v);
	if (sign == '+')
		(void) lx_map_put(&told, (int32_t)v, (void *)(n + 1));
	else if (n > 1)
		(void) lx_map_put(&told, (int32_t)v, (void *)(n - 1));
	else if (n == 1)
		(void) lx_map_del(&told, (int32_t)v);
}

typedef struct held {
	pid_t holder;
	uint64_t start;
	char **names;
	size_t n;
	lx_map_t ids;		/* those in names */
} held_t;

/* Contract name (directory fd) is the holder's: add it, once. */
static int
held_one(ct_id_t id, const char *name, int fd, void *arg)
{
	held_t *h = arg;
	lx_hstate_t s;

	if (lx_map_get(&h->ids, id) != NULL)
		return (0);	/* told, and found already */
	if (lx_state_read(fd, &s) == 0 && s.holder == h->holder &&
	    s.start == h->start && (s.state == LX_OWNED ||
	    s.state == LX_SPARE)) {
		char **nn = realloc(h->names, (h->n + 1) * sizeof (*nn));
		if (nn != NULL) {
			h->names = nn;
			if ((nn[h->n] = strdup(name)) != NULL &&
			    lx_map_put(&h->ids, id, (void *)1) == 0)
				h->n++;
			else
				free(nn[h->n]);
		}
	}
	return (0);
}

/* Those of the told ids whose records say the holder holds them. */
static void
held_told(held_t *h)
{
	size_t i = 0;
	int32_t id;
	void *v;
	char name[16];
	int fd;

	while (lx_map_next(&told, &i, &id, &v)) {
		(void) snprintf(name, sizeof (name), "%" PRId32, id);
		if ((fd = openat(root->fd, name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) < 0)
			continue;
		(void) held_one(id, name, fd, h);
		(void) close(fd);
	}
}

/* Apply the rules to names[from..n), killing first. */
static void
apply_from(char **names, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++) {
		bool gone;

		if (lx_holder_apply(names[i], &gone) == 0 && gone) {
			free(names[i]);	/* removed already */
			names[i] = NULL;
		}
	}
}

/*
 * Nothing more for us to do about contract name: gone, parked in a regent,
 * adopted by a live holder (whose own keeper has it now), or an orphan
 * whose membership can never be known -- a record a member refused us
 * (docs/security.md) or a killed anchor.  Such a directory stays, for
 * ctstat to show and a later sweep to try again; waiting for it to empty
 * would keep us forever.
 */
static bool
settled(const char *name)
{
	lx_hstate_t s;
	bool done, gone;
	int fd;

	if (lx_holder_apply(name, &gone) != 0 || gone)
		return (true);
	if ((fd = openat(root->fd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return (true);
	done = lx_state_read(fd, &s) != 0 || s.state == LX_INHERITED ||
	    (s.state == LX_OWNED && !lx_state_holder_gone(&s));
	(void) close(fd);
	return (done);
}

/*
 * Our own cgroup k<holder>-<start>, out of every contract.  Until we are
 * in it, it is an empty keeper cgroup, which another keeper's sweep may
 * remove: make it again then (once we are in, it cannot be removed).
 */
static int
own_cgroup(pid_t holder, uint64_t start)
{
	char *procs = NULL;
	int err = ENOENT;

	if (asprintf(&mydir, "k%d-%" PRIu64, (int)holder, start) < 0 ||
	    asprintf(&procs, "%s/cgroup.procs", mydir) < 0)
		return (ENOMEM);
	for (int tries = 0; err == ENOENT && tries < 100; tries++) {
		if (mkdirat(root->fd, mydir, 0755) != 0 && errno != EEXIST) {
			err = errno;
			break;
		}
		err = lx_cg_write(root->fd, procs, "0");
	}
	free(procs);
	return (err);
}

static bool changed;

static void
on_notice(ct_id_t id)
{
	(void) id;
	changed = true;
}

/* Settle what can be; 1 for each contract still to wait for. */
static size_t
settle_all(char **names, size_t n)
{
	size_t left = 0;

	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && settled(names[i])) {
			free(names[i]);
			names[i] = NULL;
		}
		left += names[i] != NULL;
	}
	return (left);
}

/*
 * The holder is gone: apply the rules, then see its orphans out: they die
 * with their last member, and are removed as they empty.  Each is watched
 * (the membership mechanism's notices, through the event queue) before it
 * is looked at for the last time, so that no emptying goes unseen.  (An
 * adoption changes only a record, which raises no notice: the adopted
 * contract is let go at its next change.)
 */
static void command(char c, bool *idlep);

/* What the holder wrote before it died, and we have not read yet. */
static void
drain_commands(void)
{
	struct pollfd p = { .fd = 3, .events = POLLIN };
	char buf[512];
	bool idle;
	ssize_t got;

	while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) &&
	    (got = read(3, buf, sizeof (buf))) > 0) {
		for (ssize_t i = 0; i < got; i++)
			command(buf[i], &idle);
	}
}

static void
holder_died(pid_t holder, uint64_t start)
{
	held_t h = { .holder = holder, .start = start };
	char **names;
	size_t n, told_n, left;
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	int token;
	ct_id_t id;

	/*
	 * The rules first: noorphan members are killed before anything
	 * else is set up (each step before the kill adds to the time they
	 * live on, the more so on a busy machine).  Whether one emptied is
	 * looked at again below, once it is watched.  The contracts the
	 * holder told us of go first: the scan of the root reads every
	 * contract's record, everybody's, and grows with them (5,000 others
	 * in the root: some 30 ms); it finds the rest after.
	 */
	drain_commands();
	held_told(&h);
	told_n = h.n;
	apply_from(h.names, 0, told_n);
	(void) lx_root_each(held_one, &h);
	names = h.names;
	n = h.n;
	lx_map_fini(&h.ids);
	apply_from(names, told_n, n);
	/* What we held for the holder: its last close may wait (fd 5). */
	if (shared >= 0)
		(void) close(shared);
	shared = -1;
	lx_evq_on_notice(on_notice);
	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && lx_parse_ctid(names[i], &id))
			(void) lx_ms()->follow(root->fd, root->path, id, &token);
	}
	left = settle_all(names, n);
	if (left > 0 && ct_evq_fd(&pfd.fd) != 0)
		left = 0;
	/*
	 * Notices say when to look again; a look every RECHECK_MS as well,
	 * for what raises none (a root or a contract directory removed under
	 * us, an anchor record a member deleted): a keeper must not outlive
	 * every reason it waits.
	 */
	while (left > 0) {
		int r = poll(&pfd, 1, RECHECK_MS);
		if (r < 0 && errno != EINTR)
			break;
		changed = r == 0;
		if (r > 0)
			(void) ct_evq_dispatch();
		if (changed)
			left = settle_all(names, n);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	leave(0);
}

/*
 * One byte of the holder's commands (fd 3): 'q', 'k', "+ID\n", "-ID\n",
 * and "oID PID START\n", a member of a killed anchor's tree it keeps
 * (custody.c), which the rules reach too (checked, as any listing is,
 * when used).  Anything else, or a number out of range, drops the
 * command under way: the hint is only a hint.
 */
static void
command(char c, bool *idlep)
{
	static char sign;	/* '+', '-' or 'o' while numbers are read */
	static uint64_t v[3];
	static int at;

	if (sign != 0 && c >= '0' && c <= '9') {
		v[at] = v[at] * 10 + (uint64_t)(c - '0');
		if (v[at] > (at == 2 ? UINT64_MAX / 10 : INT32_MAX))
			sign = 0;
		return;
	}
	if (sign == 'o' && c == ' ' && at < 2) {
		at++;
		return;
	}
	if ((sign == '+' || sign == '-') && c == '\n' && at == 0)
		told_apply(sign, (int64_t)v[0]);
	if (sign == 'o' && c == '\n' && at == 2 && v[0] > 0 && v[1] > 0)
		(void) lx_custody_put((ct_id_t)v[0], (pid_t)v[1], v[2]);
	sign = 0;
	v[0] = v[1] = v[2] = 0;
	at = 0;
	if (c == '+' || c == '-' || c == 'o')
		sign = c;
	else if (c == 'q')
		*idlep = true;
	else if (c == 'k')
		*idlep = false;
}

int
main(int argc, char **argv)
{
	pid_t holder;
	uint64_t start, now;
	int pidfd, err;
	bool idle = false;
	char buf[32];

	if (argc != 4) {
		(void) fprintf(stderr, "usage: ct-keeper ROOT HOLDER_PID "
		    "HOLDER_START\n");
		return (2);
	}
	/*
	 * Nothing inherited but the two pipes and fd 5 (keep.c opened 0-2
	 * on null).
	 */
	(void) syscall(SYS_close_range, 6, ~0U, 0);
	/* Started by hand without one, 5 is the next fd we open: not ours. */
	if (fcntl(5, F_GETFD) >= 0)
		shared = 5;
	holder = (pid_t)atol(argv[2]);
	start = strtoull(argv[3], NULL, 10);
	switch (fork()) {	/* the holder reaps this one at once */
	case -1:
		return (1);
	case 0:
		break;
	default:
		_exit(0);
	}
	(void) setsid();
	(void) signal(SIGHUP, SIG_IGN);
	(void) signal(SIGINT, SIG_IGN);
	(void) signal(SIGPIPE, SIG_IGN);
	/*
	 * The root exists unless the holder removed it on its way out (a
	 * keeper started just before): then there is nothing to keep, and
	 * making the root again would leave it behind.
	 */
	if ((err = lx_root_use(argv[1])) != 0 ||
	    (err = lx_root_get(&root)) != 0)
		return (1);
	lx_holder_sweep();
	if (lx_ms()->keeper_group && (err = own_cgroup(holder, start)) != 0)
		return (1);
	pidfd = (int)syscall(SYS_pidfd_open, holder, 0);
	if (pidfd < 0 || lx_proc_start(holder, &now) != 0 || now != start)
		holder_died(holder, start);	/* already gone */
	(void) fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	int n = snprintf(buf, sizeof (buf), "%d\n", (int)getpid());
	(void) !write(4, buf, (size_t)n);
	(void) close(4);

	struct pollfd pfd[2] = { { pidfd, POLLIN, 0 }, { 3, POLLIN, 0 } };
	for (;;) {
		int r = poll(pfd, 2, idle ? IDLE_MS : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			leave(0);	/* idle long enough: nothing to keep */
		if (pfd[0].revents != 0)
			holder_died(holder, start);
		if (pfd[1].revents != 0) {
			char buf[512];
			ssize_t got = read(3, buf, sizeof (buf));
			if (got <= 0)
				pfd[1].fd = -1;	/* the pidfd tells us the rest */
			for (ssize_t i = 0; i < got; i++)
				command(buf[i], &idle);
		}
	}
}

/*
 * ct-keeper -- applies the holder-death rules when a holder dies without
 * abandoning its contracts (DESIGN 4 "Holder death").  Nothing in the
 * Linux kernel does what illumos does at owner exit, so each holder
 * process starts one keeper on first need:
 *
 *   ct-keeper ROOT HOLDER_PID HOLDER_START
 *     fd 3  commands from the holder: 'q' (idle: leave in 2 s), 'k' (stay)
 *     fd 4  the keeper writes its pid here once armed, then closes it
 *
 * It daemonizes (so the holder never has to reap it), moves into its own
 * cgroup <ROOT>/k<pid>-<start>, and watches the holder through a pidfd.
 * When the holder dies it applies spec c.6 to every contract the holder
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
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <dirent.h>

#include "lx.h"

#define	IDLE_MS	2000

static const lx_root_t *root;
static char *mydir;		/* k<pid>-<start> */

static void
leave(int code)
{
	/* Out of our own cgroup, so that it can be removed. */
	(void) lx_cg_write(root->fd, "cgroup.procs", "0");
	(void) unlinkat(root->fd, mydir, AT_REMOVEDIR);
	exit(code);
}

/* Ids of the contracts held by the holder (its own state records). */
static size_t
held_by(pid_t holder, uint64_t start, char ***namesp)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int fd = openat(root->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			(void) close(fd);
		*namesp = NULL;
		return (0);
	}
	while ((de = readdir(d)) != NULL) {
		lx_hstate_t s;
		int cfd;
		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    (cfd = openat(root->fd, de->d_name, O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) < 0)
			continue;
		if (lx_state_read(cfd, &s) == 0 && s.holder == holder &&
		    s.start == start && (s.state == LX_OWNED ||
		    s.state == LX_SPARE)) {
			char **nn = realloc(names, (n + 1) * sizeof (*nn));
			if (nn != NULL && (nn[n] = strdup(de->d_name)) != NULL) {
				names = nn;
				n++;
			} else if (nn != NULL) {
				names = nn;
			}
		}
		(void) close(cfd);
	}
	(void) closedir(d);
	*namesp = names;
	return (n);
}

/*
 * Nothing more for us to do about contract name: gone, parked in a regent,
 * or adopted by a live holder (whose own keeper has it now).
 */
static bool
settled(const char *name)
{
	lx_hstate_t s;
	bool done;
	int fd;

	if (lx_root_sweep_one(name) == 1)
		return (true);
	if ((fd = openat(root->fd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return (true);
	done = lx_state_read(fd, &s) != 0 || s.state == LX_INHERITED ||
	    (s.state == LX_OWNED && !lx_state_holder_gone(&s));
	(void) close(fd);
	return (done);
}

/* The holder is gone: apply the rules, then see its orphans out. */
static void
holder_died(pid_t holder, uint64_t start)
{
	char **names;
	size_t n = held_by(holder, start, &names), left = 0;
	int ino = inotify_init1(IN_CLOEXEC);

	for (size_t i = 0; i < n; i++) {
		char *path = NULL;
		/*
		 * Watch before settled() kills (noorphan) and looks: members
		 * that all exit between that look and a later watch would
		 * leave no event to wake us, and we would wait for ever.
		 */
		if (ino >= 0 && asprintf(&path, "%s/%s/cgroup.events",
		    root->path, names[i]) > 0)
			(void) inotify_add_watch(ino, path, IN_MODIFY);
		free(path);
		if (settled(names[i])) {
			free(names[i]);
			names[i] = NULL;
			continue;
		}
		left++;
	}
	/*
	 * Orphans die with their last member: remove them as they empty.
	 * (An adoption writes the state xattr, which inotify does not see;
	 * the adopted contract is let go at its next cgroup.events change.)
	 */
	while (left > 0 && ino >= 0) {
		char buf[4096] __attribute__((aligned(8)));
		if (read(ino, buf, sizeof (buf)) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < n; i++) {
			if (names[i] != NULL && settled(names[i])) {
				free(names[i]);
				names[i] = NULL;
				left--;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	leave(0);
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
	    (err = lx_root_get(&root)) != 0 ||
	    asprintf(&mydir, "k%d-%" PRIu64, (int)holder, start) < 0)
		return (1);
	lx_root_sweep();
	if (mkdirat(root->fd, mydir, 0755) != 0 && errno != EEXIST)
		return (1);
	char *procs = NULL;
	if (asprintf(&procs, "%s/cgroup.procs", mydir) < 0 ||
	    lx_cg_write(root->fd, procs, "0") != 0)
		return (1);
	free(procs);
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
			char c;
			ssize_t got = read(3, &c, 1);
			if (got <= 0)
				pfd[1].fd = -1;	/* the pidfd tells us the rest */
			else if (c == 'q')
				idle = true;
			else if (c == 'k')
				idle = false;
		}
	}
}

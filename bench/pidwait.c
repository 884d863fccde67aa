/*
 * pidwait -- the moment each of some processes dies, without polling.
 *
 *   pidwait PID...
 *
 * Opens a pidfd on each PID (they need not be its children), writes
 * "ready" (one line) to stdout, then sleeps in poll(2) until every pidfd
 * is readable -- the kernel makes it so when the process has exited, every
 * thread of it, and is a zombie or gone -- and writes, in the order of
 * the arguments, CLOCK_MONOTONIC in nanoseconds at the moment it saw each
 * (decimal, space-separated, one line; 0 for a PID gone before it
 * looked).  bench/holder.js compares them
 * with process.hrtime.bigint() (CLOCK_MONOTONIC too) taken just before its
 * SIGKILL: measuring this way takes no CPU from the processes measured,
 * where reading /proc in a loop preempted the dying holder every 0.1 ms.
 * Exits 1 if a pidfd cannot be opened for another reason.  Compiled at bench time.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define	SYS_pidfd_open	434
#endif

#define	MAXP	64

int
main(int argc, char **argv)
{
	struct pollfd pfd[MAXP];
	long long at[MAXP];
	int n = argc - 1, left = n;

	if (n < 1 || n > MAXP) {
		(void) fprintf(stderr, "usage: pidwait PID... (at most %d)\n",
		    MAXP);
		return (2);
	}
	for (int i = 0; i < n; i++) {
		pfd[i].fd = (int)syscall(SYS_pidfd_open, atoi(argv[i + 1]), 0);
		pfd[i].events = POLLIN;
		at[i] = 0;
		if (pfd[i].fd < 0 && errno == ESRCH) {
			left--;		/* gone already: 0 */
		} else if (pfd[i].fd < 0) {
			(void) fprintf(stderr, "pidwait: %s: errno %d\n",
			    argv[i + 1], errno);
			return (1);
		}
	}
	(void) printf("ready\n");
	(void) fflush(stdout);
	while (left > 0) {
		struct timespec ts;

		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return (1);
		}
		(void) clock_gettime(CLOCK_MONOTONIC, &ts);
		for (int i = 0; i < n; i++) {
			if (pfd[i].fd >= 0 && pfd[i].revents != 0) {
				at[i] = (long long)ts.tv_sec * 1000000000LL +
				    ts.tv_nsec;
				(void) close(pfd[i].fd);
				pfd[i].fd = -1;	/* poll skips it */
				left--;
			}
		}
	}
	for (int i = 0; i < n; i++)
		(void) printf("%s%lld", i > 0 ? " " : "", at[i]);
	(void) printf("\n");
	return (0);
}

/*
 * trylock.c -- flock on a file another user may open too (docs/
 * security.md, "Locks").  A cgroup contract directory and the cgroup root
 * are readable by everyone, and flock needs no more than an open fd: any
 * user could take the lock and hold it for good.  So it is never waited
 * on without bound: LOCK_NB, retried with a growing pause for at most
 * LX_LOCK_WAIT_MS (far longer than any of our critical sections, which
 * are a few system calls), then given up.  Each caller says what going on
 * without it costs (docs/ARCHITECTURE.md, "Linux: holder death").
 */
#include <errno.h>
#include <sys/file.h>
#include <time.h>

#include "lx.h"

int
lx_trylock(int fd)
{
	struct timespec step = { 0, 50 * 1000 }, slept = { 0, 0 };

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return (0);
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return (errno);
		if (slept.tv_sec * 1000 + slept.tv_nsec / 1000000 >=
		    LX_LOCK_WAIT_MS)
			return (EWOULDBLOCK);
		(void) nanosleep(&step, NULL);
		slept.tv_nsec += step.tv_nsec;
		if (slept.tv_nsec >= 1000000000L) {
			slept.tv_sec++;
			slept.tv_nsec -= 1000000000L;
		}
		if (step.tv_nsec < 20 * 1000 * 1000)
			step.tv_nsec *= 2;
	}
}

void
lx_unlock(int fd)
{
	(void) flock(fd, LOCK_UN);
}

/*
 * nofork.c -- an LD_PRELOAD library for the security test (point 11): a
 * fork() that runs no pthread_atfork handler (glibc's _Fork, 2.34), as a
 * libuv that spawns with posix_spawn or clone would.  Node's libuv forks
 * through the libc's fork(), so with this preloaded our atfork handlers
 * never run: what a forced ILLUMOS_CONTRACT_SPAWN=atfork meets there.
 */
#define	_GNU_SOURCE
#include <unistd.h>

pid_t
fork(void)
{
	return (_Fork());
}

/*
 * stamp -- live for a while, then report the moment of exit.
 *
 *   stamp MICROSECONDS
 *
 * Sleeps MICROSECONDS, writes CLOCK_MONOTONIC in nanoseconds (decimal, one
 * line) to stdout, and exits at once: the benchmark compares it with
 * process.hrtime.bigint() (libuv's uv_hrtime, also CLOCK_MONOTONIC) at the
 * moment pr_empty reaches JavaScript.  Compiled at bench time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long us = argc > 1 ? atol(argv[1]) : 0;
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	char buf[32];
	int n;

	if (us > 0)
		while (nanosleep(&ts, &ts) != 0)
			;
	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(buf, sizeof (buf), "%lld\n",
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if (write(STDOUT_FILENO, buf, (size_t)n) != n)
		_exit(1);
	_exit(0);
}

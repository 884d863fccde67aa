/*
 * storm -- fork N short-lived children as fast as possible.
 *
 *   storm N
 *
 * Every child _exits at once; the parent reaps as it goes (so the storm
 * never holds more than a few hundred pids) and prints how many forks
 * succeeded.  Compiled at bench time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000, forked = 0, live = 0;

	while (forked < n) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			if (errno != EAGAIN || live == 0) {
				perror("fork");
				return (1);
			}
			if (wait(NULL) > 0)
				live--;
			continue;
		}
		forked++;
		live++;
		while (live > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			live--;
		if (live >= 256 && wait(NULL) > 0)
			live--;
	}
	while (live > 0 && wait(NULL) > 0)
		live--;
	(void) printf("%ld\n", forked);
	return (0);
}

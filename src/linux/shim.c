/*
 * ct-exec -- the exec shim (DESIGN 4, creation method 2).
 *
 *   ct-exec CGROUP_PROCS FILE ARGV0 [ARG...]
 *
 * Joins the contract by writing "0" to CGROUP_PROCS, then execs FILE
 * (searched in PATH like execvp) with ARGV0 ARG... .  It never runs the
 * program outside the contract: when the join fails it exits 127.
 * "ct-exec --probe" exits 0 at once (the spawn-mechanism probe).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int fd;

	if (argc == 2 && strcmp(argv[1], "--probe") == 0)
		return (0);
	if (argc < 4) {
		(void) fprintf(stderr, "usage: ct-exec CGROUP_PROCS FILE ARGV0 "
		    "[ARG...]\n");
		return (125);
	}
	if ((fd = open(argv[1], O_WRONLY | O_CLOEXEC)) < 0 ||
	    write(fd, "0", 1) != 1) {
		(void) fprintf(stderr, "ct-exec: cannot join the contract "
		    "(%s): %s\n", argv[1], strerror(errno));
		return (127);
	}
	(void) close(fd);
	(void) execvp(argv[2], argv + 3);
	(void) fprintf(stderr, "ct-exec: cannot run %s: %s\n", argv[2],
	    strerror(errno));
	return (errno == ENOENT ? 127 : 126);
}

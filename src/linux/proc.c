/*
 * proc.c -- facts about processes from /proc: a process is known by its
 * pid and its start time together, since pids are reused; and small files
 * read whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lx.h"

int
lx_read_file(int dirfd, const char *file, char **bufp)
{
	size_t cap = 256, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int fd, err = 0;

	if (buf == NULL)
		return (ENOMEM);
	if ((fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno;
		free(buf);
		return (err);
	}
	for (;;) {
		if (len + 1 >= cap) {
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				err = ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		len += (size_t)n;
	}
	(void) close(fd);
	if (err != 0) {
		free(buf);
		return (err);
	}
	buf[len] = '\0';
	*bufp = buf;
	return (0);
}

int
lx_proc_start(pid_t pid, uint64_t *startp)
{
	char path[32], *buf;
	int err;

	(void) snprintf(path, sizeof (path), "/proc/%d/stat", (int)pid);
	if (lx_read_file(AT_FDCWD, path, &buf) != 0)
		return (ESRCH);
	err = lx_parse_stat_start(buf, startp);
	free(buf);
	return (err);
}

void
lx_self(pid_t *pidp, uint64_t *startp)
{
	static pid_t pid;
	static uint64_t start;
	pid_t now = getpid();

	if (now != pid) {	/* first call, or we are a forked child */
		uint64_t s = 0;
		(void) lx_proc_start(now, &s);
		start = s;
		pid = now;
	}
	*pidp = pid;
	*startp = start;
}

/*
 * proc.c -- facts about processes from /proc: a process is known by its
 * pid and its start time together, since pids are reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx.h"

/* Read /proc/<pid>/stat and hand it to one of parse.c's stat parsers. */
static int
stat_of(pid_t pid, int (*parse)(const char *, void *), void *out)
{
	char path[32], *buf;
	int err;

	(void) snprintf(path, sizeof (path), "/proc/%d/stat", (int)pid);
	if (lx_read_file(AT_FDCWD, path, &buf) != 0)
		return (ESRCH);
	err = parse(buf, out);
	free(buf);
	return (err);
}

static int
parse_start(const char *buf, void *out)
{
	return (lx_parse_stat_start(buf, out));
}

static int
parse_times(const char *buf, void *out)
{
	return (lx_parse_stat_times(buf, out));
}

static int
parse_ppid(const char *buf, void *out)
{
	return (lx_parse_stat_ppid(buf, out));
}

static int
parse_state(const char *buf, void *out)
{
	return (lx_parse_stat_state(buf, out));
}

int
lx_proc_state(pid_t pid, char *statep)
{
	return (stat_of(pid, parse_state, statep));
}

int
lx_proc_start(pid_t pid, uint64_t *startp)
{
	return (stat_of(pid, parse_start, startp));
}

int
lx_proc_times(pid_t pid, uint64_t t[4])
{
	return (stat_of(pid, parse_times, t));
}

int
lx_proc_ppid(pid_t pid, pid_t *ppidp)
{
	return (stat_of(pid, parse_ppid, ppidp));
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

/*
 * The pid namespace whose pids our /proc shows, as the inode of its nsfs
 * file, when that is our own (its /proc/self is getpid()); else 0.  A
 * holder's pid means something only in its own namespace: looked up in
 * another one's /proc it names nobody, or somebody else, and the holder
 * would be judged dead while it runs (docs/ARCHITECTURE.md, "Holder
 * death").  Not cached: a fork may be in a namespace of its own.
 */
uint64_t
lx_proc_pidns(void)
{
	char buf[24];
	struct stat st;
	ssize_t n;
	char *end;

	if ((n = readlink("/proc/self", buf, sizeof (buf) - 1)) <= 0)
		return (0);
	buf[n] = '\0';
	errno = 0;
	long pid = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || pid != (long)getpid() ||
	    stat("/proc/self/ns/pid", &st) != 0)
		return (0);
	return ((uint64_t)st.st_ino);
}

void
lx_self_holder(lx_hstate_t *s)
{
	lx_self(&s->holder, &s->start);
	s->pidns = lx_proc_pidns();
}

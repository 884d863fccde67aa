/*
 * proc.c -- facts about processes from /proc: a process is known by its
 * pid and its start time together, since pids are reused.
 */
#include <dirent.h>
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

/* What one read of a stat file says of a process: its start, parent, state. */
typedef struct facts {
	uint64_t start;
	pid_t ppid;
	char state;
} facts_t;

static int
parse_facts(const char *buf, void *out)
{
	facts_t *f = out;
	int err = lx_parse_stat_start(buf, &f->start);

	if (err == 0)
		err = lx_parse_stat_ppid(buf, &f->ppid);
	return (err != 0 ? err : lx_parse_stat_state(buf, &f->state));
}

/* One read: the start time of pid, if it is this process's child. */
int
lx_proc_child_start(pid_t pid, uint64_t *startp)
{
	facts_t f;
	int err = stat_of(pid, parse_facts, &f);

	if (err != 0)
		return (err);
	if (f.ppid != getpid())
		return (ESRCH);
	*startp = f.start;
	return (0);
}

/* One read: pid is still the process started at start, and not a zombie. */
bool
lx_proc_alive(pid_t pid, uint64_t start)
{
	facts_t f;

	return (stat_of(pid, parse_facts, &f) == 0 && f.start == start &&
	    f.state != 'Z' && f.state != 'X');
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
 * death").  A process's own pid namespace is its for life (setns and
 * unshare change its children's): an answer is kept for this pid, and
 * looked for again in a forked child (another pid) or after a 0.
 */
uint64_t
lx_proc_pidns(void)
{
	static pid_t known_pid;
	static uint64_t known;
	char buf[24];
	struct stat st;
	ssize_t n;
	char *end;

	if (known != 0 && known_pid == getpid())
		return (known);
	if ((n = readlink("/proc/self", buf, sizeof (buf) - 1)) <= 0)
		return (0);
	buf[n] = '\0';
	errno = 0;
	long pid = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || pid != (long)getpid() ||
	    stat("/proc/self/ns/pid", &st) != 0)
		return (0);
	known_pid = (pid_t)pid;
	known = (uint64_t)st.st_ino;
	return (known);
}

void
lx_self_holder(lx_hstate_t *s)
{
	lx_self(&s->holder, &s->start);
	s->pidns = lx_proc_pidns();
}

/*
 * The children of pid's leader thread: all of them for a process of one
 * thread (an anchor), whose orphans are handed to it too.
 */
int
lx_proc_kids(pid_t pid, pid_t **kidsp, size_t *np)
{
	char path[64], *buf;
	int err;

	(void) snprintf(path, sizeof (path), "/proc/%d/task/%d/children",
	    (int)pid, (int)pid);
	if ((err = lx_read_file(AT_FDCWD, path, &buf)) != 0)
		return (err);
	err = lx_parse_pids(buf, kidsp, np);
	free(buf);
	return (err);
}

/*
 * The children of every thread of pid (a child is on the list of the
 * thread that forked it, an orphan on that of the thread it was handed
 * to), appended to *kidsp (*np of them, room for *capp).  A process gone
 * meanwhile has none; only ENOMEM fails.
 */
int
lx_proc_children(pid_t pid, pid_t **kidsp, size_t *np, size_t *capp)
{
	char path[48];
	struct dirent *de;
	DIR *d;
	int err = 0;

	(void) snprintf(path, sizeof (path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (0);
	while (err == 0 && (de = readdir(d)) != NULL) {
		char *file, *buf;
		pid_t *kids;
		size_t n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (asprintf(&file, "%s/%s/children", path, de->d_name) < 0) {
			err = ENOMEM;
			break;
		}
		int rerr = lx_read_file(AT_FDCWD, file, &buf);
		free(file);
		if (rerr != 0)
			continue;	/* a thread that ended has none left */
		err = lx_parse_pids(buf, &kids, &n);
		free(buf);
		if (err != 0)
			break;
		for (size_t i = 0; err == 0 && i < n; i++)
			err = lx_pids_push(kidsp, np, capp, kids[i]);
		free(kids);
	}
	(void) closedir(d);
	return (err);
}


/*
 * trace.c -- the records of a traced contract: one per process that was
 * ever a member (docs/trace.md).  members.c feeds it from the proc
 * connector (FORK, EXEC, EXIT, and a resynchronisation after the kernel
 * dropped messages); contract.c hands out copies.  Nothing here runs
 * unless a contract asked to be traced.
 *
 * What can be missed, and how a record says so (ct_proc_t.missed):
 *   - argv: read from /proc/<pid>/cmdline when the EXEC is read; a
 *     process gone by then has [comm] from /proc/<pid>/comm (a zombie
 *     keeps its comm, not its cmdline), or nothing once reaped (argv []).
 *     A fork that never execs shares its parent's argv (as the kernel's).
 *   - CPU: the connector's EXIT carries none.  It is read from
 *     /proc/<pid>/stat when the EXIT is read, which works while the
 *     process is a zombie not yet reaped; a parent that reaps first
 *     leaves it unknown (CT_PM_CPU).  Clock ticks: 10 ms resolution.
 *   - times: the connector's own timestamps (CLOCK_MONOTONIC, turned
 *     into the epoch with the offset of the trace's start); a record made
 *     at a resynchronisation has the time it was found (CT_PM_FORK) or
 *     lost (CT_PM_EXIT) as a bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

/* argv of a process: shared by a parent and the forks that never exec. */
typedef struct lx_argv {
	uint32_t refs;
	uint32_t len;
	char s[];
} lx_argv_t;

typedef struct lx_prec {
	pid_t pid, ppid;
	lx_argv_t *argv;	/* NULL: unknown */
	uint64_t start_us, end_us;
	int exitstatus;
	bool exited;
	uint32_t missed;
	uint64_t user_usec, system_usec;
	uint64_t *exec_us;
	uint32_t nexec;
} lx_prec_t;

struct lx_trace {
	lx_prec_t *recs;
	size_t n, cap;
	lx_map_t live;		/* pid -> index + 1 of its running record */
	pid_t hidden;		/* the anchor: not a process of the trace */
	pid_t creator;		/* the anchor's children's ppid */
	int64_t real_off;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	int64_t boot_off;	/* CLOCK_BOOTTIME - CLOCK_MONOTONIC, ns */
	uint64_t lost;
};

#define	ARGV_MAX	(64 * 1024)	/* bytes of cmdline kept */

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	(void) clock_gettime(id, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static uint64_t
real_us(const lx_trace_t *t, uint64_t mono_ns)
{
	if (mono_ns == 0)
		mono_ns = (uint64_t)clock_ns(CLOCK_MONOTONIC);
	return ((uint64_t)((int64_t)mono_ns + t->real_off) / 1000u);
}

static void
argv_put(lx_argv_t *a)
{
	if (a != NULL && --a->refs == 0)
		free(a);
}

static lx_argv_t *
argv_make(const char *s, size_t len)
{
	lx_argv_t *a;

	if (len > UINT32_MAX || (a = malloc(sizeof (*a) + len)) == NULL)
		return (NULL);
	a->refs = 1;
	a->len = (uint32_t)len;
	memcpy(a->s, s, len);
	return (a);
}

/* Up to max bytes of a /proc file; *lenp what was read. */
static int
read_bounded(const char *path, char *buf, size_t max, size_t *lenp)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return (errno);
	while (len < max && ((n = read(fd, buf + len, max - len)) > 0 ||
	    (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	(void) close(fd);
	*lenp = len;
	return (0);
}

/*
 * cmdline text -> NUL-separated words ending in a NUL (cut at the last
 * whole word when it was longer than we keep): the length to keep.
 */
size_t
lx_trace_argv_clean(char *buf, size_t len, bool cut)
{
	if (cut) {
		while (len > 0 && buf[len - 1] != '\0')
			len--;
	} else if (len > 0 && buf[len - 1] != '\0') {
		buf[len++] = '\0';	/* room: callers leave one byte */
	}
	return (len);
}

/* argv of pid now, or [comm] (missed set), or NULL. */
static lx_argv_t *
argv_read(pid_t pid, uint32_t *missedp)
{
	char path[40], *buf = malloc(ARGV_MAX + 1);
	size_t len = 0;
	lx_argv_t *a = NULL;

	if (buf == NULL)
		return (NULL);
	(void) snprintf(path, sizeof (path), "/proc/%d/cmdline", (int)pid);
	if (read_bounded(path, buf, ARGV_MAX, &len) == 0 && len > 0) {
		len = lx_trace_argv_clean(buf, len, len == ARGV_MAX);
		a = argv_make(buf, len);
		*missedp &= ~(uint32_t)CT_PM_ARGV;
	} else {
		/* A zombie has no cmdline but its comm; reaped: nothing. */
		(void) snprintf(path, sizeof (path), "/proc/%d/comm", (int)pid);
		if (read_bounded(path, buf, 64, &len) == 0 && len > 0) {
			if (buf[len - 1] == '\n')
				len--;
			buf[len++] = '\0';
			a = argv_make(buf, len);
		}
		*missedp |= CT_PM_ARGV;
	}
	free(buf);
	return (a);
}

/*
 * /proc/<pid>/stat of a zombie: utime and stime (fields 14, 15) and its
 * start (field 22), in clock ticks.  ESRCH unless it is a zombie.
 */
int
lx_trace_parse_stat(const char *buf, uint64_t *utp, uint64_t *stp,
    uint64_t *startp)
{
	unsigned long long ut, st, start;
	const char *p;

	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] != 'Z')
		return (ESRCH);
	/* state, then fields 4..13 skipped (ten), 14 and 15, 16..21, 22. */
	if (sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu "
	    "%llu %*s %*s %*s %*s %*s %*s %llu", &ut, &st, &start) != 3)
		return (ESRCH);
	*utp = ut;
	*stp = st;
	*startp = start;
	return (0);
}

/*
 * Its CPU, if pid is still our zombie: a zombie that started no later
 * than our process ended (a reused pid starts after it was reaped).
 */
static bool
cpu_read(const lx_trace_t *t, pid_t pid, uint64_t exit_mono,
    uint64_t *up, uint64_t *sp)
{
	char path[40], buf[1024];
	size_t len = 0;
	uint64_t ut, st, start;
	long hz = sysconf(_SC_CLK_TCK);

	(void) snprintf(path, sizeof (path), "/proc/%d/stat", (int)pid);
	if (hz <= 0 || read_bounded(path, buf, sizeof (buf) - 1, &len) != 0)
		return (false);
	buf[len] = '\0';
	if (lx_trace_parse_stat(buf, &ut, &st, &start) != 0)
		return (false);
	if (exit_mono == 0)
		exit_mono = (uint64_t)clock_ns(CLOCK_MONOTONIC);
	if (start / (uint64_t)hz * 1000000000u > (uint64_t)((int64_t)exit_mono +
	    t->boot_off))
		return (false);
	*up = ut * (1000000u / (uint64_t)hz);
	*sp = st * (1000000u / (uint64_t)hz);
	return (true);
}

lx_trace_t *
lx_trace_new(pid_t hidden, pid_t creator)
{
	lx_trace_t *t = calloc(1, sizeof (*t));
	int64_t mono;

	if (t == NULL)
		return (NULL);
	mono = clock_ns(CLOCK_MONOTONIC);
	t->real_off = clock_ns(CLOCK_REALTIME) - mono;
	t->boot_off = clock_ns(CLOCK_BOOTTIME) - mono;
	t->hidden = hidden;
	t->creator = creator;
	return (t);
}

void
lx_trace_free(lx_trace_t *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		argv_put(t->recs[i].argv);
		free(t->recs[i].exec_us);
	}
	free(t->recs);
	lx_map_fini(&t->live);
	free(t);
}

static lx_prec_t *
live_get(const lx_trace_t *t, pid_t pid)
{
	uintptr_t i = (uintptr_t)lx_map_get(&t->live, pid);

	return (i == 0 ? NULL : &t->recs[i - 1]);
}

/* A new running record for pid (a reused pid ends the old one). */
static lx_prec_t *
rec_new(lx_trace_t *t, pid_t pid, pid_t ppid, uint64_t mono_ns)
{
	lx_prec_t *r;

	if (t->n == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap * 2;
		lx_prec_t *nr = realloc(t->recs, cap * sizeof (*nr));
		if (nr == NULL)
			return (NULL);
		t->recs = nr;
		t->cap = cap;
	}
	if ((r = live_get(t, pid)) != NULL) {
		r->end_us = real_us(t, mono_ns);
		r->missed |= CT_PM_EXIT | CT_PM_CPU;
	}
	if (lx_map_put(&t->live, pid, (void *)(uintptr_t)(t->n + 1)) != 0)
		return (NULL);
	r = &t->recs[t->n++];
	memset(r, 0, sizeof (*r));
	r->pid = pid;
	r->ppid = ppid == t->hidden && t->hidden != 0 ? t->creator : ppid;
	r->start_us = real_us(t, mono_ns);
	return (r);
}

int
lx_trace_fork(lx_trace_t *t, pid_t ppid, pid_t pid, uint64_t mono_ns)
{
	lx_prec_t *p, *r;

	if (pid == t->hidden && t->hidden != 0)
		return (0);
	if ((r = rec_new(t, pid, ppid, mono_ns)) == NULL) {
		t->lost++;
		return (ENOMEM);
	}
	/* A fork runs its parent's program until it execs. */
	if ((p = live_get(t, ppid)) != NULL && p->argv != NULL) {
		r->argv = p->argv;
		r->argv->refs++;
		r->missed = p->missed & CT_PM_ARGV;
	} else {
		r->argv = argv_read(pid, &r->missed);
	}
	return (0);
}

void
lx_trace_exec(lx_trace_t *t, pid_t pid, uint64_t mono_ns)
{
	lx_prec_t *r = live_get(t, pid);
	uint64_t *e;

	if (r == NULL)
		return;
	argv_put(r->argv);
	r->argv = argv_read(pid, &r->missed);
	if ((e = realloc(r->exec_us, (r->nexec + 1) * sizeof (*e))) != NULL) {
		r->exec_us = e;
		e[r->nexec++] = real_us(t, mono_ns);
		/* The first member's record starts at commit: it ran before. */
		if (e[r->nexec - 1] < r->start_us)
			r->start_us = e[r->nexec - 1];
	}
}

void
lx_trace_exit(lx_trace_t *t, pid_t pid, int status, uint64_t mono_ns)
{
	lx_prec_t *r = live_get(t, pid);

	if (r == NULL)
		return;
	r->end_us = real_us(t, mono_ns);
	r->exited = true;
	r->exitstatus = status;
	if (!cpu_read(t, pid, mono_ns, &r->user_usec, &r->system_usec))
		r->missed |= CT_PM_CPU;
	(void) lx_map_del(&t->live, pid);
}

/*
 * The kernel dropped messages: members now are pids[0..n).  A running
 * record not among them lost its EXIT; a member without one its FORK.
 */
void
lx_trace_resync(lx_trace_t *t, const pid_t *pids, size_t n)
{
	lx_map_t now = { 0 };
	size_t i = 0;
	int32_t pid;
	void *v;

	t->lost++;
	for (size_t k = 0; k < n; k++)
		(void) lx_map_put(&now, pids[k], (void *)1);
	while (lx_map_next(&t->live, &i, &pid, &v)) {
		if (lx_map_get(&now, pid) == NULL) {
			lx_prec_t *r = &t->recs[(uintptr_t)v - 1];
			r->end_us = real_us(t, 0);
			r->missed |= CT_PM_EXIT | CT_PM_CPU;
			(void) lx_map_del(&t->live, pid);
			i = 0;	/* the table may have been rebuilt */
		}
	}
	for (size_t k = 0; k < n; k++) {
		if (live_get(t, pids[k]) != NULL || pids[k] == t->hidden)
			continue;
		/* Its parent is what /proc says, if it can still be read. */
		lx_prec_t *r = rec_new(t, pids[k], 0, 0);
		if (r != NULL) {
			r->missed |= CT_PM_FORK;
			r->argv = argv_read(pids[k], &r->missed);
		}
	}
	lx_map_fini(&now);
}

int
lx_trace_copy(const lx_trace_t *t, ct_trace_t *out)
{
	memset(out, 0, sizeof (*out));
	out->lost = t->lost;
	if (t->n == 0)
		return (0);
	if ((out->procs = calloc(t->n, sizeof (*out->procs))) == NULL)
		return (ENOMEM);
	out->nprocs = t->n;
	for (size_t i = 0; i < t->n; i++) {
		const lx_prec_t *r = &t->recs[i];
		ct_proc_t *p = &out->procs[i];
		p->pid = r->pid;
		p->ppid = r->ppid;
		p->start_us = r->start_us;
		p->end_us = r->end_us;
		p->exited = r->exited;
		p->exitstatus = r->exitstatus;
		p->user_usec = r->user_usec;
		p->system_usec = r->system_usec;
		p->missed = r->missed | (r->argv == NULL ? CT_PM_ARGV : 0);
		if (r->argv != NULL && r->argv->len > 0) {
			if ((p->argv = malloc(r->argv->len)) == NULL)
				goto nomem;
			memcpy(p->argv, r->argv->s, r->argv->len);
			p->argvlen = r->argv->len;
		}
		if (r->nexec > 0) {
			p->exec_us = malloc(r->nexec * sizeof (*p->exec_us));
			if (p->exec_us == NULL)
				goto nomem;
			memcpy(p->exec_us, r->exec_us,
			    r->nexec * sizeof (*p->exec_us));
			p->nexec = r->nexec;
		}
	}
	return (0);
nomem:
	ct_trace_fini(out);
	return (ENOMEM);
}

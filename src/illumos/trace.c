/*
 * trace.c -- traces on illumos (docs/trace.md, "illumos"): one record per
 * process that was ever a member of a traced contract, from the
 * contract's own events.  A contract made while its thread is armed
 * (ct_trace_arm) has pr_fork and pr_exit in its informative set (tmpl.c
 * adds what the user's terms leave out, hidden from them as our pr_empty
 * is); events.c hands every one of them here before the user's queue.
 *
 *   pr_fork (pid, ppid): /proc/<pid>/usage gives the process's creation
 *     time (pr_create, hrtime, turned into the epoch with the file's own
 *     pr_tstamp), which also tells it from a later process with its pid;
 *     /proc/<pid>/psinfo its arguments (pr_psargs), if it is still in
 *     this contract.
 *   pr_exit (pid, wait status): usage of the zombie, readable until it is
 *     reaped (fs/proc/prvnops.c, pr_read_usage; the status file refuses
 *     zombies): user CPU pr_utime, system pr_stime + pr_ttime (as
 *     ptime(1) counts it), the end pr_term (exit.c sets p_mterm before
 *     contract_exit publishes pr_exit).  Microstate accounting: ns.
 *
 * What can be missed, and how a record says so (ct_proc_t.missed):
 *   - argv: psinfo keeps the first 80 bytes of the arguments, joined by
 *     spaces, and is split at spaces.  There is no exec event: psinfo is
 *     read when the pr_fork is read, again when the process forks, and
 *     when the trace is copied while it runs.  A process that exec'd and
 *     exited between those reads shows the arguments it had before; one
 *     that was a zombie or reaped when its pr_fork was read has none (a
 *     zombie's psinfo is zeroed): CT_PM_ARGV.
 *   - CPU: a process reaped before its pr_exit is read: CT_PM_CPU, and
 *     its end time is when the pr_exit was read (an upper bound).
 *   - start: a process reaped before its pr_fork is read starts when that
 *     was read (CT_PM_ARGV | CT_PM_CPU say so).
 *   - exec times: none.  Nothing is lost: the kernel queues every event.
 */
#include "il.h"

#include <errno.h>
#include <fcntl.h>
#include <procfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct prec {
	pid_t pid, ppid;
	uint32_t hnext;		/* live hash chain: index + 1, 0 ends */
	uint32_t argvlen;
	char argv[PRARGSZ + 1];	/* NUL-separated words */
	int64_t create_ns;	/* usage's pr_create; 0: never read */
	uint64_t start_us, end_us;
	bool exited;
	int exitstatus;
	uint32_t missed;
	uint64_t user_usec, system_usec;
} prec_t;

#define	TR_BUCKETS	1024	/* live records by pid */

struct il_trace {
	ct_id_t ctid;
	prec_t *recs;
	size_t n, cap;
	uint64_t lost;		/* pr_forks without a record (ENOMEM) */
	uint32_t live[TR_BUCKETS];	/* index + 1 of a chain's first */
};

static int64_t
ts_ns(const timestruc_t *ts)
{
	return ((int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec);
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

/* One /proc/<pid>/<file> into buf; ESRCH if it cannot be had. */
static int
proc_read(pid_t pid, const char *file, void *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	(void) snprintf(path, sizeof (path), "/proc/%d/%s", (int)pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (ESRCH);
	n = pread(fd, buf, size, 0);
	(void) close(fd);
	return (n == (ssize_t)size ? 0 : ESRCH);
}

/* usage of pid, and the epoch (µs) of its hrtime h: *offp = epoch - h. */
static int
usage_read(pid_t pid, prusage_t *u, int64_t *offp)
{
	int err = proc_read(pid, "usage", u, sizeof (*u));

	/* pr_tstamp was taken at the read: now, to a few µs. */
	if (err == 0)
		*offp = (int64_t)now_us() * 1000 - ts_ns(&u->pr_tstamp);
	return (err);
}

static uint64_t
epoch_us(int64_t hr_ns, int64_t off)
{
	return ((uint64_t)((hr_ns + off) / 1000));
}

/* psargs "a b  c" -> "a\0b\0c\0" (bounded by PRARGSZ). */
static void
argv_set(prec_t *r, const char *s)
{
	size_t n = 0;

	for (size_t i = 0; i < PRARGSZ && s[i] != '\0'; ) {
		size_t j = i;

		while (j < PRARGSZ && s[j] != '\0' && s[j] != ' ')
			j++;
		if (j > i) {
			(void) memcpy(r->argv + n, s + i, j - i);
			n += j - i;
			r->argv[n++] = '\0';
		}
		i = j < PRARGSZ && s[j] == ' ' ? j + 1 : j;
	}
	r->argvlen = (uint32_t)n;
}

/*
 * The arguments of r's process, if it still runs in this contract: a
 * zombie's psinfo is zeroed and says no contract, and a pid reused since
 * by a process of another contract says that one.
 */
static bool
argv_read(const il_trace_t *t, prec_t *r)
{
	psinfo_t ps;

	if (proc_read(r->pid, "psinfo", &ps, sizeof (ps)) != 0 ||
	    ps.pr_contract != (id_t)t->ctid || ps.pr_lwp.pr_sname == 'Z')
		return (false);
	ps.pr_psargs[PRARGSZ - 1] = '\0';
	argv_set(r, ps.pr_psargs);
	r->missed &= ~(uint32_t)CT_PM_ARGV;
	return (true);
}

il_trace_t *
il_trace_new(ct_id_t ctid)
{
	il_trace_t *t = calloc(1, sizeof (*t));

	if (t != NULL)
		t->ctid = ctid;
	return (t);
}

void
il_trace_free(il_trace_t *t)
{
	if (t == NULL)
		return;
	free(t->recs);
	free(t);
}

static prec_t *
live_get(il_trace_t *t, pid_t pid, uint32_t **linkp)
{
	uint32_t *l = &t->live[(uint32_t)pid % TR_BUCKETS];

	while (*l != 0 && t->recs[*l - 1].pid != pid)
		l = &t->recs[*l - 1].hnext;
	if (linkp != NULL)
		*linkp = l;
	return (*l == 0 ? NULL : &t->recs[*l - 1]);
}

static void
live_del(il_trace_t *t, pid_t pid)
{
	uint32_t *l;
	prec_t *r = live_get(t, pid, &l);

	if (r != NULL) {
		*l = r->hnext;
		r->hnext = 0;
	}
}

/* pr_fork: a new running record (a pid still running here is reused). */
static int
trace_fork(il_trace_t *t, pid_t pid, pid_t ppid)
{
	prusage_t u;
	int64_t off;
	prec_t *r, *p;

	if (t->n == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap * 2;
		prec_t *nr;

		if (cap > UINT32_MAX ||
		    (nr = realloc(t->recs, cap * sizeof (*nr))) == NULL)
			return (ENOMEM);
		t->recs = nr;
		t->cap = cap;
	}
	if ((r = live_get(t, pid, NULL)) != NULL) {
		r->end_us = now_us();
		r->missed |= CT_PM_EXIT | CT_PM_CPU;
		live_del(t, pid);
	}
	r = &t->recs[t->n++];
	(void) memset(r, 0, sizeof (*r));
	r->pid = pid;
	r->ppid = ppid;
	r->missed = CT_PM_ARGV;
	if (usage_read(pid, &u, &off) == 0) {
		r->create_ns = ts_ns(&u.pr_create);
		r->start_us = epoch_us(r->create_ns, off);
	} else {
		r->start_us = now_us();	/* reaped already: a bound */
	}
	(void) argv_read(t, r);
	/* Its parent, if it runs here, may have exec'd since it was read. */
	if ((p = live_get(t, ppid, NULL)) != NULL)
		(void) argv_read(t, p);
	r->hnext = t->live[(uint32_t)pid % TR_BUCKETS];
	t->live[(uint32_t)pid % TR_BUCKETS] = (uint32_t)t->n;
	return (0);
}

/* pr_exit: the end, the status, and the CPU while the zombie is there. */
static void
trace_exit(il_trace_t *t, pid_t pid, int status)
{
	prec_t *r = live_get(t, pid, NULL);
	prusage_t u;
	int64_t off;

	if (r == NULL)
		return;
	r->exited = true;
	r->exitstatus = status;
	if (r->create_ns != 0 && usage_read(pid, &u, &off) == 0 &&
	    ts_ns(&u.pr_create) == r->create_ns && ts_ns(&u.pr_term) != 0) {
		r->end_us = epoch_us(ts_ns(&u.pr_term), off);
		r->user_usec = (uint64_t)ts_ns(&u.pr_utime) / 1000u;
		r->system_usec = (uint64_t)(ts_ns(&u.pr_stime) +
		    ts_ns(&u.pr_ttime)) / 1000u;
	} else {
		r->end_us = now_us();	/* reaped: a bound */
		r->missed |= CT_PM_CPU;
	}
	if (r->end_us < r->start_us)
		r->end_us = r->start_us;
	live_del(t, pid);
}

void
il_trace_event(il_trace_t *t, ct_evthdl_t ev)
{
	pid_t pid, ppid;
	int status;

	switch (ct_event_get_type(ev)) {
	case CT_PR_EV_FORK:
		if (ct_pr_event_get_pid(ev, &pid) == 0 &&
		    ct_pr_event_get_ppid(ev, &ppid) == 0 &&
		    trace_fork(t, pid, ppid) != 0)
			t->lost++;
		break;
	case CT_PR_EV_EXIT:
		if (ct_pr_event_get_pid(ev, &pid) == 0 &&
		    ct_pr_event_get_exitstatus(ev, &status) == 0)
			trace_exit(t, pid, status);
		break;
	}
}

static int
trace_copy(il_trace_t *t, ct_trace_t *out)
{
	out->lost = t->lost;
	if (t->n == 0)
		return (0);
	if ((out->procs = calloc(t->n, sizeof (*out->procs))) == NULL)
		return (ENOMEM);
	out->nprocs = t->n;
	for (size_t i = 0; i < t->n; i++) {
		prec_t *r = &t->recs[i];
		ct_proc_t *p = &out->procs[i];

		if (!r->exited && r->end_us == 0)
			(void) argv_read(t, r);	/* it may have exec'd */
		p->pid = r->pid;
		p->ppid = r->ppid;
		p->start_us = r->start_us;
		p->end_us = r->end_us;
		p->exited = r->exited;
		p->exitstatus = r->exitstatus;
		p->user_usec = r->user_usec;
		p->system_usec = r->system_usec;
		p->missed = r->missed;
		if (r->argvlen > 0) {
			if ((p->argv = malloc(r->argvlen)) == NULL) {
				ct_trace_fini(out);
				return (ENOMEM);
			}
			(void) memcpy(p->argv, r->argv, r->argvlen);
			p->argvlen = r->argvlen;
		}
	}
	return (0);
}

int
ct_trace_arm(bool on)
{
	return (il_tmpl_trace(on));
}

int
ct_contract_trace(ct_contract_t *c, ct_trace_t *t)
{
	watch_t *w = c->w;
	int err;

	(void) memset(t, 0, sizeof (*t));
	il_lock();
	if (w->trace == NULL) {
		il_unlock();
		return (ct_err_set(ENOENT, "ct_trace", "contract %d is not "
		    "traced: ask with trace: true when spawning it",
		    (int)c->ctid));
	}
	/* What the kernel has queued so far. */
	if (w->owned)
		(void) il_pbundle_drain(w->type);
	if (w->ev.fd >= 0)
		(void) il_ep_drain(&w->ev);
	ct_err_clear();
	err = trace_copy(w->trace, t);
	il_unlock();
	if (err != 0)
		return (ct_err_set(err, NULL, "out of memory"));
	return (0);
}

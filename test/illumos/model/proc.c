/*
 * proc.c -- the model's /proc/<pid>/psinfo and /proc/<pid>/usage, for the
 * model's processes (the members that model_fork and model_member_fork
 * make), written from illumos's usr/src/uts/common/fs/proc: prgetpsinfo
 * (prsubr.c) and pr_read_usage (prvnops.c).  Kept:
 *
 *   - a fork copies its parent's arguments and command name (u_psargs,
 *     u_comm); an exec (model_exec) replaces them;
 *   - exit (exit.c: term_mstate, p_mterm, then contract_exit) makes a
 *     zombie whose usage has its final CPU and termination time before
 *     the contract hears of the exit; a zombie's psinfo is zeroed but for
 *     its ids, CPU sum and wait status (no lwp: prchoose gives NULL), and
 *     says no contract (process.c:936 clears p_ct_process);
 *   - both files stay readable until the zombie is reaped (model_reap),
 *     then ENOENT, also on a descriptor opened before;
 *   - hrtime is CLOCK_MONOTONIC.
 *
 * Not kept: lwps, credentials (both files are world-readable anyway),
 * zones, the status file (it refuses zombies, ZNO, and nobody reads it).
 * A pid forked again while its zombie is still there is taken as reaped
 * first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <procfs.h>

#include "mint.h"

typedef struct mproc {
	struct mproc *next;
	pid_t pid, ppid;
	ctid_t ctid;
	bool zombie;
	int wstat;
	struct timespec start;		/* realtime */
	int64_t create_ns, term_ns;	/* hrtime */
	int64_t user_ns, sys_ns, trap_ns;
	char fname[PRFNSZ];
	char psargs[PRARGSZ];
} mproc_t;

static mproc_t *procs;

static int64_t
hrtime(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static timestruc_t
ts_of(int64_t ns)
{
	timestruc_t ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };

	return (ts);
}

static mproc_t **
p_slot(pid_t pid)
{
	mproc_t **pp = &procs;

	while (*pp != NULL && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return (pp);
}

void
p_reset(void)
{
	mproc_t *p;

	while ((p = procs) != NULL) {
		procs = p->next;
		free(p);
	}
}

void
p_fork(pid_t ppid, pid_t pid, ctid_t ctid)
{
	mproc_t *p, *parent = *p_slot(ppid);

	(void) model_reap(pid);
	if ((p = calloc(1, sizeof (*p))) == NULL)
		abort();
	p->pid = pid;
	p->ppid = ppid;
	p->ctid = ctid;
	(void) clock_gettime(CLOCK_REALTIME, &p->start);
	p->create_ns = hrtime();
	if (parent != NULL) {
		(void) memcpy(p->fname, parent->fname, sizeof (p->fname));
		(void) memcpy(p->psargs, parent->psargs, sizeof (p->psargs));
	} else {	/* us */
		(void) strcpy(p->fname, "test_backend");
		(void) strcpy(p->psargs, "test_backend");
	}
	p->next = procs;
	procs = p;
}

void
p_exit(pid_t pid, int status)
{
	mproc_t *p = *p_slot(pid);

	if (p == NULL || p->zombie)
		return;
	p->term_ns = hrtime();
	p->zombie = true;
	p->wstat = status;
}

int
model_exec(pid_t pid, const char *psargs)
{
	mproc_t *p = *p_slot(pid);
	size_t n = strcspn(psargs, " ");
	const char *base = psargs;

	if (p == NULL || p->zombie)
		return (ESRCH);
	for (size_t i = 0; i < n; i++)
		if (psargs[i] == '/')
			base = psargs + i + 1;
	n -= (size_t)(base - psargs);
	(void) memset(p->fname, 0, sizeof (p->fname));
	(void) memcpy(p->fname, base, n < PRFNSZ - 1 ? n : PRFNSZ - 1);
	/* u_psargs: the first PSARGSZ bytes; psinfo shows PRARGSZ - 1. */
	(void) memset(p->psargs, 0, sizeof (p->psargs));
	(void) strncpy(p->psargs, psargs, PRARGSZ - 1);
	return (0);
}

int
model_cpu(pid_t pid, uint64_t user_ns, uint64_t sys_ns, uint64_t trap_ns)
{
	mproc_t *p = *p_slot(pid);

	if (p == NULL || p->zombie)
		return (ESRCH);
	p->user_ns = (int64_t)user_ns;
	p->sys_ns = (int64_t)sys_ns;
	p->trap_ns = (int64_t)trap_ns;
	return (0);
}

int
model_reap(pid_t pid)
{
	mproc_t **pp = p_slot(pid), *p = *pp;

	if (p == NULL)
		return (ESRCH);
	*pp = p->next;
	free(p);
	return (0);
}

/* The contents of /proc/<pid>/<file> now (PROC_PSINFO, PROC_USAGE). */
int
p_read(pid_t pid, int file, void *buf, size_t *lenp)
{
	const mproc_t *p = *p_slot(pid);

	if (p == NULL)
		return (ENOENT);
	if (file == PROC_PSINFO) {
		psinfo_t *ps = buf;

		(void) memset(ps, 0, sizeof (*ps));
		ps->pr_pid = p->pid;
		ps->pr_ppid = p->ppid;
		ps->pr_time = ts_of(p->user_ns + p->sys_ns);
		ps->pr_contract = p->zombie ? -1 : p->ctid;
		ps->pr_nlwp = p->zombie ? 0 : 1;
		if (p->zombie) {
			ps->pr_wstat = p->wstat;
			ps->pr_lwp.pr_state = 3;	/* SZOMB */
			ps->pr_lwp.pr_sname = 'Z';
		} else {
			ps->pr_start = p->start;
			(void) memcpy(ps->pr_fname, p->fname,
			    sizeof (ps->pr_fname));
			(void) memcpy(ps->pr_psargs, p->psargs,
			    sizeof (ps->pr_psargs));
			ps->pr_lwp.pr_state = 1;	/* SSLEEP */
			ps->pr_lwp.pr_sname = 'S';
		}
		*lenp = sizeof (*ps);
		return (0);
	}
	if (file == PROC_USAGE) {
		prusage_t *u = buf;
		int64_t now = hrtime();

		(void) memset(u, 0, sizeof (*u));
		u->pr_count = 1;	/* the lwp, live or defunct */
		u->pr_tstamp = ts_of(now);
		u->pr_create = ts_of(p->create_ns);
		u->pr_term = ts_of(p->zombie ? p->term_ns : 0);
		u->pr_rtime = ts_of((p->zombie ? p->term_ns : now) -
		    p->create_ns);
		u->pr_utime = ts_of(p->user_ns);
		u->pr_stime = ts_of(p->sys_ns);
		u->pr_ttime = ts_of(p->trap_ns);
		*lenp = sizeof (*u);
		return (0);
	}
	return (EINVAL);
}

/* /proc/<pid>/<file> -> pid and file; false for anything else. */
bool
p_parse(const char *path, pid_t *pidp, int *filep)
{
	const char *p = path + strlen("/proc/");
	char *end;
	long pid;

	if (strncmp(path, "/proc/", strlen("/proc/")) != 0 ||
	    *p < '0' || *p > '9')
		return (false);
	pid = strtol(p, &end, 10);
	if (*end != '/')
		return (false);
	*pidp = (pid_t)pid;
	if (strcmp(end + 1, "psinfo") == 0)
		*filep = PROC_PSINFO;
	else if (strcmp(end + 1, "usage") == 0)
		*filep = PROC_USAGE;
	else
		*filep = 0;
	return (true);
}

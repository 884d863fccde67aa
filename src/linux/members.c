/*
 * members.c -- the member table (which watch each known pid belongs to)
 * and member events from the proc connector: pr_fork, pr_exit,
 * pr_core, pr_signal, and the fatal sets (docs/ARCHITECTURE.md,
 * "Fatal events").  A process is a
 * member when the mechanism listed it as one when its watch began, or
 * when its parent was a member at its FORK; it stops being one at its
 * EXIT.  When the kernel drops messages, every contract's members are
 * listed anew and the loss is reported (pr_lost), never hidden.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lx.h"
#include "watch.h"

/* ---- the member table: pid -> its watch ---- */

static lx_map_t by_pid;		/* pid -> lx_member_t */

lx_member_t *
lx_member_get(pid_t pid)
{
	return (lx_map_get(&by_pid, pid));
}

void
lx_member_add(lx_watch_t *w, pid_t pid, bool hidden)
{
	lx_member_t *m = lx_map_get(&by_pid, pid);

	if (m != NULL) {
		if (m->w == w)
			return;
		if (!m->hidden)
			m->w->npids--;	/* a reused pid: the old one is gone */
		else
			m->w->nhidden--;
		free(m->corefile);
		m->corefile = NULL;
	} else if ((m = calloc(1, sizeof (*m))) == NULL ||
	    lx_map_put(&by_pid, pid, m) != 0) {
		free(m);
		return;
	}
	m->w = w;
	m->core = false;
	/* pgrponly: its group, in case it is reaped before we look again. */
	m->pgid = (w->terms.params & NC_PR_PGRPONLY) ? getpgid(pid) : 0;
	m->hidden = hidden;
	if (!hidden)
		w->npids++;
	else
		w->nhidden++;	/* the anchor: its EXIT is not waited for */
}

static void
member_drop(pid_t pid)
{
	lx_member_t *m = lx_map_del(&by_pid, pid);

	if (m != NULL) {
		if (!m->hidden)
			m->w->npids--;
		else
			m->w->nhidden--;
		free(m->corefile);
		free(m);
	}
}

void
lx_member_exited(pid_t pid)
{
	lx_member_t *m = lx_map_get(&by_pid, pid);
	lx_watch_t *w;

	if (m == NULL)
		return;
	w = m->w;
	if (!m->hidden)
		w->last_exit = pid;
	member_drop(pid);
	lx_watch_exit_seen(w);
}

size_t
lx_member_drop_all(lx_watch_t *w)
{
	size_t i = 0, gone = 0;
	int32_t pid;
	void *v;

	while (w->npids + w->nhidden > 0 &&
	    lx_map_next(&by_pid, &i, &pid, &v)) {
		if (((lx_member_t *)v)->w == w) {
			gone += !((lx_member_t *)v)->hidden;
			member_drop(pid);
			i = 0;	/* the table may have been rebuilt */
		}
	}
	return (gone);
}

size_t
lx_member_count(const lx_watch_t *w)
{
	return (w->npids);
}

typedef struct culprit {
	pid_t pid, pgid;
} culprit_t;

/* pgrponly: the culprit's group, less the culprit (it is dying). */
static bool
in_group(pid_t pid, void *arg)
{
	const culprit_t *c = arg;

	return (pid != c->pid && getpgid(pid) == c->pgid);
}

/* Kill the members for a fatal event (pgrponly: the culprit's group). */
static void
fatal_kill(lx_watch_t *w, pid_t culprit, pid_t pgid)
{
	int dirfd = lx_watch_dirfd(w);
	culprit_t c = { culprit, pgid };
	lx_sig_result_t r;

	if (!(lx_watch_terms(w)->params & NC_PR_PGRPONLY)) {
		(void) lx_ms()->kill(dirfd);
		return;
	}
	if (pgid > 0)
		(void) lx_sigsend(lx_ms(), dirfd, SIGKILL, 0, in_group, &c, &r);
}

static void
on_fork(pid_t ppid, pid_t pid)
{
	lx_member_t *m = lx_member_get(ppid);
	ct_evrec_t *ev;

	if (m == NULL)
		return;		/* not one of ours */
	lx_watch_t *w = m->w;
	lx_member_add(w, pid, false);
	if (lx_watch_trace(w) != NULL)
		(void) lx_trace_fork(lx_watch_trace(w), ppid, pid,
		    lx_cn_event_ns());
	if ((ev = lx_watch_publish(w, NC_PR_EV_FORK, pid)) != NULL) {
		/*
		 * The anchor is never a visible pid: the program it forked is
		 * presented as our own child (we started the anchor).
		 */
		ev->ppid = m->hidden ? getpid() : ppid;
		ev->have |= CT_EVP_PPID;
	}
}

static void
on_coredump(pid_t pid)
{
	lx_member_t *m = lx_member_get(pid);

	if (m != NULL && !m->core) {
		m->core = true;
		m->corefile = lx_core_path(pid);
		/* Its group now, if it can still be asked (a fast reaper). */
		pid_t pgid = getpgid(pid);
		if (pgid > 0)
			m->pgid = pgid;
	}
}

/* Who sent sig: us, when we were signalling that contract with it. */
static void
sender(lx_watch_t *w, ct_evrec_t *ev, int sig)
{
	ct_id_t own;

	if (lx_watch_sent(w) != sig)
		return;
	ev->sender = getpid();
	ev->have |= CT_EVP_SENDER;
	if (lx_root_own_ctid(&own) == 0) {
		ev->sender_ctid = own;
		ev->have |= CT_EVP_SENDCT;
	}
}

/* A member died of a signal: pr_core or pr_signal, and the fatal set. */
static void
on_signalled(lx_member_t *m, pid_t pid, int status)
{
	lx_watch_t *w = m->w;
	const lx_terms_t *t = lx_watch_terms(w);
	int sig = WTERMSIG(status);
	uint32_t type = m->core ? NC_PR_EV_CORE : NC_PR_EV_SIGNAL;
	ct_evrec_t *ev;

	/* Our own fatal kills are internal: no pr_signal for them. */
	if (lx_watch_fatal_killed(w) && sig == SIGKILL && !m->core)
		return;
	pid_t pgid = (t->params & NC_PR_PGRPONLY) ? getpgid(pid) : 0;
	if (pgid <= 0)
		pgid = m->pgid;
	if ((ev = lx_watch_publish(w, type, pid)) != NULL) {
		ev->signal = sig;
		ev->have |= CT_EVP_SIGNAL;
		if (m->core && WCOREDUMP(status)) {
			ev->pcorefile = lx_core_finish(m->corefile, sig);
			m->corefile = NULL;
		}
		if (!m->core)
			sender(w, ev, sig);
	}
	if (lx_watch_held(w) && (t->fatal & type) &&
	    !lx_watch_fatal_killed(w)) {
		lx_watch_set_fatal_killed(w);
		fatal_kill(w, pid, pgid);
	}
}

static void
on_exit_(pid_t pid, int status)
{
	lx_member_t *m = lx_member_get(pid);
	ct_evrec_t *ev;

	if (m == NULL)
		return;
	lx_watch_t *w = m->w;
	if (m->hidden) {
		lx_member_exited(pid);	/* the anchor: the end is near */
		return;
	}
	if (lx_watch_trace(w) != NULL)
		lx_trace_exit(lx_watch_trace(w), pid, status, lx_cn_event_ns());
	if (WIFSIGNALED(status))
		on_signalled(m, pid, status);
	if ((ev = lx_watch_publish(w, NC_PR_EV_EXIT, pid)) != NULL) {
		ev->exitstatus = status;
		ev->have |= CT_EVP_EXITSTATUS;
	}
	lx_member_exited(pid);
}

/* Lost messages: list one contract's members anew. */
static void
resync_one(lx_watch_t *w, void *arg)
{
	pid_t *pids = NULL;
	size_t n = 0, before = lx_member_count(w), after;
	int err;

	(void) arg;
	if (lx_watch_terms(w)->type != CT_TYPE_PROCESS)
		return;
	err = lx_ms()->members(lx_watch_dirfd(w), &pids, &n);
	/*
	 * Forget its members, then add the live ones: none if its directory
	 * is gone.  Cannot tell (EMFILE...): keep them; the grace period of
	 * the empty check settles it.
	 */
	if (err == 0 || err == ENOENT || err == ENODEV) {
		(void) lx_member_drop_all(w);
		for (size_t k = 0; err == 0 && k < n; k++)
			lx_member_add(w, pids[k], false);
		if (lx_watch_trace(w) != NULL)
			lx_trace_resync(lx_watch_trace(w), pids, err == 0 ? n : 0);
		free(pids);
	}
	after = lx_member_count(w);
	ct_evrec_t *ev = lx_watch_notify(w, NC_EVX_LOST);
	if (ev != NULL) {
		ev->have = CT_EVP_LOST;
		ev->lost_exits = before > after ? before - after : 0;
		ev->lost_forks = after > before ? after - before : 0;
	}
	lx_watch_add_lost(w, 1);
	lx_watch_recheck(w);
}

/* Only while a trace asked for EXEC events (lx_cn_exec). */
static void
on_exec(pid_t pid)
{
	lx_member_t *m = lx_member_get(pid);

	if (m != NULL && !m->hidden && lx_watch_trace(m->w) != NULL)
		lx_trace_exec(lx_watch_trace(m->w), pid, lx_cn_event_ns());
}

static void
on_lost(void)
{
	lx_watch_each(resync_one, NULL, true);
}

static const lx_cn_sink_t sink = {
	.fork = on_fork,
	.exit = on_exit_,
	.coredump = on_coredump,
	.lost = on_lost,
	.exec = on_exec,
};

int
lx_members_listen(void)
{
	return (lx_cn_open(&sink));
}

/*
 * tmpl.c -- templates, latest, creation and spawn for the illumos
 * backend (see il.h).
 *
 * Templates are per thread, as in the kernel: a thread keeps one template
 * fd per type, so activating a process template leaves its device
 * template alone.
 *
 * pr_empty.  The kernel sends pr_empty only when the contract's critical
 * or informative set has it, and the layers above need to know when a
 * contract empties whatever the user's terms say (ct.h: NC_EVF_INTERNAL).
 * So a process template that leaves pr_empty out of both sets gets it in
 * its informative set, and the contracts it makes carry a note that the
 * event is ours: the queue marks it internal, and the core hides it.
 *
 * Traces, the same way: while a thread is armed (ct_trace_arm), its
 * process templates get pr_fork and pr_exit where the terms leave them
 * out, and those events feed the contract's trace (trace.c) without
 * reaching the user's queue.
 */
#include "il.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Per thread: its templates, the events of the active process template
 * that are ours (pr_empty; a trace's pr_fork and pr_exit), and whether it
 * traces; whether this thread is armed (ct_trace_arm).
 */
static _Thread_local int tl_tmpl_fd[CT_TYPE_COUNT] = { -1, -1 };
static _Thread_local uint32_t tl_hidden;
static _Thread_local bool tl_traced, tl_armed;
/* The contract the last spawn made, and the same of its template. */
static _Thread_local ct_id_t tl_spawned;
static _Thread_local uint32_t tl_spawned_hidden;
static _Thread_local bool tl_spawned_trace;
/* The latest before the current spawn (-1: unknown), for ct_spawn_abort. */
static _Thread_local ct_id_t tl_before = -1;
/* The active process template's transfer term (0: none). */
static _Thread_local ct_id_t tl_transfer;
/*
 * The final terms of the last templates activated here, the events of
 * each that were ours, and whether it traced: a contract is matched to
 * the template that made it by its terms, not to whichever template is
 * active when it is opened.
 */
#define	TL_MADE	8
typedef struct {
	uint32_t critical, informative, fatal, params;
	uint64_t cookie;
	uint32_t hidden;
	bool trace, used;
} made_t;
static _Thread_local made_t tl_made[TL_MADE];
static _Thread_local unsigned tl_nmade;

static int
term_err(int err, const char *call, const char *term)
{
	if (err == 0)
		return (0);
	/* process.c:322-323: the one term an ordinary user is refused. */
	if (err == EPERM && strcmp(call, "ct_tmpl_set_critical") == 0)
		return (ct_err_set(err, call, "cannot set template term %s: "
		    "critical events beyond pr_empty and the fatal set need "
		    "the contract_event privilege", term));
	return (ct_err_set(err, call, "cannot set template term %s", term));
}

/*
 * Set the fatal set.  When the critical set holds events that are neither
 * pr_empty nor fatal, the kernel moves those to the informative set for an
 * unprivileged caller (docs/ARCHITECTURE.md, "Term order and privilege"); but
 * an operator-precedence slip makes it move every critical event, pr_empty
 * too.  Undo that slip.
 */
static int
tmpl_set_fatal(int fd, const ct_template_t *t)
{
	uint_t crit0, info0, crit1, keep;
	bool pgrp = (t->given & CT_T_PARAM) && (t->params & CT_PR_PGRPONLY);
	int err;

	if ((err = ct_tmpl_get_critical(fd, &crit0)) != 0)
		return (term_err(err, "ct_tmpl_get_critical", "fatal"));
	if ((err = ct_tmpl_get_informative(fd, &info0)) != 0)
		return (term_err(err, "ct_tmpl_get_informative", "fatal"));
	if ((err = ct_pr_tmpl_set_fatal(fd, t->fatal)) != 0)
		return (term_err(err, "ct_pr_tmpl_set_fatal", "fatal"));
	if ((err = ct_tmpl_get_critical(fd, &crit1)) != 0)
		return (term_err(err, "ct_tmpl_get_critical", "fatal"));
	keep = crit0 & (CT_PR_EV_EMPTY | (pgrp ? 0 : t->fatal));
	if (crit1 != 0 || keep == 0)
		return (0);	/* nothing moved, or what was meant to */
	if ((err = ct_tmpl_set_critical(fd, keep)) != 0)
		return (term_err(err, "ct_tmpl_set_critical", "critical"));
	err = ct_tmpl_set_informative(fd, info0 | (crit0 & ~keep));
	return (term_err(err, "ct_tmpl_set_informative", "informative"));
}

/* Set a term if the template gives it (g) and no earlier one failed. */
#define	TERM(g, fn, args, name)	\
	(err = err == 0 && (t->given & (g)) ? term_err(fn args, #fn, name) : err)

static int
tmpl_apply_process(int fd, const ct_template_t *t, int err)
{
	if (t->svc_fmri != NULL)
		TERM(CT_T_SVC_FMRI, ct_pr_tmpl_set_svc_fmri, (fd, t->svc_fmri),
		    "svc_fmri");
	if (t->svc_aux != NULL)
		TERM(CT_T_SVC_AUX, ct_pr_tmpl_set_svc_aux, (fd, t->svc_aux),
		    "svc_aux");
	return (TERM(CT_T_TRANSFER, ct_pr_tmpl_set_transfer,
	    (fd, t->transfer), "transfer"));
}

static int
tmpl_apply_device(int fd, const ct_template_t *t, int err)
{
	if (t->dev_minor != NULL)
		TERM(CT_T_DEV_MINOR, ct_dev_tmpl_set_minor, (fd, t->dev_minor),
		    "dev_minor");
	TERM(CT_T_DEV_ASET, ct_dev_tmpl_set_aset, (fd, t->dev_aset),
	    "dev_aset");
	if (t->dev_noneg)
		TERM(CT_T_DEV_NONEG, ct_dev_tmpl_set_noneg, (fd), "dev_noneg");
	else
		TERM(CT_T_DEV_NONEG, ct_dev_tmpl_clear_noneg, (fd),
		    "dev_noneg");
	return (err);
}

/*
 * Set the terms t gives; the others keep the kernel's defaults.  Order: param,
 * informative, fatal, critical (docs/ARCHITECTURE.md, "Term order and
 * privilege": each may restrict what an unprivileged caller may put in the
 * next), then the rest.
 */
static int
tmpl_apply(int fd, const ct_template_t *t)
{
	int err = 0;

	if (t->type == CT_TYPE_PROCESS)
		TERM(CT_T_PARAM, ct_pr_tmpl_set_param, (fd, t->params),
		    "param");
	TERM(CT_T_INFO, ct_tmpl_set_informative, (fd, t->informative),
	    "informative");
	if (err == 0 && t->type == CT_TYPE_PROCESS &&
	    (t->given & CT_T_FATAL))
		err = tmpl_set_fatal(fd, t);
	TERM(CT_T_CRITICAL, ct_tmpl_set_critical, (fd, t->critical),
	    "critical");
	TERM(CT_T_COOKIE, ct_tmpl_set_cookie, (fd, t->cookie), "cookie");
	return (t->type == CT_TYPE_PROCESS ? tmpl_apply_process(fd, t, err) :
	    tmpl_apply_device(fd, t, err));
}
#undef TERM

/*
 * After the user's terms: subscribe what they left out of want, our
 * events (see the top of the file), informative (which needs no
 * privilege, contract.c, ctmpl_set); *drop of what we added before goes.
 * *hiddenp: ours now.
 */
static int
tmpl_want(int fd, uint32_t want, uint32_t drop, uint32_t *hiddenp)
{
	uint_t crit, info, add;
	int err;

	if ((err = ct_tmpl_get_critical(fd, &crit)) != 0)
		return (term_err(err, "ct_tmpl_get_critical", "critical"));
	if ((err = ct_tmpl_get_informative(fd, &info)) != 0)
		return (term_err(err, "ct_tmpl_get_informative",
		    "informative"));
	add = want & ~(crit | info);
	if ((add | (info & drop)) != 0 && (err = ct_tmpl_set_informative(fd,
	    (info & ~drop) | add)) != 0)
		return (term_err(err, "ct_tmpl_set_informative",
		    "informative"));
	*hiddenp = (*hiddenp & ~drop) | add;
	return (0);
}

/* What a trace needs of a contract's terms (trace.c). */
#define	TRACE_EVENTS	(CT_PR_EV_FORK | CT_PR_EV_EXIT)

/* Note the final terms of the process template fd (see tl_made). */
static void
made_note(int fd, uint32_t hidden, bool trace)
{
	made_t *m = &tl_made[tl_nmade++ % TL_MADE];
	uint_t v;

	(void) memset(m, 0, sizeof (*m));
	if (ct_tmpl_get_critical(fd, &v) != 0)
		return;
	m->critical = v;
	if (ct_tmpl_get_informative(fd, &v) != 0)
		return;
	m->informative = v;
	if (ct_pr_tmpl_get_fatal(fd, &v) == 0)
		m->fatal = v;
	if (ct_pr_tmpl_get_param(fd, &v) == 0)
		m->params = v;
	(void) ct_tmpl_get_cookie(fd, &m->cookie);
	m->hidden = hidden;
	m->trace = trace;
	m->used = true;
}

int
ct_tmpl_active_set(const ct_template_t *t)
{
	char path[IL_PATH_MAX];
	ct_type_t type = t->type;
	uint32_t hidden = 0;
	int fd, err;

	if ((unsigned)type >= CT_TYPE_COUNT)
		return (ct_err_set(EINVAL, NULL, "unknown contract type %d",
		    (int)type));
	/* Each open gives a fresh template holding the type's defaults. */
	fd = il_open_exact(il_path(path, il_type_dirs[type], 0, "template"),
	    O_RDWR);
	if (fd < 0)
		return (ct_err_set(errno, "open", "cannot open %s", path));
	err = tmpl_apply(fd, t);
	if (err == 0 && type == CT_TYPE_PROCESS)
		err = tmpl_want(fd, CT_PR_EV_EMPTY | (tl_armed ? TRACE_EVENTS :
		    0), 0, &hidden);
	/*
	 * Listen on the pbundle before anything is made: informative events
	 * published while no one listens are never queued
	 * (docs/ARCHITECTURE.md, "The process bundle").
	 */
	if (err == 0) {
		il_lock();
		err = il_pbundle_ready(type);
		il_unlock();
	}
	if (err == 0 && (err = ct_tmpl_activate(fd)) != 0)
		err = ct_err_set(err, "ct_tmpl_activate",
		    "cannot activate the %s template", il_type_dirs[type]);
	if (err != 0) {
		(void) close(fd);
		return (err);
	}
	/* The kernel replaced this thread's active template of the type. */
	if (tl_tmpl_fd[type] >= 0)
		(void) close(tl_tmpl_fd[type]);
	tl_tmpl_fd[type] = fd;
	if (type == CT_TYPE_PROCESS) {
		tl_hidden = hidden;
		tl_traced = tl_armed;
		tl_transfer = (t->given & CT_T_TRANSFER) ? t->transfer : 0;
		made_note(fd, hidden, tl_armed);
	}
	return (0);
}

/*
 * ct_trace_arm: templates activated from now on trace; so does the one
 * active now, given the trace's events (or, disarmed, rid of them) and
 * activated again (the kernel activates a copy, contract.c,
 * ctmpl_activate).
 */
int
il_tmpl_trace(bool on)
{
	int fd = tl_tmpl_fd[CT_TYPE_PROCESS], err;
	uint32_t hidden = tl_hidden;

	tl_armed = on;
	if (fd < 0 || tl_traced == on)
		return (0);
	if ((err = tmpl_want(fd, on ? TRACE_EVENTS : 0, on ? 0 :
	    hidden & TRACE_EVENTS, &hidden)) != 0)
		return (err);
	if ((err = ct_tmpl_activate(fd)) != 0)
		return (ct_err_set(err, "ct_tmpl_activate",
		    "cannot activate the process template"));
	tl_hidden = hidden;
	tl_traced = on;
	made_note(fd, hidden, on);
	return (0);
}

int
ct_tmpl_active_clear(ct_type_t type)
{
	int first = 0, err;

	if ((unsigned)type > CT_TYPE_COUNT)
		return (ct_err_set(EINVAL, NULL, "unknown contract type %d",
		    (int)type));
	for (int t = 0; t < CT_TYPE_COUNT; t++) {
		if ((type != CT_TYPE_COUNT && t != (int)type) ||
		    tl_tmpl_fd[t] < 0)
			continue;
		/* Any template fd of the type clears the active one. */
		err = ct_tmpl_clear(tl_tmpl_fd[t]);
		(void) close(tl_tmpl_fd[t]);
		tl_tmpl_fd[t] = -1;
		if (err != 0 && first == 0)
			first = ct_err_set(err, "ct_tmpl_clear",
			    "cannot clear the %s template", il_type_dirs[t]);
		if (t == CT_TYPE_PROCESS) {
			tl_hidden = 0;
			tl_traced = false;
		}
	}
	return (first);
}

/*
 * Which events of latest, this thread's newest process contract, are
 * ours, and whether it is traced: known exactly for what a spawn made,
 * else from the templates last activated on this thread.
 */
uint32_t
il_tmpl_hidden(ct_id_t latest, const ct_cstatus_t *st, bool *tracedp)
{
	/* Ours only ever informative: never the user's critical events. */
	uint32_t mine = st->informative & ~st->critical;

	*tracedp = false;
	if (latest == tl_spawned) {
		*tracedp = tl_spawned_trace;
		return (tl_spawned_hidden & mine);
	}
	/* Newest first: the template whose terms the contract has. */
	for (unsigned i = 1; i <= TL_MADE && i <= tl_nmade; i++) {
		const made_t *m = &tl_made[(tl_nmade - i) % TL_MADE];

		if (m->used && m->critical == st->critical &&
		    m->informative == st->informative &&
		    m->fatal == st->fatal && m->params == st->params &&
		    m->cookie == st->cookie) {
			*tracedp = m->trace;
			return (m->hidden & mine);
		}
	}
	return (0);	/* not made by a template of ours: its terms */
}

ct_id_t
il_tmpl_transfer(void)
{
	return (tl_transfer);
}

int
ct_latest_get(ct_type_t type, ct_id_t *idp)
{
	char path[IL_PATH_MAX];
	int err;

	if ((unsigned)type >= CT_TYPE_COUNT)
		return (ct_err_set(EINVAL, NULL, "unknown contract type %d",
		    (int)type));
	err = il_latest_read(type, idp, path);
	if (err == 0 && type == CT_TYPE_PROCESS)
		il_after_fork(*idp, tl_transfer);
	if (err == ESRCH)
		return (ct_err_set(err, "open",
		    "this thread has made no %s contract", il_type_dirs[type]));
	if (err != 0)
		return (ct_err_set(err, "ct_status_read", "cannot read %s",
		    path));
	return (0);
}

int
ct_tmpl_create_now(ct_type_t type, ct_id_t *idp)
{
	ctid_t id;
	int err;

	if (type == CT_TYPE_PROCESS)
		return (ct_err_set(EINVAL, "ct_tmpl_create",
		    "process contracts are made by fork, not by create()"));
	if ((unsigned)type >= CT_TYPE_COUNT || tl_tmpl_fd[type] < 0)
		return (ct_err_set(EINVAL, "ct_tmpl_create",
		    "no device template is active on this thread"));
	if ((err = ct_tmpl_create(tl_tmpl_fd[type], &id)) != 0)
		return (ct_err_set(err, "ct_tmpl_create",
		    "cannot create a contract from the device template"));
	*idp = (ct_id_t)id;
	return (0);
}

/* The kernel puts a child in its new contract at fork: nothing to do. */
int
ct_spawn_mode_get(ct_spawn_mode_t *modep)
{
	*modep = CT_SPAWN_KERNEL;
	return (0);
}

int
ct_spawn_mode_set(ct_spawn_mode_t mode)
{
	if (mode != CT_SPAWN_KERNEL)
		return (ct_err_set(ENOTSUP, NULL,
		    "illumos makes process contracts in the kernel, at fork"));
	return (0);
}

uint64_t
ct_spawn_forks(void)
{
	return (0);
}

int
ct_spawn_prepare(ct_id_t *idp, char **procsp)
{
	*idp = 0;
	*procsp = NULL;
	return (ct_err_set(ENOTSUP, NULL, "illumos needs no exec shim"));
}

/* Record what the spawn made, and with which pr_empty (see the top). */
int
ct_spawn_commit(ct_id_t id, pid_t pid)
{
	char path[IL_PATH_MAX];
	ct_id_t latest;

	(void) id, (void) pid;
	tl_before = -1;
	if (tl_tmpl_fd[CT_TYPE_PROCESS] >= 0 &&
	    il_latest_read(CT_TYPE_PROCESS, &latest, path) == 0) {
		tl_spawned = latest;
		tl_spawned_hidden = tl_hidden;
		tl_spawned_trace = tl_traced;
		il_after_fork(latest, tl_transfer);
	}
	return (0);
}

/*
 * The spawn failed.  If the fork happened (an exec that failed), the
 * kernel made a contract for the child and we hold it: abandon it, or it
 * stays, empty and owned, counted against project.max-contracts until
 * this process exits.  A new latest says whether the fork happened.
 */
int
ct_spawn_abort(ct_id_t id)
{
	char path[IL_PATH_MAX];
	ct_id_t latest = 0, before = tl_before;
	int err;

	(void) id;
	tl_before = -1;
	if (before < 0 || tl_tmpl_fd[CT_TYPE_PROCESS] < 0)
		return (0);	/* not between ct_spawn_ready and a fork */
	err = il_latest_read(CT_TYPE_PROCESS, &latest, path);
	if (err != 0 || latest == before)
		return (0);
	if ((err = il_abandon_id(CT_TYPE_PROCESS, latest)) != 0)
		return (ct_err_set(err, "ct_ctl_abandon", "cannot abandon "
		    "contract %d of a failed spawn", (int)latest));
	return (0);
}

/*
 * Called just before a spawn (and after one, off its path): nothing to
 * make ahead, but note the latest contract, so that ct_spawn_abort can
 * tell whether the fork made a new one.  The kernel records a contract
 * at its fork: nothing is left to the commit, whether one comes or not.
 */
int
ct_spawn_ready(bool spawning)
{
	char path[IL_PATH_MAX];
	ct_id_t latest = 0;
	int err;

	(void) spawning;

	if (tl_tmpl_fd[CT_TYPE_PROCESS] < 0)
		return (0);
	err = il_latest_read(CT_TYPE_PROCESS, &latest, path);
	tl_before = err == 0 ? latest : err == ESRCH ? 0 : -1;
	return (0);
}

/* The kernel puts the child itself in the contract: it is the program. */
int
ct_spawn_first(pid_t child, int report, pid_t *firstp)
{
	(void) report;
	*firstp = child;
	return (0);
}

int
ct_spawn_signal(pid_t child, int sig)
{
	return (kill(child, sig) == 0 ? 0 : errno);
}

/* Never called here (the caller waits for its child); nothing to do. */
int
ct_spawn_release(pid_t child)
{
	(void) child;
	return (0);
}

/*
 * A zone's init is the system's own (docs/containers.md, "Node as PID 1"
 * is Linux's): never on.
 */
int
ct_reap_start(bool *onp)
{
	*onp = false;
	return (0);
}

/* The kernel keeps every member: no anchor, no subreaper. */
int
ct_reap_subreaper(bool *onp)
{
	*onp = false;
	return (0);
}

int
ct_reap_guard(pid_t pid, bool on)
{
	(void) pid, (void) on;
	return (0);
}

int
ct_reap(void)
{
	return (0);
}

int
ct_spawn_dirfd(void)
{
	return (-1);
}

int
ct_spawn_wordfd(void)
{
	return (-1);
}

/* The kernel makes the contract at fork: no helper runs. */
int
ct_spawn_argv(const char *argv0, int dirfd, int report, int word,
    const char *file, char *const argv[], char ***avp)
{
	(void) argv0, (void) dirfd, (void) report, (void) word, (void) file;
	(void) argv;
	*avp = NULL;
	return (EINVAL);
}

void
ct_spawn_argv_free(char **av)
{
	(void) av;
}

/*
 * illumos.c -- the illumos backend: a thin layer over libcontract(3LIB)
 * and ctfs, the contract filesystem on /system/contract (DESIGN 3).
 *
 * Descriptors.  ctfs checks the exact open flag word of its files (spec
 * a): template wants O_RDWR, ctl O_WRONLY, latest O_RDONLY, the event
 * endpoints O_RDONLY with at most O_NONBLOCK, and O_CLOEXEC is refused.
 * So each file is opened with its bare flags and made close-on-exec right
 * after (ctfs_open()).
 *
 * Templates are per thread, as in the kernel: a thread keeps one template
 * fd per type, so activating a process template leaves its device
 * template alone.
 *
 * Events.  A contract we hold sends its events to its type's pbundle (one
 * listener per type for the whole process); an observed one is read from
 * its own <type>/<id>/events.  Every endpoint is associated with one event
 * port, the fd the binding polls, and ct_evq_dispatch() drains those that
 * fired into a FIFO of ct_evrec_t.  The handles of one contract share a
 * "watch", so each event is queued once however often it is open.
 */
#ifndef __EXTENSIONS__
#define	__EXTENSIONS__	1	/* asprintf, sigsend, fdopendir */
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/ctfs.h>
#include <sys/contract.h>
#include <sys/contract/process.h>
#include <sys/contract/device.h>
#include <libcontract.h>
#include <port.h>
#include <poll.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct.h"

/* ct.h carries the illumos numbers under its own names: check them. */
#define	SAME(a, b)	_Static_assert((long)(a) == (long)(b), #a " != " #b)
SAME(NC_EV_NEGEND, CT_EV_NEGEND);
SAME(NC_PR_EV_EMPTY, CT_PR_EV_EMPTY);	SAME(NC_PR_EV_FORK, CT_PR_EV_FORK);
SAME(NC_PR_EV_EXIT, CT_PR_EV_EXIT);	SAME(NC_PR_EV_CORE, CT_PR_EV_CORE);
SAME(NC_PR_EV_SIGNAL, CT_PR_EV_SIGNAL);	SAME(NC_PR_EV_HWERR, CT_PR_EV_HWERR);
SAME(NC_PR_ALLEVENT, CT_PR_ALLEVENT);	SAME(NC_PR_ALLFATAL, CT_PR_ALLFATAL);
SAME(NC_PR_INHERIT, CT_PR_INHERIT);	SAME(NC_PR_NOORPHAN, CT_PR_NOORPHAN);
SAME(NC_PR_PGRPONLY, CT_PR_PGRPONLY);	SAME(NC_PR_REGENT, CT_PR_REGENT);
SAME(NC_PR_ALLPARAM, CT_PR_ALLPARAM);
SAME(NC_DEV_EV_ONLINE, CT_DEV_EV_ONLINE);
SAME(NC_DEV_EV_DEGRADED, CT_DEV_EV_DEGRADED);
SAME(NC_DEV_EV_OFFLINE, CT_DEV_EV_OFFLINE);
SAME(NC_DEV_ALLEVENT, CT_DEV_ALLEVENT);
SAME(NC_EVF_ACK, CTE_ACK);	SAME(NC_EVF_INFO, CTE_INFO);
SAME(NC_EVF_NEG, CTE_NEG);
SAME(NC_ST_OWNED, CTS_OWNED);	SAME(NC_ST_INHERITED, CTS_INHERITED);
SAME(NC_ST_ORPHAN, CTS_ORPHAN);	SAME(NC_ST_DEAD, CTS_DEAD);
SAME(NC_PARAM_MAX_SIZE, CT_PARAM_MAX_SIZE);
SAME(CT_TYPE_PROCESS, CTT_PROCESS);	SAME(CT_TYPE_DEVICE, CTT_DEVICE);
SAME(CT_TYPE_COUNT, CTT_MAXTYPE);
SAME(sizeof (ct_evid_t), sizeof (ctevid_t));
#undef SAME

static const char *const type_dirs[CT_TYPE_COUNT] = { "process", "device" };

/* ------------------------------------------------------------------ */
/* Paths and descriptors */

/*
 * The longest path built here: the root, a directory (process, device or
 * all), an id and a file (template is the longest).  All of it is bounded.
 */
#define	CTPATH_MAX	sizeof (CTFS_ROOT "/process/-2147483648/template")

/* CTFS_ROOT/dir[/id][/file]; id 0 and file NULL leave them out. */
static const char *
ctpath(char *buf, const char *dir, ct_id_t id, const char *file)
{
	char num[16] = "";

	if (id != 0)
		(void) snprintf(num, sizeof (num), "/%d", (int)id);
	(void) snprintf(buf, CTPATH_MAX, "%s/%s%s%s%s", CTFS_ROOT, dir, num,
	    file != NULL ? "/" : "", file != NULL ? file : "");
	return (buf);
}

/* open() with exactly flags (spec a), then close-on-exec; -1 and errno. */
static int
ctfs_open(const char *path, int flags)
{
	int fd, err;

	while ((fd = open(path, flags)) < 0 && errno == EINTR)
		;
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		err = errno;
		(void) close(fd);
		errno = err;
		return (-1);
	}
	return (fd);
}

/* The type of contract id: which type directory has it. */
static int
ctid_type(ct_id_t id, ct_type_t *typep)
{
	char path[CTPATH_MAX];
	struct stat sb;

	for (int t = 0; id > 0 && t < CT_TYPE_COUNT; t++) {
		if (stat(ctpath(path, type_dirs[t], id, NULL), &sb) == 0) {
			*typep = (ct_type_t)t;
			return (0);
		}
	}
	return (ct_err_set(ESRCH, "stat", "no contract %d is visible here",
	    (int)id));
}

/* This thread's newest contract of type (ESRCH: none).  No ct_err_set. */
static int
latest_read(ct_type_t type, ct_id_t *idp, char *path)
{
	ct_stathdl_t st;
	int fd, err;

	/* latest opens the contract's status; it takes O_RDONLY only. */
	fd = ctfs_open(ctpath(path, type_dirs[type], 0, "latest"), O_RDONLY);
	if (fd < 0)
		return (errno);
	err = ct_status_read(fd, CTD_COMMON, &st);
	(void) close(fd);
	if (err == 0) {
		*idp = (ct_id_t)ct_status_get_id(st);
		ct_status_free(st);
	}
	return (err);
}

/* ------------------------------------------------------------------ */
/* Process-wide state: event port, pbundles, watches, the event FIFO */

typedef struct watch watch_t;

typedef struct endpoint {	/* an event endpoint on the port */
	int fd;
	ct_type_t type;
	watch_t *w;		/* NULL: the type's pbundle */
} endpoint_t;

struct watch {			/* what this process has open of a contract */
	watch_t *next;		/* hash chain */
	ct_id_t ctid;
	unsigned nheld;		/* holding handles: events from the pbundle */
	unsigned nobs;		/* observing handles: events from ev */
	endpoint_t ev;		/* <type>/<id>/events while nobs > 0 */
};

struct ct_contract {
	ct_id_t ctid;
	ct_type_t type;
	int ctl;		/* <type>/<id>/ctl; -1 when observing */
	bool held;		/* counted in w->nheld (until abandoned) */
	watch_t *w;
};

typedef struct evnode {
	struct evnode *next;
	ct_evrec_t rec;
} evnode_t;

#define	WBUCKETS	1024	/* ids are sequential: chains stay even */

/* All of this is guarded by g_lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_port = -1;
static struct {
	endpoint_t ep;
	unsigned refs;		/* holding handles + threads (tmpl_unref) */
} g_pb[CT_TYPE_COUNT] = {
	{ { -1, CT_TYPE_PROCESS, NULL }, 0 },
	{ { -1, CT_TYPE_DEVICE, NULL }, 0 }
};
static watch_t *g_watches[WBUCKETS];
static evnode_t *g_qhead, **g_qtail = &g_qhead;

/* Per thread: its templates, and what its templates made (tmpl_unref). */
static _Thread_local int tl_tmpl_fd[CT_TYPE_COUNT] = { -1, -1 };
static _Thread_local bool tl_pbref[CT_TYPE_COUNT];
static _Thread_local ct_id_t tl_opened[CT_TYPE_COUNT];

static void
lock(void)
{
	(void) pthread_mutex_lock(&g_lock);
}

static void
unlock(void)
{
	(void) pthread_mutex_unlock(&g_lock);
}

static int
port_ready(void)
{
	int fd, err;

	if (g_port >= 0)
		return (0);
	if ((fd = port_create()) < 0)
		return (ct_err_set(errno, "port_create",
		    "cannot create an event port for contract events"));
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		err = errno;
		(void) close(fd);
		return (ct_err_set(err, "fcntl", "cannot set FD_CLOEXEC"));
	}
	g_port = fd;
	return (0);
}

/* Event ports are one-shot: arm ep for its next POLLIN. */
static int
ep_arm(endpoint_t *ep)
{
	if (port_associate(g_port, PORT_SOURCE_FD, (uintptr_t)ep->fd, POLLIN,
	    ep) != 0)
		return (ct_err_set(errno, "port_associate",
		    "cannot watch a %s event endpoint", type_dirs[ep->type]));
	return (0);
}

/*
 * Open the endpoint file path as ep and arm it.  A new listener starts at
 * the tail of its queue; rewind moves it to the head first, so that the
 * critical events still unacknowledged there are read too (spec g).
 */
static int
ep_open(endpoint_t *ep, const char *path, bool rewind)
{
	int err;

	if ((err = port_ready()) != 0)
		return (err);
	/* Non-blocking is latched at open; fcntl() cannot add it later. */
	if ((ep->fd = ctfs_open(path, O_RDONLY | O_NONBLOCK)) < 0)
		return (ct_err_set(errno, "open", "cannot open %s", path));
	if (rewind && (err = ct_event_reset(ep->fd)) != 0)
		err = ct_err_set(err, "ct_event_reset", "cannot rewind %s",
		    path);
	if (err != 0 || (err = ep_arm(ep)) != 0) {
		(void) close(ep->fd);
		ep->fd = -1;
	}
	return (err);
}

static void
ep_close(endpoint_t *ep)
{
	if (ep->fd < 0)
		return;
	/* This also drops an event fired but not yet retrieved. */
	(void) port_dissociate(g_port, PORT_SOURCE_FD, (uintptr_t)ep->fd);
	(void) close(ep->fd);
	ep->fd = -1;
}

/*
 * Take a reference on the pbundle of type, opening it for the first;
 * rewound, to see what arrived while no listener was there.
 */
static int
pbundle_hold(ct_type_t type)
{
	char path[CTPATH_MAX];
	int err;

	if (g_pb[type].refs++ > 0)
		return (0);
	err = ep_open(&g_pb[type].ep,
	    ctpath(path, type_dirs[type], 0, "pbundle"), true);
	if (err != 0)
		g_pb[type].refs = 0;
	return (err);
}

static void
pbundle_rele(ct_type_t type)
{
	if (--g_pb[type].refs == 0)
		ep_close(&g_pb[type].ep);
}

static watch_t **
watch_slot(ct_id_t id)
{
	watch_t **pp = &g_watches[(uint32_t)id % WBUCKETS];

	while (*pp != NULL && (*pp)->ctid != id)
		pp = &(*pp)->next;
	return (pp);
}

/* The watch of contract id, made if there is none; NULL: no memory. */
static watch_t *
watch_get(ct_id_t id, ct_type_t type)
{
	watch_t **pp = watch_slot(id), *w = *pp;

	if (w == NULL && (w = calloc(1, sizeof (*w))) != NULL) {
		w->ctid = id;
		w->ev.fd = -1;
		w->ev.type = type;
		w->ev.w = w;
		*pp = w;
	}
	return (w);
}

/* Free w once no handle uses it. */
static void
watch_put(watch_t *w)
{
	if (w->nheld != 0 || w->nobs != 0)
		return;
	ep_close(&w->ev);
	*watch_slot(w->ctid) = w->next;
	free(w);
}

/* ------------------------------------------------------------------ */
/* Backend: templates and creation */

static int
term_err(int err, const char *call, const char *term)
{
	if (err == 0)
		return (0);
	return (ct_err_set(err, call, "cannot set template term %s", term));
}

/*
 * Set the fatal set.  When the critical set holds events that are neither
 * pr_empty nor fatal, the kernel moves those to the informative set for an
 * unprivileged caller (spec c.2.3); but an operator-precedence slip makes
 * it move every critical event, pr_empty too.  Undo that slip.
 */
static int
tmpl_set_fatal(int fd, const ct_template_t *t)
{
	uint_t crit0, info0, crit1, keep;
	bool pgrp = (t->given & CT_T_PARAM) && (t->params & CT_PR_PGRPONLY);
	int err;

	if ((err = ct_tmpl_get_critical(fd, &crit0)) != 0 ||
	    (err = ct_tmpl_get_informative(fd, &info0)) != 0)
		return (term_err(err, "ct_tmpl_get_critical", "fatal"));
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

/*
 * Set the terms t gives; the others keep the kernel's defaults.  Order:
 * param, informative, fatal, critical (spec c.2: each may restrict what an
 * unprivileged caller may put in the next), then the rest.
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
	if (t->type == CT_TYPE_PROCESS) {
		if (t->svc_fmri != NULL)
			TERM(CT_T_SVC_FMRI, ct_pr_tmpl_set_svc_fmri,
			    (fd, t->svc_fmri), "svc_fmri");
		if (t->svc_aux != NULL)
			TERM(CT_T_SVC_AUX, ct_pr_tmpl_set_svc_aux,
			    (fd, t->svc_aux), "svc_aux");
		return (TERM(CT_T_TRANSFER, ct_pr_tmpl_set_transfer,
		    (fd, t->transfer), "transfer"));
	}
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
#undef TERM

/*
 * A thread holds a reference on the pbundle of type from its first
 * template of that type (events published when a contract is made reach
 * only listeners that exist then) until its template is cleared and the
 * contract it made last -- its latest -- has been opened, or it made none;
 * from then on the handles hold it.  So 1.0.3's order set_template ->
 * spawn -> clear_template -> latest() loses nothing either.
 */
static void
tmpl_unref(ct_type_t type)
{
	char path[CTPATH_MAX];
	ct_id_t id = 0;
	int err;

	if (!tl_pbref[type] || tl_tmpl_fd[type] >= 0)
		return;
	err = latest_read(type, &id, path);
	if (err == ESRCH || (err == 0 && id == tl_opened[type])) {
		lock();
		pbundle_rele(type);
		unlock();
		tl_pbref[type] = false;
	}
}

int
ct_tmpl_active_set(const ct_template_t *t)
{
	char path[CTPATH_MAX];
	ct_type_t type = t->type;
	bool took = false;
	int fd, err;

	if ((unsigned)type >= CT_TYPE_COUNT)
		return (ct_err_set(EINVAL, NULL, "unknown contract type %d",
		    (int)type));
	/* Each open gives a fresh template holding the type's defaults. */
	fd = ctfs_open(ctpath(path, type_dirs[type], 0, "template"), O_RDWR);
	if (fd < 0)
		return (ct_err_set(errno, "open", "cannot open %s", path));
	if ((err = tmpl_apply(fd, t)) == 0 && !tl_pbref[type]) {
		lock();
		err = pbundle_hold(type);
		unlock();
		tl_pbref[type] = took = err == 0;
	}
	if (err == 0 && (err = ct_tmpl_activate(fd)) != 0)
		err = ct_err_set(err, "ct_tmpl_activate",
		    "cannot activate the %s template", type_dirs[type]);
	if (err != 0) {
		(void) close(fd);
		if (took) {
			lock();
			pbundle_rele(type);
			unlock();
			tl_pbref[type] = false;
		}
		return (err);
	}
	/* The kernel replaced this thread's active template of the type. */
	if (tl_tmpl_fd[type] >= 0)
		(void) close(tl_tmpl_fd[type]);
	tl_tmpl_fd[type] = fd;
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
			    "cannot clear the %s template", type_dirs[t]);
		tmpl_unref((ct_type_t)t);
	}
	return (first);
}

int
ct_latest_get(ct_type_t type, ct_id_t *idp)
{
	char path[CTPATH_MAX];
	int err;

	if ((unsigned)type >= CT_TYPE_COUNT)
		return (ct_err_set(EINVAL, NULL, "unknown contract type %d",
		    (int)type));
	if ((err = latest_read(type, idp, path)) == ESRCH)
		return (ct_err_set(err, "open",
		    "this thread has made no %s contract", type_dirs[type]));
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

int
ct_spawn_commit(ct_id_t id, pid_t pid)
{
	(void) id, (void) pid;
	return (0);
}

int
ct_spawn_abort(ct_id_t id)
{
	(void) id;
	return (0);
}

/* The kernel creates contracts at fork: nothing to prepare ahead. */
int
ct_spawn_ready(void)
{
	return (0);
}

/* ------------------------------------------------------------------ */
/* Backend: contracts */

/* With g_lock: count c in its watch and open what brings its events. */
static int
attach(ct_contract_t *c, ct_open_t how)
{
	char path[CTPATH_MAX];
	watch_t *w;
	int err = 0;

	if ((w = watch_get(c->ctid, c->type)) == NULL)
		return (ct_err_set(ENOMEM, NULL, "out of memory"));
	if (how == CT_OPEN_OBSERVE) {
		if (w->ev.fd < 0 && (err = ep_open(&w->ev, ctpath(path,
		    type_dirs[c->type], c->ctid, "events"), false)) == EPERM)
			err = ct_err_set(err, "open", "may not observe contract"
			    " %d: not the author's or holder's user, and no "
			    "contract_observer privilege", (int)c->ctid);
		if (err == 0)
			w->nobs++;
	} else if ((err = pbundle_hold(c->type)) == 0) {
		/* Adopting appends its pending events to our pbundle. */
		if (how == CT_OPEN_ADOPT && (err = ct_ctl_adopt(c->ctl)) != 0) {
			pbundle_rele(c->type);
			err = ct_err_set(err, "ct_ctl_adopt", "cannot adopt "
			    "contract %d%s", (int)c->ctid, err != EINVAL ? "" :
			    ": it is not inherited by this process's contract");
		}
		if (err == 0) {
			w->nheld++;
			c->held = true;
		}
	}
	if (err != 0)
		watch_put(w);
	else
		c->w = w;
	return (err);
}

int
ct_contract_open(ct_id_t id, ct_open_t how, ct_contract_t **cp)
{
	char path[CTPATH_MAX];
	ct_contract_t *c;
	ct_type_t type = CT_TYPE_PROCESS;
	int ctl = -1, err;

	if ((unsigned)how > CT_OPEN_OBSERVE)
		return (ct_err_set(EINVAL, NULL, "unknown open mode %d",
		    (int)how));
	if ((err = ctid_type(id, &type)) != 0)
		return (err);
	/* ctl takes exactly O_WRONLY, and opens for the holder only. */
	if (how != CT_OPEN_OBSERVE && (ctl = ctfs_open(ctpath(path,
	    type_dirs[type], id, "ctl"), O_WRONLY)) < 0) {
		if (errno == EACCES)
			return (ct_err_set(errno, "open", "contract %d is not "
			    "held by this process%s", (int)id, how ==
			    CT_OPEN_ADOPT ? " nor inherited by its contract" :
			    ""));
		return (ct_err_set(errno, "open", "cannot open %s", path));
	}
	if ((c = calloc(1, sizeof (*c))) == NULL) {
		err = ct_err_set(ENOMEM, NULL, "out of memory");
	} else {
		c->ctid = id;
		c->type = type;
		c->ctl = ctl;
		lock();
		err = attach(c, how);
		unlock();
	}
	if (err != 0) {
		if (ctl >= 0)
			(void) close(ctl);
		free(c);
		return (err);
	}
	if (how == CT_OPEN_LATEST) {
		tl_opened[type] = id;
		tmpl_unref(type);
	}
	*cp = c;
	return (0);
}

void
ct_contract_close(ct_contract_t *c)
{
	if (c == NULL)
		return;
	if (c->ctl >= 0)
		(void) close(c->ctl);
	lock();
	if (c->held) {
		c->w->nheld--;
		pbundle_rele(c->type);
	} else if (c->ctl < 0 && --c->w->nobs == 0) {
		ep_close(&c->w->ev);
	}
	watch_put(c->w);
	unlock();
	free(c);
}

ct_id_t
ct_contract_id(const ct_contract_t *c)
{
	return (c->ctid);
}

ct_type_t
ct_contract_type(const ct_contract_t *c)
{
	return (c->type);
}

bool
ct_contract_owned(const ct_contract_t *c)
{
	return (c->held);
}

uint64_t
ct_contract_gen(const ct_contract_t *c)
{
	(void) c;
	return (0);	/* an open handle keeps its id from reuse */
}

/* A string of the status handle, copied; absent is no error. */
static int
status_str(int (*get)(ct_stathdl_t, char **), ct_stathdl_t h, char **dstp)
{
	char *s = NULL;

	if (get(h, &s) != 0 || s == NULL)
		return (0);
	return ((*dstp = strdup(s)) == NULL ? ENOMEM : 0);
}

static int
status_process(ct_stathdl_t h, ct_cstatus_t *st)
{
	pid_t *pids;
	ctid_t *ids, svc;
	uint_t u, n;
	int err;

	if (ct_pr_status_get_param(h, &u) == 0)
		st->params = u;
	if (ct_pr_status_get_fatal(h, &u) == 0)
		st->fatal = u;
	if (ct_pr_status_get_svc_ctid(h, &svc) == 0)
		st->svc_ctid = (ct_id_t)svc;
	if (ct_pr_status_get_members(h, &pids, &n) == 0 && n > 0) {
		if ((st->members = malloc(n * sizeof (pid_t))) == NULL)
			return (ENOMEM);
		(void) memcpy(st->members, pids, n * sizeof (pid_t));
		st->nmembers = n;
	}
	if (ct_pr_status_get_contracts(h, &ids, &n) == 0 && n > 0) {
		if ((st->contracts = malloc(n * sizeof (ct_id_t))) == NULL)
			return (ENOMEM);
		for (uint_t i = 0; i < n; i++)
			st->contracts[i] = (ct_id_t)ids[i];
		st->ncontracts = n;
	}
	if ((err = status_str(ct_pr_status_get_svc_fmri, h,
	    &st->svc_fmri)) != 0 ||
	    (err = status_str(ct_pr_status_get_svc_aux, h, &st->svc_aux)) != 0)
		return (err);
	return (status_str(ct_pr_status_get_svc_creator, h,
	    &st->svc_creator));
}

static int
status_device(ct_stathdl_t h, ct_cstatus_t *st)
{
	uint_t u;

	if (ct_dev_status_get_dev_state(h, &u) == 0)
		st->dev_state = u;
	if (ct_dev_status_get_aset(h, &u) == 0)
		st->dev_aset = u;
	if (ct_dev_status_get_noneg(h, &u) == 0)
		st->dev_noneg = u != 0;
	return (status_str(ct_dev_status_get_minor, h, &st->dev_minor));
}

int
ct_contract_status(ct_contract_t *c, ct_cstatus_t *st)
{
	char path[CTPATH_MAX];
	ct_stathdl_t h;
	int fd, err;

	(void) memset(st, 0, sizeof (*st));
	st->frozen = -1;
	/* The status file, not the contract's directory (1.0.3's EINVAL). */
	fd = ctfs_open(ctpath(path, type_dirs[c->type], c->ctid, "status"),
	    O_RDONLY);
	if (fd < 0)
		return (ct_err_set(errno, "open", "cannot open %s", path));
	err = ct_status_read(fd, CTD_ALL, &h);
	(void) close(fd);
	if (err != 0)
		return (ct_err_set(err, "ct_status_read", "cannot read %s",
		    path));
	st->ctid = (ct_id_t)ct_status_get_id(h);
	st->zoneid = (int32_t)ct_status_get_zoneid(h);
	st->type = c->type;
	st->state = (int)ct_status_get_state(h);
	st->holder = (int32_t)ct_status_get_holder(h);
	st->nevents = (uint32_t)ct_status_get_nevents(h);
	st->ntime = ct_status_get_ntime(h);
	st->qtime = ct_status_get_qtime(h);
	st->nevid = ct_status_get_nevid(h);
	st->cookie = ct_status_get_cookie(h);
	st->critical = ct_status_get_critical(h);
	st->informative = ct_status_get_informative(h);
	err = c->type == CT_TYPE_PROCESS ? status_process(h, st) :
	    status_device(h, st);
	ct_status_free(h);
	if (err != 0) {
		ct_cstatus_fini(st);
		return (ct_err_set(err, NULL, "out of memory"));
	}
	return (0);
}

/* EPERM for an observed contract: it has no control file. */
static int
ctl_check(const ct_contract_t *c, const char *what)
{
	if (c->ctl < 0)
		return (ct_err_set(EPERM, NULL, "cannot %s contract %d: it is "
		    "observed, not held", what, (int)c->ctid));
	return (0);
}

int
ct_contract_abandon(ct_contract_t *c)
{
	int err;

	if ((err = ctl_check(c, "abandon")) != 0)
		return (err);
	if ((err = ct_ctl_abandon(c->ctl)) != 0)
		return (ct_err_set(err, "ct_ctl_abandon",
		    "cannot abandon contract %d", (int)c->ctid));
	/* Not ours any more; the kernel purged it from our pbundle. */
	lock();
	if (c->held) {
		c->held = false;
		c->w->nheld--;
		pbundle_rele(c->type);
	}
	unlock();
	return (0);
}

static int
ctl_event(ct_contract_t *c, ct_evid_t evid, int (*fn)(int, ctevid_t),
    const char *call, const char *what)
{
	int err;

	if ((err = ctl_check(c, what)) != 0)
		return (err);
	if ((err = fn(c->ctl, (ctevid_t)evid)) != 0)
		return (ct_err_set(err, call, "cannot %s event %llu of "
		    "contract %d", what, (unsigned long long)evid,
		    (int)c->ctid));
	return (0);
}

int
ct_contract_ack(ct_contract_t *c, ct_evid_t evid)
{
	return (ctl_event(c, evid, ct_ctl_ack, "ct_ctl_ack", "acknowledge"));
}

int
ct_contract_nack(ct_contract_t *c, ct_evid_t evid)
{
	return (ctl_event(c, evid, ct_ctl_nack, "ct_ctl_nack", "nack"));
}

int
ct_contract_qack(ct_contract_t *c, ct_evid_t evid)
{
	return (ctl_event(c, evid, ct_ctl_qack, "ct_ctl_qack", "qack"));
}

int
ct_contract_sigsend(ct_contract_t *c, int sig)
{
	if (c->type != CT_TYPE_PROCESS)
		return (ct_err_set(EINVAL, "sigsend",
		    "contract %d is not a process contract", (int)c->ctid));
	/* The kernel's signal permissions apply; ESRCH: no member left. */
	if (sigsend(P_CTID, (id_t)c->ctid, sig) != 0)
		return (ct_err_set(errno, "sigsend", "cannot send signal %d "
		    "to the members of contract %d", sig, (int)c->ctid));
	return (0);
}

int
ct_contract_freeze(ct_contract_t *c, bool freeze)
{
	(void) c, (void) freeze;
	return (ct_err_set(ENOTSUP, NULL, "illumos has no freezer"));
}

int
ct_contract_usage(ct_contract_t *c, ct_usage_t *u)
{
	(void) c;
	(void) memset(u, 0, sizeof (*u));
	return (ct_err_set(ENOTSUP, NULL,
	    "illumos has no per-contract CPU accounting"));
}

/* A contract id as ctfs names it: decimal, 1..INT32_MAX. */
static bool
parse_id(const char *s, ct_id_t *idp)
{
	int64_t v = 0;

	if (*s < '1' || *s > '9')
		return (false);
	for (; *s >= '0' && *s <= '9'; s++) {
		if ((v = v * 10 + (*s - '0')) > INT32_MAX)
			return (false);
	}
	*idp = (ct_id_t)v;
	return (*s == '\0');
}

static int
id_cmp(const void *a, const void *b)
{
	ct_id_t x = *(const ct_id_t *)a, y = *(const ct_id_t *)b;

	return (x < y ? -1 : x > y);
}

int
ct_contract_list(ct_type_t type, ct_id_t **idsp, size_t *np)
{
	char path[CTPATH_MAX];
	ct_id_t *ids = NULL, *more, id;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, err;

	if ((unsigned)type > CT_TYPE_COUNT)
		return (ct_err_set(EINVAL, NULL, "unknown contract type %d",
		    (int)type));
	fd = ctfs_open(ctpath(path, type == CT_TYPE_COUNT ? "all" :
	    type_dirs[type], 0, NULL), O_RDONLY);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		err = errno;
		if (fd >= 0)
			(void) close(fd);
		return (ct_err_set(err, "open", "cannot read %s", path));
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			err = errno;
			break;
		}
		if (!parse_id(de->d_name, &id))
			continue;	/* template, latest, bundle ... */
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((more = realloc(ids, cap * sizeof (*ids))) == NULL) {
				err = ENOMEM;
				break;
			}
			ids = more;
		}
		ids[n++] = id;
	}
	(void) closedir(d);
	if (err != 0) {
		free(ids);
		return (ct_err_set(err, "readdir", "cannot read %s", path));
	}
	qsort(ids, n, sizeof (*ids), id_cmp);
	*idsp = ids;
	*np = n;
	return (0);
}

/* ------------------------------------------------------------------ */
/* Backend: events */

int
ct_evq_fd(int *fdp)
{
	int err;

	lock();
	if ((err = port_ready()) == 0)
		*fdp = g_port;
	unlock();
	return (err);
}

/* A core file path of the event, copied; absent is no error. */
static int
event_str(int (*get)(ct_evthdl_t, const char **), ct_evthdl_t ev,
    char **dstp)
{
	const char *s = NULL;

	if (get(ev, &s) != 0 || s == NULL)
		return (0);
	return ((*dstp = strdup(s)) == NULL ? ENOMEM : 0);
}

/* Record a payload field when its getter has it (ENOENT: absent). */
#define	FIELD(call, var, field, bit)	\
	do {				\
		if ((call) == 0) {	\
			r->field = var;	\
			r->have |= (bit); \
		}			\
	} while (0)

/* The payload that libcontract's getters give. */
static int
event_payload(ct_evthdl_t ev, ct_evrec_t *r)
{
	pid_t pid;
	ctid_t ct;
	ctevid_t nevid;
	int i, err = 0;

	if (r->type == CT_EV_NEGEND) {
		FIELD(ct_event_get_nevid(ev, &nevid), nevid, nevid,
		    CT_EVP_NEVID);
		FIELD(ct_event_get_newct(ev, &ct), ct, newct, CT_EVP_NEWCT);
		return (0);
	}
	if (r->cttype != CT_TYPE_PROCESS)
		return (0);	/* device events carry nothing else */
	FIELD(ct_pr_event_get_pid(ev, &pid), pid, pid, CT_EVP_PID);
	switch (r->type) {
	case CT_PR_EV_FORK:
		FIELD(ct_pr_event_get_ppid(ev, &pid), pid, ppid, CT_EVP_PPID);
		break;
	case CT_PR_EV_EXIT:
		FIELD(ct_pr_event_get_exitstatus(ev, &i), i, exitstatus,
		    CT_EVP_EXITSTATUS);
		break;
	case CT_PR_EV_SIGNAL:
		FIELD(ct_pr_event_get_signal(ev, &i), i, signal,
		    CT_EVP_SIGNAL);
		FIELD(ct_pr_event_get_sender(ev, &pid), pid, sender,
		    CT_EVP_SENDER);
		FIELD(ct_pr_event_get_senderct(ev, &ct), ct, sender_ctid,
		    CT_EVP_SENDCT);
		break;
	case CT_PR_EV_CORE:	/* its signal has no getter (spec c.4) */
		if ((err = event_str(ct_pr_event_get_pcorefile, ev,
		    &r->pcorefile)) == 0 &&
		    (err = event_str(ct_pr_event_get_gcorefile, ev,
		    &r->gcorefile)) == 0)
			err = event_str(ct_pr_event_get_zcorefile, ev,
			    &r->zcorefile);
		break;
	}
	return (err);
}
#undef FIELD

/*
 * A critical event on the pbundle for a contract we hold but nobody here
 * has open (never opened, or closed without abandoning): nobody would ever
 * acknowledge it, so do it now rather than let it pile up in the kernel,
 * as ctrun does.
 */
static void
stray_ack(ct_type_t type, ct_id_t id, ct_evthdl_t ev)
{
	char path[CTPATH_MAX];
	int fd;

	if ((ct_event_get_flags(ev) & (CTE_INFO | CTE_ACK)) != 0)
		return;
	if ((fd = ctfs_open(ctpath(path, type_dirs[type], id, "ctl"),
	    O_WRONLY)) >= 0) {
		(void) ct_ctl_ack(fd, ct_event_get_evid(ev));
		(void) close(fd);
	}
}

/* With g_lock: queue ev, read from ep, if an open handle wants it. */
static int
event_take(endpoint_t *ep, ct_evthdl_t ev)
{
	ct_id_t id = (ct_id_t)ct_event_get_ctid(ev);
	watch_t *w = *watch_slot(id);
	evnode_t *n;
	int err;

	if (ep->w == NULL && (w == NULL || w->nheld == 0)) {
		stray_ack(ep->type, id, ev);
		return (0);
	}
	if (ep->w != NULL && (w != ep->w || w->nheld > 0))
		return (0);	/* held too: the pbundle brings it */
	if ((n = calloc(1, sizeof (*n))) == NULL)
		return (ENOMEM);
	n->rec.ctid = id;
	n->rec.cttype = ep->type;
	n->rec.evid = ct_event_get_evid(ev);
	n->rec.type = ct_event_get_type(ev);
	n->rec.flags = ct_event_get_flags(ev) & (CTE_ACK | CTE_INFO | CTE_NEG);
	if ((err = event_payload(ev, &n->rec)) != 0) {
		ct_evrec_fini(&n->rec);
		free(n);
		return (err);
	}
	*g_qtail = n;
	g_qtail = &n->next;
	return (0);
}

/* With g_lock: read ep until EAGAIN (it never blocks), then re-arm it. */
static int
ep_drain(endpoint_t *ep)
{
	ct_evthdl_t ev;
	int err, first = 0;

	while ((err = ct_event_read(ep->fd, &ev)) == 0) {
		int e = event_take(ep, ev);

		ct_event_free(ev);
		if (e != 0 && first == 0)
			first = ct_err_set(e, NULL, "out of memory: a %s "
			    "contract event was lost", type_dirs[ep->type]);
	}
	if (err != EAGAIN && first == 0)
		first = ct_err_set(err, "ct_event_read",
		    "cannot read %s contract events", type_dirs[ep->type]);
	/* Armed after draining: an event that came in between fires now. */
	if ((err = ep_arm(ep)) != 0 && first == 0)
		first = err;
	return (first);
}

int
ct_evq_dispatch(void)
{
	port_event_t pe[64];
	struct timespec zero = { 0, 0 };
	uint_t n;
	int first = 0, err;

	lock();
	while (g_port >= 0) {
		/*
		 * -1 and ETIME: fewer events than asked for, n says how many
		 * (maybe 0); -1 and another errno: n is not updated; an
		 * errno returned: n is valid.
		 */
		n = 1;
		if (port_getn(g_port, pe, 64, &n, &zero) == -1 &&
		    errno != ETIME) {
			if (errno == EINTR)
				continue;
			first = ct_err_set(errno, "port_getn",
			    "cannot collect contract events");
			break;
		}
		for (uint_t i = 0; i < n; i++) {
			if (pe[i].portev_source == PORT_SOURCE_FD &&
			    (err = ep_drain(pe[i].portev_user)) != 0 &&
			    first == 0)
				first = err;
		}
		if (n < 64)
			break;
	}
	unlock();
	return (first);
}

int
ct_evq_next(ct_evrec_t *ev)
{
	evnode_t *n;

	lock();
	if ((n = g_qhead) != NULL && (g_qhead = n->next) == NULL)
		g_qtail = &g_qhead;
	unlock();
	if (n == NULL)
		return (ENOENT);
	*ev = n->rec;
	free(n);
	return (0);
}

/* ------------------------------------------------------------------ */
/* Backend: what this host delivers */

int
ct_features_get(ct_features_t *f)
{
	struct stat sb;

	(void) memset(f, 0, sizeof (*f));
	f->backend = "illumos";
	f->pr_events = NC_PR_ALLEVENT;
	f->devices = true;
	f->holder_death = true;	/* the kernel applies it */
	f->spawn = CT_SPAWN_KERNEL;
	if (stat(CTFS_ROOT "/all", &sb) == 0)
		return ((f->root = strdup(CTFS_ROOT)) == NULL ? ENOMEM : 0);
	f->root_errno = errno;
	if (asprintf(&f->root_error, "ctfs is not mounted on %s: %s",
	    CTFS_ROOT, strerror(f->root_errno)) < 0) {
		f->root_error = NULL;
		return (ENOMEM);
	}
	return (0);
}

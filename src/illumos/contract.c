/*
 * contract.c -- contract handles, status, control and listing for the
 * illumos backend (see il.h).
 *
 * Ownership is the contract's: its watch says whether this process holds
 * it, so an abandon through one handle is seen by every other.  An owned
 * process contract that no handle refers to any more is abandoned once it
 * is empty (at once if it already is): the kernel destroys an empty
 * contract only when it is orphaned, and owned empty ones would pile up
 * until project.max-contracts stops every later fork with a template.
 */
#include "il.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Options for the events endpoints of observers (tools.h: ctwatch). */
static bool g_obs_reset, g_obs_reliable;

void
il_observe_options(bool reliable, bool reset)
{
	g_obs_reliable = reliable;
	g_obs_reset = reset;
}

static int
observe_open(watch_t *w)
{
	char path[IL_PATH_MAX];
	int err;

	if (w->ev.fd >= 0)
		return (0);
	err = il_ep_open(&w->ev, il_path(path, il_type_dirs[w->type],
	    w->ctid, "events"), g_obs_reset, g_obs_reliable);
	if (err == EPERM || err == EACCES)
		err = ct_err_set(err, "open", "may not observe contract %d: "
		    "not the author's or holder's user, and no "
		    "contract_observer privilege", (int)w->ctid);
	return (err);
}

/* With the lock: count c in its watch and open what brings its events. */
static int
attach(ct_contract_t *c, ct_open_t how)
{
	watch_t *w;
	int err = 0;

	if ((w = il_watch_get(c->ctid, c->type)) == NULL)
		return (ct_err_set(ENOMEM, NULL, "out of memory"));
	if (how == CT_OPEN_OBSERVE) {
		err = observe_open(w);
	} else if ((err = il_pbundle_ready(c->type)) == 0) {
		/*
		 * Adopting appends its pending events to our pbundle.  The
		 * ctl file opened, so we hold the contract or our process
		 * contract is the regent that inherited it
		 * (ctfs_ctl.c:96-99): contract_adopt's EINVAL is then a
		 * contract we hold already, its EBUSY another member of the
		 * regent adopting it first (contract.c:614-618, :634-637).
		 */
		if (how == CT_OPEN_ADOPT && (err = ct_ctl_adopt(c->ctl)) != 0)
			err = ct_err_set(err, "ct_ctl_adopt", "cannot adopt "
			    "contract %d%s", (int)c->ctid, err == EINVAL ?
			    ": this process holds it already (only an "
			    "inherited contract can be adopted)" : err ==
			    EBUSY ? ": another member of the regent adopted it "
			    "first" : "");
		if (err == 0)
			w->owned = true;
		if (err == 0 && how == CT_OPEN_LATEST &&
		    c->type == CT_TYPE_PROCESS && w->nhandles == 0) {
			ct_cstatus_t st;

			bool traced = false;

			if (il_status_read(c->type, c->ctid, &st) == 0) {
				w->hidden = il_tmpl_hidden(c->ctid, &st,
				    &traced);
				ct_cstatus_fini(&st);
			}
			ct_err_clear();
			if (traced && w->trace == NULL &&
			    (w->trace = il_trace_new(c->ctid)) == NULL)
				err = ct_err_set(ENOMEM, NULL, "out of memory");
		}
	}
	if (err != 0) {
		il_watch_put(w);
		return (err);
	}
	w->nhandles++;
	w->reap = false;
	c->w = w;
	return (0);
}

int
ct_contract_open(ct_id_t id, ct_open_t how, ct_contract_t **cp)
{
	char path[IL_PATH_MAX];
	ct_contract_t *c;
	ct_type_t type = CT_TYPE_PROCESS;
	int ctl = -1, err;

	if ((unsigned)how > CT_OPEN_OBSERVE)
		return (ct_err_set(EINVAL, NULL, "unknown open mode %d",
		    (int)how));
	if ((err = il_ctid_type(id, &type)) != 0)
		return (err);
	/*
	 * ctl takes exactly O_WRONLY, and opens for the holder, or for a
	 * member of the regent of an inherited contract (ctfs_ctl.c:96-99):
	 * an orphan (its regent is gone, contract.c:564) or a contract
	 * another regent inherited is refused here, with EACCES.
	 */
	if (how != CT_OPEN_OBSERVE && (ctl = il_open_exact(il_path(path,
	    il_type_dirs[type], id, "ctl"), O_WRONLY)) < 0) {
		if (errno == EACCES)
			return (ct_err_set(errno, "open", "contract %d is not "
			    "held by this process%s", (int)id, how ==
			    CT_OPEN_ADOPT ? ", nor inherited by the regent "
			    "contract this process is a member of (an orphan "
			    "cannot be adopted on illumos)" : ""));
		return (ct_err_set(errno, "open", "cannot open %s", path));
	}
	if ((c = calloc(1, sizeof (*c))) == NULL) {
		err = ct_err_set(ENOMEM, NULL, "out of memory");
	} else {
		c->ctid = id;
		c->type = type;
		c->ctl = ctl;
		il_lock();
		err = attach(c, how);
		il_unlock();
	}
	if (err != 0) {
		if (ctl >= 0)
			(void) close(ctl);
		free(c);
		return (err);
	}
	*cp = c;
	return (0);
}

/*
 * With the lock: the last handle of w is gone.  An owned process contract
 * is abandoned now if it is empty, else when its pr_empty arrives (the
 * watch stays, without handles, to see it).  One whose terms leave out
 * pr_empty (adopted: its terms are its creator's) cannot be seen to
 * empty, and stays held until this process exits.
 */
static void
last_close(watch_t *w, int ctl)
{
	ct_cstatus_t st;

	if (!w->owned || w->type != CT_TYPE_PROCESS)
		return;
	if (il_status_read(w->type, w->ctid, &st) != 0) {
		ct_err_clear();
		return;
	}
	if (st.nmembers == 0) {
		if ((ctl >= 0 ? ct_ctl_abandon(ctl) :
		    il_abandon_id(w->type, w->ctid)) == 0)
			w->owned = false;
	} else if (((st.critical | st.informative) & CT_PR_EV_EMPTY) != 0) {
		w->reap = true;
	}
	ct_cstatus_fini(&st);
}

void
ct_contract_close(ct_contract_t *c)
{
	if (c == NULL)
		return;
	il_lock();
	if (--c->w->nhandles == 0)
		last_close(c->w, c->ctl);
	il_watch_put(c->w);
	il_unlock();
	if (c->ctl >= 0)
		(void) close(c->ctl);
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
	return (c->ctl >= 0 && c->w->owned);
}

uint64_t
ct_contract_gen(const ct_contract_t *c)
{
	(void) c;
	return (0);	/* an open handle keeps its id from reuse */
}

int
ct_contract_status(ct_contract_t *c, ct_cstatus_t *st)
{
	int err;

	if ((err = il_status_read(c->type, c->ctid, st)) != 0)
		return (err);
	/* The events we subscribed are not the user's terms. */
	st->informative &= ~c->w->hidden;
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

/*
 * With the lock: whether w, which we held, is no longer ours: given away
 * by the transfer term of a template at a later fork (process.c:906
 * abandons it then).  Noted in the watch, so every handle says so.
 */
static bool
given_away(watch_t *w)
{
	ct_cstatus_t st;
	bool gone;

	int err;

	if (!w->owned)
		return (w->transferred);
	/* Gone from ctfs: the abandon destroyed it (it was empty). */
	if ((err = il_status_read(w->type, w->ctid, &st)) != 0) {
		ct_err_clear();
		gone = err == ENOENT;
	} else {
		gone = st.holder != (int32_t)getpid() ||
		    st.state != CTS_OWNED;
		ct_cstatus_fini(&st);
	}
	if (gone) {
		w->owned = false;
		w->transferred = true;
		w->reap = false;
	}
	return (gone);
}

/* A contract this process holds that emptied with no handle open. */
static ct_id_t g_stray_empty;

void
il_stray_empty(ct_id_t id)
{
	char path[IL_PATH_MAX];
	ct_id_t latest;

	/*
	 * Nobody here will ever open it, unless it is a thread's latest
	 * (1.0.3: set_template, spawn, then latest() some ticks later): this
	 * thread's latest is kept until a later fork makes another.
	 */
	if (il_latest_read(CT_TYPE_PROCESS, &latest, path) == 0 &&
	    latest == id) {
		if (g_stray_empty != 0 && g_stray_empty != id &&
		    il_watch_find(g_stray_empty) == NULL)
			(void) il_abandon_id(CT_TYPE_PROCESS, g_stray_empty);
		g_stray_empty = id;
		return;
	}
	(void) il_abandon_id(CT_TYPE_PROCESS, id);
}

void
il_after_fork(ct_id_t latest, ct_id_t transfer)
{
	watch_t *w;

	il_lock();
	if (transfer != 0 && transfer != latest &&
	    (w = il_watch_find(transfer)) != NULL && w->owned)
		(void) given_away(w);
	if (g_stray_empty != 0 && g_stray_empty != latest) {
		if (il_watch_find(g_stray_empty) == NULL)
			(void) il_abandon_id(CT_TYPE_PROCESS, g_stray_empty);
		g_stray_empty = 0;
	}
	il_unlock();
}

/*
 * After an abandon the kernel sends the contract's events no more to our
 * pbundle, and trims from it those we have not read.  The handles that
 * stay open keep receiving them: first the contract's own events endpoint
 * is opened (it gets what is published from now on), then the pbundle is
 * drained (what was published before), and only then is it abandoned.
 * What both bring is queued once (il_event_take()).
 */
int
ct_contract_abandon(ct_contract_t *c)
{
	char path[IL_PATH_MAX];
	watch_t *w = c->w;
	int err;

	if ((err = ctl_check(c, "abandon")) != 0)
		return (err);
	il_lock();
	if (w->owned && w->ev.fd < 0 && il_ep_open(&w->ev, il_path(path,
	    il_type_dirs[w->type], w->ctid, "events"), false, false) != 0)
		ct_err_clear();	/* the handles will see no more events */
	if (w->owned)
		(void) il_pbundle_drain(w->type);
	if (w->transferred)
		err = 0;	/* abandoned by the kernel at the transfer */
	else if ((err = ct_ctl_abandon(c->ctl)) == EINVAL && given_away(w))
		err = 0;	/* the kernel abandoned it for us */
	if (err == 0) {
		w->owned = false;
		w->npend[1] = 0;	/* the pbundle brings no more of it */
	}
	il_unlock();
	if (err != 0)
		return (ct_err_set(err, "ct_ctl_abandon",
		    "cannot abandon contract %d", (int)c->ctid));
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

/* features.freeze and features.usage say false: the JS layer never asks. */
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

/* The ids in d, unsorted; 0 or an errno. */
static int
list_read(DIR *d, ct_id_t **idsp, size_t *np)
{
	ct_id_t *ids = NULL, *more, id;
	size_t n = 0, cap = 0;
	struct dirent *de;

	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (!parse_id(de->d_name, &id))
			continue;	/* template, latest, bundle ... */
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((more = realloc(ids, cap * sizeof (*ids))) == NULL) {
				free(ids);
				return (ENOMEM);
			}
			ids = more;
		}
		ids[n++] = id;
	}
	if (errno != 0) {
		free(ids);
		return (errno);
	}
	*idsp = ids;
	*np = n;
	return (0);
}

int
ct_contract_list(ct_type_t type, ct_id_t **idsp, size_t *np)
{
	char path[IL_PATH_MAX];
	DIR *d;
	int fd, err;

	if ((unsigned)type > CT_TYPE_COUNT)
		return (ct_err_set(EINVAL, NULL, "unknown contract type %d",
		    (int)type));
	fd = il_open(il_path(path, type == CT_TYPE_COUNT ? "all" :
	    il_type_dirs[type], 0, NULL), O_RDONLY);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		err = errno;
		if (fd >= 0)
			(void) close(fd);
		return (ct_err_set(err, "open", "cannot read %s", path));
	}
	err = list_read(d, idsp, np);
	(void) closedir(d);
	if (err != 0)
		return (ct_err_set(err, "readdir", "cannot read %s", path));
	qsort(*idsp, *np, sizeof (**idsp), id_cmp);
	return (0);
}

/*
 * contract.c -- the ct_contract_* calls of the Linux backend: open (latest,
 * adopt, observe), status, abandon, ack, sigsend, and the whole-tree
 * extensions (freeze, usage), plus list and features.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx.h"

struct ct_contract {
	ct_id_t id;
	ct_open_t how;
	lx_watch_t *w;
};

#define	TERMS(c)	(lx_watch_terms((c)->w))
#define	TERMS_W(w)	(lx_watch_terms(w))
/* The watch's directory, for this call: an idle one keeps no fd (watch.c). */
#define	DIRFD(c)	(lx_watch_dirfd((c)->w))

static bool
held_by_us(const lx_hstate_t *st)
{
	pid_t pid;
	uint64_t start;

	lx_self(&pid, &start);
	return (st->state == LX_OWNED && st->holder == pid &&
	    st->start == start);
}

/* Take over an orphan or inherited contract ("Holder death"). */
static int
adopt(ct_id_t id, int fd, lx_hstate_t *st)
{
	struct stat sb;
	int err = 0;

	if ((err = lx_trylock(fd)) != 0)
		return (ct_err_set(err == EWOULDBLOCK ? EBUSY : err, "flock",
		    "cannot lock contract %" PRId32 " to adopt it: %s", id,
		    err == EWOULDBLOCK ? "another process holds its lock" :
		    strerror(err)));
	if ((err = lx_state_read(fd, st)) != 0)
		goto out;
	if (st->state == LX_OWNED && !lx_state_holder_gone(st)) {
		err = ct_err_set(EPERM, "ct_ctl_adopt", "contract %" PRId32
		    " is owned by pid %d; only an orphan or inherited contract "
		    "can be adopted", id, (int)st->holder);
		goto out;
	}
	if (st->state == LX_DEAD) {
		err = ct_err_set(EPERM, "ct_ctl_adopt", "contract %" PRId32
		    " is dead", id);
		goto out;
	}
	if (fstat(fd, &sb) != 0 || (sb.st_uid != geteuid() && geteuid() != 0)) {
		err = ct_err_set(EPERM, "ct_ctl_adopt", "contract %" PRId32
		    " was made by uid %d; uid %d may not adopt it", id,
		    (int)sb.st_uid, (int)geteuid());
		goto out;
	}
	st->state = LX_OWNED;
	lx_self_holder(st);
	if ((err = lx_state_write(fd, st)) != 0)
		err = ct_err_set(err, "fsetxattr", "cannot take contract %"
		    PRId32 ": %s", id, strerror(err));
out:
	lx_unlock(fd);
	return (err);
}

/* Follow a contract: its member or device events first, then its watch. */
static int
follow(ct_id_t id, int fd, const lx_terms_t *terms, bool held, pid_t born,
    lx_watch_t **wp)
{
	int err;

	if (terms->type == CT_TYPE_DEVICE && (err = lx_dev_listen()) != 0)
		return (err);
	if (terms->type == CT_TYPE_PROCESS)
		(void) lx_members_listen();	/* features says if not */
	return (lx_watch_get(id, fd, terms, held, born, wp));
}

int
ct_contract_open(ct_id_t id, ct_open_t how, ct_contract_t **cp)
{
	ct_contract_t *c;
	lx_terms_t terms;
	lx_hstate_t st;
	int err, fd = -1;

	if (id <= 0)
		return (ct_err_set(ESRCH, "open", "no contract %" PRId32, id));
	if ((c = calloc(1, sizeof (*c))) == NULL)
		return (ENOMEM);
	c->id = id;
	c->how = how;
	/*
	 * latest() right after a spawn: the contract is ours and watched
	 * already (ct_spawn_commit), with its terms; nothing to read.
	 */
	if (how != CT_OPEN_LATEST || lx_watch_get_held(id, &c->w) != 0) {
		if ((err = lx_root_open_ct(id, &fd, &terms, &st)) != 0) {
			free(c);
			return (err);
		}
		if (how == CT_OPEN_LATEST && !held_by_us(&st))
			err = ct_err_set(EPERM, "open", "contract %" PRId32
			    " is not held by this process", id);
		else if (how == CT_OPEN_ADOPT)
			err = adopt(id, fd, &st);
		if (err == 0)
			err = follow(id, fd, &terms, how != CT_OPEN_OBSERVE, 0,
			    &c->w);
		lx_terms_fini(&terms);
		(void) close(fd);
		if (err != 0) {
			free(c);
			return (err);
		}
	}
	lx_watch_opened(c->w);
	*cp = c;
	return (0);
}

/* ---- traces (docs/trace.md) ---- */

static __thread bool trace_armed;

int
ct_trace_arm(bool on)
{
	int err;

	if (!on) {
		if (trace_armed)
			(void) lx_cn_exec(false);
		trace_armed = false;
		return (0);
	}
	if (trace_armed)
		return (0);
	if ((err = lx_members_listen()) != 0)
		return (ct_err_set(ENOTSUP, "socket", "trace: true needs the "
		    "proc connector for every fork, exec and exit, and it cannot "
		    "be had here (%s)", lx_cn_why(err)));
	/* EXEC asked for before the child can exec. */
	if ((err = lx_cn_exec(true)) != 0) {
		(void) lx_cn_exec(false);
		return (ct_err_set(err, "send", "cannot ask the proc connector "
		    "for exec events: %s", strerror(err)));
	}
	trace_armed = true;
	return (0);
}

/* A contract made while this thread is armed is traced from its birth. */
static void
trace_start(lx_watch_t *w, pid_t born)
{
	lx_trace_t *t;
	pid_t hidden = lx_ms()->hidden(born);

	if (!trace_armed || lx_watch_trace(w) != NULL ||
	    TERMS_W(w)->type != CT_TYPE_PROCESS)
		return;
	if ((t = lx_trace_new(hidden, getpid())) == NULL)
		return;
	if (hidden == 0)
		(void) lx_trace_fork(t, getpid(), born, 0);
	(void) lx_cn_exec(true);	/* the watch's own ask */
	lx_watch_set_trace(w, t);
}

int
ct_contract_trace(ct_contract_t *c, ct_trace_t *t)
{
	const lx_trace_t *lt = lx_watch_trace(c->w);

	memset(t, 0, sizeof (*t));
	if (lt == NULL)
		return (ct_err_set(ENOENT, "ct_trace", "contract %" PRId32
		    " is not traced: ask with trace: true when spawning it",
		    c->id));
	lx_cn_drain();	/* what the kernel has told so far */
	return (lx_trace_copy(lt, t));
}

int
lx_contract_hold(ct_id_t id, int dirfd, const lx_terms_t *terms, pid_t pid)
{
	lx_terms_t got;
	lx_hstate_t st;
	lx_watch_t *w;
	int fd = dirfd, err;

	if (dirfd < 0 && (err = lx_root_open_ct(id, &fd, &got, &st)) != 0)
		return (err);
	err = follow(id, fd, dirfd < 0 ? &got : terms, true, pid, &w);
	if (err == 0 && pid != 0)
		trace_start(w, pid);
	if (err == 0)
		lx_watch_put(w);
	if (dirfd < 0) {
		lx_terms_fini(&got);
		(void) close(fd);
	}
	return (err);
}

void
ct_contract_close(ct_contract_t *c)
{
	if (c == NULL)
		return;
	lx_watch_put(c->w);
	free(c);
}

ct_id_t
ct_contract_id(const ct_contract_t *c)
{
	return (c->id);
}

ct_type_t
ct_contract_type(const ct_contract_t *c)
{
	return (TERMS(c)->type);
}

bool
ct_contract_owned(const ct_contract_t *c)
{
	return (c->how != CT_OPEN_OBSERVE && lx_watch_held(c->w));
}

uint64_t
ct_contract_gen(const ct_contract_t *c)
{
	return (lx_watch_gen(c->w));
}

/* Control calls need the contract held, not observed ("Holder death"). */
/*
 * A read of c found its anchor record refused (EBADMSG, docs/security.md).
 * The watch would learn it only at its next notice, which need not come
 * while the anchor runs; it is told now, so that it says the contract is
 * broken to everything that waits for it to empty.
 */
static void
refused(ct_contract_t *c, int err)
{
	if (err == EBADMSG && TERMS(c)->type == CT_TYPE_PROCESS)
		lx_watch_recheck(c->w);
}

static int
need_held(const ct_contract_t *c, const char *what)
{
	if (c->how == CT_OPEN_OBSERVE)
		return (ct_err_set(EPERM, what, "contract %" PRId32 " is "
		    "observed, not held: %s needs the holder", c->id, what));
	if (!lx_watch_held(c->w))
		return (ct_err_set(EINVAL, what, "contract %" PRId32 " is no "
		    "longer held by this process (abandoned)", c->id));
	return (0);
}

static char *
dup_or_empty(const char *s)
{
	return (strdup(s != NULL ? s : ""));
}

/* Contracts parked in regent id (state "inherited <id>"). */
static int
inherited_one(ct_id_t id, const char *name, int fd, void *arg)
{
	ct_cstatus_t *st = arg;
	lx_hstate_t hs;

	(void) name;
	if (lx_state_read(fd, &hs) == 0 && hs.state == LX_INHERITED &&
	    hs.regent == st->ctid) {
		ct_id_t *n = realloc(st->contracts,
		    (st->ncontracts + 1) * sizeof (*n));
		if (n != NULL) {
			st->contracts = n;
			n[st->ncontracts++] = id;
		}
	}
	return (0);
}

int
ct_contract_status(ct_contract_t *c, ct_cstatus_t *st)
{
	lx_hstate_t hs;
	uint64_t nev = 0;
	int pop, frozen;

	memset(st, 0, sizeof (*st));
	st->ctid = c->id;
	st->zoneid = 0;
	st->type = TERMS(c)->type;
	st->critical = TERMS(c)->critical;
	st->informative = TERMS(c)->informative;
	st->cookie = TERMS(c)->cookie;
	st->params = TERMS(c)->params;
	st->fatal = TERMS(c)->fatal;
	st->ntime = st->qtime = -1;
	st->svc_ctid = TERMS(c)->svc_ctid != 0 ? TERMS(c)->svc_ctid : c->id;
	st->frozen = -1;
	st->lost = lx_watch_lost(c->w);
	if (lx_state_read(DIRFD(c), &hs) != 0)
		hs.state = LX_DEAD;	/* the directory is gone */
	if (hs.state == LX_OWNED && lx_state_holder_gone(&hs))
		hs.state = LX_ORPHAN;	/* its holder died; keeper pending */
	st->state = (int)hs.state;
	if (hs.state == LX_OWNED)
		st->holder = hs.holder;
	else if (hs.state == LX_INHERITED)
		st->holder = hs.regent;
	if (lx_watch_held(c->w))
		st->nevents = lx_watch_nevents(c->w);
	else if (hs.state == LX_OWNED &&
	    lx_meta_get_u64(DIRFD(c), LX_META_NEVENTS, &nev) == 0)
		st->nevents = (uint32_t)nev;
	if (hs.state != LX_DEAD) {
		int merr = lx_ms()->members(DIRFD(c), &st->members,
		    &st->nmembers);
		/* A record refused (docs/security.md): an error, never "none". */
		if (merr == EBADMSG) {
			ct_cstatus_fini(st);
			refused(c, merr);
			return (EBADMSG);
		}
		if (merr != 0)
			st->nmembers = 0;
		if (lx_ms()->populated(DIRFD(c), &pop, &frozen) == 0)
			st->frozen = frozen;
	}
	if (TERMS(c)->params & NC_PR_REGENT)
		(void) lx_root_each(inherited_one, st);
	if (TERMS(c)->type == CT_TYPE_DEVICE) {
		st->ntime = st->qtime = 0;	/* idle device contracts: 0 */
		st->dev_state = lx_watch_dev_state(c->w);
		st->dev_aset = TERMS(c)->dev_aset;
		st->dev_noneg = false;
		if ((st->dev_minor = strdup(TERMS(c)->dev_minor != NULL ?
		    TERMS(c)->dev_minor : "")) == NULL) {
			ct_cstatus_fini(st);
			return (ENOMEM);
		}
	}
	st->svc_fmri = dup_or_empty(TERMS(c)->svc_fmri);
	st->svc_aux = dup_or_empty(TERMS(c)->svc_aux);
	st->svc_creator = dup_or_empty(TERMS(c)->creator);
	if (st->svc_fmri == NULL || st->svc_aux == NULL ||
	    st->svc_creator == NULL) {
		ct_cstatus_fini(st);
		return (ENOMEM);
	}
	return (0);
}

int
ct_contract_abandon(ct_contract_t *c)
{
	lx_hstate_t st = { .state = LX_ORPHAN };
	int err, pop, frozen;

	if ((err = need_held(c, "ct_ctl_abandon")) != 0)
		return (err);
	if (TERMS(c)->params & NC_PR_NOORPHAN)
		(void) lx_ms()->kill(DIRFD(c));
	/* A killed anchor's tree we kept (custody.c): let it go, running. */
	lx_custody_release(DIRFD(c));
	if (lx_ms()->populated(DIRFD(c), &pop, &frozen) == 0 && pop == 0) {
		lx_watch_release(c->w, LX_DEAD);
		lx_root_bury(c->id, DIRFD(c));
		return (0);
	}
	lx_watch_release(c->w, LX_ORPHAN);
	if ((err = lx_state_write(DIRFD(c), &st)) != 0)
		return (ct_err_set(err, "fsetxattr", "cannot mark contract %"
		    PRId32 " orphaned: %s", c->id, strerror(err)));
	return (0);
}

int
ct_contract_ack(ct_contract_t *c, ct_evid_t evid)
{
	int err;

	if ((err = need_held(c, "ct_ctl_ack")) != 0)
		return (err);
	return (lx_watch_ack(c->w, evid));
}

static int
no_negotiation(ct_contract_t *c, ct_evid_t evid, const char *what)
{
	int err;

	if ((err = need_held(c, what)) != 0)
		return (err);
	if (TERMS(c)->type == CT_TYPE_DEVICE)
		return (ct_err_set(ENOTSUP, what, "Linux never asks before a "
		    "device changes state, so there is no negotiation to "
		    "answer (event %" PRIu64 ")", evid));
	return (ct_err_set(ESRCH, what, "event %" PRIu64 " is not a "
	    "negotiation event: process contracts never negotiate", evid));
}

int
ct_contract_nack(ct_contract_t *c, ct_evid_t evid)
{
	return (no_negotiation(c, evid, "ct_ctl_nack"));
}

int
ct_contract_qack(ct_contract_t *c, ct_evid_t evid)
{
	return (no_negotiation(c, evid, "ct_ctl_qack"));
}

/*
 * Signal every member (src/linux/sigsend.c: through pidfds, until a pass
 * finds no new one), with the tree frozen meanwhile where we may freeze it.
 */
static int
signal_loop(ct_contract_t *c, int sig, bool freeze)
{
	lx_sig_result_t r;
	int err = lx_sigsend(lx_ms(), DIRFD(c), sig,
	    freeze ? LX_SIG_FREEZE : 0, NULL, NULL, &r);

	if (err != 0) {
		refused(c, err);
		return (ct_err_set(err, "read", "cannot list the members of "
		    "contract %" PRId32 ": %s", c->id, strerror(err)));
	}
	if (r.sent == 0 && r.denied > 0)
		return (ct_err_set(EPERM, "kill", "not permitted to signal the "
		    "members of contract %" PRId32, c->id));
	if (r.sent == 0 && r.denied == 0)
		return (ct_err_set(ESRCH, "sigsend", "contract %" PRId32 " has "
		    "no members", c->id));
	return (0);
}

int
ct_contract_sigsend(ct_contract_t *c, int sig)
{
	bool held = c->how != CT_OPEN_OBSERVE && lx_watch_held(c->w);
	int pop, frozen, err;

	if (TERMS(c)->type != CT_TYPE_PROCESS)
		return (ct_err_set(EINVAL, "sigsend", "contract %" PRId32 " is "
		    "not a process contract", c->id));
	if (sig < 0 || sig >= NSIG)
		return (ct_err_set(EINVAL, "sigsend", "%d is not a signal",
		    sig));
	/*
	 * A refused record is not "no members": the members may run, but
	 * nobody can tell which they are, so nothing is signalled.
	 */
	if ((err = lx_ms()->populated(DIRFD(c), &pop, &frozen)) == EBADMSG) {
		refused(c, err);
		return (ct_err_set(EBADMSG, "sigsend", "contract %" PRId32 ": "
		    "its anchor record is refused (forged or spoiled by a "
		    "member), so its members cannot be known: nothing was "
		    "signalled", c->id));
	}
	/* A killed anchor's tree we kept (custody.c) can be signalled. */
	if (err == EOWNERDEAD && lx_custody_has(DIRFD(c))) {
		err = 0;
		pop = 1;
	}
	if (err != 0 || pop == 0)
		return (ct_err_set(ESRCH, "sigsend", "contract %" PRId32 " has "
		    "no members", c->id));
	if (sig == 0)
		return (0);
	lx_watch_sending(c->w, sig);
	if (sig == SIGKILL && held &&
	    lx_ms()->kill(DIRFD(c)) == 0)
		return (0);
	return (signal_loop(c, sig, held));
}

int
ct_contract_freeze(ct_contract_t *c, bool freeze)
{
	int err;

	if ((err = need_held(c, freeze ? "freeze" : "thaw")) != 0)
		return (err);
	if (TERMS(c)->type != CT_TYPE_PROCESS)
		return (ct_err_set(EINVAL, "write", "contract %" PRId32 " is "
		    "not a process contract", c->id));
	if ((err = lx_ms()->freeze(DIRFD(c), freeze)) != 0)
		return (ct_err_set(err, "write", "cannot %s contract %" PRId32
		    ": %s", freeze ? "freeze" : "thaw", c->id,
		    err == ENOTSUP ? "this kernel has no cgroup freezer "
		    "(cgroup.freeze needs Linux 5.2)" : strerror(err)));
	int pop, frozen;
	if (lx_ms()->populated(DIRFD(c), &pop, &frozen) == 0 &&
	    frozen == (freeze ? 1 : 0))
		lx_watch_note_frozen(c->w, frozen);
	lx_watch_recheck(c->w);
	return (0);
}

int
ct_contract_members(ct_contract_t *c, ct_member_t **mp, size_t *np)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int err;

	pid_t hidden = 0, shown = 0;

	*mp = NULL;
	*np = 0;
	int fd = DIRFD(c);
	/*
	 * The hidden process first: members read after it cannot name it
	 * unless it still ran when they were read (gone, its children are
	 * reparented).
	 */
	if ((err = fd < 0 ? errno : lx_ms()->hidden_now(fd, &hidden,
	    &shown)) != 0 || (err = lx_ms()->members(fd, &pids, &n)) != 0) {
		refused(c, err);
		return (ct_err_set(err, "read", "cannot list the members of "
		    "contract %" PRId32, c->id));
	}
	err = lx_members_info(pids, n, mp, np);
	free(pids);
	if (err != 0)
		return (ct_err_set(err, "read", "cannot read the members of "
		    "contract %" PRId32 " from /proc", c->id));
	/*
	 * Never a pid of the hidden process (docs/ARCHITECTURE.md, "The
	 * child is the program"): its children are shown as its parent's,
	 * as pr_fork and traces show the program (members.c, trace.c).
	 */
	for (size_t i = 0; hidden != 0 && i < *np; i++)
		if ((*mp)[i].ppid == hidden)
			(*mp)[i].ppid = shown;
	return (0);
}

int
ct_contract_usage(ct_contract_t *c, ct_usage_t *u)
{
	int err, fd = DIRFD(c);

	if ((err = fd < 0 ? errno : lx_ms()->usage(fd, u)) != 0) {
		refused(c, err);
		return (ct_err_set(err, "read", "cannot read the usage of "
		    "contract %" PRId32 ": %s", c->id, err == ENOENT ?
		    "the contract no longer exists" : strerror(err)));
	}
	return (0);
}

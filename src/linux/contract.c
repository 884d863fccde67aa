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
	int dirfd;		/* the watch's */
	lx_watch_t *w;
};

#define	TERMS(c)	(lx_watch_terms((c)->w))

static int
open_dir(ct_id_t id, int *fdp, lx_terms_t *terms, lx_hstate_t *st)
{
	int err, fd = -1;

	if ((err = lx_cg_open(id, &fd)) != 0)
		return (err);
	if ((err = lx_terms_read(fd, terms)) != 0 ||
	    (err = lx_state_read(fd, st)) != 0 || st->state == LX_SPARE) {
		if (err == 0)
			lx_terms_fini(terms);
		(void) close(fd);
		return (ct_err_set(ESRCH, "fgetxattr", "%" PRId32 " is not a "
		    "contract (no contract metadata on its directory)", id));
	}
	*fdp = fd;
	return (0);
}

static bool
held_by_us(const lx_hstate_t *st)
{
	pid_t pid;
	uint64_t start;

	lx_self(&pid, &start);
	return (st->state == LX_OWNED && st->holder == pid &&
	    st->start == start);
}

/* Take over an orphan or inherited contract (spec c.6; DESIGN 4). */
static int
adopt(ct_id_t id, int fd, lx_hstate_t *st)
{
	struct stat sb;
	int err = 0;

	if (flock(fd, LOCK_EX) != 0)
		return (ct_err_set(errno, "flock", "cannot lock contract %"
		    PRId32, id));
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
	lx_self(&st->holder, &st->start);
	if ((err = lx_state_write(fd, st)) != 0)
		err = ct_err_set(err, "fsetxattr", "cannot take contract %"
		    PRId32 ": %s", id, strerror(err));
out:
	(void) flock(fd, LOCK_UN);
	return (err);
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
		if ((err = open_dir(id, &fd, &terms, &st)) != 0) {
			free(c);
			return (err);
		}
		if (how == CT_OPEN_LATEST && !held_by_us(&st))
			err = ct_err_set(EPERM, "open", "contract %" PRId32
			    " is not held by this process", id);
		else if (how == CT_OPEN_ADOPT)
			err = adopt(id, fd, &st);
		if (err == 0)
			err = lx_watch_get(id, fd, &terms,
			    how != CT_OPEN_OBSERVE, 0, &c->w);
		lx_terms_fini(&terms);
		(void) close(fd);
		if (err != 0) {
			free(c);
			return (err);
		}
	}
	/* One fd per contract: the handle uses its watch's. */
	c->dirfd = lx_watch_dirfd(c->w);
	lx_watch_opened(c->w);
	*cp = c;
	return (0);
}

int
lx_contract_hold(ct_id_t id, int dirfd, const lx_terms_t *terms, pid_t pid)
{
	lx_terms_t got;
	lx_hstate_t st;
	lx_watch_t *w;
	int fd = dirfd, err;

	if (dirfd < 0 && (err = open_dir(id, &fd, &got, &st)) != 0)
		return (err);
	err = lx_watch_get(id, fd, dirfd < 0 ? &got : terms, true, pid, &w);
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

/* Control calls need the contract held, not observed (spec c.6). */
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
static void
inherited_of(ct_id_t id, ct_cstatus_t *st)
{
	const lx_root_t *r;
	DIR *d;
	struct dirent *de;
	int fd;

	if (lx_root_get(&r) != 0 ||
	    (fd = openat(r->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		(void) close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		lx_hstate_t hs;
		int cfd;
		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    (cfd = openat(r->fd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) < 0)
			continue;
		if (lx_state_read(cfd, &hs) == 0 &&
		    hs.state == LX_INHERITED && hs.regent == id) {
			ct_id_t *n = realloc(st->contracts,
			    (st->ncontracts + 1) * sizeof (*n));
			if (n != NULL) {
				st->contracts = n;
				n[st->ncontracts++] = (ct_id_t)atol(de->d_name);
			}
		}
		(void) close(cfd);
	}
	(void) closedir(d);
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
	if (lx_state_read(c->dirfd, &hs) != 0)
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
	    lx_xattr_get_u64(c->dirfd, "user.ct.nevents", &nev) == 0)
		st->nevents = (uint32_t)nev;
	if (hs.state != LX_DEAD) {
		if (lx_cg_procs(c->dirfd, &st->members, &st->nmembers) != 0)
			st->nmembers = 0;
		if (lx_cg_events(c->dirfd, &pop, &frozen) == 0)
			st->frozen = frozen;
	}
	if (TERMS(c)->params & NC_PR_REGENT)
		inherited_of(c->id, st);
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
		(void) lx_cg_write(c->dirfd, "cgroup.kill", "1");
	if (lx_cg_events(c->dirfd, &pop, &frozen) == 0 && pop == 0) {
		lx_watch_release(c->w, LX_DEAD);
		lx_cg_bury(c->id, c->dirfd);
		return (0);
	}
	lx_watch_release(c->w, LX_ORPHAN);
	if ((err = lx_state_write(c->dirfd, &st)) != 0)
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
 * Signal every member until a pass finds no new one (processes fork while
 * we signal), with the tree frozen meanwhile where we may freeze it.
 */
static int
signal_loop(ct_contract_t *c, int sig, bool freeze)
{
	lx_map_t done = { 0 };
	int sent = 0, denied = 0, err = 0, was = 1;
	bool fresh = true;

	/* The asked-for state (cgroup.freeze), not the reached one. */
	char *want = NULL;
	if (freeze && lx_cg_read(c->dirfd, "cgroup.freeze", &want) == 0 &&
	    want[0] == '0') {
		was = 0;
		(void) lx_cg_write(c->dirfd, "cgroup.freeze", "1");
	}
	free(want);
	for (int pass = 0; fresh && pass < 10000; pass++) {
		pid_t *pids;
		size_t n;
		fresh = false;
		if ((err = lx_cg_procs(c->dirfd, &pids, &n)) != 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (lx_map_get(&done, pids[i]) != NULL)
				continue;
			fresh = true;
			(void) lx_map_put(&done, pids[i], &done);
			if (kill(pids[i], sig) == 0)
				sent++;
			else if (errno == EPERM)
				denied++;
		}
		free(pids);
	}
	if (freeze && was == 0)
		(void) lx_cg_write(c->dirfd, "cgroup.freeze", "0");
	lx_map_fini(&done);
	if (err != 0)
		return (ct_err_set(err, "read", "cannot list the members of "
		    "contract %" PRId32 ": %s", c->id, strerror(err)));
	if (sent == 0 && denied > 0)
		return (ct_err_set(EPERM, "kill", "not permitted to signal the "
		    "members of contract %" PRId32, c->id));
	if (sent == 0 && denied == 0)
		return (ct_err_set(ESRCH, "sigsend", "contract %" PRId32 " has "
		    "no members", c->id));
	return (0);
}

int
ct_contract_sigsend(ct_contract_t *c, int sig)
{
	bool held = c->how != CT_OPEN_OBSERVE && lx_watch_held(c->w);
	int pop, frozen;

	if (TERMS(c)->type != CT_TYPE_PROCESS)
		return (ct_err_set(EINVAL, "sigsend", "contract %" PRId32 " is "
		    "not a process contract", c->id));
	if (sig < 0 || sig >= NSIG)
		return (ct_err_set(EINVAL, "sigsend", "%d is not a signal",
		    sig));
	if (lx_cg_events(c->dirfd, &pop, &frozen) != 0 || pop == 0)
		return (ct_err_set(ESRCH, "sigsend", "contract %" PRId32 " has "
		    "no members", c->id));
	if (sig == 0)
		return (0);
	lx_watch_sending(c->w, sig);
	if (sig == SIGKILL && held &&
	    lx_cg_write(c->dirfd, "cgroup.kill", "1") == 0)
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
	if ((err = lx_cg_write(c->dirfd, "cgroup.freeze", freeze ? "1" : "0"))
	    != 0)
		return (ct_err_set(err, "write", "cannot %s contract %" PRId32
		    ": %s", freeze ? "freeze" : "thaw", c->id,
		    err == ENOENT ? "this kernel has no cgroup freezer "
		    "(cgroup.freeze needs Linux 5.2)" : strerror(err)));
	int pop, frozen;
	if (lx_cg_events(c->dirfd, &pop, &frozen) == 0 &&
	    frozen == (freeze ? 1 : 0))
		lx_watch_note_frozen(c->w, frozen);
	lx_watch_recheck(c->w);
	return (0);
}

int
ct_contract_usage(ct_contract_t *c, ct_usage_t *u)
{
	char *buf, *p;
	int err;

	memset(u, 0, sizeof (*u));
	if ((err = lx_cg_read(c->dirfd, "cpu.stat", &buf)) != 0)
		return (ct_err_set(err, "read", "cannot read cpu.stat of "
		    "contract %" PRId32 ": %s", c->id, err == ENOENT ?
		    "the contract no longer exists" : strerror(err)));
	if ((p = strstr(buf, "user_usec ")) != NULL)
		u->user_usec = strtoull(p + 10, NULL, 10);
	if ((p = strstr(buf, "system_usec ")) != NULL)
		u->system_usec = strtoull(p + 12, NULL, 10);
	free(buf);
	if (lx_cg_read(c->dirfd, "memory.current", &buf) == 0) {
		u->have_memory = true;
		u->memory_current = strtoull(buf, NULL, 10);
		free(buf);
		if (lx_cg_read(c->dirfd, "memory.peak", &buf) == 0) {
			u->memory_peak = strtoull(buf, NULL, 10);
			free(buf);
		}
	}
	return (0);
}

static int
cmp_id(const void *a, const void *b)
{
	ct_id_t x = *(const ct_id_t *)a, y = *(const ct_id_t *)b;

	return ((x > y) - (x < y));
}

int
ct_contract_list(ct_type_t type, ct_id_t **idsp, size_t *np)
{
	const lx_root_t *r;
	ct_id_t *ids = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	struct dirent *de;
	int fd, err;

	if ((err = lx_root_get(&r)) != 0)
		return (err);
	if ((fd = openat(r->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		err = errno;
		if (fd >= 0)
			(void) close(fd);
		return (ct_err_set(err, "opendir", "cannot list %s", r->path));
	}
	while ((de = readdir(d)) != NULL) {
		lx_terms_t t;
		lx_hstate_t hs;
		char *end;
		long id = strtol(de->d_name, &end, 10);
		int cfd;
		if (*end != '\0' || id <= 0 || id > INT32_MAX ||
		    (cfd = openat(r->fd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) < 0)
			continue;
		bool keep = lx_state_read(cfd, &hs) == 0 &&
		    hs.state != LX_SPARE && lx_terms_read(cfd, &t) == 0;
		if (keep) {
			keep = type == CT_TYPE_COUNT || t.type == type;
			lx_terms_fini(&t);
		}
		(void) close(cfd);
		if (!keep)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			ct_id_t *nids = realloc(ids, cap * sizeof (*ids));
			if (nids == NULL) {
				free(ids);
				(void) closedir(d);
				return (ENOMEM);
			}
			ids = nids;
		}
		ids[n++] = (ct_id_t)id;
	}
	(void) closedir(d);
	if (n > 1)
		qsort(ids, n, sizeof (*ids), cmp_id);
	*idsp = ids;
	*np = n;
	return (0);
}

int
ct_features_get(ct_features_t *f)
{
	const lx_root_t *r;
	int err;

	memset(f, 0, sizeof (*f));
	f->backend = "linux";
	(void) ct_spawn_mode_get(&f->spawn);
	if ((err = lx_root_get(&r)) != 0) {
		f->root_errno = err;
		f->root_error = strdup(ct_err_message() != NULL ?
		    ct_err_message() : strerror(err));
		ct_err_clear();
		return (0);
	}
	if ((f->root = strdup(r->path)) == NULL)
		return (ENOMEM);
	f->delegated = r->delegated;
	f->freeze = faccessat(r->fd, "cgroup.freeze", F_OK, 0) == 0;
	f->usage = faccessat(r->fd, "cpu.stat", F_OK, 0) == 0;
	f->memory = faccessat(r->fd, "memory.current", F_OK, 0) == 0;
	f->pr_events = NC_PR_EV_EMPTY;
	if (lx_watch_connector_status() == 0)
		f->pr_events |= NC_PR_EV_FORK | NC_PR_EV_EXIT |
		    NC_PR_EV_CORE | NC_PR_EV_SIGNAL;
	f->devices = true;
	f->holder_death = lx_keeper_available();
	return (0);
}

/*
 * spawn.c -- putting a new child into a new contract before it runs user
 * code (docs/ARCHITECTURE.md, "Linux: creation"), for the calling thread's active
 * process template (tmpl.c hands it over with lx_spawn_use):
 *
 *   atfork  pthread_atfork handlers: while the forking thread has an active
 *           process template, the child writes "0" into the cgroup.procs
 *           of a directory made ahead of need (async-signal-safe), so the
 *           exec'd program and everything it forks is inside.  Works while
 *           libuv spawns with fork().
 *   shim    for a libuv that uses posix_spawn (no atfork handlers run): the
 *           JS hook runs the child through ct-exec, which joins before it
 *           execs the program; the parent also moves the pid in before
 *           spawn() returns, so latest() never sees the join window.
 *   reaper  under reaper membership the same hook runs ct-exec --anchor
 *           (the membership table's spawn_mode): the anchor is the
 *           contract's first process and forks the program
 *           (docs/ARCHITECTURE.md, "The child is the program").
 *
 * ct_spawn_argv builds ct-exec's command line, in either form, for the
 * JS hook and for ctrun alike.
 *
 * Everything but the join stays off the spawn's path: the directory, its
 * terms and its cgroup.procs fd are made when the template is activated
 * (the "spare"), and after each fork the next spare is made in the parent
 * while the child execs.  On the path, one record: where the first
 * member's record commits a spare (the table's commit_key, cgroup), a
 * spawn its caller commits (ct_spawn_ready(true) before it) writes only
 * that; any other writes the state "owned" at the fork, as it must for a
 * fork nobody commits (spawnSync, a native fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

typedef struct spare {
	ct_id_t id;		/* 0: none */
	int dirfd;
	int procsfd;
	bool counted;		/* in the keeper's holds */
	bool has_terms;
	lx_terms_t terms;	/* as written to its directory */
	bool pending;		/* a contract whose state still says spare: */
				/* its commit's record makes it one */
} spare_t;

typedef struct tstate {
	const ct_template_t *tmpl;	/* tmpl.c's, while it is active */
	spare_t spare;		/* ready for the next fork */
	spare_t inflight;	/* shim: reserved for a spawn under way */
	spare_t made;		/* a contract now, until ct_spawn_commit */
	ct_id_t forking;	/* atfork: the spare this fork uses */
	ct_id_t forked;		/* atfork: made by the last fork, uncommitted */
	bool expect;		/* a caller will commit the next fork */
	bool expected;		/* ... and this fork is that one */
	ct_id_t latest;
	int deferred;		/* why the last fork got no contract */
	bool locked;		/* atfork: holds the backend's lock */
	int windows;		/* spawns between fork and commit */
	uint64_t forks;
} tstate_t;

#define	SPARE_NONE	{ .id = 0, .dirfd = -1, .procsfd = -1 }

static _Thread_local tstate_t ts = {
	.spare = SPARE_NONE, .inflight = SPARE_NONE, .made = SPARE_NONE
};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static ct_spawn_mode_t spawn_mode = CT_SPAWN_ATFORK;
static bool spawn_mode_forced;

static const char join_failed[] =
	"illumos_contract: cannot join the new contract; not running the "
	"child outside it\n";

static void
spare_close(spare_t *s)
{
	if (s->counted)
		lx_keeper_hold(s->id, false);
	s->counted = false;
	if (s->procsfd >= 0)
		(void) close(s->procsfd);
	if (s->dirfd >= 0)
		(void) close(s->dirfd);
	if (s->has_terms)
		lx_terms_fini(&s->terms);
	s->has_terms = false;
	s->pending = false;
	s->id = 0;
	s->dirfd = s->procsfd = -1;
}

/* Move *from to *to, leaving *from empty. */
static void
spare_move(spare_t *to, spare_t *from)
{
	*to = *from;
	*from = (spare_t)SPARE_NONE;
}

static void
spare_remove(spare_t *s)
{
	lx_root_rmdir(s->id);
	spare_close(s);
}

static char *creator_name(void)
{
	char *buf = NULL;
	FILE *f = fopen("/proc/self/comm", "re");
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		return (NULL);
	if ((n = getline(&buf, &cap, f)) > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	(void) fclose(f);
	return (buf);
}

/*
 * Who we are does not change between forks of one process: read our own
 * contract and comm once per pid, not on every spare.
 */
static void
self_cached(ct_id_t *ownp, const char **commp)
{
	static pid_t pid;
	static ct_id_t own;
	static char *comm;

	if (pid != getpid()) {
		pid = getpid();
		own = 0;
		(void) lx_root_own_ctid(&own);
		free(comm);
		comm = creator_name();
	}
	*ownp = own;
	*commp = comm;
}

int
lx_terms_from_template(const ct_template_t *t, lx_terms_t *terms)
{
	ct_id_t own = 0;
	const char *comm;
	int fd;

	memset(terms, 0, sizeof (*terms));
	terms->type = t->type;
	terms->critical = t->critical;
	terms->informative = t->informative;
	terms->fatal = t->fatal;
	terms->params = t->params;
	terms->cookie = t->cookie;
	terms->dev_aset = t->dev_aset;
	self_cached(&own, &comm);
	terms->regent = own;
	terms->creator = comm != NULL ? strdup(comm) : NULL;
	if (t->svc_fmri != NULL) {
		terms->svc_fmri = strdup(t->svc_fmri);
		terms->svc_ctid = 0;	/* the new contract's own id */
	} else if (own != 0 && lx_root_open(own, &fd) == 0) {
		lx_terms_t ot;	/* inherit from our own contract */
		if (lx_terms_read(fd, &ot) == 0) {
			terms->svc_fmri = ot.svc_fmri;
			terms->svc_ctid = ot.svc_ctid != 0 ? ot.svc_ctid : own;
			ot.svc_fmri = NULL;
			lx_terms_fini(&ot);
		}
		(void) close(fd);
	}
	if (t->svc_aux != NULL)
		terms->svc_aux = strdup(t->svc_aux);
	if (t->dev_minor != NULL)
		terms->dev_minor = strdup(t->dev_minor);
	return (0);
}

static int
spare_terms(spare_t *s, const ct_template_t *t)
{
	lx_terms_t terms;
	int err;

	(void) lx_terms_from_template(t, &terms);
	if (t->svc_fmri != NULL)
		terms.svc_ctid = s->id;
	if ((err = lx_terms_write(s->dirfd, &terms)) != 0) {
		lx_terms_fini(&terms);
		return (ct_err_set(err, "fsetxattr", "cannot record the terms "
		    "of contract %" PRId32 ": %s", s->id, strerror(err)));
	}
	/* Kept: the watch of the contract it becomes starts from them. */
	if (s->has_terms)
		lx_terms_fini(&s->terms);
	s->terms = terms;
	s->has_terms = true;
	return (0);
}

/* Make the directory the next fork from this thread will use. */
static int
spare_make(void)
{
	spare_t s = SPARE_NONE;
	lx_hstate_t st = { .state = LX_SPARE };
	int err;

	if ((err = lx_root_mkdir(&s.id)) != 0)
		return (err);
	if ((err = lx_root_open(s.id, &s.dirfd)) != 0)
		goto fail;
	if ((err = spare_terms(&s, ts.tmpl)) != 0)
		goto fail;
	lx_self_holder(&st);
	if ((err = lx_state_write(s.dirfd, &st)) != 0) {
		err = ct_err_set(err, "fsetxattr", "cannot record the state "
		    "of contract %" PRId32 ": %s", s.id, strerror(err));
		goto fail;
	}
	/* What the child joins through (cgroup.procs), if anything. */
	if ((err = lx_ms()->spare_open(s.dirfd, &s.procsfd)) != 0) {
		err = ct_err_set(err, "open", "cannot open the join file of "
		    "contract %" PRId32 ": %s", s.id, strerror(err));
		goto fail;
	}
	s.counted = true;
	ts.spare = s;
	lx_keeper_hold(s.id, true);
	return (0);
fail:
	spare_remove(&s);
	return (err);
}

/* Record the contract as owned and ours, in its state record. */
static int
own(spare_t *s)
{
	lx_hstate_t st = { .state = LX_OWNED };

	lx_self_holder(&st);
	s->pending = false;
	return (lx_state_write(s->dirfd, &st));
}

/*
 * The spare became a contract: record it as owned and ours, unless
 * (!state) the record of its commit does (commit_key).  Its directory fd
 * and terms stay in ts.made for ct_spawn_commit to start watching it
 * with, without reading them back.
 */
static void
spare_commit(spare_t *s, bool state)
{
	if (state)
		(void) own(s);
	ts.latest = s->id;
	ts.deferred = 0;
	/* One never committed (a bare fork after a spawn's): owned now. */
	if (ts.made.pending)
		(void) own(&ts.made);
	spare_close(&ts.made);
	if (s->procsfd >= 0)
		(void) close(s->procsfd);
	s->procsfd = -1;
	spare_move(&ts.made, s);
}

/*
 * A fork from a thread with an active template joins the backend's state
 * (the spare, the keeper's count): it holds the backend's lock from
 * prepare to parent, as every binding call does, so that a fork on one
 * worker thread never races a call on another.  The child, which only
 * joins and execs, leaves its copy of the lock alone.
 */
/* This thread's spawns between fork and commit (connector.c waits). */
static void
window(bool open)
{
	if (open) {
		ts.windows++;
		lx_cn_hold(true);
	} else if (ts.windows > 0) {
		ts.windows--;
		lx_cn_hold(false);
	}
}

static void
atfork_prepare(void)
{
	ts.forks++;
	ts.forking = 0;
	ts.expected = ts.expect;	/* this fork only */
	ts.expect = false;
	if (ts.tmpl == NULL || lx_ms()->spawn_mode(spawn_mode) !=
	    CT_SPAWN_ATFORK)
		return;
	ct_lock();
	ts.locked = true;
	if (ts.spare.id == 0 && (ts.deferred = spare_make()) != 0)
		return;
	ts.forking = ts.spare.id;
}

static void
atfork_child(void)
{
	if (ts.forking == 0)
		return;
	if (write(ts.spare.procsfd, "0", 1) != 1) {
		(void) !write(STDERR_FILENO, join_failed,
		    sizeof (join_failed) - 1);
		_exit(127);
	}
	/*
	 * The child keeps a copy of the template, not the parent's spare
	 * (nor its count in the keeper).  Only async-signal-safe calls here:
	 * the terms' memory is left as it is.
	 */
	(void) close(ts.spare.procsfd);
	(void) close(ts.spare.dirfd);
	ts.spare = (spare_t)SPARE_NONE;
	if (ts.made.dirfd >= 0)
		(void) close(ts.made.dirfd);
	ts.made = (spare_t)SPARE_NONE;
	ts.forking = 0;
	ts.forked = 0;
	ts.latest = 0;
	ts.locked = false;
	ts.expected = false;
}

static void
atfork_parent(void)
{
	if (ts.forking != 0) {
		ts.forked = ts.forking;
		ts.forking = 0;
		/* Its commit comes, and its record commits: no state now. */
		bool pending = ts.expected && lx_ms()->commit_key != NULL;
		spare_commit(&ts.spare, !pending);
		ts.made.pending = pending;
		window(true);	/* until ct_spawn_commit or _abort */
		/* The next spare is made off the spawn's path: ct_spawn_ready(). */
	}
	if (ts.locked) {
		ts.locked = false;
		ct_unlock();
	}
}

static void
atfork_register(void)
{
	(void) pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int
lx_spawn_use(const ct_template_t *t)
{
	const ct_template_t *old = ts.tmpl;
	int err;

	ts.tmpl = t;
	if (t == NULL) {
		spare_remove(&ts.spare);
		return (0);
	}
	(void) pthread_once(&atfork_once, atfork_register);
	/* Make (or re-term) the spare now, off the spawn's path. */
	if (ts.spare.id != 0 && spare_terms(&ts.spare, t) != 0)
		spare_remove(&ts.spare);
	if (ts.spare.id == 0 && (err = spare_make()) != 0) {
		/* Failed: the template that was active stays so. */
		ts.tmpl = old;
		if (old != NULL && ts.spare.id == 0)
			(void) spare_make();
		return (err);
	}
	return (0);
}

int
lx_spawn_latest(ct_id_t *idp)
{
	if (ts.latest == 0)
		return (ts.deferred != 0 ? ts.deferred : ESRCH);
	*idp = ts.latest;
	return (0);
}

/* The mode a spawn uses now: the chosen one, as the mechanism allows. */
static ct_spawn_mode_t
mode_now(void)
{
	const lx_root_t *r;

	/* The root picks the mechanism. */
	return (lx_root_find(&r) == 0 ? lx_ms()->spawn_mode(spawn_mode) :
	    spawn_mode);
}

int
ct_spawn_mode_get(ct_spawn_mode_t *modep)
{
	static bool env_read;

	if (!env_read) {
		const char *e = secure_getenv("ILLUMOS_CONTRACT_SPAWN");
		env_read = true;
		if (e != NULL && strcmp(e, "shim") == 0) {
			spawn_mode = CT_SPAWN_SHIM;
			spawn_mode_forced = true;
		} else if (e != NULL && strcmp(e, "atfork") == 0) {
			spawn_mode = CT_SPAWN_ATFORK;
			spawn_mode_forced = true;
		}
	}
	*modep = mode_now();
	return (0);
}

int
ct_spawn_mode_set(ct_spawn_mode_t mode)
{
	ct_spawn_mode_t cur;

	if (mode != CT_SPAWN_ATFORK && mode != CT_SPAWN_SHIM)
		return (ENOTSUP);
	(void) ct_spawn_mode_get(&cur);
	if (!spawn_mode_forced)
		spawn_mode = mode;
	return (0);
}

uint64_t
ct_spawn_forks(void)
{
	(void) pthread_once(&atfork_once, atfork_register);
	return (ts.forks);
}

int
ct_spawn_prepare(ct_id_t *idp, char **procsp)
{
	const lx_root_t *r;
	int err;

	if (ts.tmpl == NULL)
		return (ct_err_set(EINVAL, "open", "no process template is "
		    "active on this thread"));
	if (ts.inflight.id != 0) {
		spare_remove(&ts.inflight);
		window(false);
	}
	if (ts.spare.id == 0 && (err = spare_make()) != 0)
		return (err);
	if ((err = lx_root_get(&r)) != 0)
		return (err);
	/* The shim joins by writing to cgroup.procs; an anchor records. */
	if (asprintf(procsp, "%s/%" PRId32 "%s", r->path, ts.spare.id,
	    lx_ms()->joinfile) < 0)
		return (ENOMEM);
	spare_move(&ts.inflight, &ts.spare);
	*idp = ts.inflight.id;
	window(true);	/* the child runs before the commit */
	return (0);
}

/*
 * The parent's half of the shim's join: move pid in before spawn()
 * returns.  ESRCH: it joined by itself, ran and exited already.  With an
 * anchor, pid is the anchor: recorded, so that anyone can find its tree.
 */
static int
join(spare_t *s, pid_t pid)
{
	return (lx_ms()->join(s->dirfd, s->procsfd, pid));
}

/*
 * Test builds: hold an atfork commit back, so that a test can kill the
 * holder between the fork and the commit's record.
 */
static void
test_commit_stall(void)
{
	static long ms = -1;	/* read once: a commit is on the spawn's path */

	lx_test_stall("ILLUMOS_CONTRACT_TEST_COMMIT_STALL_MS", 1000, 60000,
	    &ms);
}

int
ct_spawn_commit(ct_id_t id, pid_t pid)
{
	ct_id_t made = 0;
	int err;

	if ((id != 0 && id == ts.inflight.id) || (id == 0 && ts.forked != 0))
		window(false);	/* read once it is held: no event is lost */
	if (id != 0 && id == ts.inflight.id) {
		if ((err = join(&ts.inflight, pid)) != 0) {
			(void) kill(pid, SIGKILL);
			spare_remove(&ts.inflight);
			return (ct_err_set(err, "write", "cannot move pid %d into "
			    "contract %" PRId32 ": %s", (int)pid, id,
			    strerror(err)));
		}
		made = id;
		/* The join wrote the record that commits it, if there is one. */
		spare_commit(&ts.inflight, lx_ms()->commit_key == NULL);
	} else if (id == 0 && ts.forked != 0) {
		made = ts.forked;
		ts.forked = 0;
		test_commit_stall();
		/*
		 * Joined at fork: the mechanism only records it.  Where that
		 * record is the commit and no state was written at the fork,
		 * its failure leaves a spare with a member: say "owned" then,
		 * and if even that fails, no member may run outside a held
		 * contract: kill them.
		 */
		if (made == ts.made.id &&
		    lx_ms()->join(ts.made.dirfd, -1, pid) == 0)
			ts.made.pending = false;
		else if (made == ts.made.id && ts.made.pending &&
		    (err = own(&ts.made)) != 0) {
			(void) lx_ms()->kill(ts.made.dirfd);
			spare_remove(&ts.made);
			return (ct_err_set(err, "fsetxattr", "cannot record "
			    "contract %" PRId32 " as ours: %s", made,
			    strerror(err)));
		}
	}
	if (made == 0)
		return (0);
	/* Its tree comes back to us if a member kills it (custody.c). */
	if (lx_ms() == &lx_mship_reaper &&
	    (err = lx_custody_anchor(made, pid)) != 0) {
		spare_close(&ts.made);
		return (err);
	}
	/*
	 * The spare's count in the keeper passes to the contract's watch:
	 * the keeper hears "+ID" at the spare and "-ID" at the end, not a
	 * second pair (each a write and a wakeup of the keeper).
	 */
	bool pass = made == ts.made.id && ts.made.counted;
	if (pass) {
		lx_keeper_pass(made);
		ts.made.counted = false;
	}
	/* Held from birth: fatal sets apply even before latest(). */
	if (made == ts.made.id && ts.made.has_terms)
		err = lx_contract_hold(made, ts.made.dirfd, &ts.made.terms, pid);
	else
		err = lx_contract_hold(made, -1, NULL, pid);
	if (pass && !lx_keeper_pass_taken())
		lx_keeper_hold(made, false);
	spare_close(&ts.made);
	return (err);
}

int
ct_spawn_first(pid_t child, int report, pid_t *firstp)
{
	return (lx_ms()->first(report, child, firstp));
}

int
ct_spawn_signal(pid_t child, int sig)
{
	return (lx_ms()->signal_first(child, sig));
}

/* ---- children their caller stopped waiting for ---- */

typedef struct released {
	pid_t pid;
	int fd;		/* a pidfd: readable once it exited */
} released_t;

static void
released_exited(void *arg)
{
	released_t *r = arg;
	int st;

	lx_evq_del(r->fd);
	(void) close(r->fd);
	while (waitpid(r->pid, &st, WNOHANG) < 0 && errno == EINTR)
		;
	/* As PID 1, the reaper left it to us (reap.c): no longer. */
	(void) ct_reap_guard(r->pid, false);
	free(r);
}

int
ct_spawn_release(pid_t child)
{
	released_t *r;
	int st, err;
	pid_t got;

	while ((got = waitpid(child, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (got != 0)
		return (0);	/* reaped now, or not ours */
	if ((r = malloc(sizeof (*r))) == NULL)
		return (ENOMEM);
	r->pid = child;
	if ((r->fd = (int)syscall(SYS_pidfd_open, child, 0)) < 0) {
		err = errno;
		free(r);
		return (err);
	}
	(void) fcntl(r->fd, F_SETFD, FD_CLOEXEC);
	if ((err = lx_evq_add(r->fd, released_exited, r)) != 0) {
		(void) close(r->fd);
		free(r);
		return (err);
	}
	/*
	 * As PID 1 the reaper (reap.c) must leave it to released_exited,
	 * which waits by pid: a pid it took would be free for another child.
	 */
	if ((err = ct_reap_guard(child, true)) != 0) {
		lx_evq_del(r->fd);
		(void) close(r->fd);
		free(r);
	}
	return (err);
}

int
ct_spawn_ready(bool spawning)
{
	/* Consumed by the next fork's atfork_prepare, or by the abort. */
	ts.expect = spawning;
	if (ts.tmpl == NULL || ts.spare.id != 0)
		return (0);
	return (spare_make());
}

int
ct_spawn_abort(ct_id_t id)
{
	ts.expect = false;
	if (id != 0 && id == ts.inflight.id) {
		spare_remove(&ts.inflight);
		window(false);
		return (0);
	}
	if (id == 0 && ts.forked != 0) {
		window(false);
		/* The child never ran the program: no contract is left. */
		if (ts.made.id == ts.forked)
			spare_close(&ts.made);
		lx_root_rmdir(ts.forked);
		if (ts.latest == ts.forked)
			ts.latest = 0;
		ts.forked = 0;
	}
	return (0);
}

/* ct-exec's command line: its usage is in src/helpers/exec.c, anchor.c. */
int
ct_spawn_argv(const char *argv0, int dirfd, int report, int word,
    const char *file, char *const argv[], char ***avp)
{
	ct_spawn_mode_t mode = mode_now();
	const lx_root_t *r;
	size_t n = 0, k = 0;
	char **av;
	int err = 0;

	*avp = NULL;
	if (ts.inflight.id == 0 || (mode != CT_SPAWN_SHIM &&
	    mode != CT_SPAWN_REAPER))
		return (EINVAL);
	if ((err = lx_root_get(&r)) != 0)
		return (err);
	while (argv[n] != NULL)
		n++;
	if ((av = calloc(n + 10, sizeof (*av))) == NULL)
		return (ENOMEM);
	if ((av[k++] = strdup(argv0)) == NULL)
		err = ENOMEM;
	if (err == 0 && mode == CT_SPAWN_SHIM) {
		if (asprintf(&av[k++], "%s/%" PRId32 "%s", r->path,
		    ts.inflight.id, lx_ms()->joinfile) < 0)
			err = ENOMEM;
	} else if (err == 0) {
		if ((av[k++] = strdup("--anchor")) == NULL)
			err = ENOMEM;
		if (err == 0 && report >= 0 &&
		    ((av[k++] = strdup("--report")) == NULL ||
		    asprintf(&av[k++], "%d", report) < 0))
			err = ENOMEM;
		if (err == 0 && word >= 0 &&
		    ((av[k++] = strdup("--word")) == NULL ||
		    asprintf(&av[k++], "%d", word) < 0 ||
		    asprintf(&av[k++], "%" PRId32, ts.inflight.id) < 0))
			err = ENOMEM;
		if (err == 0 && asprintf(&av[k++], "@%d", dirfd) < 0)
			err = ENOMEM;
	}
	if (err == 0 && (av[k++] = strdup(file)) == NULL)
		err = ENOMEM;
	for (size_t i = 0; err == 0 && i < n; i++) {
		if ((av[k++] = strdup(argv[i])) == NULL)
			err = ENOMEM;
	}
	if (err != 0) {
		/* A failed asprintf leaves its slot undefined: clear it. */
		av[k - 1] = NULL;
		ct_spawn_argv_free(av);
		return (err);
	}
	*avp = av;
	return (0);
}

void
ct_spawn_argv_free(char **av)
{
	if (av == NULL)
		return;
	for (size_t i = 0; av[i] != NULL; i++)
		free(av[i]);
	free(av);
}

int
ct_spawn_dirfd(void)
{
	return (ts.inflight.id != 0 && mode_now() == CT_SPAWN_REAPER ?
	    ts.inflight.dirfd : -1);
}

int
ct_spawn_wordfd(void)
{
	return (ts.inflight.id != 0 && mode_now() == CT_SPAWN_REAPER &&
	    lx_ms()->word_fd != NULL ? lx_ms()->word_fd() : -1);
}

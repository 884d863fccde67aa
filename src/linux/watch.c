/*
 * watch.c -- what we know of each contract we follow: its terms, its
 * members (as far as the proc connector told us), its unacknowledged
 * critical events, and whether it is empty.  What it learns becomes
 * records through publish.c.
 *
 * Empty is decided in one place, recheck(): the membership mechanism says
 * "no member left", and every member's EXIT we know of has been seen (or
 * a grace period ran out), so pr_empty always follows the last pr_exit
 * and is never published twice.  It is re-read on every member EXIT (a
 * short-lived contract empties in microseconds, not after the kernel's
 * notification delay), on every notice from the mechanism, and by a
 * timer while an EXIT is still on its way.
 *
 * Ids are reused once a directory is gone, so a watch is for one
 * directory (its inode, the "generation"), not for an id: a contract
 * opened under the id of an older one we still watch gets a watch of its
 * own, and the old one is retired (kept for its handles, under no id).
 * Events carry the generation, so the binding hands them only to the
 * handles of that contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"
#include "watch.h"

#define	EMPTY_GRACE_NS	(25 * 1000 * 1000)	/* wait for late EXITs */
#define	RECHECK_NS	(1 * 1000 * 1000)
#define	LENT_MAX	16	/* idle watches' fds open at once, at most */


static lx_map_t by_id;		/* ctid -> watch */
static lx_watch_t *watches;	/* all of them, for the sweeps */
static int tfd = -1;		/* the recheck timer */
static size_t npending;		/* watches with pending_since != 0 */
static lx_watch_t *lent[LENT_MAX];	/* oldest first */
static size_t nlent;

static void recheck(lx_watch_t *w);
static void watch_free(lx_watch_t *w);

static uint64_t
now_ns(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* Count held watches for the keeper, once each. */
static void
kept(lx_watch_t *w, bool on)
{
	if (w->kept != on) {
		w->kept = on;
		lx_keeper_hold(w->id, on);
	}
}

/*
 * ---- the directory's fd ----
 *
 * Every fd a process holds is copied into each child it spawns, so a
 * holder of 10,000 contracts would pay for 10,000 fds on every later
 * spawn (docs/performance.md).  A watch keeps its directory open only
 * while its contract has members (each member's exit re-reads it, and a
 * pr_empty must not wait for an open).  Once it is empty, or for a device
 * contract, what needs the directory opens it again from the root's fd,
 * by id, and checks it is the same one (its inode is the generation: ids
 * are reused).  Such an fd is lent until the next dispatch of the event
 * queue, which closes them all: every fd a caller got stays valid for its
 * whole call, and at most LENT_MAX are open at once (the oldest goes back
 * first: a call needs only its own).
 */
static void
fd_close(lx_watch_t *w)
{
	if (w->dirfd >= 0)
		(void) close(w->dirfd);
	w->dirfd = -1;
	w->lent = false;
}

/* Off the lent list (w is freed); its fd stays w's to close. */
static void
lent_drop(lx_watch_t *w)
{
	for (size_t i = 0; w->lent && i < nlent; i++) {
		if (lent[i] == w) {
			(void) memmove(&lent[i], &lent[i + 1],
			    (nlent - i - 1) * sizeof (lent[0]));
			nlent--;
			w->lent = false;
		}
	}
}

static void
lent_return(void *arg)
{
	(void) arg;
	while (nlent > 0)
		fd_close(lent[--nlent]);
}

/* w needs its fd no longer than this turn of the event queue. */
static void
lend(lx_watch_t *w)
{
	if (w->lent || w->dirfd < 0)
		return;
	if (nlent == LENT_MAX) {
		lx_watch_t *old = lent[0];
		lent_drop(old);
		fd_close(old);
	}
	lent[nlent++] = w;
	w->lent = true;
	lx_evq_kick();	/* so a dispatch comes to take it back */
}

int
lx_watch_dirfd(lx_watch_t *w)
{
	const lx_root_t *r;
	struct stat sb;
	char name[16];
	int fd, err;

	if (w->dirfd >= 0)
		return (w->dirfd);
	if (w->gone) {
		errno = ENOENT;
		return (-1);
	}
	if ((err = lx_root_find(&r)) != 0) {
		errno = err;
		return (-1);
	}
	(void) snprintf(name, sizeof (name), "%" PRId32, w->id);
	if ((fd = openat(r->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
	    0) {
		w->gone = errno == ENOENT;
		return (-1);
	}
	if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_ino != w->gen) {
		(void) close(fd);
		w->gone = true;	/* a newer contract of the same id */
		errno = ENOENT;
		return (-1);
	}
	w->dirfd = fd;
	lend(w);
	return (fd);
}

/* ---- empty ---- */

static void
pending_set(lx_watch_t *w, bool on)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (on && w->pending_since == 0) {
		w->pending_since = now_ns();
		if (npending++ == 0) {
			its.it_interval.tv_nsec = its.it_value.tv_nsec =
			    RECHECK_NS;
			(void) timerfd_settime(tfd, 0, &its, NULL);
		}
	} else if (!on && w->pending_since != 0) {
		w->pending_since = 0;
		if (--npending == 0)
			(void) timerfd_settime(tfd, 0, &its, NULL);
	}
}

/*
 * A watch nobody holds a handle on ends once nothing needs it.  An owned
 * contract whose every handle was disposed is abandoned when it empties
 * (nothing else could ever abandon it); one never handed out stays on
 * disk for a later latest() until the process exits.
 */
static void
settle(lx_watch_t *w)
{
	if (w->refs > 0)
		return;
	/* Retired: its directory is gone and nothing can open it again. */
	if (!w->retired) {
		/* Held: kept until empty and its handles were handed back. */
		if (w->held && (!w->emptied || !w->opened))
			return;
		/* An orphan we made: we see it die and remove it. */
		if (w->orphaned && !w->emptied)
			return;
		if (w->held && w->opened)
			lx_root_bury(w->id, lx_watch_dirfd(w));
	}
	watch_free(w);
}

/* Members whose EXIT never came: count them, say so. */
static void
lost_exits(lx_watch_t *w)
{
	size_t gone = lx_member_drop_all(w);
	ct_evrec_t *ev = lx_watch_notify(w, NC_EVX_LOST);

	if (ev != NULL) {
		ev->have = CT_EVP_LOST;
		ev->lost_exits = gone;
	}
	w->lost += gone;
}

/*
 * The contract's membership can never be known again, for the reason err
 * gives: EOWNERDEAD, its anchor was killed and its tree reparented out of
 * reach; EBADMSG, the record that names its anchor fails the proof
 * (docs/security.md, "A member of your own tree": a member forged or
 * spoiled it, and a refusal is final -- the proof already waited for a
 * just-started anchor).  Neither can end in a true pr_empty, so none is
 * ever published: what waits for one is told once, with the reason.
 */
static void
broken(lx_watch_t *w, int err)
{
	ct_evrec_t *ev;

	pending_set(w, false);
	if (w->broken)
		return;
	w->broken = true;
	lost_exits(w);
	if ((ev = lx_watch_notify(w, NC_EVX_BROKEN)) != NULL) {
		ev->have |= CT_EVP_ERROR;
		ev->error = err;
	}
}

/*
 * Re-read the contract's state: publish pr_empty once it is empty and
 * every member's EXIT has been seen (or the grace period ran out), and
 * report freezer transitions.
 */
static void
recheck(lx_watch_t *w)
{
	int pop, frozen, fd, err;

	/* Broken is for good: a record that reads well later proves nothing. */
	if (w->broken) {
		pending_set(w, false);
		return;
	}
	/*
	 * Emptied, and no freezer state to follow (reaper membership): there
	 * is nothing left to learn, and the anchor's own exit, which comes
	 * after, need not read the directory again.
	 */
	if (w->emptied && w->frozen < 0) {
		pending_set(w, false);
		return;
	}
	fd = lx_watch_dirfd(w);
	err = fd < 0 ? errno : lx_ms()->populated(fd, &pop, &frozen);
	if (err == ENOENT || err == ENODEV) {
		pop = 0;	/* directory gone: it was empty */
	} else if (err == EOWNERDEAD || err == EBADMSG) {
		broken(w, err);
		return;
	} else if (err != 0) {
		/* Cannot tell (EMFILE...): never guess empty; look again. */
		if (!w->emptied && w->pending_since == 0)
			pending_set(w, true);
		return;
	}
	if (frozen >= 0 && frozen != w->frozen) {
		w->frozen = frozen;
		(void) lx_watch_notify(w, frozen ? NC_EVX_FROZEN :
		    NC_EVX_THAWED);
	}
	if (pop != 0 || w->emptied) {
		pending_set(w, false);
		return;
	}
	/* An EXIT still on its way; none can come while reading waits. */
	if (w->npids > 0 && (w->pending_since == 0 || lx_cn_held() ||
	    now_ns() - w->pending_since < EMPTY_GRACE_NS)) {
		pending_set(w, true);
		if (lx_cn_held())
			w->pending_since = now_ns();	/* grace starts after */
		return;
	}
	if (w->npids > 0)
		lost_exits(w);
	pending_set(w, false);
	w->emptied = true;
	lend(w);	/* nothing more to follow: its fd goes back */
	/* pr_empty names a pid: without the connector, the mechanism's. */
	if (w->last_exit == 0)
		(void) lx_ms()->last_exit(lx_watch_dirfd(w), &w->last_exit);
	/* Always queued: the core makes NC_EVX_EMPTIED of it (evpop.c). */
	lx_watch_publish_empty(w, w->last_exit);
	if (!w->held)
		lx_holder_emptied(w->id, lx_watch_dirfd(w));
	settle(w);
}

static void
on_notice(ct_id_t id)
{
	lx_watch_t *w = lx_map_get(&by_id, id);

	/* A newer one of that id reads "populated 1": no harm done. */
	if (w != NULL && w->terms.type == CT_TYPE_PROCESS)
		recheck(w);
}

static void
on_timer(void *arg)
{
	uint64_t ticks;

	(void) arg;
	(void) !read(tfd, &ticks, sizeof (ticks));
	lx_cn_drain();	/* the EXITs we wait for */
	for (lx_watch_t *w = watches, *nx; npending > 0 && w != NULL;
	    w = nx) {
		nx = w->next;	/* recheck may free w */
		if (w->pending_since != 0)
			recheck(w);
	}
}

static int
watch_init(void)
{
	int err;

	if (tfd >= 0)
		return (0);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0)
		return (ct_err_set(errno, "timerfd_create", "cannot make a "
		    "timer: %s", strerror(errno)));
	if ((err = lx_evq_add(tfd, on_timer, NULL)) != 0) {
		(void) close(tfd);
		tfd = -1;
		return (ct_err_set(err, "epoll_ctl", "cannot poll a timer: %s",
		    strerror(err)));
	}
	lx_evq_on_notice(on_notice);
	if ((err = lx_evq_on_dispatch(lent_return, NULL)) != 0)
		return (err);
	return (0);
}

void
lx_watch_each(void (*fn)(lx_watch_t *, void *), void *arg, bool retired)
{
	for (lx_watch_t *w = watches, *nx; w != NULL; w = nx) {
		nx = w->next;	/* fn may free w */
		if (retired || !w->retired)
			fn(w, arg);
	}
}

/* ---- starting and ending ---- */

/*
 * For tests: the holder buries the contract just as we start to observe
 * it, after the mechanism's watch is set and before we first read it
 * (the race that lost pr_empty in the soak).  Only an empty one goes.
 */
static bool
test_bury_on_observe(void)
{
	static int on = -1;

	if (on < 0)
		on = LX_TEST_ENV(
		    "ILLUMOS_CONTRACT_TEST_BURY_ON_OBSERVE") != NULL;
	return (on != 0);
}

/*
 * The id of w names a newer contract now: w's directory is gone, so its
 * contract is empty.  It stays, under no id, for the handles it has.
 */
static void
retire(lx_watch_t *w)
{
	(void) lx_map_del(&by_id, w->id);
	w->retired = true;
	if (w->refs == 0)
		watch_free(w);	/* never handed out: nobody to tell */
	else if (w->terms.type == CT_TYPE_PROCESS)
		recheck(w);
}

static int
watch_new(ct_id_t id, int dirfd, uint64_t gen, const lx_terms_t *terms,
    bool held, lx_watch_t **wp)
{
	lx_watch_t *w;
	int err;

	if ((w = calloc(1, sizeof (*w))) == NULL)
		return (ENOMEM);
	w->id = id;
	w->gen = gen;
	w->held = held;
	w->refs = 1;
	w->frozen = -1;
	w->token = -1;
	if ((err = lx_terms_copy(&w->terms, terms)) != 0) {
		free(w);
		return (err);
	}
	if ((w->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    (err = lx_map_put(&by_id, id, w)) != 0) {
		err = w->dirfd < 0 ? errno : err;
		if (w->dirfd >= 0)
			(void) close(w->dirfd);
		lx_terms_fini(&w->terms);
		free(w);
		return (err);
	}
	w->prev = NULL;
	if ((w->next = watches) != NULL)
		watches->prev = w;
	watches = w;
	kept(w, held);
	*wp = w;
	return (0);
}

/* Who is in it now, and our own child's pr_fork; then is it empty? */
static void
process_start(lx_watch_t *w, pid_t born)
{
	bool members = lx_cn_status() == 0;
	pid_t hidden = born != 0 ? lx_ms()->hidden(born) : 0;
	int pop;

	/*
	 * Observed: pr_empty's pid as the mechanism knows it now, read
	 * before its directory can be gone (exits seen later replace it).
	 */
	if (born == 0)
		(void) lx_ms()->last_exit(w->dirfd, &w->last_exit);
	/* Our own new child is its only member (later forks are reported). */
	if (members && born == 0) {
		pid_t *pids;
		size_t n;
		if (lx_ms()->members(w->dirfd, &pids, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				lx_member_add(w, pids[i], false);
			free(pids);
		}
	}
	if (hidden != 0) {
		/* Its fork of the program is the first member's pr_fork. */
		if (members)
			lx_member_add(w, hidden, true);
	} else if (born != 0) {
		ct_evrec_t *ev;
		if (members)
			lx_member_add(w, born, false);
		if ((ev = lx_watch_publish(w, NC_PR_EV_FORK, born)) != NULL) {
			ev->ppid = getpid();
			ev->have |= CT_EVP_PPID;
		}
		w->last_exit = born;
		lx_evq_kick();
	}
	/*
	 * Our own anchor cannot be gone unseen while the mechanism follows
	 * it: its notice (a pidfd) fires even if it exited already.  But a
	 * program as short as true(1) can end before the spawn's commit
	 * read the anchor's start time, and then the follow found nothing
	 * to open (token -1).  With the connector, the anchor's FORK of the
	 * program and the program's EXIT are queued already (the kernel
	 * queues them before fork and wait return): reading them rechecks,
	 * and an early look now would say empty before the first member is
	 * known, losing its events.  Without it no notice will ever come:
	 * read it now.
	 */
	if (hidden != 0 && (w->token >= 0 || members))
		return;
	if (lx_ms()->populated(w->dirfd, &pop, &w->frozen) != 0 || pop == 0) {
		/*
		 * Already empty: say so.  Or already gone (ENOENT): its holder
		 * buried it after the mechanism's watch began, and no member
		 * is left to exit either.  Anything else: recheck looks again.
		 */
		recheck(w);
		lx_evq_kick();
	}
}

int
lx_watch_get(ct_id_t id, int dirfd, const lx_terms_t *terms, bool held,
    pid_t born, lx_watch_t **wp)
{
	const lx_root_t *r;
	lx_watch_t *w = lx_map_get(&by_id, id);
	struct stat sb;
	int err;

	if (fstat(dirfd, &sb) != 0)
		return (errno);
	if (w != NULL && w->gen == (uint64_t)sb.st_ino) {
		w->refs++;
		w->held |= held;
		kept(w, w->held);
		*wp = w;
		return (0);
	}
	if (w != NULL)
		retire(w);
	if ((err = watch_init()) != 0 || (err = lx_root_get(&r)) != 0 ||
	    (err = watch_new(id, dirfd, (uint64_t)sb.st_ino, terms, held,
	    &w)) != 0)
		return (err);
	if (terms->type == CT_TYPE_DEVICE) {
		/* No members: its events come from uevents. */
		uint64_t st = NC_DEV_EV_ONLINE;
		(void) lx_meta_get_u64(w->dirfd, LX_META_DEVSTATE, &st);
		w->dev_state = (uint32_t)st;
		lend(w);	/* no members to follow: no fd kept */
		*wp = w;
		return (0);
	}
	/* Watched before it is first read: no change goes unheard. */
	if ((err = lx_ms()->follow(r->fd, r->path, id, &w->token)) != 0) {
		watch_free(w);
		return (err);
	}
	if (!held && test_bury_on_observe())
		lx_root_bury(id, w->dirfd);
	process_start(w, born);
	*wp = w;
	return (0);
}

static void
watch_free(lx_watch_t *w)
{
	(void) lx_member_drop_all(w);
	pending_set(w, false);
	kept(w, false);
	if (!w->retired)
		(void) lx_map_del(&by_id, w->id);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		watches = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	if (w->token >= 0)
		lx_ms()->unfollow(w->token);
	lent_drop(w);
	fd_close(w);
	if (w->trace != NULL) {
		lx_trace_free(w->trace);
		(void) lx_cn_exec(false);
	}
	free(w->unacked);
	lx_terms_fini(&w->terms);
	free(w);
}

lx_trace_t *
lx_watch_trace(const lx_watch_t *w)
{
	return (w->trace);
}

/* The watch owns t from now on, and one of the connector's EXEC asks. */
void
lx_watch_set_trace(lx_watch_t *w, lx_trace_t *t)
{
	if (w->trace != NULL) {
		lx_trace_free(w->trace);
		(void) lx_cn_exec(false);
	}
	w->trace = t;
}

void
lx_watch_opened(lx_watch_t *w)
{
	w->opened = true;
}

void
lx_watch_put(lx_watch_t *w)
{
	/* A held contract stays watched (fatal sets) until it empties. */
	if (--w->refs == 0)
		settle(w);
}

int
lx_watch_get_held(ct_id_t id, lx_watch_t **wp)
{
	lx_watch_t *w = lx_map_get(&by_id, id);

	if (w == NULL || !w->held)
		return (ESRCH);
	w->refs++;
	*wp = w;
	return (0);
}

void
lx_watch_release(lx_watch_t *w, lx_state_t state)
{
	w->orphaned = state == LX_ORPHAN;
	w->held = false;
	kept(w, false);
	w->nunacked = 0;	/* pending critical events are auto-acked */
}

void
lx_watch_exit_seen(lx_watch_t *w)
{
	recheck(w);
}

void
lx_watch_recheck(lx_watch_t *w)
{
	recheck(w);
	lx_evq_kick();
}

void
lx_watch_note_frozen(lx_watch_t *w, int frozen)
{
	/* Already in the asked-for state: no change will be reported. */
	if (frozen == w->frozen) {
		(void) lx_watch_notify(w, frozen ? NC_EVX_FROZEN :
		    NC_EVX_THAWED);
		lx_evq_kick();
	}
}

/*
 * custody.c -- a killed anchor loses nothing (docs/security.md, "A killed
 * anchor").  Under reaper membership the members are the anchor's
 * descendants; a member can SIGKILL the anchor (same uid), and its
 * children are then reparented to the nearest child subreaper above it.
 * A holder that spawns anchors marks itself one (reap.c, ct_reap_start),
 * so that nearest is us: the tree comes back to us, as our children, and
 * this file tells which contract each returning process belongs to, and
 * lists those contracts' members from then on.
 *
 * Attribution.  The kernel moves a dying process's children to their new
 * parent and makes it a zombie in one step (exit_notify, under
 * tasklist_lock): a child of ours that no spawn of ours made (reap.c
 * filters the guarded and the ones we had at the start) and that we have
 * not seen before came from an anchor that is dead by the time we see it
 * -- or from a stranger, a daemon of a child outside any contract.  A new
 * child is the contract's when exactly one of our anchors is dead (a
 * zombie, or reaped since the last look) and started no later than it;
 * otherwise it is a stranger, never signalled, reaped when it exits.
 *
 * Then the tree is stopped (SIGSTOP, walked until no new pid, as
 * lx_sigsend does): without a freezer and without an anchor, a member
 * that forks and lets the fork's parent exit would hand us a process we
 * could not tell from a stranger; stopped, nothing forks or exits.  Every
 * process a walk finds is kept (pid and start time), so that one handed
 * to us later is known.  The contract stays broken (EOWNERDEAD: it can
 * never be seen empty), but its members are listed to whoever asks in
 * this process (rp_members): stop(), sigsend, noorphan and abandon reach
 * them.  The keeper learns of each (lx_custody_note_fn), so that a
 * holder's death does not leave them stopped or out of reach.
 *
 * All of it under ct_lock, as every backend call.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

typedef struct anc {
	ct_id_t id;
	uint64_t start;
	bool dead;		/* reaped, or found a zombie */
} anc_t;

typedef struct kept {
	ct_id_t id;
	uint64_t start;
} kept_t;

typedef struct claim {
	ct_id_t id;
	dev_t dev;
	ino_t ino;
} claim_t;

static bool armed;
static void (*look_fn)(void);	/* reap.c's pass: sorts what came */
static lx_map_t anchors;	/* anchor pid -> anc_t */
static lx_map_t kept;		/* member pid -> kept_t */
static lx_map_t strangers;	/* pid -> start (as a pointer) */
static claim_t *claims;
static size_t nclaims;
static lx_custody_note_fn_t *note_fn;
static size_t ndead;		/* anchors marked dead, not swept yet */
static ct_id_t claiming;	/* freeze_tree's contract, while it runs */
static uint64_t claiming_start;	/* and its anchor's start time */

void
lx_custody_arm(void (*look)(void))
{
	armed = true;
	look_fn = look;
}

/*
 * An anchor is found gone without its end recorded: sort what it handed
 * us now, before anyone is told of it (the pidfd that says it is gone
 * may be read before our SIGCHLD is).  A spawn in flight puts the look
 * off (reap.c), to its end.
 */
bool
lx_custody_look(int dirfd)
{
	if (!armed || look_fn == NULL)
		return (false);
	look_fn();
	return (lx_custody_has(dirfd));
}

void
lx_custody_on_note(lx_custody_note_fn_t *fn)
{
	size_t it = 0;
	int32_t pid;
	void *v;

	note_fn = fn;
	while (fn != NULL && lx_map_next(&kept, &it, &pid, &v))
		fn(((kept_t *)v)->id, pid, ((kept_t *)v)->start);
}

int
lx_custody_anchor(ct_id_t id, pid_t anchor)
{
	anc_t *a;
	uint64_t start;

	if (!armed)
		return (0);
	if (lx_proc_start(anchor, &start) != 0)
		start = 0;	/* gone already: dead at the next look */
	if ((a = malloc(sizeof (*a))) == NULL)
		return (ENOMEM);
	*a = (anc_t){ .id = id, .start = start, .dead = start == 0 };
	ndead += a->dead;
	free(lx_map_del(&anchors, anchor));
	if (lx_map_put(&anchors, anchor, a) != 0) {
		free(a);
		return (ENOMEM);
	}
	return (0);
}

void
lx_custody_reaped(pid_t pid)
{
	anc_t *a = lx_map_get(&anchors, pid);
	kept_t *k;

	if (a != NULL && !a->dead) {
		a->dead = true;	/* its orphans are ours already: sorted next */
		ndead++;
	}
	if ((k = lx_map_del(&kept, pid)) != NULL)
		free(k);
	(void) lx_map_del(&strangers, pid);
}

static claim_t *
claim_of_id(ct_id_t id)
{
	for (size_t i = 0; i < nclaims; i++) {
		if (claims[i].id == id)
			return (&claims[i]);
	}
	return (NULL);
}

static claim_t *
claim_of_dir(int dirfd)
{
	struct stat sb;

	if (nclaims == 0 || fstat(dirfd, &sb) != 0)
		return (NULL);
	for (size_t i = 0; i < nclaims; i++) {
		if (claims[i].dev == sb.st_dev && claims[i].ino == sb.st_ino)
			return (&claims[i]);
	}
	return (NULL);
}

bool
lx_custody_has(int dirfd)
{
	return (claim_of_dir(dirfd) != NULL);
}

/* Contract id is in our custody (its directory, found by id, once). */
static int
claim(ct_id_t id)
{
	claim_t *grown;
	struct stat sb;
	int fd, err;

	if (claim_of_id(id) != NULL)
		return (0);
	if ((err = lx_root_open(id, &fd)) != 0)
		return (err);
	err = fstat(fd, &sb) == 0 ? 0 : errno;
	(void) close(fd);
	if (err != 0)
		return (err);
	if ((grown = realloc(claims, (nclaims + 1) * sizeof (*claims))) ==
	    NULL)
		return (ENOMEM);
	claims = grown;
	claims[nclaims++] = (claim_t){ .id = id, .dev = sb.st_dev,
	    .ino = sb.st_ino };
	return (0);
}

/* Keep pid (started at start) as a member of id; tell the keeper. */
static int
keep_member(ct_id_t id, pid_t pid, uint64_t start)
{
	kept_t *k = lx_map_get(&kept, pid);

	if (k != NULL && k->id == id && k->start == start)
		return (0);
	if (k == NULL) {	/* else a reused pid: the entry is rewritten */
		if ((k = malloc(sizeof (*k))) == NULL)
			return (ENOMEM);
		if (lx_map_put(&kept, pid, k) != 0) {
			free(k);
			return (ENOMEM);
		}
	}
	*k = (kept_t){ .id = id, .start = start };
	if (note_fn != NULL)
		note_fn(id, pid, start);
	return (0);
}

int
lx_custody_put(ct_id_t id, pid_t pid, uint64_t start)
{
	int err = keep_member(id, pid, start);

	return (err != 0 ? err : claim(id));
}

/*
 * An anchor that ended on its own recorded the end first, and had no
 * descendant left to hand on: only one without that record can be the
 * source of an orphan (a member that plants the record before it kills
 * the anchor makes its tree strangers to us: never signalled).  And
 * the directory under its id must still be its contract's -- its anchor
 * record names this anchor -- for an id is reused once a contract is
 * buried: a new contract there, running, has no end record either.
 */
static bool
killed(pid_t pid, const anc_t *a)
{
	uint64_t v[2];
	size_t len;
	char *buf;
	bool yes = false;
	int fd;

	if (lx_root_open(a->id, &fd) != 0)
		return (false);
	if (lx_read_bounded(fd, LX_META_ANCHOR, LX_RECORD_CAP, &buf,
	    &len) == 0) {
		yes = lx_parse_u64s(buf, v, 2) == 0 && v[0] == (uint64_t)pid &&
		    v[1] == a->start && !lx_is_regular(fd, LX_META_DONE);
		free(buf);
	}
	(void) close(fd);
	return (yes);
}

/*
 * The strangers that are gone are forgotten: not listed now, and no
 * longer running with the start time they were seen with.  One a listing
 * skipped stays known (the kernel's children list may skip an entry that
 * moves while it is read, as a killed anchor's tree is handed to us):
 * forgotten, it would be sorted anew, and taken for a member of a tree
 * being stopped then (lx_custody_sort, claiming).
 */
static void
forget_gone(const pid_t *kids, size_t n)
{
	size_t it = 0;
	int32_t pid;
	void *v;

	while (strangers.n > 0 && lx_map_next(&strangers, &it, &pid, &v)) {
		bool listed = false;
		uint64_t start;

		for (size_t i = 0; i < n && !listed; i++)
			listed = kids[i] == pid;
		if (!listed && (lx_proc_start(pid, &start) != 0 ||
		    start != (uint64_t)(uintptr_t)v))
			(void) lx_map_del(&strangers, pid);
	}
}

/* The start time of our anchor of contract id (0: not known). */
static uint64_t
anchor_start(ct_id_t id)
{
	size_t it = 0;
	int32_t pid;
	void *v;

	while (lx_map_next(&anchors, &it, &pid, &v)) {
		if (((anc_t *)v)->id == id)
			return (((anc_t *)v)->start);
	}
	return (0);
}

/* The one killed anchor that may have handed us a process started then. */
static anc_t *
only_source(uint64_t start)
{
	anc_t *found = NULL;
	size_t it = 0;
	int32_t pid;
	void *v;

	while (lx_map_next(&anchors, &it, &pid, &v)) {
		anc_t *a = v;

		if (!a->dead || a->start > start || !killed(pid, a))
			continue;
		if (found != NULL)
			return (NULL);	/* two: nobody can tell whose */
		found = a;
	}
	return (found);
}

/* Whether any anchor died: looked up only when something new came. */
static bool
mark_dead(void)
{
	bool any = false;
	size_t it = 0;
	int32_t pid;
	void *v;

	while (lx_map_next(&anchors, &it, &pid, &v)) {
		anc_t *a = v;
		uint64_t start;
		char state;

		if (!a->dead && (lx_proc_start(pid, &start) != 0 ||
		    start != a->start || (lx_proc_state(pid, &state) == 0 &&
		    (state == 'Z' || state == 'X')))) {
			a->dead = true;
			ndead++;
		}
		any |= a->dead;
	}
	return (any);
}

/* Forget the dead anchors: whatever they handed us has been sorted. */
static void
sweep_dead(void)
{
	size_t it = 0;
	int32_t pid;
	void *v;

	while (lx_map_next(&anchors, &it, &pid, &v)) {
		if (((anc_t *)v)->dead)
			free(lx_map_del(&anchors, pid));
	}
	ndead = 0;
}

/* Whether every process listed is stopped (or gone): none can fork. */
static bool
all_stopped(const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char state;

		if (lx_proc_state(pids[i], &state) == 0 && state != 'T' &&
		    state != 't' && state != 'Z' && state != 'X')
			return (false);
	}
	return (true);
}

/*
 * Stop the tree of a contract just taken into custody, as a freezer
 * would: SIGSTOP to every member (lx_sigsend walks until no new pid),
 * then wait until each has stopped -- a signal is taken on the way back
 * to user space, so a process may finish a fork first -- and look again,
 * for new children and for what came to us meanwhile (sorted to this
 * contract while it is being claimed), until a look finds nothing new.
 * Bounded: a member in an uninterruptible sleep stops when it wakes.
 */
#define	CUSTODY_STOP_ROUNDS	16
#define	CUSTODY_STOP_WAIT_US	250000

static void
freeze_tree(ct_id_t id)
{
	struct timespec step = { 0, 1000 * 1000 };
	size_t before = SIZE_MAX;
	lx_sig_result_t r;
	int fd;

	if (lx_root_open(id, &fd) != 0)
		return;
	claiming = id;
	claiming_start = anchor_start(id);
	for (int round = 0, waited = 0; round < CUSTODY_STOP_ROUNDS;
	    round++) {
		pid_t *pids;
		size_t n;

		(void) lx_sigsend(&lx_mship_reaper, fd, SIGSTOP, 0, NULL, NULL,
		    &r);
		if (lx_custody_members(fd, &pids, &n) != 0)
			break;
		while (!all_stopped(pids, n) && waited < CUSTODY_STOP_WAIT_US) {
			(void) nanosleep(&step, NULL);
			waited += 1000;
		}
		free(pids);
		if (look_fn != NULL)
			look_fn();
		if (lx_custody_members(fd, &pids, &n) != 0)
			break;
		bool same = n == before && all_stopped(pids, n);
		before = n;
		free(pids);
		if (same)
			break;
	}
	claiming = 0;
	(void) close(fd);
}

void
lx_custody_sort(const pid_t *kids, size_t n, pid_t keeper)
{
	ct_id_t *fresh = NULL;
	size_t nfresh = 0;
	bool looked = false, dead = false;

	if (!armed)
		return;
	forget_gone(kids, n);
	for (size_t i = 0; i < n; i++) {
		pid_t pid = kids[i];
		uint64_t start;
		kept_t *k;
		anc_t *from;

		if (pid == keeper || lx_map_get(&strangers, pid) != NULL ||
		    lx_proc_start(pid, &start) != 0)
			continue;
		if ((k = lx_map_get(&kept, pid)) != NULL && k->start == start)
			continue;	/* known: a member handed on to us */
		if (!looked) {
			looked = true;
			dead = mark_dead();
		}
		from = dead ? only_source(start) : NULL;
		/*
		 * Handed on while its tree is being stopped -- if it can be of
		 * that tree: started no sooner than its anchor.
		 */
		if (from == NULL && claiming != 0 && start >= claiming_start) {
			(void) keep_member(claiming, pid, start);
			continue;
		}
		if (from == NULL) {
			(void) lx_map_put(&strangers, pid,
			    (void *)(uintptr_t)start);
			continue;
		}
		if (keep_member(from->id, pid, start) != 0)
			continue;
		bool seen = false;
		for (size_t j = 0; j < nfresh && !seen; j++)
			seen = fresh[j] == from->id;
		if (!seen) {
			ct_id_t *g = realloc(fresh, (nfresh + 1) *
			    sizeof (*fresh));
			if (g != NULL) {
				fresh = g;
				fresh[nfresh++] = from->id;
			}
		}
	}
	for (size_t j = 0; j < nfresh; j++) {
		if (claim(fresh[j]) == 0 && claiming == 0)
			freeze_tree(fresh[j]);
	}
	free(fresh);
	if (ndead > 0)
		sweep_dead();
}

/*
 * The members of a contract in custody: every kept process still there
 * (same start) and its descendants, which are kept in turn.
 */
int
lx_custody_members(int dirfd, pid_t **pidsp, size_t *np)
{
	claim_t *c = claim_of_dir(dirfd);
	pid_t *all = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	*pidsp = NULL;
	*np = 0;
	if (c == NULL)
		return (ENOENT);
	ct_id_t id = c->id;
	size_t it = 0;
	int32_t pid;
	void *v;

	while (err == 0 && lx_map_next(&kept, &it, &pid, &v)) {
		kept_t *k = v;
		uint64_t start;

		if (k->id != id)
			continue;
		if (lx_proc_start(pid, &start) != 0 || start != k->start) {
			free(lx_map_del(&kept, pid));
			continue;
		}
		err = lx_pids_push(&all, &n, &cap, pid);
	}
	size_t nroots = n;
	/* Breadth first; what is already listed is not listed twice. */
	for (size_t i = 0; err == 0 && i < n; i++) {
		pid_t *kids = NULL;
		size_t nk = 0, kcap = 0;

		if ((err = lx_proc_children(all[i], &kids, &nk, &kcap)) != 0)
			break;
		for (size_t j = 0; err == 0 && j < nk; j++) {
			uint64_t start;
			bool dup = false;

			/* A kept one is listed already (a root). */
			for (size_t m = 0; m < nroots && !dup; m++)
				dup = all[m] == kids[j];
			if (dup || lx_proc_start(kids[j], &start) != 0)
				continue;
			if ((err = keep_member(id, kids[j], start)) == 0)
				err = lx_pids_push(&all, &n, &cap, kids[j]);
		}
		free(kids);
	}
	if (err != 0) {
		free(all);
		return (err);
	}
	*pidsp = all;
	*np = n;
	return (0);
}

/*
 * Let contract dirfd go (abandoned, or its holder gone): its members
 * are continued (a claim stopped them) and leave our custody.
 */
void
lx_custody_release(int dirfd)
{
	claim_t *c = claim_of_dir(dirfd);
	lx_sig_result_t r;
	ct_id_t id;
	size_t it = 0;
	int32_t pid;
	void *v;

	if (c == NULL)
		return;
	(void) lx_sigsend(&lx_mship_reaper, dirfd, SIGCONT, 0, NULL, NULL, &r);
	id = c->id;
	*c = claims[--nclaims];
	while (lx_map_next(&kept, &it, &pid, &v)) {
		if (((kept_t *)v)->id == id)
			free(lx_map_del(&kept, pid));
	}
}

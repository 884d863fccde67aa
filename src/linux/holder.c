/*
 * holder.c -- the holder-death rules (docs/ARCHITECTURE.md, "Holder
 * death"), in one place for the three that apply them: the keeper when a
 * holder dies, the sweep of whatever earlier processes left, and the
 * watch when a contract empties.
 *
 * A contract whose holder exits without abandoning it:
 *   noorphan                        -> every member is killed;
 *   inherit, and the creator's own contract is a live regent
 *                                   -> inherited by that regent;
 *   else                            -> orphan.
 * An orphan (or dead contract) dies, and its directory goes, once empty.
 * A holder is its pid and start time together: a reused pid is not it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "lx.h"

/* Does regent contract id exist, alive, with CT_PR_REGENT set? */
static bool
regent_ok(int rootfd, ct_id_t id)
{
	char name[16];
	lx_terms_t t;
	lx_hstate_t s;
	bool ok = false;
	int fd;

	(void) snprintf(name, sizeof (name), "%" PRId32, id);
	if (id <= 0 || (fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return (false);
	if (lx_state_read(fd, &s) == 0 && s.state != LX_DEAD &&
	    lx_terms_read(fd, &t) == 0) {
		ok = (t.params & NC_PR_REGENT) != 0;
		lx_terms_fini(&t);
	}
	(void) close(fd);
	return (ok);
}

/* The holder of fd (state s) is gone: what the contract becomes. */
static void
holder_gone(int rootfd, int fd, lx_hstate_t *s)
{
	lx_hstate_t ns = { .state = LX_ORPHAN };
	lx_terms_t t;

	if (lx_terms_read(fd, &t) == 0) {
		if ((t.params & NC_PR_INHERIT) && regent_ok(rootfd, t.regent)) {
			ns.state = LX_INHERITED;
			ns.regent = t.regent;
		} else if (t.params & NC_PR_NOORPHAN) {
			(void) lx_ms()->kill(fd);
		}
		lx_terms_fini(&t);
	}
	/* A killed anchor's tree we kept (custody.c): let it go, running. */
	lx_custody_release(fd);
	*s = ns;
	(void) lx_state_write(fd, s);
}

/*
 * 0, with *gonep set when the directory is gone; or the error that says an
 * orphan's membership can never be known (a record refused, a killed
 * anchor: EBADMSG, EOWNERDEAD), so that waiting for it to empty is vain.
 */
static int
apply(int rootfd, const char *name, bool *gonep)
{
	lx_hstate_t s;
	int fd, pop, frozen, err = 0;
	bool gone = false;

	*gonep = false;
	if ((fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		*gonep = true;
		return (0);
	}
	/*
	 * The same lock as adopt(): an adoption between our read of the old
	 * holder and our write of the new state must not be overwritten.
	 * Anyone may open a cgroup contract directory and take it: bounded
	 * (src/linux/trylock.c), and then the rules apply without it -- an
	 * adopter cannot have it either, and a noorphan contract's members
	 * must not outlive their holder because a stranger holds a lock.
	 */
	bool locked = false;
	if (lx_state_read(fd, &s) != 0)
		goto out;
	/* Most have nothing to apply: no lock for those (a sweep lists all). */
	if (!((s.state == LX_SPARE || s.state == LX_OWNED) &&
	    lx_state_holder_gone(&s)) && s.state != LX_ORPHAN &&
	    s.state != LX_DEAD)
		goto out;
	locked = lx_trylock(fd) == 0;
	if (lx_state_read(fd, &s) != 0)
		goto out;
	if (s.state == LX_SPARE && lx_state_holder_gone(&s)) {
		int rerr = lx_ms()->rmdir(rootfd, name);

		gone = rerr == 0;
		/*
		 * EBUSY: a cgroup a fork joined, whose holder died before the
		 * spawn's commit recorded it (spawn.c writes no state at the
		 * fork of a spawn it will commit): a contract, under its
		 * holder's rules like any other.
		 */
		if (rerr != EBUSY)
			goto out;
		s.state = LX_OWNED;
	}
	if (s.state == LX_OWNED && lx_state_holder_gone(&s))
		holder_gone(rootfd, fd, &s);
	if ((s.state == LX_ORPHAN || s.state == LX_DEAD) &&
	    (err = lx_ms()->populated(fd, &pop, &frozen)) == 0 && pop == 0) {
		s.state = LX_DEAD;
		(void) lx_state_write(fd, &s);
		gone = lx_ms()->rmdir(rootfd, name) == 0;
	}
	if (err == ENOENT || err == ENODEV)
		err = 0;	/* removed underneath: gone */
out:
	if (locked)
		lx_unlock(fd);
	(void) close(fd);
	*gonep = gone;
	return (err);
}

int
lx_holder_apply(const char *name, bool *gonep)
{
	const lx_root_t *r;

	*gonep = false;
	return (lx_root_find(&r) != 0 ? 0 : apply(r->fd, name, gonep));
}

static int
sweep_one(int rootfd, const char *name, void *arg)
{
	ct_id_t id;

	(void) arg;
	bool gone;

	if (lx_parse_ctid(name, &id))
		(void) apply(rootfd, name, &gone);
	else if (name[0] == 'k' && lx_ms()->keeper_group)
		(void) unlinkat(rootfd, name, AT_REMOVEDIR);	/* idle keeper */
	return (0);
}

void
lx_holder_sweep(void)
{
	(void) lx_root_scan(sweep_one, NULL);
	/*
	 * What it met in others' contracts (a refused record) is nobody's
	 * error: the detail must not reach the next message of our caller.
	 */
	ct_err_clear();
}

bool
lx_holder_absent(int dirfd)
{
	lx_hstate_t hs;

	if (lx_state_read(dirfd, &hs) != 0)
		return (true);
	return (hs.state == LX_ORPHAN || hs.state == LX_DEAD ||
	    lx_state_holder_gone(&hs));
}

void
lx_holder_emptied(ct_id_t id, int dirfd)
{
	lx_hstate_t hs;

	if (lx_state_read(dirfd, &hs) == 0 &&
	    (hs.state == LX_ORPHAN || lx_state_holder_gone(&hs)))
		lx_root_bury(id, dirfd);
}

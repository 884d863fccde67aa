/*
 * meta.c -- a contract's records, kept with the contract by the membership
 * mechanism in use (lx_ms(); with cgroups, user.* extended attributes of
 * its directory, which only the directory's owner or root may write, so
 * nobody can forge another user's contract):
 *
 *   LX_META_TERMS     fixed terms, written once before the contract is used
 *   LX_META_STATE     "spare|owned <pid> <start> [<pidns>]", "inherited <ctid>",
 *                     "orphan", "dead"; a spare with the table's commit_key
 *                     record (cgroup: LX_META_PROGRAM) is read as owned
 *   LX_META_NEVENTS   unacknowledged critical events (kept by the holder)
 *   LX_META_DEVSTATE  a device contract's device state
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lx.h"

/* The table in use: root.c's choose() alone sets it, once a root is found. */
static const lx_mship_t *ms = &lx_mship_cgroup;

const lx_mship_t *
lx_ms(void)
{
	return (ms);
}

void
lx_ms_use(const lx_mship_t *m)
{
	ms = m;
}

int
lx_meta_set_u64(int dirfd, const char *key, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof (buf), "%" PRIu64, v);

	return (ms->meta_set(dirfd, key, buf, (size_t)n));
}

int
lx_meta_get_u64(int dirfd, const char *key, uint64_t *vp)
{
	char *buf = NULL;
	int err;

	if ((err = ms->meta_get(dirfd, key, &buf, NULL)) != 0)
		return (err);
	err = ct_parse_u64(buf, vp);
	free(buf);
	return (err);
}

int
lx_terms_write(int dirfd, const lx_terms_t *t)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	if ((err = lx_terms_encode(t, &buf, &len)) != 0)
		return (err);
	err = ms->meta_set(dirfd, LX_META_TERMS, buf, len);
	free(buf);
	return (err);
}

int
lx_terms_read(int dirfd, lx_terms_t *t)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	if ((err = ms->meta_get(dirfd, LX_META_TERMS, &buf, &len)) != 0)
		return (err == ENODATA ? EINVAL : err);
	err = lx_terms_decode(buf, len, t);
	free(buf);
	return (err);
}

int
lx_state_write(int dirfd, const lx_hstate_t *s)
{
	char buf[64];
	int n = lx_state_encode(s, buf, sizeof (buf));

	return (n < 0 ? EINVAL : ms->meta_set(dirfd, LX_META_STATE, buf,
	    (size_t)n));
}

int
lx_state_read(int dirfd, lx_hstate_t *s)
{
	char *buf = NULL;
	int err;

	if ((err = ms->meta_get(dirfd, LX_META_STATE, &buf, NULL)) != 0)
		return (err == ENODATA ? EINVAL : err);
	err = lx_state_decode(buf, s);
	free(buf);
	if (err != 0 || s->state != LX_SPARE || ms->commit_key == NULL)
		return (err);
	/*
	 * The spawn's commit wrote the first member's record and no state
	 * (lx_mship_t, commit_key): a spare that has it is its holder's.
	 * Present is enough (its value is last_exit's to judge); a record
	 * that cannot be read leaves the state unknown.
	 */
	if ((err = ms->meta_get(dirfd, ms->commit_key, &buf, NULL)) == 0) {
		free(buf);
		s->state = LX_OWNED;
	}
	return (err == ENODATA ? 0 : err);
}

bool
lx_state_holder_gone(const lx_hstate_t *s)
{
	uint64_t start;

	if (s->state != LX_OWNED && s->state != LX_SPARE)
		return (false);
	/*
	 * A holder in another pid namespace than the one our /proc shows
	 * cannot be looked up here: its pid names nobody or another process.
	 * Not gone, as far as we can tell; its keeper, started by it in its
	 * namespace, applies the rules when it dies.
	 */
	if (s->pidns != 0 && s->pidns != lx_proc_pidns())
		return (false);
	return (lx_proc_start(s->holder, &start) != 0 || start != s->start);
}

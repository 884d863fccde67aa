/*
 * reaper.c -- membership by subreaper (lx_mship_reaper), where no cgroup
 * can be written: a contract's first process is an anchor (ct-exec
 * --anchor, src/helpers/anchor.c) that marked itself child subreaper
 * (PR_SET_CHILD_SUBREAPER, Linux 3.4): every orphan of its subtree is
 * reparented to it, never to init, so the members are exactly the
 * anchor's descendants.  The anchor is never a member.
 *
 * A contract is a directory <registry>/<ctid> of small files, one per
 * record (the same keys as the cgroup xattrs): a new one created
 * exclusively and written in one write, an existing one replaced whole
 * through a temporary name and a rename (rp_meta_set).  The anchor
 * writes two records itself (keys.h):
 * LX_META_PROGRAM (the program's pid) and, when its wait finds no child
 * left, LX_META_DONE (the program's wait status and the tree's CPU time);
 * the holder records LX_META_ANCHOR (the anchor's pid and start time)
 * right after the spawn, before the state record leaves "spare"
 * (spawn.c, ct_spawn_commit: the join, then spare_commit).  So a
 * contract that is no longer a spare always has an anchor record until
 * its holder buries it (rp_rmdir, which removes it first): one without
 * is a deleted record, never a starting anchor (anchor_missing).
 *
 * Kernel facts: /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN)
 * lists each thread's children, readable by any user; a pidfd
 * (pidfd_open, 5.3, no privilege) becomes readable when its process
 * exits.  There is no freezer: a walk that signals members races their
 * forks, so it repeats until a pass finds no new pid.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"


/* How long the holder waits for the anchor to say it forked the program. */
#define	RP_FIRST_WAIT_MS	10000

/*
 * A record; ENODATA (as a missing xattr) if absent or not written yet.
 * A member may replace any record of its contract (same uid): each is read
 * bounded and non-blocking, and one that is not a plain file of our size
 * is EBADMSG, for the contract, never a hang (src/linux/safeio.c).
 */
static int
rp_meta_get(int dirfd, const char *key, char **bufp, size_t *lenp)
{
	size_t len;
	int err = lx_read_bounded(dirfd, key, LX_RECORD_CAP, bufp, &len);

	if (err == ENOENT)
		return (ENODATA);
	if (err == EBADMSG)
		return (ct_err_set(EBADMSG, "read", "the contract record %s is "
		    "not a regular file of at most %u bytes: refused", key,
		    LX_RECORD_CAP));
	if (err == 0 && len == 0) {
		free(*bufp);	/* created, its one write still to come */
		return (ENODATA);
	}
	if (err == 0 && lenp != NULL)
		*lenp = len;
	return (err);
}

static int
write_all(int fd, const char *val, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, val, len);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? errno : (size_t)n != len ? EIO : 0);
}

/*
 * A new record is created exclusively and written in one write (a reader
 * meanwhile sees it empty: absent); one that exists is replaced whole,
 * through a temporary name and a rename.
 */
static int
rp_meta_set(int dirfd, const char *key, const char *val, size_t len)
{
	char tmp[64];
	int fd, err;

	if ((fd = openat(dirfd, key, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) >= 0) {
		err = write_all(fd, val, len);
		(void) close(fd);
		return (err);
	}
	if (errno != EEXIST)
		return (errno);
	(void) snprintf(tmp, sizeof (tmp), ".%s.%d", key, (int)getpid());
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) < 0)
		return (errno);
	err = write_all(fd, val, len);
	(void) close(fd);
	if (err == 0 && renameat(dirfd, tmp, dirfd, key) != 0)
		err = errno;
	if (err != 0)
		(void) unlinkat(dirfd, tmp, 0);
	return (err);
}

/* The directory was removed (with its records): the contract is over. */
static bool
removed(int dirfd)
{
	struct stat sb;

	return (fstat(dirfd, &sb) == 0 && sb.st_nlink == 0);
}

/* The state record, decoded: 0, ENODATA (none), EBADMSG, EINVAL. */
static int
state_of(int dirfd, lx_hstate_t *s)
{
	char *buf;
	int err;

	if ((err = rp_meta_get(dirfd, LX_META_STATE, &buf, NULL)) != 0)
		return (err);
	err = lx_state_decode(buf, s);
	free(buf);
	return (err);
}

/* A device contract (its terms say so): it has no anchor, ever. */
static bool
is_device(int dirfd)
{
	lx_terms_t t;
	size_t len = 0;
	char *buf;
	bool dev = false;

	if (rp_meta_get(dirfd, LX_META_TERMS, &buf, &len) != 0)
		return (false);
	if (lx_terms_decode(buf, len, &t) == 0) {
		dev = t.type == CT_TYPE_DEVICE;
		lx_terms_fini(&t);
	}
	free(buf);
	return (dev);
}

/*
 * The anchor record is missing.  A device contract never has one
 * (ENODATA, as a spare: read as it always was).  Two states of a process
 * contract's directory have none: a spare, whose holder records its
 * anchor at the spawn's commit (spawn.c: the anchor record first, then
 * the state "owned"), and a directory its holder is removing (rp_rmdir:
 * the anchor record goes first, the state record -- "dead", or "spare"
 * -- last).  So the state record tells:
 * "spare" is a spare (ENODATA: its anchor may be starting); "dead" is a
 * burial under way (ESRCH: gone, and ended() says it ended); no state
 * record at all is the burial's last step, an empty directory whose
 * removal follows at once: that is waited for (RP_BURY_WAIT_MS; ESRCH
 * once it is gone).  Any other state ("owned", "orphan", "inherited"),
 * or none past the wait, had its anchor record written before it, so a
 * member deleted it (docs/security.md): EBADMSG, as for a forged
 * record, for good.
 */
#define	RP_BURY_WAIT_MS	100
static int
anchor_missing(int dirfd)
{
	struct timespec step = { 0, 1000 * 1000 };
	lx_hstate_t s = { .state = LX_SPARE };
	int err;

	for (int ms = 0; ; ms++) {
		if (removed(dirfd))
			return (ESRCH);
		if ((err = state_of(dirfd, &s)) != ENODATA ||
		    ms == RP_BURY_WAIT_MS)
			break;
		(void) nanosleep(&step, NULL);
	}
	if ((err == 0 && s.state == LX_SPARE) || is_device(dirfd))
		return (ENODATA);	/* a spare: its anchor may be starting */
	if (err == 0 && s.state == LX_DEAD)
		return (ESRCH);		/* being buried */
	if (err == EBADMSG)
		return (err);	/* the state record is refused: said already */
	return (ct_err_set(EBADMSG, "read", "the contract record "
	    LX_META_ANCHOR " is missing from a contract that was committed "
	    "(a member deleted it): its members cannot be known, refused"));
}

/*
 * The anchor, if it still runs: 0 and its pid; ESRCH if it is gone;
 * ENODATA if it is not recorded yet (a spare); EBADMSG if the record is
 * malformed, missing from a committed contract, or names a process that
 * is not the contract's anchor (src/linux/anchorproof.c): never trusted
 * as one.
 */
static int
anchor_known(int dirfd, pid_t *pidp, uint64_t *startp)
{
	uint64_t v[2];
	char *buf;
	int err;

	if ((err = rp_meta_get(dirfd, LX_META_ANCHOR, &buf, NULL)) == ENODATA)
		return (anchor_missing(dirfd));
	if (err != 0)
		return (err);
	err = lx_parse_u64s(buf, v, 2);
	free(buf);
	if (err != 0 || v[0] == 0 || v[0] > INT32_MAX)
		return (ct_err_set(EBADMSG, "read", "the contract record "
		    LX_META_ANCHOR " is malformed: refused"));
	*pidp = (pid_t)v[0];
	if (startp != NULL)
		*startp = v[1];
	return (lx_anchor_prove(dirfd, (pid_t)v[0], v[1]));
}

static int
anchor_of(int dirfd, pid_t *pidp)
{
	return (anchor_known(dirfd, pidp, NULL));
}

/*
 * Empty while its anchor still runs: every child it has is a zombie
 * (dead, not reaped yet), or it has none.  A zombie has no children (they
 * were handed to the anchor, the subreaper, before it became one), so no
 * process of the tree lives; and nothing can be born into it again: the
 * anchor forks only the program, and the program record says it has.
 * The list is read again after the zombies were seen, and must be the
 * same: a child that died in between handed its own children to the
 * anchor first.  The anchor, not a zombie when looked at last, was
 * running when both lists were read: a killed one (its tree handed to
 * its own reaper, custody.c) has no children either.
 *
 * Asked on every notice: the program's EXIT from the connector (before
 * the anchor has even woken to reap it), the anchor's word (it reaped
 * the last, anchor.c --word), a status read.  So it stays cheap: more
 * than RP_ZOMBIES_MAX children (a tree dying) is "not yet"; the anchor's
 * word, or its exit, says the rest.
 */
#define	RP_ZOMBIES_MAX	8
static bool
said_empty(int dirfd, pid_t anchor, uint64_t start)
{
	pid_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	bool empty = false;

	if (!lx_is_regular(dirfd, LX_META_PROGRAM) ||
	    lx_proc_kids(anchor, &a, &na) != 0 || na > RP_ZOMBIES_MAX)
		goto out;
	for (size_t i = 0; i < na; i++) {
		char state;
		if (lx_proc_state(a[i], &state) != 0 || state != 'Z')
			goto out;
	}
	if (na > 0 && (lx_proc_kids(anchor, &b, &nb) != 0 || nb != na ||
	    memcmp(a, b, na * sizeof (*a)) != 0))
		goto out;
	empty = lx_proc_alive(anchor, start);
out:
	free(a);
	free(b);
	return (empty);
}

/*
 * The anchor's done record, once the contract was seen empty while the
 * anchor still ran (said_empty): it writes it as soon as it has reaped
 * the last zombie, microseconds away.  Bounded: an anchor that is stopped
 * or killed meanwhile never writes it (ENODATA then).
 */
#define	RP_DONE_WAIT_NS	(100LL * 1000 * 1000)
static int
done_soon(int dirfd)
{
	struct timespec t0, t, step = { 0, 50 * 1000 };
	uint64_t start;
	pid_t anchor;

	(void) clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!lx_is_regular(dirfd, LX_META_DONE)) {
		if (anchor_known(dirfd, &anchor, &start) != 0 ||
		    !said_empty(dirfd, anchor, start))
			return (ENODATA);
		(void) clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000000LL + t.tv_nsec -
		    t0.tv_nsec > RP_DONE_WAIT_NS)
			return (ENODATA);
		(void) nanosleep(&step, NULL);
	}
	return (0);
}

/*
 * The contract ended, its anchor being gone: the anchor recorded the end
 * (a plain file: a planted link is not it), or its holder buried it
 * (state "dead", written only once it read empty; rp_rmdir may have
 * removed the done record already).  Asked only once the anchor is known
 * not to run: a record a member planted while it runs ends nothing.
 */
static bool
ended(int dirfd)
{
	lx_hstate_t s;

	return (lx_is_regular(dirfd, LX_META_DONE) ||
	    (state_of(dirfd, &s) == 0 && s.state == LX_DEAD));
}


typedef struct pidvec {
	pid_t *v;
	size_t n, cap;
} pidvec_t;

/* Append the children of every thread of pid. */
static int
children_of(pid_t pid, pidvec_t *out)
{
	return (lx_proc_children(pid, &out->v, &out->n, &out->cap));
}

/*
 * Right after the spawn the anchor may not have forked the program yet
 * (spawn() returns once it is exec'd): wait the few microseconds until it
 * says it has, so that no contract is seen without its first member.
 */
static void
await_program(int dirfd, pid_t anchor)
{
	struct timespec step = { 0, 20 * 1000 };
	uint64_t start;

	for (int i = 0; i < 5000; i++) {
		if (lx_is_regular(dirfd, LX_META_PROGRAM) ||
		    lx_proc_start(anchor, &start) != 0)
			return;
		(void) nanosleep(&step, NULL);
	}
}

/* Every descendant of the anchor, breadth first. */
static int
rp_members(int dirfd, pid_t **pidsp, size_t *np)
{
	pidvec_t all = { 0 };
	pid_t anchor;
	int err;

	/* A killed anchor's tree, handed back to us (custody.c). */
	if (lx_custody_has(dirfd))
		return (lx_custody_members(dirfd, pidsp, np));
	if ((err = anchor_of(dirfd, &anchor)) != 0) {
		if (removed(dirfd))
			err = ESRCH;	/* over: no member left */
		else if (err == ESRCH && !ended(dirfd) &&
		    lx_custody_look(dirfd))
			return (lx_custody_members(dirfd, pidsp, np));
		else if (err != ESRCH || !ended(dirfd))
			return (err == ESRCH ? EOWNERDEAD : err);
		*pidsp = NULL;	/* empty, and its anchor is gone */
		*np = 0;
		return (0);
	}
	await_program(dirfd, anchor);
	err = children_of(anchor, &all);
	for (size_t i = 0; err == 0 && i < all.n; i++)
		err = children_of(all.v[i], &all);
	if (err != 0) {
		free(all.v);
		return (err);
	}
	*pidsp = all.v;
	*np = all.n;
	return (0);
}

/*
 * Populated while the anchor runs without having recorded the end.  An
 * anchor that is gone without that record was killed: its members were
 * reparented (to us, if we spawned it: custody.c), so nobody can tell
 * when they are all gone (EOWNERDEAD, never empty).
 */
static int
rp_populated(int dirfd, int *populatedp, int *frozenp)
{
	uint64_t start;
	pid_t anchor;
	int err;

	*frozenp = -1;
	*populatedp = -1;
	if (removed(dirfd))
		return (ENOENT);
	/* Its anchor was killed: we hold its tree, never seen empty. */
	if (lx_custody_has(dirfd))
		return (EOWNERDEAD);
	/*
	 * A running anchor first: a "done" a member planted while it runs
	 * does not end the contract (only the anchor's wait can say so, and
	 * the tree it left: said_empty).
	 */
	if ((err = anchor_known(dirfd, &anchor, &start)) == 0) {
		*populatedp = said_empty(dirfd, anchor, start) ? 0 : 1;
		return (0);
	}
	if (err == ESRCH && removed(dirfd))
		return (ENOENT);	/* buried while we looked */
	if (err == ENODATA && !ended(dirfd)) {
		*populatedp = 1;	/* a spare: its anchor is starting */
		return (0);
	}
	if ((err == ESRCH || err == ENODATA) && ended(dirfd)) {
		*populatedp = 0;
		return (0);
	}
	if (err == ESRCH)
		(void) lx_custody_look(dirfd);	/* sorted before it is said */
	return (err == ESRCH ? EOWNERDEAD : err);
}

/* SIGKILL every member, forks included (src/linux/sigsend.c). */
static int
rp_kill(int dirfd)
{
	lx_sig_result_t r;

	return (lx_sigsend(&lx_mship_reaper, dirfd, SIGKILL, 0, NULL, NULL,
	    &r));
}

static int
rp_freeze(int dirfd, bool on)
{
	(void) dirfd;
	(void) on;
	return (ENOTSUP);
}

static int
rp_freezing(int dirfd, bool *onp)
{
	(void) dirfd;
	*onp = false;
	return (ENOTSUP);
}

/*
 * The anchor's done record (anchor.c, a_done): the program's wait status,
 * the tree's user and system CPU time (us), the last pid it reaped.
 * Parsed strictly: anything else is refused (EBADMSG), never guessed at.
 */
#define	RP_DONE_FIELDS	4
static int
rp_done_get(int dirfd, uint64_t v[RP_DONE_FIELDS])
{
	char *buf;
	int err;

	if ((err = rp_meta_get(dirfd, LX_META_DONE, &buf, NULL)) != 0)
		return (err);
	err = lx_parse_u64s(buf, v, RP_DONE_FIELDS);
	free(buf);
	if (err != 0 || v[3] > INT_MAX)
		return (ct_err_set(EBADMSG, "read", "the contract record "
		    LX_META_DONE " is malformed: refused"));
	return (0);
}

/*
 * While the tree runs: what the anchor has reaped so far (its cutime and
 * cstime in /proc/<anchor>/stat, the RUSAGE_CHILDREN it records at the
 * end) plus each live member's own time and what it reaped itself (a
 * member's reaped children are in its cutime until it is reaped in turn).
 * In clock ticks (10 ms at USER_HZ 100), and a process that is reaped
 * during the reads may be counted twice or not at all: an estimate, the
 * exact figure being the done record's.  The anchor is read last and
 * proved again after (its pid could be another's by then): ESRCH when it
 * is gone meanwhile.
 */
static int
rp_usage_live(int dirfd, ct_usage_t *u)
{
	uint64_t t[4], user = 0, sys = 0;
	long hz = sysconf(_SC_CLK_TCK);
	pid_t anchor, *pids;
	size_t n;
	int err;

	if ((err = anchor_of(dirfd, &anchor)) != 0)
		return (err);
	if ((err = rp_members(dirfd, &pids, &n)) != 0)
		return (err);
	for (size_t i = 0; i < n; i++) {
		if (lx_proc_times(pids[i], t) == 0) {
			user += t[0] + t[2];
			sys += t[1] + t[3];
		}
	}
	free(pids);
	if (lx_proc_times(anchor, t) != 0 || anchor_of(dirfd, &anchor) != 0)
		return (ESRCH);
	user += t[2];
	sys += t[3];
	if (hz <= 0)
		hz = 100;
	u->user_usec = user * 1000000ULL / (uint64_t)hz;
	u->system_usec = sys * 1000000ULL / (uint64_t)hz;
	return (0);
}

/*
 * Exact once empty: the anchor's RUSAGE_CHILDREN counts the whole tree
 * (its done record); before that, rp_usage_live's estimate.  A spare
 * whose anchor is still starting has run nothing yet.
 */
static int
rp_usage(int dirfd, ct_usage_t *u)
{
	uint64_t v[RP_DONE_FIELDS];
	int err;

	memset(u, 0, sizeof (*u));
	for (int tries = 0; tries < 2; tries++) {
		if ((err = rp_done_get(dirfd, v)) == 0) {
			u->user_usec = v[1];
			u->system_usec = v[2];
			return (0);
		}
		if (err != ENODATA)
			return (err);
		/* Empty already, the anchor reaping its last: its record. */
		if (tries == 0 && done_soon(dirfd) == 0)
			continue;
		if ((err = rp_usage_live(dirfd, u)) == 0)
			return (0);
		memset(u, 0, sizeof (*u));
		if (err == ENODATA && !ended(dirfd))
			return (0);	/* a spare: its anchor is starting */
		if (err != ESRCH)
			return (err);
		/* The anchor ended meanwhile: its record says it all now. */
	}
	return (removed(dirfd) || ended(dirfd) ? ENOENT : EOWNERDEAD);
}

/* ---- notices: a pidfd on each watched contract's anchor ---- */

typedef struct rpw {
	ct_id_t id;
	int pidfd;
} rpw_t;

static lx_map_t by_token;
static int32_t next_token = 1;

static void
rp_exited(void *arg)
{
	rpw_t *w = arg;
	ct_id_t id = w->id;

	/* Readable for good now: stop polling it, then say so once. */
	lx_evq_del(w->pidfd);
	(void) close(w->pidfd);
	w->pidfd = -1;
	lx_evq_notice(id);
}

static int
rp_follow(int rootfd, const char *rootpath, ct_id_t id, int *tokenp)
{
	char name[16];
	rpw_t *w;
	pid_t anchor;
	int fd, err;

	(void) rootpath;
	(void) snprintf(name, sizeof (name), "%" PRId32, id);
	if ((fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return (errno == ENOENT ? 0 : errno);
	err = anchor_of(fd, &anchor);
	(void) close(fd);
	*tokenp = -1;
	if (err != 0)
		return (0);	/* ended already: the first read says so */
	if ((w = calloc(1, sizeof (*w))) == NULL)
		return (ENOMEM);
	w->id = id;
	w->pidfd = (int)syscall(SYS_pidfd_open, anchor, 0);
	if (w->pidfd < 0) {
		err = errno;
		free(w);
		return (err == ESRCH ? 0 : ct_err_set(err, "pidfd_open",
		    "cannot watch the anchor of contract %" PRId32 ": %s", id,
		    strerror(err)));
	}
	(void) fcntl(w->pidfd, F_SETFD, FD_CLOEXEC);
	if ((err = lx_evq_add(w->pidfd, rp_exited, w)) != 0 ||
	    (err = lx_map_put(&by_token, next_token, w)) != 0) {
		lx_evq_del(w->pidfd);
		(void) close(w->pidfd);
		free(w);
		return (err);
	}
	*tokenp = next_token;
	next_token = next_token == INT32_MAX ? 1 : next_token + 1;
	return (0);
}

/*
 * The word pipe (anchor.c, --word): every anchor this process starts
 * holds its write end and writes "ID\n" once its tree is empty, before it
 * exits.  One pipe for all (two fds, never one per contract), non-blocking
 * at both ends: a full pipe loses a word, never stalls an anchor.  Anyone
 * with our uid can write to it (through /proc/<anchor>/fd): a word only
 * makes the watches look at that contract again (rp_populated decides),
 * and a line that is not an id, or not whole, is dropped.
 */
static int words[2] = { -1, -1 };

static void
rp_words(void *arg)
{
	static char carry[16];	/* a line the last read cut: "ID" is <= 10 */
	static size_t ncarry;
	char buf[sizeof (carry) + 512];
	ssize_t n;

	(void) arg;
	memcpy(buf, carry, ncarry);
	while ((n = read(words[0], buf + ncarry, sizeof (buf) - 1 - ncarry)) >
	    0) {
		char *line = buf, *nl;

		buf[ncarry + (size_t)n] = '\0';
		while ((nl = strchr(line, '\n')) != NULL) {
			uint64_t id;
			*nl = '\0';
			if (lx_parse_u64s(line, &id, 1) == 0 && id > 0 &&
			    id <= INT32_MAX)
				lx_evq_notice((ct_id_t)id);
			line = nl + 1;
		}
		ncarry = strlen(line);
		if (ncarry >= sizeof (carry))
			ncarry = 0;	/* no id: dropped */
		memmove(buf, line, ncarry);
	}
	memcpy(carry, buf, ncarry);
}

static int
rp_word_fd(void)
{
	if (words[1] >= 0)
		return (words[1]);
	if (pipe2(words, O_CLOEXEC | O_NONBLOCK) != 0)
		return (-1);
	if (lx_evq_add(words[0], rp_words, NULL) != 0) {
		(void) close(words[0]);
		(void) close(words[1]);
		words[0] = words[1] = -1;
	}
	return (words[1]);
}

static void
rp_unfollow(int token)
{
	rpw_t *w = lx_map_del(&by_token, token);

	if (w == NULL)
		return;
	if (w->pidfd >= 0) {
		lx_evq_del(w->pidfd);
		(void) close(w->pidfd);
	}
	free(w);
}

/*
 * Files first: a registry directory is not removed with its records.  In
 * an order that a reader of the half-removed directory cannot take for
 * anything else (anchor_missing): the anchor record first, so that a
 * directory that has one has every other record still; the state record
 * ("dead" once buried, or "spare") last, so that a directory without an
 * anchor record says why until it is empty.
 */
static int
rp_rmdir(int rootfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd;

	/*
	 * Again if a record came meanwhile: a contract is seen empty while
	 * its anchor may still write its done record (said_empty).
	 */
	for (int pass = 0; ; pass++) {
		if ((fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) < 0)
			return (errno);
		if ((d = fdopendir(fd)) == NULL) {
			(void) close(fd);
			return (errno);
		}
		(void) unlinkat(fd, LX_META_ANCHOR, 0);
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0 &&
			    strcmp(de->d_name, LX_META_STATE) != 0)
				(void) unlinkat(fd, de->d_name, 0);
		}
		(void) unlinkat(fd, LX_META_STATE, 0);
		(void) closedir(d);
		if (unlinkat(rootfd, name, AT_REMOVEDIR) == 0)
			return (0);
		if (errno != ENOTEMPTY || pass == 3)
			return (errno);
	}
}

/*
 * The program the anchor forked: what its holder presents as the child.
 * The anchor writes its pid as the first line of its report (anchor.c)
 * right after the fork, so this blocks on the pipe, never polls: only
 * that line is read (byte by byte, a few bytes), the status that follows
 * is left for the report's reader.  An anchor that ended first never ran
 * it, and one with no report cannot say: its own pid stands in.
 */
static int
rp_first(int report, pid_t child, pid_t *firstp)
{
	char line[16];
	size_t n = 0;

	*firstp = child;
	if (report < 0)
		return (0);
	while (n < sizeof (line)) {
		struct pollfd pf = { report, POLLIN, 0 };
		ssize_t r;
		/*
		 * Node's stdio pipe is a socket: a peek finds how long the
		 * line is, and the read takes exactly that (ctrun's is a
		 * pipe: a byte at a time).
		 */
		if (n == 0 && (r = recv(report, line, sizeof (line),
		    MSG_PEEK | MSG_DONTWAIT)) > 0) {
			char *nl = memchr(line, '\n', (size_t)r);
			if (nl != NULL) {
				size_t want = (size_t)(nl - line) + 1;
				if (read(report, line, want) == (ssize_t)want) {
					n = want - 1;
					break;
				}
				return (EBADMSG);
			}
		}
		r = read(report, &line[n], 1);
		if (r == 1 && line[n] == '\n')
			break;
		if (r == 1) {
			n++;
		} else if (r == 0) {
			return (0);	/* closed unsaid: the anchor failed */
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* Not written yet: the fork takes microseconds. */
			int p = poll(&pf, 1, RP_FIRST_WAIT_MS);
			if (p == 0)
				return (0);
			if (p < 0 && errno != EINTR)
				return (errno);
		} else if (errno != EINTR) {
			return (errno);
		}
	}
	if (n == 0 || n == sizeof (line))
		return (EBADMSG);
	line[n] = '\0';
	{
		uint64_t v;
		if (lx_parse_u64s(line, &v, 1) != 0 || v == 0 || v > INT32_MAX)
			return (EBADMSG);
		*firstp = (pid_t)v;
	}
	return (0);
}

/*
 * Only the anchor knows whether the program still runs (it reaps it), so
 * it forwards: SIGRTMAX queued with the signal as its value (SIGKILL and
 * SIGSTOP cannot be taken by the anchor itself).  The anchor is our own
 * unreaped child, so its pid is not reused under us.
 */
static int
rp_signal_first(pid_t child, int sig)
{
	union sigval v = { .sival_int = sig };

	if (sig == 0)
		return (kill(child, 0) == 0 ? 0 : errno);
	return (sigqueue(child, SIGRTMAX, v) == 0 ? 0 : errno);
}

/* The last process the anchor reaped, from its done record. */
static int
rp_last_exit(int dirfd, pid_t *pidp)
{
	uint64_t v[RP_DONE_FIELDS];
	int err;

	if ((err = rp_done_get(dirfd, v)) == ENODATA && done_soon(dirfd) == 0)
		err = rp_done_get(dirfd, v);
	if (err != 0)
		return (err);
	if (v[3] == 0)
		return (ENODATA);
	*pidp = (pid_t)v[3];
	return (0);
}

static int
rp_spare_open(int dirfd, int *joinfdp)
{
	(void) dirfd;
	*joinfdp = -1;
	return (0);
}

/*
 * The child is the anchor: record its pid and start time, so that anyone
 * can find its tree (and tell a reused pid from it).
 */
static int
rp_join(int dirfd, int joinfd, pid_t anchor)
{
	char buf[48];
	uint64_t start;
	int n;

	(void) joinfd;
	/* Ours (the spawn's child, exec'd): proven as it stands. */
	if (lx_proc_child_start(anchor, &start) == 0)
		lx_anchor_vouch(dirfd, anchor, start);
	else if (lx_proc_start(anchor, &start) != 0)
		start = 0;	/* gone already: its done record tells */
	n = snprintf(buf, sizeof (buf), "%d %" PRIu64, (int)anchor, start);
	return (rp_meta_set(dirfd, LX_META_ANCHOR, buf, (size_t)n));
}

/* Every contract is started by its anchor, ct-exec --anchor. */
static ct_spawn_mode_t
rp_spawn_mode(ct_spawn_mode_t mode)
{
	(void) mode;
	return (CT_SPAWN_REAPER);
}

/* The child is the anchor: the program's parent, never a member. */
static pid_t
rp_hidden(pid_t child)
{
	return (child);
}

/*
 * The anchor, if it runs, and its parent.  An anchor not started yet
 * (ENODATA: a spare) or gone (ESRCH) is nobody's parent: its children
 * were reparented when it went.
 */
static int
rp_hidden_now(int dirfd, pid_t *hiddenp, pid_t *shownp)
{
	pid_t anchor = 0, ppid = 0;
	int err;

	*hiddenp = 0;
	*shownp = 0;
	if ((err = anchor_of(dirfd, &anchor)) != 0)
		return (err == ENODATA || err == ESRCH ? 0 : err);
	if (lx_proc_ppid(anchor, &ppid) != 0)
		return (0);
	*hiddenp = anchor;
	*shownp = ppid;
	return (0);
}

/* No freezer; usage exact once the contract is empty. */
static void
rp_features(int rootfd, ct_features_t *f)
{
	(void) rootfd;
	f->usage = true;
}

const lx_mship_t lx_mship_reaper = {
	.name = "reaper",
	.spawn_mode = rp_spawn_mode,
	.joinfile = "",
	.spare_open = rp_spare_open,
	.join = rp_join,
	.features = rp_features,
	.keeper_group = false,
	.meta_get = rp_meta_get,
	.meta_set = rp_meta_set,
	.members = rp_members,
	.populated = rp_populated,
	.kill = rp_kill,
	.freeze = rp_freeze,
	.freezing = rp_freezing,
	.usage = rp_usage,
	.follow = rp_follow,
	.unfollow = rp_unfollow,
	.rmdir = rp_rmdir,
	.first = rp_first,
	.hidden = rp_hidden,
	.hidden_now = rp_hidden_now,
	.signal_first = rp_signal_first,
	.last_exit = rp_last_exit,
	.word_fd = rp_word_fd,
};

/*
 * cgroup.c -- membership by cgroup v2 directory (lx_mship_cgroup): a
 * contract is a directory <root>/<ctid>; the kernel keeps every process
 * forked inside it inside, however it daemonizes.  Its records are user.*
 * extended attributes of the directory.
 *
 * Kernel facts this rests on (docs/ARCHITECTURE.md has the rest):
 *   - cgroup.events "populated 0" once no process is left in it; the file
 *     is modified (inotify IN_MODIFY) on every change, rate-limited by the
 *     kernel to about one notification per 10 ms per file, and a change
 *     still held back is cancelled when the directory is removed;
 *   - no inotify event reaches a watch on a file of a removed cgroup, so
 *     the root is watched for IN_DELETE of contract directories too;
 *   - cgroup.kill (5.14) kills every member, forks included; cgroup.freeze
 *     (5.2) stops them, and cgroup.events says "frozen 1" once all are.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

#ifndef CGROUP2_SUPER_MAGIC
#define	CGROUP2_SUPER_MAGIC	0x63677270
#endif

bool
lx_cg_is_cgroup2(const char *path)
{
	struct statfs sf;

	return (statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC);
}

int
lx_cg_write(int dirfd, const char *file, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	if ((fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC)) < 0)
		return (errno);
	do {
		n = write(fd, val, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	(void) close(fd);
	return (err);
}

/*
 * A record: most are a few dozen bytes, so the first call reads into a
 * buffer of CG_META_GUESS and only a larger one costs a call for its
 * size (one fgetxattr per record read, not two).
 */
#define	CG_META_GUESS	256
static int
cg_meta_get(int dirfd, const char *key, char **bufp, size_t *lenp)
{
	size_t cap = CG_META_GUESS;

	for (;;) {
		char *buf;
		ssize_t got, sz;
		int err;

		if ((buf = malloc(cap + 1)) == NULL)
			return (ENOMEM);
		if ((got = fgetxattr(dirfd, key, buf, cap)) >= 0) {
			buf[got] = '\0';
			*bufp = buf;
			if (lenp != NULL)
				*lenp = (size_t)got;
			return (0);
		}
		err = errno;
		free(buf);
		if (err != ERANGE)
			return (err);
		if ((sz = fgetxattr(dirfd, key, NULL, 0)) < 0)
			return (errno);
		/*
		 * Never a size of 0: that asks for the size, and a record
		 * grown meanwhile would come back unread.  ERANGE again if it
		 * grew past sz: sized anew.
		 */
		cap = (size_t)sz > cap ? (size_t)sz : cap;
	}
}

static int
cg_meta_set(int dirfd, const char *key, const char *val, size_t len)
{
	return (fsetxattr(dirfd, key, val, len, 0) == 0 ? 0 : errno);
}

static int
cg_members(int dirfd, pid_t **pidsp, size_t *np)
{
	char *buf;
	int err;

	if ((err = lx_read_file(dirfd, "cgroup.procs", &buf)) != 0)
		return (err);
	err = lx_parse_pids(buf, pidsp, np);
	free(buf);
	return (err);
}

static int
cg_populated(int dirfd, int *populatedp, int *frozenp)
{
	char buf[256];	/* cgroup.events: a few short "key value" lines */
	ssize_t n;
	int fd, err;

	*populatedp = *frozenp = -1;
	if ((fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC)) < 0)
		return (errno);
	do {
		n = read(fd, buf, sizeof (buf) - 1);
	} while (n < 0 && errno == EINTR);
	err = n < 0 ? errno : 0;
	(void) close(fd);
	if (err != 0)
		return (err);
	buf[n] = '\0';
	return (lx_parse_events(buf, populatedp, frozenp));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * cgroup.events polls POLLPRI after each change once it has been read
 * (kernfs), so a freeze is waited for, not polled for.
 */
static int
cg_frozen_wait(int dirfd, int ms)
{
	int64_t end = now_ms() + ms;
	int fd, err = ETIMEDOUT;

	if ((fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC)) < 0)
		return (errno);
	for (;;) {
		char buf[256];
		int pop, frozen;
		ssize_t n = pread(fd, buf, sizeof (buf) - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		buf[n] = '\0';
		if (lx_parse_events(buf, &pop, &frozen) == 0 &&
		    (frozen == 1 || pop == 0)) {
			err = 0;
			break;
		}
		int64_t left = end - now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = { fd, POLLPRI, 0 };
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			err = errno;
			break;
		}
	}
	(void) close(fd);
	return (err);
}

static int
cg_kill(int dirfd)
{
	return (lx_cg_write(dirfd, "cgroup.kill", "1"));
}

static int
cg_freeze(int dirfd, bool on)
{
	int err = lx_cg_write(dirfd, "cgroup.freeze", on ? "1" : "0");

	return (err == ENOENT ? ENOTSUP : err);
}

static int
cg_freezing(int dirfd, bool *onp)
{
	char *want;
	int err;

	if ((err = lx_read_file(dirfd, "cgroup.freeze", &want)) != 0)
		return (err == ENOENT ? ENOTSUP : err);
	*onp = want[0] == '1';
	free(want);
	return (0);
}

static int
cg_usage(int dirfd, ct_usage_t *u)
{
	char *buf;
	int err;

	memset(u, 0, sizeof (*u));
	if ((err = lx_read_file(dirfd, "cpu.stat", &buf)) != 0)
		return (err);
	u->user_usec = lx_parse_keyed(buf, "user_usec");
	u->system_usec = lx_parse_keyed(buf, "system_usec");
	free(buf);
	if (lx_read_file(dirfd, "memory.current", &buf) == 0) {
		u->have_memory = true;
		u->memory_current = strtoull(buf, NULL, 10);
		free(buf);
		if (lx_read_file(dirfd, "memory.peak", &buf) == 0) {
			u->memory_peak = strtoull(buf, NULL, 10);
			free(buf);
		}
	}
	return (0);
}

/* ---- notifications: inotify on cgroup.events, IN_DELETE on the root ---- */

/* One watched cgroup.events file; the token names it until unfollow. */
typedef struct cgw {
	ct_id_t id;
	int wd;			/* -1 once the kernel dropped it */
} cgw_t;

static int inofd = -1;
static lx_map_t by_wd;		/* wd -> cgw (wds are reused: see drop) */
static lx_map_t by_token;	/* token -> cgw */
static int32_t next_token = 1;
static int root_wd = -1;
static dev_t root_dev;
static ino_t root_ino;

/* Every watched contract may have changed (the kernel dropped events). */
static void
notice_all(void)
{
	size_t i = 0;
	int32_t wd;
	void *v;

	while (lx_map_next(&by_wd, &i, &wd, &v))
		lx_evq_notice(((cgw_t *)v)->id);
}

static void
on_event(const struct inotify_event *ie)
{
	ct_id_t id;
	cgw_t *c;

	if (ie->mask & IN_Q_OVERFLOW) {
		notice_all();
	} else if (ie->wd == root_wd) {
		if (ie->mask & IN_IGNORED)
			root_wd = -1;	/* watch it anew */
		else if (ie->len > 0 && lx_parse_ctid(ie->name, &id))
			lx_evq_notice(id);
	} else if ((c = lx_map_get(&by_wd, ie->wd)) != NULL) {
		if (ie->mask & IN_IGNORED) {
			/* Removed: its wd may name another file soon. */
			(void) lx_map_del(&by_wd, ie->wd);
			c->wd = -1;
		}
		lx_evq_notice(c->id);
	}
}

static void
cg_drain(void *arg)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	(void) arg;
	while ((n = read(inofd, buf, sizeof (buf))) > 0) {
		for (char *p = buf; p < buf + n; ) {
			struct inotify_event *ie = (struct inotify_event *)p;
			p += sizeof (*ie) + ie->len;
			on_event(ie);
		}
	}
}

/* The root, once, and anew if it was removed and made again. */
static int
root_watch(int rootfd, const char *rootpath)
{
	struct stat sb;
	int wd;

	if (fstat(rootfd, &sb) != 0)
		return (errno);
	if (root_wd >= 0 && sb.st_ino == root_ino && sb.st_dev == root_dev)
		return (0);
	if ((wd = inotify_add_watch(inofd, rootpath, IN_DELETE |
	    IN_ONLYDIR)) < 0)
		return (ct_err_set(errno, "inotify_add_watch", "cannot watch "
		    "%s: %s", rootpath, strerror(errno)));
	if (root_wd >= 0 && root_wd != wd)
		(void) inotify_rm_watch(inofd, root_wd);
	root_wd = wd;
	root_dev = sb.st_dev;
	root_ino = sb.st_ino;
	return (0);
}

/* The process's one inotify instance, made on first need. */
static int
ino_open(void)
{
	int err;

	if (inofd >= 0)
		return (0);
	if ((inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return (ct_err_set(errno, "inotify_init1", "cannot "
		    "watch contracts: %s", strerror(errno)));
	if ((err = lx_evq_add(inofd, cg_drain, NULL)) != 0) {
		(void) close(inofd);
		inofd = -1;
		return (ct_err_set(err, "epoll_ctl", "cannot watch "
		    "contracts: %s", strerror(err)));
	}
	return (0);
}

/*
 * The inotify instance, for the keeper to hold (keep.c): the last close
 * of an instance with watches waits for an SRCU grace period
 * (fsnotify_destroy_group, 10-20 ms measured here), and in a holder that
 * is SIGKILLed that wait comes before the kernel marks it dead, so before
 * its keeper's pidfd says so.  Held by the keeper too, our death only
 * drops a reference: the wait moves to the keeper, after the rules.
 */
static int
cg_keeper_share(void)
{
	return (ino_open() == 0 ? inofd : -1);
}

static int
cg_follow(int rootfd, const char *rootpath, ct_id_t id, int *tokenp)
{
	char *path = NULL;
	int err, wd;

	if ((err = ino_open()) != 0)
		return (err);
	/* Before the contract's own: no removal goes unheard. */
	if ((err = root_watch(rootfd, rootpath)) != 0)
		return (err);
	if (asprintf(&path, "%s/%d/cgroup.events", rootpath, (int)id) < 0)
		return (ENOMEM);
	if ((wd = inotify_add_watch(inofd, path, IN_MODIFY)) < 0) {
		err = errno;
		(void) ct_err_set(err, "inotify_add_watch", "cannot watch %s: "
		    "%s", path, strerror(err));
		free(path);
		return (err);
	}
	free(path);
	cgw_t *c = malloc(sizeof (*c));
	int32_t token = next_token;
	if (c == NULL || (err = lx_map_put(&by_token, token, c)) != 0 ||
	    (err = lx_map_put(&by_wd, wd, c)) != 0) {
		if (c != NULL)
			(void) lx_map_del(&by_token, token);
		free(c);
		(void) inotify_rm_watch(inofd, wd);
		return (err != 0 ? err : ENOMEM);
	}
	c->id = id;
	c->wd = wd;
	next_token = next_token == INT32_MAX ? 1 : next_token + 1;
	*tokenp = token;
	return (0);
}

static void
cg_unfollow(int token)
{
	cgw_t *c = lx_map_del(&by_token, token);

	if (c == NULL)
		return;
	if (c->wd >= 0) {
		(void) lx_map_del(&by_wd, c->wd);
		(void) inotify_rm_watch(inofd, c->wd);
	}
	free(c);
}

static int
cg_rmdir(int rootfd, const char *name)
{
	/* cgroupfs removes a directory with its files; busy while populated */
	return (unlinkat(rootfd, name, AT_REMOVEDIR) == 0 ? 0 : errno);
}

/* The child joined itself (or was moved in): it is the program. */
static int
cg_first(int report, pid_t child, pid_t *firstp)
{
	(void) report;
	*firstp = child;
	return (0);
}

/* The child joins by itself, however it was chosen to. */
static ct_spawn_mode_t
cg_spawn_mode(ct_spawn_mode_t mode)
{
	return (mode);
}

/* The child is the first member. */
static pid_t
cg_hidden(pid_t child)
{
	(void) child;
	return (0);
}

/* Every process of the tree is a member: none to hide. */
static int
cg_hidden_now(int dirfd, pid_t *hiddenp, pid_t *shownp)
{
	(void) dirfd;
	*hiddenp = 0;
	*shownp = 0;
	return (0);
}

static int
cg_signal_first(pid_t child, int sig)
{
	return (kill(child, sig) == 0 ? 0 : errno);
}

/*
 * No cgroup file names the last member to leave: where the connector did
 * not say, pr_empty names the contract's first member, recorded at its
 * spawn (cg_join), so that it always carries a pid.
 */
static int
cg_last_exit(int dirfd, pid_t *pidp)
{
	uint64_t v;
	int err = lx_meta_get_u64(dirfd, LX_META_PROGRAM, &v);

	if (err != 0)
		return (err);
	if (v == 0 || v > INT32_MAX)
		return (ENODATA);
	*pidp = (pid_t)v;
	return (0);
}

/* The child (or its parent, for the shim) writes its pid here. */
static int
cg_spare_open(int dirfd, int *joinfdp)
{
	*joinfdp = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	return (*joinfdp < 0 ? errno : 0);
}

/*
 * The parent's half: the shim's child is moved in (ESRCH: it joined by
 * itself and is gone; joinfd -1: atfork, it joined at fork), and the
 * first member recorded for cg_last_exit.  That record is the commit
 * (commit_key): its error is the join's.
 */
static int
cg_join(int dirfd, int joinfd, pid_t child)
{
	char buf[16];
	int n;

	n = snprintf(buf, sizeof (buf), "%d", (int)child);
	if (joinfd >= 0 && write(joinfd, buf, (size_t)n) != n &&
	    errno != ESRCH)
		return (errno);
	return (lx_meta_set_u64(dirfd, LX_META_PROGRAM, (uint64_t)child));
}

static void
cg_features(int rootfd, ct_features_t *f)
{
	f->freeze = faccessat(rootfd, "cgroup.freeze", F_OK, 0) == 0;
	f->usage = faccessat(rootfd, "cpu.stat", F_OK, 0) == 0;
	f->memory = faccessat(rootfd, "memory.current", F_OK, 0) == 0;
}

const lx_mship_t lx_mship_cgroup = {
	.name = "cgroup",
	.spawn_mode = cg_spawn_mode,
	.joinfile = "/cgroup.procs",
	.spare_open = cg_spare_open,
	.join = cg_join,
	.commit_key = LX_META_PROGRAM,
	.features = cg_features,
	.keeper_group = true,
	.keeper_share = cg_keeper_share,
	.meta_get = cg_meta_get,
	.meta_set = cg_meta_set,
	.members = cg_members,
	.populated = cg_populated,
	.kill = cg_kill,
	.freeze = cg_freeze,
	.freezing = cg_freezing,
	.frozen_wait = cg_frozen_wait,
	.usage = cg_usage,
	.follow = cg_follow,
	.unfollow = cg_unfollow,
	.rmdir = cg_rmdir,
	.first = cg_first,
	.hidden = cg_hidden,
	.hidden_now = cg_hidden_now,
	.signal_first = cg_signal_first,
	.last_exit = cg_last_exit,
};

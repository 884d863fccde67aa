/*
 * root.c -- the contract root: the directory whose children are the
 * contracts (docs/ARCHITECTURE.md, "Linux: membership").  For cgroup
 * membership, a cgroup v2 directory; the first that is usable wins:
 *
 *   1. $ILLUMOS_CONTRACT_ROOT, if set and not empty;
 *   2. <cgroup2 mount>/contract, where we may write it (root);
 *   3. <own cgroup>/contract, where our own cgroup is delegated to us
 *      (owned by our euid, cgroup.procs writable);
 *
 * else EACCES with a message naming the ways out.  Where none is usable
 * (and cgroup membership is not forced with ILLUMOS_CONTRACT_MEMBERSHIP),
 * or when reaper membership is, the root is a per-user registry directory
 * instead (src/linux/reaper.c): $ILLUMOS_CONTRACT_ROOT,
 * $XDG_RUNTIME_DIR/illumos-contract (if that directory is ours alone), or
 * the first of ours of /dev/shm/illumos-contract-<uid>[-1..3] and
 * /tmp/illumos-contract-<uid>[-1..3].  Nothing of the environment is
 * trusted blindly (docs/security.md, "Who": a root process with a
 * user's environment): a directory is used only if
 * it and where it is made are ours (or root's, sticky when shared).
 * Contracts are flat siblings under the root, never nested.  Ids are allocated next-fit with
 * mkdir as the arbiter; a hint in user.ct.next on the root keeps them
 * increasing across processes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

#define	HOWTO \
	"run inside a delegated cgroup (systemd-run --user --scope -p " \
	"Delegate=yes node app.js, or a unit with Delegate=yes), or set " \
	"ILLUMOS_CONTRACT_ROOT to a cgroup v2 directory an administrator " \
	"delegated to you (mkdir /sys/fs/cgroup/<name> && chown -R <user> " \
	"/sys/fs/cgroup/<name>)"

static pthread_mutex_t root_lock = PTHREAD_MUTEX_INITIALIZER;
static lx_root_t root = { .path = NULL, .fd = -1 };	/* the rest 0 */
static char *root_mnt, *root_mroot;	/* the cgroup2 mount, its root */
static long refused_owner = -1;		/* try_root: whose it was */

/* The first cgroup2 mount point, and the cgroup path it shows as "/". */
static int
cgroup2_mount(char **mntp, char **mrootp)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = ENOENT;

	if (f == NULL)
		return (errno);
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - "), *mroot = NULL, *mnt = NULL;
		if (sep == NULL || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %ms %ms", &mroot, &mnt) != 2) {
			free(mroot);
			free(mnt);
			continue;
		}
		lx_parse_unescape(mroot);
		lx_parse_unescape(mnt);
		*mntp = mnt;
		*mrootp = mroot;
		err = 0;
		break;
	}
	free(line);
	(void) fclose(f);
	return (err);
}

/* Our own cgroup v2 path (from "0::/path"). */
static int
own_cgroup(char **pathp)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = ENOENT;

	if (f == NULL)
		return (errno);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		*pathp = strdup(line + 3);
		err = *pathp == NULL ? ENOMEM : 0;
		break;
	}
	free(line);
	(void) fclose(f);
	return (err);
}

static char *
join(const char *a, const char *b)
{
	char *s;

	if (asprintf(&s, "%s%s%s", a, (b[0] == '/' || a[strlen(a) - 1] == '/')
	    ? "" : "/", b) < 0)
		return (NULL);
	return (s);
}

/*
 * May a directory of st be trusted by us (docs/security.md, "Who")?
 * Ours, or root's; and if anyone else may write in it, sticky (then
 * nobody can rename or remove what we make in it).
 */
static bool
dir_trusted(const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return (false);
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return (false);
	return ((st->st_mode & 022) == 0 || (st->st_mode & S_ISVTX) != 0);
}

/*
 * A cgroup directory to make contracts in: it and every directory above
 * it up to the mount are ours or root's, and none but the owner may write
 * them.  Whoever owns a cgroup above ours may write its cgroup.kill and
 * cgroup.procs: another user's delegated cgroup is no place for ours.
 * (*ownerp: the owner of the first that fails.)
 */
static int
cg_trusted(const char *dir, uid_t *ownerp)
{
	char *p = realpath(dir, NULL), *slash;
	size_t ml = root_mnt != NULL ? strlen(root_mnt) : 0;
	struct stat st;
	int err = 0;

	if (p == NULL)
		return (errno);
	for (;;) {
		if (fstatat(AT_FDCWD, p, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			err = errno;
			break;
		}
		if ((st.st_uid != geteuid() && st.st_uid != 0) ||
		    (st.st_mode & 022) != 0 || !S_ISDIR(st.st_mode)) {
			*ownerp = st.st_uid;
			err = EACCES;
			break;
		}
		if (ml == 0 || strlen(p) <= ml ||
		    (slash = strrchr(p, '/')) == NULL || slash == p)
			break;
		*slash = '\0';
	}
	free(p);
	return (err);
}

/* The directory dir is in: ours or root's (else EACCES, *ownerp). */
static int
parent_trusted(const char *dir, uid_t *ownerp)
{
	char *dup = strdup(dir), *slash;
	struct stat st;
	int err = 0;

	if (dup == NULL)
		return (ENOMEM);
	if ((slash = strrchr(dup, '/')) != NULL)
		*(slash == dup ? slash + 1 : slash) = '\0';
	if (slash == NULL || stat(dup, &st) != 0)
		err = slash == NULL ? EINVAL : errno;
	else if (!dir_trusted(&st)) {
		*ownerp = st.st_uid;
		err = EACCES;
	}
	free(dup);
	return (err);
}

/*
 * Use dir (making it if absent) as the root if it is a cgroup v2
 * directory we may create contracts in.
 */
static int
try_root(const char *dir, bool create, int mode)
{
	uid_t owner = 0;
	int fd, err;

	/* Validated before anything is made in it. */
	if (create && access(dir, F_OK) != 0 &&
	    (err = parent_trusted(dir, &owner)) != 0) {
		refused_owner = (long)owner;
		return (err);
	}
	if (create && mkdir(dir, 0755) != 0 && errno != EEXIST &&
	    (errno != EACCES || mode == W_OK))
		return (errno);
	if (!lx_cg_is_cgroup2(dir))
		return (access(dir, F_OK) == 0 ? ENOTSUP : ENOENT);
	/*
	 * Contracts are made only in a trusted one; observing one trusts
	 * nothing of it (lx_root_mkdir refuses, naming the owner).
	 */
	root.untrusted = cg_trusted(dir, &owner) != 0;
	root.owner = owner;
	if (mode == W_OK && root.untrusted)
		return (EACCES);
	if (access(dir, mode) != 0)
		return (errno);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return (errno);
	if ((root.path = realpath(dir, NULL)) == NULL) {
		(void) close(fd);
		return (ENOMEM);
	}
	root.fd = fd;
	return (0);
}

static int
discover_cgroup(const char *env)
{
	char *own = NULL, *dir = NULL;
	const char *mnt, *mroot;
	int err;

	if (env != NULL) {
		/* Named explicitly: reading it is enough to observe. */
		err = try_root(env, true, R_OK | X_OK);
		if (err == ENOTSUP)
			return (ct_err_set(ENOTSUP, "statfs", "ILLUMOS_CONTRACT_"
			    "ROOT=%s is not a cgroup v2 directory", env));
		if (err == EACCES && refused_owner >= 0)
			return (ct_err_set(err, "mkdir", "refusing "
			    "ILLUMOS_CONTRACT_ROOT=%s: the cgroup it is in "
			    "belongs to uid %ld, who could kill or move our "
			    "members (only uid %d or root may own it)", env,
			    refused_owner, (int)geteuid()));
		if (err != 0)
			return (ct_err_set(err, "mkdir", "cannot use "
			    "ILLUMOS_CONTRACT_ROOT=%s as the contract root: %s"
			    "; %s", env, strerror(err), HOWTO));
		return (0);
	}
	if (root_mnt == NULL) {
		return (ct_err_set(ENOTSUP, "open",
		    "no cgroup v2 hierarchy is mounted (see /proc/self/"
		    "mountinfo); process contracts on Linux need cgroup v2"));
	}
	mnt = root_mnt;
	mroot = root_mroot;
	if ((dir = join(mnt, "contract")) == NULL) {
		err = ENOMEM;
		goto out;
	}
	if (access(mnt, W_OK) == 0 && (err = try_root(dir, true, W_OK)) == 0)
		goto out;
	free(dir);
	dir = NULL;
	if ((err = own_cgroup(&own)) == 0) {
		/* Inside a cgroup namespace the mount's root is "/" already. */
		const char *rel = own;
		size_t ml = strlen(mroot);
		if (strcmp(mroot, "/") != 0 && strncmp(own, mroot, ml) == 0)
			rel = own + ml;
		char *mine = join(mnt, rel), *procs;
		struct stat st;
		if (mine == NULL || (procs = join(mine, "cgroup.procs")) ==
		    NULL) {
			free(mine);
			err = ENOMEM;
			goto out;
		}
		bool delegated = stat(mine, &st) == 0 &&
		    st.st_uid == geteuid() && access(procs, W_OK) == 0;
		free(procs);
		if (delegated && (dir = join(mine, "contract")) != NULL &&
		    (err = try_root(dir, true, W_OK)) == 0) {
			root.delegated = true;
			free(mine);
			goto out;
		}
		free(mine);
	}
	err = ct_err_set(EACCES, "mkdir", "no usable contract root: %s/contract"
	    " is not writable by uid %d and our own cgroup %s is not delegated"
	    " to us; %s", mnt, (int)geteuid(), own != NULL ? own : "(unknown)",
	    HOWTO);
out:
	free(own);
	free(dir);
	return (err);
}

/*
 * The registry of reaper membership: dir (made 0700 if absent and create
 * says so, in a directory checked first: ours or root's, sticky if others
 * may write it), and used only if it is a real directory of ours that
 * nobody else may enter (its contracts' records are trusted).  EACCES
 * with *ownerp: somebody else's, or open to others.
 */
static int
use_registry(const char *dir, bool create, uid_t *ownerp, bool quiet)
{
	struct stat st;
	uid_t powner = 0;
	int fd, err;

	if (create && (err = parent_trusted(dir, &powner)) != 0) {
		*ownerp = powner;
		return (quiet ? err : ct_err_set(err, "stat", "refusing to make "
		    "the contract registry %s: the directory it is in belongs "
		    "to uid %d and others may write it", dir, (int)powner));
	}
	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return (quiet ? errno : ct_err_set(errno, "mkdir", "cannot make "
		    "the contract registry %s: %s", dir, strerror(errno)));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 && (err = errno) != 0 &&
	    fstatat(AT_FDCWD, dir, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_uid != geteuid()) {
		*ownerp = st.st_uid;	/* somebody else's: skipped, named */
		return (quiet ? EACCES : ct_err_set(EACCES, "open", "refusing "
		    "the contract registry %s: it belongs to uid %d", dir,
		    (int)st.st_uid));
	}
	if (fd < 0)
		return (quiet ? err : ct_err_set(err, "open", "cannot open "
		    "the contract registry %s: %s", dir, strerror(err)));
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		(void) close(fd);
		*ownerp = st.st_uid;
		return (quiet ? EACCES : ct_err_set(EACCES, "open", "refusing "
		    "the contract registry %s: it must be a directory owned by "
		    "uid %d with mode 0700 (it is uid %d, mode %03o)", dir,
		    (int)geteuid(), (int)st.st_uid,
		    (unsigned)(st.st_mode & 0777)));
	}
	if ((root.path = realpath(dir, NULL)) == NULL) {
		(void) close(fd);
		return (ENOMEM);
	}
	root.fd = fd;
	root.untrusted = false;
	root.registry = true;
	return (0);
}

/* $XDG_RUNTIME_DIR if it is ours alone (sudo -E passes a user's on). */
static const char *
runtime_dir(void)
{
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (xdg == NULL || xdg[0] != '/' || stat(xdg, &st) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0)
		return (NULL);
	return (xdg);
}

#define	NSPARE_NAMES	4	/* per directory: the first, then -1 .. -3 */

/*
 * $ILLUMOS_CONTRACT_ROOT, else the first usable of $XDG_RUNTIME_DIR/
 * illumos-contract, /dev/shm/illumos-contract-<uid>[-k], /tmp/...: any
 * user may make a name in /dev/shm or /tmp first (squat it), so one that
 * is not ours is skipped for the next, the same for every process of
 * ours.  When none is left the error names who has them.
 */
static int
discover_registry(const char *env)
{
	const char *xdg = runtime_dir();
	const char *bases[] = { "/dev/shm", "/tmp" };
	char *dir = NULL, who[96] = "";
	size_t wl = 0;
	uid_t owner;
	int err;

	/*
	 * Records are small files written and removed with every contract:
	 * on a disk filesystem that costs more than the spawn (measured 2.2x
	 * a plain spawn on ext4, 1.25x on tmpfs), so tmpfs is preferred:
	 * $XDG_RUNTIME_DIR, else /dev/shm (tmpfs in containers too).
	 */
	if (env != NULL)
		return (use_registry(env, true, &owner, false));
	if (xdg != NULL) {
		if (asprintf(&dir, "%s/illumos-contract", xdg) < 0)
			return (ENOMEM);
		err = use_registry(dir, true, &owner, false);
		free(dir);
		return (err);
	}
	for (size_t b = 0; b < sizeof (bases) / sizeof (bases[0]); b++) {
		struct stat st;
		if (stat(bases[b], &st) != 0 || !S_ISDIR(st.st_mode) ||
		    access(bases[b], W_OK | X_OK) != 0)
			continue;
		for (int k = 0; k < NSPARE_NAMES; k++) {
			if ((k == 0 ? asprintf(&dir, "%s/illumos-contract-%d",
			    bases[b], (int)geteuid()) : asprintf(&dir,
			    "%s/illumos-contract-%d-%d", bases[b],
			    (int)geteuid(), k)) < 0)
				return (ENOMEM);
			owner = geteuid();
			err = use_registry(dir, true, &owner, true);
			if (err == 0) {
				free(dir);
				return (0);
			}
			if (err != EACCES && err != ENOTDIR && err != ELOOP) {
				(void) ct_err_set(err, "mkdir", "cannot make the "
				    "contract registry %s: %s", dir,
				    strerror(err));
				free(dir);
				return (err);
			}
			if (wl < sizeof (who) - 24)
				wl += (size_t)snprintf(who + wl, sizeof (who) -
				    wl, "%s%d", wl == 0 ? "" : ",", (int)owner);
			free(dir);
		}
	}
	return (ct_err_set(EACCES, "mkdir", "no usable contract registry: "
	    "every candidate in /dev/shm and /tmp (illumos-contract-%d and "
	    "-1 to -%d) is taken by another user (uids %s) or open to others"
	    "; set ILLUMOS_CONTRACT_ROOT to a directory of your own",
	    (int)geteuid(), NSPARE_NAMES - 1, who));
}

/* Is path (or, if it does not exist yet, its parent) in cgroupfs? */
static bool
in_cgroupfs(const char *path)
{
	char *dup, *slash;
	bool yes;

	if (access(path, F_OK) == 0 || (dup = strdup(path)) == NULL)
		return (lx_cg_is_cgroup2(path));
	if ((slash = strrchr(dup, '/')) != NULL)
		*(slash == dup ? slash + 1 : slash) = '\0';
	yes = slash != NULL && lx_cg_is_cgroup2(dup);
	free(dup);
	return (yes);
}

/*
 * The membership table, chosen here and nowhere else: by the kind of root
 * found (meta.c keeps the pointer, for every file above it to read through
 * lx_ms()).
 */
static void
choose(void)
{
	lx_ms_use(root.registry ? &lx_mship_reaper : &lx_mship_cgroup);
}

/*
 * Membership: ILLUMOS_CONTRACT_MEMBERSHIP=cgroup|reaper forces one;
 * otherwise cgroup where a root is usable, else reaper.  A root named
 * outside cgroupfs is a registry.
 */
static int
discover(void)
{
	const char *env = secure_getenv("ILLUMOS_CONTRACT_ROOT");
	const char *want = secure_getenv("ILLUMOS_CONTRACT_MEMBERSHIP");
	int err;

	if (env != NULL && env[0] == '\0')
		env = NULL;
	if (want != NULL && want[0] == '\0')
		want = NULL;
	if (want != NULL && strcmp(want, "cgroup") != 0 &&
	    strcmp(want, "reaper") != 0)
		return (ct_err_set(EINVAL, "getenv", "ILLUMOS_CONTRACT_"
		    "MEMBERSHIP=%s: it must be cgroup or reaper", want));
	if (root_mnt == NULL && cgroup2_mount(&root_mnt, &root_mroot) != 0) {
		free(root_mnt);
		root_mnt = root_mroot = NULL;
	}
	if (want != NULL && strcmp(want, "reaper") == 0)
		return (discover_registry(env));
	if (want == NULL && env != NULL && !in_cgroupfs(env))
		return (discover_registry(env));
	if ((err = discover_cgroup(env)) == 0 || want != NULL || env != NULL)
		return (err);
	ct_err_clear();
	return (discover_registry(NULL));
}

int
lx_root_find(const lx_root_t **rp)
{
	int err = 0;

	(void) pthread_mutex_lock(&root_lock);
	if (root.path == NULL && (err = discover()) == 0)
		choose();
	(void) pthread_mutex_unlock(&root_lock);
	if (err != 0)
		return (err);
	*rp = &root;
	return (0);
}

/*
 * The root, with holder.c's rules applied once to whatever earlier
 * processes left: the one call from here into a file below (lx.h).
 */
int
lx_root_get(const lx_root_t **rp)
{
	static pthread_once_t swept = PTHREAD_ONCE_INIT;
	int err;

	if ((err = lx_root_find(rp)) != 0)
		return (err);
	(void) pthread_once(&swept, lx_holder_sweep);
	return (0);
}

int
lx_root_use(const char *dir)
{
	int err = 0;

	if (setenv("ILLUMOS_CONTRACT_ROOT", dir, 1) != 0)
		return (errno);
	(void) pthread_mutex_lock(&root_lock);
	if (root.path != NULL)
		err = 0;
	else if (!lx_cg_is_cgroup2(dir)) {
		uid_t owner;
		err = use_registry(dir, false, &owner, false);
	}
	else
		err = try_root(dir, false, R_OK | X_OK);
	if (err == 0)
		choose();
	(void) pthread_mutex_unlock(&root_lock);
	return (err);
}

int
lx_root_own_ctid(ct_id_t *idp)
{
	const lx_root_t *r;
	char *own = NULL, *abs = NULL, *end;
	int err;

	if ((err = lx_root_find(&r)) != 0)
		return (err);
	if (root_mnt == NULL || (err = own_cgroup(&own)) != 0)
		return (ENOENT);
	const char *rel = own;
	size_t ml = strlen(root_mroot), rl = strlen(r->path);
	if (strcmp(root_mroot, "/") != 0 && strncmp(own, root_mroot, ml) == 0)
		rel = own + ml;
	err = ENOENT;
	if ((abs = join(root_mnt, rel)) != NULL &&
	    strncmp(abs, r->path, rl) == 0 && abs[rl] == '/') {
		long id = strtol(abs + rl + 1, &end, 10);
		if (*end == '\0' && id > 0 && id <= INT32_MAX) {
			*idp = (ct_id_t)id;
			err = 0;
		}
	}
	free(abs);
	free(own);
	return (err);
}

/*
 * Test builds: a pause of the env's value times unit_us (0 to max), read
 * once into *cachep (a stall sits on a path every spawn takes).
 */
void
lx_test_stall(const char *env, long unit_us, long max, long *cachep)
{
	if (*cachep < 0) {
		const char *e = LX_TEST_ENV(env);
		long v = e != NULL ? strtol(e, NULL, 10) : 0;
		*cachep = v < 0 || v > max ? 0 : v;
	}
	if (*cachep > 0) {
		long us = *cachep * unit_us;
		struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
		(void) nanosleep(&ts, NULL);
	}
}

/*
 * Tests only: ILLUMOS_CONTRACT_TEST_MKDIR_STALL_US stalls between reading
 * the next-id hint and the mkdir, where a process without the root's
 * lock would race another.
 */
static void
test_stall(void)
{
	static long us = -1;

	lx_test_stall("ILLUMOS_CONTRACT_TEST_MKDIR_STALL_US", 1, 1000000, &us);
}

/*
 * One next-fit mkdir in root r.  Ids are reused only after wrap ("Ids"):
 * the hint's read, the mkdir and the hint's write are one step for every
 * process on the root (a lock on the root's open file; best effort:
 * without it, a process that stalls in between could hand out a freed id
 * again and move the hint back; and since anyone may open a cgroup root,
 * the wait for it is bounded).  ENOENT: the root itself is gone.
 */
static int
mkdir_next(const lx_root_t *r, ct_id_t *idp)
{
	/*
	 * Bounded (src/linux/trylock.c): past it we go on without, and the
	 * mkdir stays the arbiter -- at worst an id is reused early.
	 */
	bool locked = lx_trylock(r->fd) == 0;
	uint64_t hint = 0;
	char name[16];
	int err = 0;

	(void) lx_meta_get_u64(r->fd, LX_META_NEXT, &hint);
	test_stall();
	ct_id_t id = hint >= 1 && hint <= INT32_MAX ? (ct_id_t)hint : 1;
	for (uint64_t tries = 0; ; tries++) {
		if (tries == (uint64_t)INT32_MAX) {
			err = ct_err_set(EAGAIN, "mkdir", "no free contract id "
			    "in %s", r->path);
			break;
		}
		(void) snprintf(name, sizeof (name), "%" PRId32, id);
		if (mkdirat(r->fd, name, 0755) == 0) {
			(void) lx_meta_set_u64(r->fd, LX_META_NEXT,
			    id == INT32_MAX ? 1 : (uint64_t)id + 1);
			*idp = id;
			break;
		}
		if (errno != EEXIST) {
			err = errno;
			(void) ct_err_set(err, "mkdir", "cannot create a "
			    "contract directory in %s: %s%s", r->path,
			    strerror(err), err == EAGAIN || err == ENOSPC ?
			    " (cgroup.max.descendants reached?)" : "");
			break;
		}
		id = id == INT32_MAX ? 1 : id + 1;
	}
	if (locked)
		lx_unlock(r->fd);
	return (err);
}

int
lx_root_mkdir(ct_id_t *idp)
{
	const lx_root_t *r;
	int err;

	if ((err = lx_root_find(&r)) != 0)
		return (err);
	if (r->untrusted)
		return (ct_err_set(EACCES, "mkdir", "refusing to make contracts "
		    "in %s: it or a cgroup above it belongs to uid %d or may be "
		    "written by others, who could kill or move our members "
		    "(only uid %d or root may own them)", r->path,
		    (int)r->owner, (int)geteuid()));
	if ((err = mkdir_next(r, idp)) != ENOENT)
		return (err);
	/* The root was removed underneath us: find (make) it anew, once. */
	(void) pthread_mutex_lock(&root_lock);
	(void) close(root.fd);
	free(root.path);
	root.fd = -1;
	root.path = NULL;
	root.delegated = false;
	root.untrusted = false;
	root.registry = false;
	(void) pthread_mutex_unlock(&root_lock);
	if ((err = lx_root_find(&r)) != 0)
		return (err);
	return (mkdir_next(r, idp));
}

int
lx_root_open(ct_id_t id, int *fdp)
{
	const lx_root_t *r;
	char name[16];
	int err, fd;

	if ((err = lx_root_find(&r)) != 0)
		return (err);
	(void) snprintf(name, sizeof (name), "%" PRId32, id);
	fd = openat(r->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ? ESRCH : errno;
		return (ct_err_set(err, "open", "cannot open contract %" PRId32
		    " (%s/%s): %s", id, r->path, name, strerror(errno)));
	}
	*fdp = fd;
	return (0);
}

int
lx_root_open_ct(ct_id_t id, int *fdp, lx_terms_t *terms, lx_hstate_t *st)
{
	int err, fd = -1;

	if ((err = lx_root_open(id, &fd)) != 0)
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

void
lx_root_rmdir(ct_id_t id)
{
	const lx_root_t *r;
	char name[16];

	if (id != 0 && lx_root_find(&r) == 0) {
		(void) snprintf(name, sizeof (name), "%" PRId32, id);
		(void) lx_ms()->rmdir(r->fd, name);
	}
}

void
lx_root_bury(ct_id_t id, int dirfd)
{
	const lx_root_t *r;
	lx_hstate_t s = { .state = LX_DEAD };
	struct stat ours, named;
	char name[16];

	(void) lx_state_write(dirfd, &s);
	if (lx_root_find(&r) != 0 || fstat(dirfd, &ours) != 0)
		return;
	(void) snprintf(name, sizeof (name), "%" PRId32, id);
	/* Ours only: once ours is gone, the id may name a newer contract. */
	if (fstatat(r->fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	    named.st_ino == ours.st_ino && named.st_dev == ours.st_dev)
		(void) lx_ms()->rmdir(r->fd, name);
}

int
lx_root_scan(lx_scan_fn_t *fn, void *arg)
{
	const lx_root_t *r;
	struct dirent *de;
	DIR *d;
	int fd, err;

	if ((err = lx_root_find(&r)) != 0)
		return (err);
	if ((fd = openat(r->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		err = errno;
		if (fd >= 0)
			(void) close(fd);
		return (ct_err_set(err, "opendir", "cannot list %s: %s",
		    r->path, strerror(err)));
	}
	while (err == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			err = fn(r->fd, de->d_name, arg);
	}
	(void) closedir(d);
	return (err);
}

typedef struct each {
	lx_ct_fn_t *fn;
	void *arg;
} each_t;

static int
each_one(int rootfd, const char *name, void *arg)
{
	each_t *e = arg;
	ct_id_t id;
	int fd, err;

	if (!lx_parse_ctid(name, &id) || (fd = openat(rootfd, name,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return (0);	/* not a contract, or gone meanwhile */
	err = e->fn(id, name, fd, e->arg);
	(void) close(fd);
	return (err);
}

int
lx_root_each(lx_ct_fn_t *fn, void *arg)
{
	each_t e = { fn, arg };

	return (lx_root_scan(each_one, &e));
}

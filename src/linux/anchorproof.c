/*
 * anchorproof.c -- is the process a reaper record names really the anchor
 * of that contract (docs/security.md, "Who":
 * a member of your own tree)?  The record is a file a
 * member of the contract may rewrite, so the pid in it proves nothing by
 * itself: "1 <init's start time>" would make init's whole tree look like
 * members, to be listed and killed.  A process is the anchor only if
 *
 *   - it still runs with the start time the record gives (not a reuse);
 *   - its executable is our helper, ct-exec, the very file beside us;
 *   - it holds the contract's own directory open (an anchor keeps it for
 *     its records to the end; the kernel's fd table is no file anyone can
 *     forge: /proc/<pid>/fd/N resolves to the open directory itself).
 *
 * ct-exec marks itself child subreaper before it does anything else and
 * exits when it cannot (src/helpers/anchor.c): /proc shows no such flag,
 * but a ct-exec holding a contract's directory is past that point.  The
 * start time is checked again last, so the facts are of one process.
 *
 * A proof is cached by (pid, start, directory): the same anchor is asked
 * about on every status and notice.  So is a refusal: a forged record
 * that names a live ct-exec holding another directory costs the whole
 * wait below once, not on every read of its contract.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

/* How long a just-started anchor may take to open its directory. */
#define	PROVE_WAIT_NS	(2000LL * 1000 * 1000)

typedef struct proof {
	pid_t pid;
	uint64_t start;
	dev_t dev;
	ino_t ino;
} proof_t;

#define	NPROVEN	64		/* a cache, not a registry: overwritten */

static pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;
static proof_t proven[NPROVEN];		/* anchors proven */
static proof_t refused[NPROVEN];	/* and processes refused */
static dev_t helper_dev;
static ino_t helper_ino;
static bool helper_known;

/* The ct-exec beside the addon (or beside this program). */
static int
helper_id(dev_t *devp, ino_t *inop)
{
	const char *dir = ct_helper_dir();
	char *self = NULL, *path = NULL;
	struct stat st;
	int err = 0;

	if (helper_known) {
		*devp = helper_dev;
		*inop = helper_ino;
		return (0);
	}
	if (dir == NULL) {
		if ((self = realpath("/proc/self/exe", NULL)) == NULL)
			return (errno);
		dir = dirname(self);
	}
	if (asprintf(&path, "%s/ct-exec", dir) < 0)
		path = NULL;
	free(self);
	if (path == NULL)
		return (ENOMEM);
	if (stat(path, &st) != 0)
		err = errno;
	free(path);
	if (err != 0)
		return (err);
	helper_dev = *devp = st.st_dev;
	helper_ino = *inop = st.st_ino;
	helper_known = true;
	return (0);
}

/* Does pid hold an fd on the directory (dev, ino)? */
static bool
holds_dir(pid_t pid, dev_t dev, ino_t ino)
{
	char path[48];
	struct dirent *de;
	struct stat st;
	bool yes = false;
	DIR *d;
	int dfd;

	(void) snprintf(path, sizeof (path), "/proc/%d/fd", (int)pid);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return (false);
	if ((d = fdopendir(dfd)) == NULL) {
		(void) close(dfd);
		return (false);
	}
	while (!yes && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		yes = fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_dev == dev && st.st_ino == ino;
	}
	(void) closedir(d);
	return (yes);
}

/*
 * One look at pid: 0, it runs our ct-exec and holds the directory;
 * EBADMSG, it runs another program (an anchor runs ct-exec before its
 * record is written, and stays so), or one we may not inspect; EAGAIN,
 * not yet known: it has not opened the directory, or it is ending -- an
 * exiting process has no executable any more (exit_mm) and closes its
 * files (exit_files) a moment before it is a zombie, so a real anchor on
 * its way out must not be taken for a forgery.
 */
static int
examine(pid_t pid, const struct stat *dir, dev_t hdev, ino_t hino)
{
	struct stat exe;
	char path[48];

	(void) snprintf(path, sizeof (path), "/proc/%d/exe", (int)pid);
	if (stat(path, &exe) != 0)
		return (errno == ENOENT ? EAGAIN : EBADMSG);
	if (exe.st_dev != hdev || exe.st_ino != hino)
		return (EBADMSG);
	return (holds_dir(pid, dir->st_dev, dir->st_ino) ? 0 : EAGAIN);
}

static bool
same(const proof_t *p, pid_t pid, uint64_t start, const struct stat *dir)
{
	return (p->pid == pid && p->start == start && p->dev == dir->st_dev &&
	    p->ino == dir->st_ino);
}

static int
forged(pid_t pid)
{
	return (ct_err_set(EBADMSG, "open", "pid %d named as the anchor of a "
	    "contract is not its anchor (not ct-exec holding the contract's "
	    "directory): the record is forged", (int)pid));
}

int
lx_anchor_prove(int dirfd, pid_t pid, uint64_t start)
{
	struct stat dir;
	uint64_t now;
	dev_t hdev = 0;
	ino_t hino = 0;
	size_t slot;
	int err;

	if (pid <= 1)
		return (ct_err_set(EBADMSG, "open", "pid %d named as the anchor "
		    "of a contract: the record is forged", (int)pid));
	if (lx_proc_start(pid, &now) != 0 || now != start)
		return (ESRCH);
	if (fstat(dirfd, &dir) != 0)
		return (errno);
	slot = ((size_t)pid * 31u + (size_t)dir.st_ino) % NPROVEN;
	(void) pthread_mutex_lock(&plock);
	bool hit = same(&proven[slot], pid, start, &dir);
	bool miss = !hit && same(&refused[slot], pid, start, &dir);
	err = hit || miss ? 0 : helper_id(&hdev, &hino);
	(void) pthread_mutex_unlock(&plock);
	if (hit)
		return (0);
	if (miss)
		return (forged(pid));
	if (err != 0)
		return (ct_err_set(err, "stat", "cannot find ct-exec to prove "
		    "the anchor of a contract by: %s", strerror(err)));
	/*
	 * Just exec'd, it is usually microseconds from opening it; on a
	 * loaded machine its start-up may wait tens of milliseconds for a
	 * CPU.  So the bound is wall-clock time (PROVE_WAIT_NS), the steps
	 * growing from 20 us to 2 ms: a real anchor refused for a slow start
	 * would leave its contract with no notice, never seen empty.
	 */
	struct timespec t0;
	long step_ns = 20 * 1000;
	(void) clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((err = examine(pid, &dir, hdev, hino)) == EAGAIN) {
		struct timespec t, step = { 0, step_ns };
		(void) clock_gettime(CLOCK_MONOTONIC, &t);
		int64_t spent = (int64_t)(t.tv_sec - t0.tv_sec) * 1000000000 +
		    (t.tv_nsec - t0.tv_nsec);
		if (spent > PROVE_WAIT_NS) {
			err = EBADMSG;
			break;
		}
		if (lx_proc_start(pid, &now) != 0 || now != start)
			break;	/* it ended: the check below says so */
		(void) nanosleep(&step, NULL);
		if (step_ns < 2 * 1000 * 1000)
			step_ns *= 2;
	}
	if (lx_proc_start(pid, &now) != 0 || now != start)
		return (ESRCH);	/* it ended meanwhile: whatever it was */
	/*
	 * Both answers are kept: a process that ran this long without being
	 * the anchor never becomes it (the record is written after the
	 * anchor's exec), and a refusal that waited the whole bound must not
	 * be paid again on every status, notice and signal.
	 */
	(void) pthread_mutex_lock(&plock);
	if (err == 0)
		proven[slot] = (proof_t){ pid, start, dir.st_dev, dir.st_ino };
	else
		refused[slot] = (proof_t){ pid, start, dir.st_dev, dir.st_ino };
	(void) pthread_mutex_unlock(&plock);
	return (err == 0 ? 0 : forged(pid));
}

/*
 * The anchor this process spawned itself (rp_join, at the spawn's commit):
 * our own unreaped child, which exec'd the ct-exec we named (the spawn
 * returned after its exec) with the directory we gave it.  Nothing to
 * examine: proven as it stands, so a first look at its contract does not
 * walk its descriptors.
 */
void
lx_anchor_vouch(int dirfd, pid_t pid, uint64_t start)
{
	struct stat dir;

	if (pid <= 1 || start == 0 || fstat(dirfd, &dir) != 0)
		return;
	size_t slot = ((size_t)pid * 31u + (size_t)dir.st_ino) % NPROVEN;
	(void) pthread_mutex_lock(&plock);
	proven[slot] = (proof_t){ pid, start, dir.st_dev, dir.st_ino };
	(void) pthread_mutex_unlock(&plock);
}

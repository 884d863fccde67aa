/*
 * test_custody.c -- who custody (src/linux/custody.c) takes for a killed
 * anchor's member, and who stays a stranger (docs/security.md, "A killed
 * anchor"): the processes, their start times and states, and our children
 * as each look lists them, are scripted; the contract directories are
 * real.  Above all: a stranger that one listing of our children missed
 * (the kernel's list can skip an entry that moves) is still one when it
 * shows up while a killed anchor's tree is being stopped; and a process
 * that started before that tree's anchor is never taken for its member.
 * Prints failures as file:line, then "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/linux/map.c"
#include "../../src/linux/parse.c"
#include "../../src/linux/safeio.c"
#include "../../src/linux/custody.c"

#include "check.h"

/* ---- the processes, scripted ---- */

#define	NPROC	16
static struct {
	pid_t pid;
	uint64_t start;
	char state;
	pid_t parent;	/* its children are listed from this */
} proc[NPROC];
static size_t nproc;
static int stops;	/* SIGSTOP walks */

static void
spawned(pid_t pid, uint64_t start, pid_t parent)
{
	proc[nproc].pid = pid;
	proc[nproc].start = start;
	proc[nproc].state = 'S';
	proc[nproc++].parent = parent;
}

static int
find(pid_t pid)
{
	for (size_t i = 0; i < nproc; i++) {
		if (proc[i].pid == pid && proc[i].state != 'X')
			return ((int)i);
	}
	return (-1);
}

int
lx_proc_start(pid_t pid, uint64_t *startp)
{
	int i = find(pid);

	if (i < 0 || proc[i].state == 'Z')
		return (ESRCH);
	*startp = proc[i].start;
	return (0);
}

int
lx_proc_state(pid_t pid, char *statep)
{
	int i = find(pid);

	if (i < 0)
		return (ESRCH);
	*statep = proc[i].state;
	return (0);
}

int
lx_proc_children(pid_t pid, pid_t **kidsp, size_t *np, size_t *capp)
{
	int err = 0;

	for (size_t i = 0; err == 0 && i < nproc; i++) {
		if (proc[i].parent == pid && proc[i].state != 'X')
			err = lx_pids_push(kidsp, np, capp, proc[i].pid);
	}
	return (err);
}

/* ---- the rest of the backend ---- */

static char base[] = "/tmp/ict-test-custody-XXXXXX";
static int basefd = -1;

int
lx_root_open(ct_id_t id, int *fdp)
{
	char name[16];

	(void) snprintf(name, sizeof (name), "%d", (int)id);
	*fdp = openat(basefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return (*fdp < 0 ? errno : 0);
}

/* SIGSTOP reaches the custody's members: they stop. */
int
lx_sigsend(const lx_mship_t *m, int dirfd, int sig, int flags,
    lx_sig_want_t want, void *arg, lx_sig_result_t *r)
{
	pid_t *pids;
	size_t n;

	(void) m, (void) flags, (void) want, (void) arg;
	memset(r, 0, sizeof (*r));
	if (sig != SIGSTOP || lx_custody_members(dirfd, &pids, &n) != 0)
		return (0);
	stops++;
	for (size_t i = 0; i < n; i++)
		proc[find(pids[i])].state = 'T';
	free(pids);
	return (0);
}

const lx_mship_t lx_mship_reaper = { .name = "reaper" };

/* What a pass of reap.c would hand the sort: our children, as listed. */
#define	US	1
static pid_t skipped;	/* a listing misses this one */
static pid_t arriving;	/* handed to us while a tree is being stopped */

static void
look(void)
{
	pid_t *kids = NULL;
	size_t n = 0, cap = 0;

	if (arriving != 0) {
		proc[find(arriving)].parent = US;
		arriving = 0;
	}
	(void) lx_proc_children(US, &kids, &n, &cap);
	lx_custody_sort(kids, n, 0);
	free(kids);
}

static void
look_skipping(void)
{
	pid_t *kids = NULL;
	size_t n = 0, cap = 0, m = 0;

	(void) lx_proc_children(US, &kids, &n, &cap);
	for (size_t i = 0; i < n; i++) {
		if (kids[i] != skipped)
			kids[m++] = kids[i];
	}
	lx_custody_sort(kids, m, 0);
	free(kids);
}

static int
contract_dir(ct_id_t id, pid_t anchor, uint64_t start)
{
	char name[16], rec[48];
	int fd, rfd;

	(void) snprintf(name, sizeof (name), "%d", (int)id);
	(void) mkdirat(basefd, name, 0700);
	fd = openat(basefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	(void) snprintf(rec, sizeof (rec), "%d %llu", (int)anchor,
	    (unsigned long long)start);
	rfd = openat(fd, LX_META_ANCHOR, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);
	if (fd < 0 || rfd < 0 || write(rfd, rec, strlen(rec)) < 0) {
		perror(name);
		exit(2);
	}
	(void) close(rfd);
	return (fd);
}

static bool
member(int dirfd, pid_t pid)
{
	pid_t *pids;
	size_t n;
	bool yes = false;

	if (lx_custody_members(dirfd, &pids, &n) != 0)
		return (false);
	for (size_t i = 0; i < n; i++)
		yes |= pids[i] == pid;
	free(pids);
	return (yes);
}

/*
 * Anchor 100 (started at 500) of contract 1 runs a program (110) whose
 * daemon (111) is a member too; a plain child's daemon (200) came to us
 * before, started at start200.  The anchor is killed: its tree comes to
 * us and is stopped.
 */
static int
scene(uint64_t start200, bool listing_skips)
{
	int fd;

	nproc = 0;
	stops = 0;
	spawned(100, 500, US);
	spawned(110, 510, 100);
	spawned(111, 520, 110);
	spawned(200, start200, US);
	fd = contract_dir(1, 100, 500);
	CHECK_INT(lx_custody_anchor(1, 100), 0);
	look();			/* 200 is seen: a stranger */
	if (listing_skips) {
		skipped = 200;
		look_skipping();	/* a listing misses it */
	}
	/* The anchor is killed: its children are handed to us. */
	proc[find(100)].state = 'X';
	proc[find(110)].parent = US;
	lx_custody_reaped(100);
	if (listing_skips)
		look_skipping();	/* the tree is taken, 200 missed again */
	else
		look();
	return (fd);
}

static void
end_scene(int fd)
{
	lx_custody_release(fd);
	(void) close(fd);
	(void) unlinkat(basefd, "1/" LX_META_ANCHOR, 0);
	(void) unlinkat(basefd, "1", AT_REMOVEDIR);
}

int
main(void)
{
	int fd;

	if (mkdtemp(base) == NULL ||
	    (basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(base);
		return (2);
	}
	lx_custody_arm(look);

	/* The tree is taken and stopped; the stranger is not touched. */
	fd = scene(600, false);
	CHECK(lx_custody_has(fd));
	CHECK(member(fd, 110));
	CHECK(member(fd, 111));
	CHECK(!member(fd, 200));
	CHECK(proc[find(110)].state == 'T' && proc[find(111)].state == 'T');
	CHECK(proc[find(200)].state == 'S');
	CHECK(stops > 0);
	end_scene(fd);

	/*
	 * A listing that missed the stranger (twice, as the tree came) does
	 * not make it new: it shows up again while the tree is being
	 * stopped (the look's listing is whole) and stays a stranger, though
	 * it started after the anchor.
	 */
	fd = scene(600, true);
	CHECK(member(fd, 110));
	CHECK(!member(fd, 200));
	CHECK(proc[find(200)].state == 'S');
	end_scene(fd);

	/*
	 * A process never seen before, handed to us while the tree is being
	 * stopped: taken for a member only if it started no sooner than the
	 * tree's anchor.
	 */
	nproc = 0;
	spawned(100, 500, US);
	spawned(110, 510, 100);
	spawned(300, 400, 999);	/* older than the anchor, not ours yet */
	fd = contract_dir(1, 100, 500);
	CHECK_INT(lx_custody_anchor(1, 100), 0);
	look();
	proc[find(100)].state = 'X';
	proc[find(110)].parent = US;
	lx_custody_reaped(100);
	arriving = 300;
	{
		/* The sort that takes the tree does not list 300 yet. */
		pid_t kids[] = { 110 };
		lx_custody_sort(kids, 1, 0);
	}
	CHECK(member(fd, 110));
	CHECK(!member(fd, 300));
	CHECK(proc[find(300)].state != 'T');
	end_scene(fd);

	(void) close(basefd);
	(void) rmdir(base);
	return (check_report());
}

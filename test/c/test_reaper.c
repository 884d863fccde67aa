/*
 * test_reaper.c -- how reaper membership (src/linux/reaper.c) reads a
 * contract directory by its records, above all one without an anchor
 * record: a spare (its anchor starting), a directory its holder is
 * burying (every step of rp_rmdir, read as it goes), and a committed
 * contract whose anchor record a member deleted (docs/security.md): that
 * one is broken (EBADMSG), never populated forever, never empty.  The
 * anchor's proof is scripted (a pid that runs, one that is gone).
 * Prints failures as file:line, then "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/linux/map.c"
#include "../../src/linux/parse.c"
#include "../../src/linux/safeio.c"

static int probe_unlinkat(int fd, const char *name, int flags);
#define	unlinkat probe_unlinkat
#include "../../src/linux/reaper.c"
#undef unlinkat

#include "check.h"

/* ---- the rest of the backend, scripted ---- */

#define	RUNNING	100	/* an anchor record "100 1" names a live anchor */

int
lx_anchor_prove(int dirfd, pid_t pid, uint64_t start)
{
	(void) dirfd;
	(void) start;
	return (pid == RUNNING ? 0 : ESRCH);
}

int
lx_proc_start(pid_t pid, uint64_t *startp)
{
	*startp = 1;
	return (pid == RUNNING ? 0 : ESRCH);
}

int
lx_proc_child_start(pid_t pid, uint64_t *startp)
{
	return (lx_proc_start(pid, startp));
}

void
lx_anchor_vouch(int dirfd, pid_t pid, uint64_t start)
{
	(void) dirfd, (void) pid, (void) start;
}

int
lx_proc_times(pid_t pid, uint64_t t[4])
{
	(void) pid;
	memset(t, 0, 4 * sizeof (*t));
	return (0);
}

int
lx_proc_ppid(pid_t pid, pid_t *ppidp)
{
	(void) pid;
	*ppidp = 1;
	return (0);
}

/*
 * The running anchor's children (said_empty): by default one that runs,
 * the program; a test sets others, and a child handed to the anchor
 * between its two readings of them (late).
 */
static struct {
	pid_t pid;
	char state;
} kid[16] = { { 4242, 'S' } };
static size_t nkid = 1;
static void put(int dirfd, const char *key, const char *val);
static int kid_reads;
static int done_fd = -1;	/* the anchor writes its done record there */
static pid_t late_kid;
static bool anchor_dead;	/* a zombie when last looked at */

int
lx_proc_kids(pid_t pid, pid_t **kidsp, size_t *np)
{
	size_t n = 0;

	if (pid != RUNNING)
		return (ENOENT);
	if ((*kidsp = calloc(CHECK_NELEM(kid) + 1, sizeof (pid_t))) == NULL)
		return (ENOMEM);
	for (size_t i = 0; i < nkid; i++)
		(*kidsp)[n++] = kid[i].pid;
	if (kid_reads++ > 0 && late_kid != 0)
		(*kidsp)[n++] = late_kid;
	/* It reaps its zombies and records the end, as it is looked at. */
	if (done_fd >= 0 && kid_reads == 2) {
		put(done_fd, LX_META_DONE, "0 0 0 5000");
		done_fd = -1;
	}
	*np = n;
	return (0);
}

int
lx_proc_state(pid_t pid, char *statep)
{
	for (size_t i = 0; i < nkid; i++) {
		if (kid[i].pid == pid) {
			*statep = kid[i].state;
			return (0);
		}
	}
	*statep = 'S';
	return (pid == late_kid ? 0 : ESRCH);
}

bool
lx_proc_alive(pid_t pid, uint64_t start)
{
	return (pid == RUNNING && start == 1 && !anchor_dead);
}

int
lx_proc_children(pid_t pid, pid_t **kidsp, size_t *np, size_t *capp)
{
	(void) pid, (void) kidsp, (void) np, (void) capp;
	return (0);
}

/* No custody here: no anchor of these directories was ours. */
bool
lx_custody_look(int dirfd)
{
	(void) dirfd;
	return (false);
}

bool
lx_custody_has(int dirfd)
{
	(void) dirfd;
	return (false);
}

int
lx_custody_members(int dirfd, pid_t **pidsp, size_t *np)
{
	(void) dirfd;
	*pidsp = NULL;
	*np = 0;
	return (0);
}

int
lx_sigsend(const lx_mship_t *m, int dirfd, int sig, int flags,
    lx_sig_want_t want, void *arg, lx_sig_result_t *r)
{
	(void) m, (void) dirfd, (void) sig, (void) flags, (void) want,
	    (void) arg;
	memset(r, 0, sizeof (*r));
	return (0);
}

int
lx_evq_add(int fd, lx_evq_fn_t *fn, void *arg)
{
	(void) fd, (void) fn, (void) arg;
	return (0);
}

void
lx_evq_del(int fd)
{
	(void) fd;
}

void
lx_evq_notice(ct_id_t id)
{
	(void) id;
}

/* ---- directories ---- */

static char base[] = "/tmp/ict-test-reaper-XXXXXX";
static int basefd = -1;

static void
put(int dirfd, const char *key, const char *val)
{
	int fd = openat(dirfd, key, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		perror(key);
	if (fd >= 0)
		(void) close(fd);
}

/* Terms of the type given, as the holder writes them. */
static void
put_terms(int dirfd, ct_type_t type)
{
	lx_terms_t t = { .type = type };
	char *buf, *val;
	size_t len;

	if (lx_terms_encode(&t, &buf, &len) != 0 ||
	    (val = strndup(buf, len)) == NULL) {
		perror("terms");
		exit(2);
	}
	put(dirfd, LX_META_TERMS, val);
	free(val);
	free(buf);
}

/* A contract directory "name" holding the records given (NULL: none). */
static int
contract(const char *name, const char *anchor, const char *state,
    const char *done)
{
	int fd;

	(void) mkdirat(basefd, name, 0700);
	if ((fd = openat(basefd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		perror(name);
		exit(2);
	}
	put_terms(fd, CT_TYPE_PROCESS);
	put(fd, LX_META_PROGRAM, "4242");
	if (anchor != NULL)
		put(fd, LX_META_ANCHOR, anchor);
	if (state != NULL)
		put(fd, LX_META_STATE, state);
	if (done != NULL)
		put(fd, LX_META_DONE, done);
	return (fd);
}

static void
drop(const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd = openat(basefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				(void) unlinkat(dirfd(d), de->d_name, 0);
		(void) closedir(d);
	}
	(void) unlinkat(basefd, name, AT_REMOVEDIR);
}

/* What rp_populated says: "pop 0", "pop 1", or an errno's name. */
static const char *
reading(int dirfd)
{
	static char buf[32];
	int pop, frozen, err = rp_populated(dirfd, &pop, &frozen);

	if (err == 0)
		(void) snprintf(buf, sizeof (buf), "pop %d", pop);
	else
		(void) snprintf(buf, sizeof (buf), "%s", err == EBADMSG ?
		    "EBADMSG" : err == EOWNERDEAD ? "EOWNERDEAD" :
		    err == ENOENT ? "ENOENT" : err == ENODATA ? "ENODATA" :
		    "other");
	return (buf);
}

/* ---- one directory, read as its records say ---- */

static const struct {
	const char *what;
	const char *anchor, *state, *done;
	const char *want;
} states[] = {
	{ "a running anchor", "100 1", "owned 1 1", NULL, "pop 1" },
	{ "a running anchor, a done planted", "100 1", "owned 1 1", "0 0 0 1",
	    "pop 1" },
	{ "a running anchor, a dead planted", "100 1", "dead", NULL,
	    "pop 1" },
	{ "ended", "200 1", "owned 1 1", "0 0 0 1", "pop 0" },
	{ "killed", "200 1", "owned 1 1", NULL, "EOWNERDEAD" },
	{ "a spare, its anchor starting", NULL, "spare 1 1", NULL, "pop 1" },
	{ "a spare whose anchor ended before the commit", NULL, "spare 1 1",
	    "0 0 0 1", "pop 0" },
	{ "burying: anchor record gone", NULL, "dead", "0 0 0 1", "pop 0" },
	{ "burying: anchor and done records gone", NULL, "dead", NULL,
	    "pop 0" },
	{ "buried without its done record", "200 1", "dead", NULL, "pop 0" },
	{ "owned, anchor record deleted", NULL, "owned 1 1", NULL,
	    "EBADMSG" },
	{ "owned, anchor record deleted, a done planted", NULL, "owned 1 1",
	    "0 0 0 1", "EBADMSG" },
	{ "orphan, anchor record deleted", NULL, "orphan", NULL, "EBADMSG" },
	{ "inherited, anchor record deleted", NULL, "inherited 3", NULL,
	    "EBADMSG" },
	{ "anchor and state records deleted", NULL, NULL, NULL, "EBADMSG" },
};

static void
test_states(void)
{
	for (size_t i = 0; i < CHECK_NELEM(states); i++) {
		int fd = contract("s", states[i].anchor, states[i].state,
		    states[i].done);
		const char *got = reading(fd);
		if (!check_at(strcmp(got, states[i].want) == 0, states[i].what,
		    __FILE__, __LINE__))
			printf("  %s: got %s, want %s\n", states[i].what, got,
			    states[i].want);
		(void) close(fd);
		drop("s");
	}
	/* A device contract has no anchor, ever: read as it always was. */
	int fd = contract("s", NULL, "owned 1 1", NULL);
	put_terms(fd, CT_TYPE_DEVICE);
	CHECK_STR(reading(fd), "pop 1");
	(void) close(fd);
	drop("s");
}

/* ---- a burial, read at every step ---- */

/*
 * Each unlink of rp_rmdir is followed by a reading of the directory, in
 * a child process so that one which waits for the directory to go (the
 * last step: an empty directory) sees it go.  The burial goes on once
 * the child answered; after the last unlink, once 20 ms passed (that
 * reading waits for the rmdir).  Every answer is collected at the end.
 */
#define	MAXSTEPS	16
static int probe_fd = -1;
static struct {
	pid_t pid;
	int pipe;
	int entries;	/* records left when it read */
	char got[32];
} steps[MAXSTEPS];
static int nsteps;

static int
entries(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	(void) closedir(d);
	return (n);
}

static int plant_fd = -1;	/* a record written there after the state's unlink */

static int
probe_unlinkat(int fd, const char *name, int flags)
{
	int p[2];
	int ret = unlinkat(fd, name, flags);

	if (plant_fd >= 0 && !(flags & AT_REMOVEDIR) &&
	    strcmp(name, LX_META_STATE) == 0) {
		put(plant_fd, LX_META_DONE, "0 0 0 1");
		plant_fd = -1;
	}

	if (probe_fd < 0 || (flags & AT_REMOVEDIR) || nsteps == MAXSTEPS ||
	    pipe(p) != 0)
		return (ret);
	steps[nsteps].entries = entries(probe_fd);
	if ((steps[nsteps].pid = fork()) == 0) {
		const char *got = reading(probe_fd);
		(void) !write(p[1], got, strlen(got) + 1);
		_exit(0);
	}
	(void) close(p[1]);
	steps[nsteps].pipe = p[0];
	struct pollfd pf = { p[0], POLLIN, 0 };
	/* Slow under valgrind: a reading that need not wait is waited for. */
	(void) poll(&pf, 1, steps[nsteps].entries == 0 ? 20 : 30000);
	nsteps++;
	return (ret);
}

static void
collect(void)
{
	for (int i = 0; i < nsteps; i++) {
		ssize_t n = read(steps[i].pipe, steps[i].got,
		    sizeof (steps[i].got) - 1);
		steps[i].got[n > 0 ? n : 0] = '\0';
		(void) close(steps[i].pipe);
		(void) waitpid(steps[i].pid, NULL, 0);
	}
}

static void
burial(const char *what, const char *anchor, const char *state,
    const char *done, const char *during)
{
	int fd = contract("b", anchor, state, done);

	put(fd, LX_META_NEVENTS, "0");
	nsteps = 0;
	probe_fd = fd;
	CHECK_INT(rp_rmdir(basefd, "b"), 0);
	probe_fd = -1;
	collect();
	CHECK(nsteps >= 4);
	for (int i = 0; i < nsteps; i++) {
		/* An empty directory is gone once it is read. */
		const char *want = steps[i].entries == 0 ? "ENOENT" : during;
		if (!check_at(strcmp(steps[i].got, want) == 0, what, __FILE__,
		    __LINE__))
			printf("  %s: step %d (%d records left) read %s, "
			    "want %s\n", what, i, steps[i].entries,
			    steps[i].got, want);
	}
	(void) close(fd);
}

/* ---- empty while the anchor still runs (said_empty) ---- */

static void
kids(const char *states)
{
	nkid = 0;
	for (const char *c = states; *c != '\0'; c++) {
		kid[nkid].pid = (pid_t)(5000 + nkid);
		kid[nkid++].state = *c;
	}
	kid_reads = 0;
}

static void
test_said_empty(void)
{
	static const struct {
		const char *what, *kids;	/* one state letter each */
		pid_t late;
		bool dead, program;
		const char *want;
	} rows[] = {
		{ "no child left", "", 0, false, true, "pop 0" },
		{ "only the program's zombie", "Z", 0, false, true, "pop 0" },
		{ "zombies only", "ZZZ", 0, false, true, "pop 0" },
		{ "a zombie and one that runs", "ZS", 0, false, true, "pop 1" },
		{ "one stopped", "T", 0, false, true, "pop 1" },
		{ "a zombie whose child came to the anchor between the reads",
		    "Z", 6000, false, true, "pop 1" },
		{ "no child, the anchor a zombie by the last look", "", 0, true,
		    true, "pop 1" },
		{ "no child and no program record: not forked yet", "", 0,
		    false, false, "pop 1" },
		{ "more zombies than are looked at", "ZZZZZZZZZ", 0, false, true,
		    "pop 1" },
	};

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		int fd = contract("e", "100 1", "owned 1 1", NULL);
		if (!rows[i].program)
			(void) unlinkat(fd, LX_META_PROGRAM, 0);
		kids(rows[i].kids);
		late_kid = rows[i].late;
		anchor_dead = rows[i].dead;
		const char *got = reading(fd);
		if (!check_at(strcmp(got, rows[i].want) == 0, rows[i].what,
		    __FILE__, __LINE__))
			printf("  %s: got %s, want %s\n", rows[i].what, got,
			    rows[i].want);
		(void) close(fd);
		drop("e");
	}

	/*
	 * Seen empty before the anchor reaped its last: the done record
	 * (the last pid) is waited for, as the anchor writes it.
	 */
	int fd = contract("e", "100 1", "owned 1 1", NULL);
	pid_t last = 0;
	kids("Z");
	late_kid = 0;
	anchor_dead = false;
	done_fd = fd;
	CHECK_INT(rp_last_exit(fd, &last), 0);
	CHECK_INT(last, 5000);
	CHECK(done_fd == -1);
	(void) close(fd);
	drop("e");
	/* One that never comes (a stopped anchor): bounded. */
	fd = contract("e", "100 1", "owned 1 1", NULL);
	kids("");
	CHECK_INT(rp_last_exit(fd, &last), ENODATA);
	(void) close(fd);
	drop("e");
	kids("S");
	kid[0].pid = 4242;
}

/*
 * A burial that meets the anchor's last record: seen empty while it ran,
 * it writes its done record as the holder removes the directory.
 */
static void
test_burial_meets_record(void)
{
	int fd = contract("r", "200 1", "dead", NULL);

	plant_fd = fd;
	CHECK_INT(rp_rmdir(basefd, "r"), 0);
	CHECK(plant_fd == -1);
	CHECK(faccessat(basefd, "r", F_OK, 0) != 0 && errno == ENOENT);
	(void) close(fd);
	drop("r");
}

int
main(void)
{
	if (mkdtemp(base) == NULL ||
	    (basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(base);
		return (2);
	}
	test_states();
	test_said_empty();
	test_burial_meets_record();
	/* A buried contract: empty at every step, never killed or broken. */
	burial("burying an ended contract", "200 1", "dead", "0 0 0 1", "pop 0");
	/* A spare removed: a spare (or gone) at every step. */
	burial("removing a spare", NULL, "spare 1 1", NULL, "pop 1");
	(void) close(basefd);
	(void) rmdir(base);
	return (check_report());
}

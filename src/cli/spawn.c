/*
 * spawn.c -- ctrun's fork of the command into a new process contract.
 *
 * The contract is made from the calling thread's active process template
 * at fork (illumos: by the kernel; Linux: by the backend's pthread_atfork
 * handlers, or, where the environment forces the exec shim, by the child
 * joining the reserved cgroup itself before it execs).  Exec failures
 * come back over a close-on-exec pipe, as libuv does it: EOF means the
 * exec succeeded, a message means it did not and says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

typedef struct report {
	int stage;		/* 0: joining the contract, 1: exec */
	int err;
} report_t;

static void
report_back(int fd, int stage, int err)
{
	report_t r = { stage, err };

	(void) !write(fd, &r, sizeof (r));
}

/* In the child: only async-signal-safe calls from here on. */
static void
child(char *const argv[], int procfd, int dirfd, int wfd, int keep,
    int word, const sigset_t *mask)
{
	struct sigaction dfl, cur;

	/* The anchor's report and word pipes it inherits on purpose. */
	if (keep >= 0)
		(void) fcntl(keep, F_SETFD, 0);
	if (word >= 0)
		(void) fcntl(word, F_SETFD, 0);

	/* Our handlers write to the parent's signal pipe: not in here. */
	memset(&dfl, 0, sizeof (dfl));
	dfl.sa_handler = SIG_DFL;
	(void) sigemptyset(&dfl.sa_mask);
	for (int s = 1; s < NSIG; s++) {
		if (sigaction(s, NULL, &cur) == 0 &&
		    cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)
			(void) sigaction(s, &dfl, NULL);
	}
	(void) sigprocmask(SIG_SETMASK, mask, NULL);
	/* An anchor inherits its contract's directory (anchor_argv). */
	if (dirfd >= 0 && fcntl(dirfd, F_SETFD, 0) != 0) {
		report_back(wfd, 0, errno);
		_exit(124);
	}
	if (procfd >= 0 && write(procfd, "0", 1) != 1) {
		report_back(wfd, 0, errno);
		_exit(124);
	}
	(void) execvp(argv[0], argv);
	int err = errno;
	report_back(wfd, 1, err);
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* Make sure a child that cannot be used is gone. */
static void
reap(pid_t pid)
{
	(void) kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The child exists: record its contract and open it. */
static int
hold(ct_id_t reserved, cli_child_t *cp)
{
	int err;

	if ((err = ct_spawn_commit(reserved, cp->pid)) != 0)
		return (err);
	if ((err = ct_latest_get(CT_TYPE_PROCESS, &cp->ctid)) != 0)
		return (err);
	(void) ct_tmpl_active_clear(CT_TYPE_PROCESS);
	return (ct_contract_open(cp->ctid, CT_OPEN_LATEST, &cp->ct));
}

/*
 * Reaper membership: the child is an anchor, ct-exec beside this program
 * (or where the addon said), which runs argv; its command line is the
 * backend's (ct_spawn_argv, as the spawn hook's is).
 */
static int
anchor_argv(int dirfd, int report, int word, char *const argv[],
    char ***avp)
{
	const char *helpers = ct_helper_dir();
	char *self = NULL, *exe = NULL;
	int err;

	if (helpers == NULL && (self = realpath("/proc/self/exe", NULL)) !=
	    NULL) {
		char *slash = strrchr(self, '/');
		if (slash != NULL)
			*slash = '\0';
		helpers = self;
	}
	if (helpers == NULL || asprintf(&exe, "%s/ct-exec", helpers) < 0) {
		free(self);
		return (ENOMEM);
	}
	free(self);
	err = ct_spawn_argv(exe, dirfd, report, word, argv[0], argv, avp);
	free(exe);
	return (err);
}

/*
 * Shim: the reserved contract's cgroup.procs, for the child to join.
 * Anchor: *argvp becomes the anchor's command line, *anchorp to free.
 */
static int
reserve(ct_spawn_mode_t mode, char *const **argvp, ct_id_t *reservedp,
    int *procfdp, int *dirfdp, int *wordp, char ***anchorp, int report)
{
	char *procs = NULL;
	int err;

	if ((err = ct_spawn_prepare(reservedp, &procs)) != 0)
		return (err);
	if (mode == CT_SPAWN_REAPER) {
		/* The child inherits the directory (child() clears CLOEXEC). */
		*dirfdp = ct_spawn_dirfd();
		*wordp = ct_spawn_wordfd();
		if ((err = anchor_argv(*dirfdp, report, *wordp, *argvp,
		    anchorp)) == 0)
			*argvp = *anchorp;
	} else if ((*procfdp = open(procs, O_WRONLY | O_CLOEXEC)) < 0) {
		err = ct_err_set(errno, "open", "cannot open %s", procs);
	}
	free(procs);
	if (err != 0)
		(void) ct_spawn_abort(*reservedp);
	return (err);
}

/*
 * Reaper membership: the anchor, not this process, execs the program, so
 * a program that cannot be run is found here first, as execvp would look
 * for it (PATH; found but not executable: EACCES), and never makes a
 * contract.  0 if it can be run.
 */
static int
runnable(const char *file)
{
	const char *path = getenv("PATH");
	int found = ENOENT;

	if (strchr(file, '/') != NULL)
		return (access(file, X_OK) == 0 ? 0 : errno);
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (const char *p = path; ; p++) {
		const char *end = strchr(p, ':');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char *cand;
		if (asprintf(&cand, "%.*s/%s", (int)len, len == 0 ? "." : p,
		    file) < 0)
			return (ENOMEM);
		if (access(cand, X_OK) == 0) {
			free(cand);
			return (0);
		}
		if (errno == EACCES)
			found = EACCES;
		free(cand);
		if (end == NULL)
			return (found);
		p = end;
	}
}

int
cli_spawn(const ct_template_t *t, char *const argv[], cli_child_t *cp)
{
	ct_spawn_mode_t mode = CT_SPAWN_KERNEL;
	ct_id_t reserved = 0;
	int procfd = -1, dirfd = -1, word = -1, p[2] = { -1, -1 },
	    rp[2] = { -1, -1 }, err;
	char **anchor = NULL;
	sigset_t all, old;
	bool guarding = false;
	report_t r;
	ssize_t n;

	memset(cp, 0, sizeof (*cp));
	cp->pid = cp->program = -1;
	cp->report = -1;
	/* A plain fork() is ours to make: prefer the atfork handlers. */
	(void) ct_spawn_mode_set(CT_SPAWN_ATFORK);
	ct_err_clear();
	(void) ct_spawn_mode_get(&mode);
	if ((err = ct_tmpl_active_set(t)) != 0)
		return (err);
	if (mode == CT_SPAWN_REAPER && (cp->exec_err = runnable(argv[0])) != 0)
		goto out;
	if (mode == CT_SPAWN_REAPER && pipe2(rp, O_CLOEXEC) != 0) {
		err = ct_err_set(errno, "pipe", "cannot make the report pipe");
		goto out;
	}
	if (mode != CT_SPAWN_ATFORK && mode != CT_SPAWN_KERNEL &&
	    (err = reserve(mode, &argv, &reserved, &procfd, &dirfd, &word,
	    &anchor, rp[1])) != 0)
		goto out;
	if (pipe(p) != 0 || fcntl(p[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(p[1], F_SETFD, FD_CLOEXEC) != 0) {
		err = ct_err_set(errno, "pipe", "cannot make the exec pipe");
		(void) ct_spawn_abort(reserved);
		goto out;
	}
	/*
	 * An anchor a member kills hands its tree to the nearest subreaper:
	 * us (docs/security.md, "A killed anchor"), who then reap what is
	 * not our own child, the anchor, which we wait for (guarded).
	 */
	if (mode == CT_SPAWN_REAPER) {
		bool on;

		if (ct_reap_subreaper(&on) == 0 && on)
			guarding = ct_reap_guard(0, true) == 0;
		ct_err_clear();
	}
	(void) sigfillset(&all);
	(void) sigprocmask(SIG_SETMASK, &all, &old);
	cp->pid = fork();
	if (cp->pid == 0)
		child(argv, procfd, dirfd, p[1], rp[1], word, &old);
	err = cp->pid < 0 ? errno : 0;
	(void) sigprocmask(SIG_SETMASK, &old, NULL);
	if (guarding) {
		if (cp->pid > 0)
			(void) ct_reap_guard(cp->pid, true);
		(void) ct_reap_guard(0, false);
	}
	(void) close(p[1]);
	p[1] = -1;
	if (rp[1] >= 0)
		(void) close(rp[1]);	/* the anchor's alone: EOF if it dies */
	rp[1] = -1;
	if (err != 0) {
		err = ct_err_set(err, "fork", "cannot fork");
		(void) ct_spawn_abort(reserved);
		goto out;
	}
	/*
	 * The exec pipe first: its end (EOF, or the child's report) comes
	 * once the child has joined the contract, so the watch the commit
	 * makes never reads the contract before its first member is in it
	 * (without the proc connector that read would be a false pr_empty).
	 */
	while ((n = read(p[0], &r, sizeof (r))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof (r)) {
		cp->exec_err = r.err != 0 ? r.err : EINVAL;
		cp->join_failed = r.stage == 0;
	}
	if ((err = hold(reserved, cp)) != 0) {
		reap(cp->pid);
		cp->pid = -1;
		goto out;
	}
	/* The report's first line: the program's pid (the rest is ctrun's). */
	cp->program = cp->pid;
	if (mode == CT_SPAWN_REAPER && cp->exec_err == 0)
		(void) ct_spawn_first(cp->pid, rp[0], &cp->program);
	cp->report = rp[0];
	rp[0] = -1;
out:
	(void) ct_tmpl_active_clear(CT_TYPE_PROCESS);
	ct_spawn_argv_free(anchor);
	if (procfd >= 0)
		(void) close(procfd);
	if (p[0] >= 0)
		(void) close(p[0]);
	if (p[1] >= 0)
		(void) close(p[1]);
	if (rp[0] >= 0)
		(void) close(rp[0]);
	if (rp[1] >= 0)
		(void) close(rp[1]);
	return (err);
}

/*
 * anchor.c -- ct-exec in its second role: the anchor of a contract under
 * reaper membership (docs/ARCHITECTURE.md, "Linux: membership").
 *
 *   ct-exec --anchor @FD FILE ARGV0 [ARG...]
 *
 * FD is the contract's directory, inherited open: the anchor never opens
 * it by a path, which anyone who can rename a directory on the way could
 * redirect (docs/security.md, "Helpers").
 * It marks itself the child subreaper, so that every orphan of its subtree
 * is reparented to it rather than to init: the contract is exactly its
 * subtree.  It forks FILE (searched in PATH like execvp) and then only
 * reaps, and forwards the signals it receives to the program.  When its
 * wait finds no child left the contract is empty: it records that in DIR
 * ("user.ct.done": the program's wait status and the CPU time of the whole
 * tree, from RUSAGE_CHILDREN, which counts every process it or its
 * descendants reaped) and exits as the program did: with its code, or by
 * its signal.  Its own descriptors are closed and its stdio is /dev/null,
 * so that a pipe closes when the program's tree closes it.
 *
 * No handlers: every signal is blocked and taken with rt_sigtimedwait, so
 * the loop needs no libc and nothing is lost between a check and a wait.
 */
#include "exec_sys.h"

#ifndef __NR_close_range
#define	__NR_close_range	436
#endif

/* The same numbers on x86_64 and aarch64. */
#define	A_SIGKILL	9
#define	A_SIGCHLD	17
#define	A_SIGSTOP	19
#define	A_SIG_BLOCK	0
#define	A_SIG_UNBLOCK	1
#define	A_SIG_SETMASK	2
#define	A_WNOHANG	1
#define	A_ECHILD	10
#define	A_EINTR		4
#define	A_PR_SET_CHILD_SUBREAPER	36
#define	A_RLIMIT_CORE	4
#define	A_RUSAGE_CHILDREN	(-1)
#define	A_AT_FDCWD	(-100)

typedef unsigned long a_sigset_t;	/* the kernel's: 64 signals */

struct a_rusage {
	long ut_sec, ut_usec, st_sec, st_usec;
	long rest[14];
};

static long
a_pid(void)
{
	return (shim_sys3(__NR_getpid, 0, 0, 0));
}

/* Decimal digits of v into buf (at least 21 bytes); their count. */
static size_t
a_utoa(unsigned long v, char *buf)
{
	char tmp[24];
	size_t n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return (k);
}

/*
 * Write a record of DIR, once: created exclusively and written in one
 * write (a reader that opens it in between sees it empty, and the holder
 * only tests these two for existence until the anchor is gone).
 */
static void
a_record(int dirfd, const char *key, const char *val, size_t len)
{
	long fd = shim_sys4(__NR_openat, dirfd, (long)key,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return;
	(void) shim_write((int)fd, val, len);
	(void) shim_close((int)fd);
}

/* The program's wait status and the tree's CPU time, in microseconds. */
static void
a_done(int dirfd, int status)
{
	struct a_rusage ru = { 0 };
	char buf[80];
	size_t n;

	(void) shim_sys3(__NR_getrusage, A_RUSAGE_CHILDREN, (long)&ru, 0);
	n = a_utoa((unsigned long)(unsigned)status, buf);
	buf[n++] = ' ';
	n += a_utoa((unsigned long)(ru.ut_sec * 1000000 + ru.ut_usec),
	    buf + n);
	buf[n++] = ' ';
	n += a_utoa((unsigned long)(ru.st_sec * 1000000 + ru.st_usec),
	    buf + n);
	a_record(dirfd, "user.ct.done", buf, n);
}

/* Exit as the program did: its code, or its own signal (no core). */
static void
a_exit_as(int status)
{
	int sig = status & 0x7f;

	if (sig == 0)
		shim_exit((status >> 8) & 0xff);
	if (sig != 0x7f) {
		long lim[2] = { 0, 0 };
		a_sigset_t one = 1UL << (sig - 1);

		(void) shim_sys4(__NR_prlimit64, 0, A_RLIMIT_CORE, (long)lim, 0);
		(void) shim_sys4(__NR_kill, a_pid(), sig, 0, 0);
		(void) shim_sys4(__NR_rt_sigprocmask, A_SIG_UNBLOCK,
		    (long)&one, 0, sizeof (one));
	}
	shim_exit(128 + sig);
}

/* Only what it needs: the record directory; stdio from /dev/null. */
static void
a_detach(int dirfd)
{
	long fd;

	(void) shim_sys3(__NR_close_range, 0, dirfd - 1, 0);
	(void) shim_sys3(__NR_close_range, dirfd + 1, ~0U, 0);
	fd = shim_sys4(__NR_openat, A_AT_FDCWD, (long)"/dev/null", O_RDWR, 0);
	for (int i = 0; fd >= 0 && i < 3; i++) {
		if (i != fd)
			(void) shim_sys3(__NR_dup3, fd, i, 0);
	}
	if (fd > 2)
		(void) shim_close((int)fd);
}

/* "@N": the decimal fd N (0 .. 1023 here), else -1. */
static long
a_fdarg(const char *s)
{
	long v = 0;

	if (s[0] != '@' || s[1] == '\0')
		return (-1);
	for (s++; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > 100000)
			return (-1);
		v = v * 10 + (*s - '0');
	}
	return (v);
}

/* Reap what is ready; 1 once no child is left. */
static int
a_reap(long prog, int *statusp, int *progdonep)
{
	for (;;) {
		int st = 0;
		long r = shim_sys4(__NR_wait4, -1, (long)&st, A_WNOHANG, 0);

		if (r == -A_EINTR)
			continue;
		if (r == -A_ECHILD)
			return (1);
		if (r <= 0)
			return (0);
		if (r == prog) {
			*statusp = st;
			*progdonep = 1;
		}
	}
}

int
anchor_main(int argc, char **argv, char **envp)
{
	a_sigset_t all = ~0UL, old = 0;
	int status = 0, progdone = 0;
	long dirfd, prog, given;

	if (argc < 5 || (given = a_fdarg(argv[2])) < 0) {
		shim_say("usage: ct-exec --anchor @FD FILE ARGV0 [ARG...]",
		    "", "", "");
		return (125);
	}
	/* Its own copy, close-on-exec; the inherited one goes. */
	dirfd = shim_sys4(__NR_openat, given, (long)".",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	(void) shim_close((int)given);
	if (dirfd < 0 || shim_sys4(__NR_prctl, A_PR_SET_CHILD_SUBREAPER, 1,
	    0, 0) < 0) {
		shim_say("cannot anchor the contract (", argv[2], "): ",
		    shim_errname(dirfd < 0 ? -dirfd : SHIM_EPERM));
		return (127);
	}
	all &= ~((1UL << (A_SIGKILL - 1)) | (1UL << (A_SIGSTOP - 1)));
	(void) shim_sys4(__NR_rt_sigprocmask, A_SIG_BLOCK, (long)&all,
	    (long)&old, sizeof (all));
	prog = shim_sys5(__NR_clone, A_SIGCHLD, 0, 0, 0, 0);
	if (prog == 0) {
		long err;
		(void) shim_close((int)dirfd);
		(void) shim_sys4(__NR_rt_sigprocmask, A_SIG_SETMASK,
		    (long)&old, 0, sizeof (old));
		err = shim_execvp(argv[3], argv + 4, envp);
		shim_say("cannot run ", argv[3], ": ", shim_errname(err));
		shim_exit(err == SHIM_ENOENT ? 127 : 126);
	}
	if (prog < 0) {
		shim_say("cannot fork ", argv[3], ": ", shim_errname(-prog));
		return (126);
	}
	{
		char buf[24];
		a_record((int)dirfd, "user.ct.program", buf, a_utoa(
		    (unsigned long)prog, buf));
	}
	a_detach((int)dirfd);
	for (;;) {
		char info[128];
		long sig = shim_sys4(__NR_rt_sigtimedwait, (long)&all,
		    (long)info, 0, sizeof (all));

		if (sig == A_SIGCHLD || sig == -A_EINTR) {
			if (a_reap(prog, &status, &progdone))
				break;
		} else if (sig > 0 && !progdone) {
			(void) shim_sys4(__NR_kill, prog, sig, 0, 0);
		}
	}
	a_done((int)dirfd, status);
	a_exit_as(status);
	return (125);
}

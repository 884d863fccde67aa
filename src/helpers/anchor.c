/*
 * anchor.c -- ct-exec in its second role: the anchor of a contract under
 * reaper membership (docs/ARCHITECTURE.md, "Linux: membership").
 *
 *   ct-exec --anchor [--report RFD] [--word WFD ID] @FD FILE ARGV0 [ARG...]
 *
 * FD is the contract's directory, inherited open: the anchor never opens
 * it by a path, which anyone who can rename a directory on the way could
 * redirect (docs/security.md, "Helpers").
 * It marks itself the child subreaper, so that every orphan of its subtree
 * is reparented to it rather than to init: the contract is exactly its
 * subtree.  It forks FILE (searched in PATH like execvp) and then only
 * reaps, and forwards the signals it receives to the program.  Its holder
 * presents the program as the child it spawned (docs/ARCHITECTURE.md,
 * "Linux: membership"): so the anchor writes the program's pid to RFD
 * ("--report", a pipe of the holder's) as soon as it forked it, a line,
 * and the program's wait status, a second line, as soon as it has reaped
 * it, then closes RFD; and a SIGRTMAX queued to it (sigqueue, SI_QUEUE) with a
 * signal number as its value is that signal for the program, which is
 * how SIGKILL and SIGSTOP, which it cannot take, are forwarded.  When its
 * wait finds no child left the contract is empty: it records that in DIR
 * ("user.ct.done": the program's wait status, the CPU time of the whole
 * tree, from RUSAGE_CHILDREN, which counts every process it or its
 * descendants reaped, and the last pid it reaped) and exits as the program did: with its code, or by
 * its signal.  Its own descriptors are closed and its stdio is /dev/null,
 * so that a pipe closes when the program's tree closes it.
 *
 * "--word": WFD is the write end of its holder's word pipe, shared by
 * every anchor the holder starts (non-blocking), and ID the contract's id.
 * Right after the done record it writes "ID\n" there, in one write, so
 * that the holder can say pr_empty now rather than when this process has
 * exited and its pidfd woke the holder: one process exit less in series
 * (docs/ARCHITECTURE.md, "Linux: the anchor's word").  A word is a hint:
 * the holder believes the tree empty only on seeing this process alive
 * and childless after its done record (reaper.c, rp_populated); a word
 * lost (a full pipe, a gone holder) leaves the pidfd to say it.
 *
 * No handlers: every signal is blocked and taken with rt_sigtimedwait, so
 * the loop needs no libc and nothing is lost between a check and a wait.
 */
#include "exec_sys.h"
#include "../linux/keys.h"

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
#define	A_SIGRTMAX	64
#define	A_SI_QUEUE	(-1)
/* siginfo_t on 64-bit Linux: si_signo, si_errno, si_code, pad, then
 * the union: si_pid, si_uid, si_value. */
#define	A_SI_CODE_OFF	8
#define	A_SI_VALUE_OFF	24

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

/* The program's wait status, the tree's CPU time (us), the last reaped. */
static void
a_done(int dirfd, int status, long last)
{
	struct a_rusage ru = { 0 };
	char buf[104];
	size_t n;

	(void) shim_sys3(__NR_getrusage, A_RUSAGE_CHILDREN, (long)&ru, 0);
	n = a_utoa((unsigned long)(unsigned)status, buf);
	buf[n++] = ' ';
	n += a_utoa((unsigned long)(ru.ut_sec * 1000000 + ru.ut_usec),
	    buf + n);
	buf[n++] = ' ';
	n += a_utoa((unsigned long)(ru.st_sec * 1000000 + ru.st_usec),
	    buf + n);
	buf[n++] = ' ';
	n += a_utoa((unsigned long)last, buf + n);
	a_record(dirfd, LX_META_DONE, buf, n);
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

/* Tell the holder how the program ended (once), and close the pipe. */
static void
a_report(int *fdp, int status)
{
	char buf[24];
	size_t n;

	if (*fdp < 0)
		return;
	n = a_utoa((unsigned long)(unsigned)status, buf);
	buf[n++] = '\n';
	(void) shim_write(*fdp, buf, n);
	(void) shim_close(*fdp);
	*fdp = -1;
}

/* Only what it needs: the fds in keep (the record directory, the report
 * and word pipes, -1 for none), sorted up first; stdio from /dev/null. */
static void
a_detach(int keep[3])
{
	long fd;
	int lo = 0;

	for (int i = 0; i < 3; i++) {
		for (int j = i + 1; j < 3; j++) {
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
		}
	}
	for (int i = 0; i < 3; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo)
			(void) shim_sys3(__NR_close_range, lo, keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	(void) shim_sys3(__NR_close_range, lo, ~0U, 0);
	fd = shim_sys4(__NR_openat, A_AT_FDCWD, (long)"/dev/null", O_RDWR, 0);
	for (int i = 0; fd >= 0 && i < 3; i++) {
		if (i != fd)
			(void) shim_sys3(__NR_dup3, fd, i, 0);
	}
	if (fd > 2)
		(void) shim_close((int)fd);
}

/* Reap what is ready; 1 once no child is left. */
static int
a_reap(long prog, int *statusp, int *progdonep, long *lastp)
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
		*lastp = r;
		if (r == prog) {
			*statusp = st;
			*progdonep = 1;
		}
	}
}

static int
a_eq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (*a == *b);
}

/* A native-endian int at p (siginfo is a byte buffer here). */
static int
a_int(const char *p)
{
	union { char c[sizeof (int)]; int v; } u;

	for (size_t i = 0; i < sizeof (int); i++)
		u.c[i] = p[i];
	return (u.v);
}

/* A small decimal fd (the N of --report N and of @N), or -1. */
static int
a_fd(const char *s)
{
	int v = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > 100000)
			return (-1);
		v = v * 10 + (*s - '0');
	}
	return (v);
}

/* A contract id: 1 to 10 decimal digits. */
static int
a_id(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return (s[n] == '\0' && n > 0 && n <= 10);
}

/* Write the word (a_report's sibling): the contract is empty, say it. */
static void
a_word(int fd, const char *id)
{
	char buf[24];
	size_t n = 0;

	if (fd < 0)
		return;
	while (id[n] != '\0' && n < sizeof (buf) - 1) {
		buf[n] = id[n];
		n++;
	}
	buf[n++] = '\n';
	(void) shim_write(fd, buf, n);
}

int
anchor_main(int argc, char **argv, char **envp)
{
	a_sigset_t all = ~0UL, old = 0;
	int status = 0, progdone = 0, report = -1, word = -1;
	const char *wordid = "";
	long dirfd, prog, given, last = 0;

	for (;;) {
		if (argc >= 4 && a_eq(argv[2], "--report")) {
			if ((report = a_fd(argv[3])) < 0)
				argc = 0;	/* usage */
			argc -= 2;
			argv += 2;
		} else if (argc >= 5 && a_eq(argv[2], "--word")) {
			/* The id: decimal, as the directory's name. */
			if ((word = a_fd(argv[3])) < 0 || !a_id(argv[4]))
				argc = 0;
			wordid = argv[4];
			argc -= 3;
			argv += 3;
		} else {
			break;
		}
	}
	if (argc < 5 || argv[2][0] != '@' || (given = a_fd(argv[2] + 1)) < 0) {
		shim_say("usage: ct-exec --anchor [--report RFD] [--word WFD ID] "
		    "@FD FILE ARGV0 [ARG...]", "", "", "");
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
		if (report >= 0)
			(void) shim_close(report);
		if (word >= 0)
			(void) shim_close(word);
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
		/*
		 * The record for anyone who reads the directory, then the
		 * same pid as the report's first line, on which the holder
		 * blocks (ct_spawn_first): it never polls for the record.
		 */
		char buf[24];
		size_t n = a_utoa((unsigned long)prog, buf);
		a_record((int)dirfd, LX_META_PROGRAM, buf, n);
		if (report >= 0) {
			buf[n++] = '\n';
			(void) shim_write(report, buf, n);
		}
	}
	{
		int keep[3] = { (int)dirfd, report, word };
		a_detach(keep);
	}
	for (;;) {
		char info[128];
		long sig = shim_sys4(__NR_rt_sigtimedwait, (long)&all,
		    (long)info, 0, sizeof (all));

		if (sig == A_SIGCHLD || sig == -A_EINTR) {
			int done = a_reap(prog, &status, &progdone, &last);
			/*
			 * The report first: the program's 'exit' waits for
			 * nothing else.  The end (record, word) after: the
			 * holder, woken by the report, is still awake for it,
			 * and its proc connector (where it has one) told it
			 * the tree was empty already (reaper.c, said_empty).
			 */
			if (progdone)
				a_report(&report, status);
			if (done)
				break;
		} else if (sig > 0 && !progdone) {
			int code = a_int(info + A_SI_CODE_OFF);
			int val = a_int(info + A_SI_VALUE_OFF);
			if (sig == A_SIGRTMAX && code == A_SI_QUEUE &&
			    val > 0 && val <= A_SIGRTMAX)
				sig = val;	/* forwarded for the holder */
			(void) shim_sys4(__NR_kill, prog, sig, 0, 0);
		}
	}
	a_report(&report, status);
	a_done((int)dirfd, status, last);
	a_word(word, wordid);
	a_exit_as(status);
	return (125);
}

/*
 * test_procinfo.c -- the Linux backend's reading of live members
 * (src/linux/procinfo.c, ct_contract_members): /proc/<pid>/stat and
 * /proc/<pid>/cmdline, which a member writes itself (its comm by prctl,
 * its cmdline by overwriting its argv area), parsed as hostile input:
 * table-driven, then on real processes (our own comm set to something
 * that looks like more fields; a child with a cmdline past the bound).
 *
 * The source under test is compiled in here (its parsers are static).
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/linux/procinfo.c"

/* A stat line: pid (comm) state ppid, 9 fields, utime stime, 6, start. */
#define	TAIL	" 1 1 0 -1 4194560 0 0 0 0 "

static void
test_stat(void)
{
	static const struct {
		const char *in;
		int err;
		const char *comm;
		char state;
		int ppid;
		uint64_t ut, st, start;
	} rows[] = {
		{ "42 (sh) S 7" TAIL "3 4 0 0 20 0 1 0 500", 0, "sh", 'S', 7,
		    3, 4, 500 },
		/* comm is what lies between the first ( and the last ). */
		{ "42 (a) b) R 7" TAIL "3 4 0 0 20 0 1 0 500", 0, "a) b", 'R',
		    7, 3, 4, 500 },
		{ "42 (x) S 1 2 3 (y) Z 9" TAIL "5 6 0 0 20 0 1 0 700", 0,
		    "x) S 1 2 3 (y", 'Z', 9, 5, 6, 700 },
		{ "42 ((() S 7" TAIL "3 4 0 0 20 0 1 0 500", 0, "((", 'S', 7,
		    3, 4, 500 },
		{ "42 ( ) ) S 7" TAIL "3 4 0 0 20 0 1 0 500", 0, " ) ", 'S',
		    7, 3, 4, 500 },
		{ "42 () S 7" TAIL "3 4 0 0 20 0 1 0 500", 0, "", 'S', 7, 3, 4,
		    500 },
		/* Truncated anywhere: refused, never read past the end. */
		{ "42 (sh) S 7" TAIL "3 4 0 0 20 0 1 0", ESRCH, NULL, 0, 0,
		    0, 0, 0 },
		{ "42 (sh) S 7", ESRCH, NULL, 0, 0, 0, 0, 0 },
		{ "42 (sh) ", ESRCH, NULL, 0, 0, 0, 0, 0 },
		{ "42 (sh)", ESRCH, NULL, 0, 0, 0, 0, 0 },
		{ "42 (sh", ESRCH, NULL, 0, 0, 0, 0, 0 },
		{ "42 )sh( S 7" TAIL "3 4 0 0 20 0 1 0 500", ESRCH, NULL, 0, 0,
		    0, 0, 0 },
		{ "42 (sh)S 7" TAIL "3 4 0 0 20 0 1 0 500", ESRCH, NULL, 0, 0,
		    0, 0, 0 },
		{ "", ESRCH, NULL, 0, 0, 0, 0, 0 },
		/* Not numbers where numbers are. */
		{ "42 (sh) S x" TAIL "3 4 0 0 20 0 1 0 500", ESRCH, NULL, 0, 0,
		    0, 0, 0 },
		{ "42 (sh) S 7" TAIL "a b 0 0 20 0 1 0 500", ESRCH, NULL, 0, 0,
		    0, 0, 0 },
	};

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		char *buf = strdup(rows[i].in);
		ct_member_t m;

		memset(&m, 0, sizeof (m));
		CHECK(buf != NULL);
		/*
		 * Booted at 1000.25 s, 100 Hz: start 500 ticks is 1005.25 s
		 * (the fraction counts: /proc/stat's btime had none).
		 */
		CHECK_INT(parse_stat(buf, &m, 1000250000000LL, 100),
		    rows[i].err);
		if (rows[i].err == 0) {
			CHECK_STR(m.comm, rows[i].comm);
			CHECK_INT(m.state, rows[i].state);
			CHECK_INT(m.ppid, rows[i].ppid);
			CHECK_INT(m.user_usec, rows[i].ut * 10000);
			CHECK_INT(m.system_usec, rows[i].st * 10000);
			CHECK_INT(m.start_ms, 1000250 + rows[i].start * 10);
		}
		ct_members_free_one(&m);
		free(buf);
	}
}

/* Ticks to the epoch: no overflow for a long uptime, odd hz exact. */
static void
test_start_epoch(void)
{
	/* 200 years of uptime at 1000 Hz: ticks * 1e9 would overflow. */
	unsigned long long ticks = 200ULL * 365 * 86400 * 1000 + 7;

	CHECK_INT(start_epoch_ms(ticks, 0, 1000), ticks);
	CHECK_INT(start_epoch_ms(1, 0, 3), 333);
	CHECK_INT(start_epoch_ms(4, 500000, 3), 1333);
	CHECK_INT(start_epoch_ms(0, -5, 100), 0);
}

static void
check_argv(const char *buf, size_t len, size_t argc, const char *const *want)
{
	ct_member_t m;

	memset(&m, 0, sizeof (m));
	CHECK_INT(parse_cmdline(buf, len, &m), 0);
	CHECK_INT(m.argc, argc);
	for (size_t i = 0; i < argc && i < m.argc; i++)
		CHECK_STR(m.argv[i], want[i]);
	ct_members_free_one(&m);
}

static void
test_cmdline(void)
{
	static const char *const ab[] = { "a", "b" };
	static const char *const empties[] = { "", "", "x" };
	static const char *const one[] = { "" };
	size_t big = 1 << 20;
	char *huge = malloc(big);
	ct_member_t m;

	check_argv("a\0b\0", 4, 2, ab);
	check_argv("a\0b", 3, 2, ab);	/* cut short: the last lacks its NUL */
	check_argv("\0\0x", 3, 3, empties);
	check_argv("\0", 1, 1, one);
	check_argv("", 0, 0, NULL);
	/* A mebibyte of one-letter words: every one of them, no more. */
	CHECK(huge != NULL);
	if (huge == NULL)
		return;
	for (size_t i = 0; i < big; i += 2) {
		huge[i] = 'x';
		huge[i + 1] = '\0';
	}
	memset(&m, 0, sizeof (m));
	CHECK_INT(parse_cmdline(huge, big, &m), 0);
	CHECK_INT(m.argc, big / 2);
	CHECK(m.argc == big / 2 && strcmp(m.argv[big / 2 - 1], "x") == 0);
	ct_members_free_one(&m);
	/* One word of a mebibyte, no NUL at all. */
	memset(huge, 'y', big);
	memset(&m, 0, sizeof (m));
	CHECK_INT(parse_cmdline(huge, big, &m), 0);
	CHECK(m.argc == 1 && strlen(m.argv[0]) == big);
	ct_members_free_one(&m);
	free(huge);
}

/* Our own comm made to look like more stat fields, read from /proc. */
static void
test_self_comm(void)
{
	char old[17] = { 0 };
	ct_member_t *m = NULL;
	size_t n = 0;
	pid_t self = getpid();

	CHECK(prctl(PR_GET_NAME, old) == 0);
	CHECK(prctl(PR_SET_NAME, "x) Z 1 (y") == 0);
	CHECK_INT(lx_members_info(&self, 1, &m, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(m[0].comm, "x) Z 1 (y");
		CHECK_INT(m[0].state, 'R');
		CHECK_INT(m[0].ppid, getppid());
		CHECK(m[0].argc >= 1);
	}
	ct_members_free(m, n);
	(void) prctl(PR_SET_NAME, old);
}

/*
 * A child's start, read from /proc, is when we forked it: to the clock
 * tick (the kernel rounds down), not to the second.
 */
static void
test_child_start(void)
{
	struct timespec t0, t1;
	ct_member_t *m = NULL;
	size_t n = 0;
	pid_t pid;
	int st;

	(void) clock_gettime(CLOCK_REALTIME, &t0);
	if ((pid = fork()) == 0) {
		(void) pause();
		_exit(0);
	}
	CHECK(pid > 0);
	(void) clock_gettime(CLOCK_REALTIME, &t1);
	CHECK_INT(lx_members_info(&pid, 1, &m, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		uint64_t lo = (uint64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000;
		uint64_t hi = (uint64_t)t1.tv_sec * 1000 + t1.tv_nsec / 1000000;
		long tick = 1000 / sysconf(_SC_CLK_TCK) + 1;
		CHECK(m[0].start_ms + (uint64_t)tick >= lo);
		CHECK(m[0].start_ms <= hi + 1);
		if (m[0].start_ms + (uint64_t)tick < lo ||
		    m[0].start_ms > hi + 1)
			(void) fprintf(stderr, "start %llu, forked in [%llu, "
			    "%llu]\n", (unsigned long long)m[0].start_ms,
			    (unsigned long long)lo, (unsigned long long)hi);
	}
	ct_members_free(m, n);
	(void) kill(pid, SIGKILL);
	CHECK(waitpid(pid, &st, 0) == pid);
}

/*
 * A child whose cmdline is past CT_MEMBER_ARGMAX: cut at the bound.  It
 * is read once its exec is known to have happened: the report pipe is
 * close-on-exec, so EOF on it means the exec is done.
 */
static void
test_child_huge_cmdline(void)
{
	enum { NARG = 4, ARGLEN = 100 * 1024 };
	char *args[NARG + 4], *blob = malloc(NARG * (ARGLEN + 1));
	int p[2], st;
	char c;
	pid_t pid;
	ct_member_t *m = NULL;
	size_t n = 0, total = 0;

	CHECK(blob != NULL && pipe2(p, O_CLOEXEC) == 0);
	if (blob == NULL)
		return;
	args[0] = (char *)"sh";
	args[1] = (char *)"-c";
	args[2] = (char *)"read x";	/* until we close its stdin */
	for (int i = 0; i < NARG; i++) {
		args[3 + i] = blob + i * (ARGLEN + 1);
		memset(args[3 + i], 'a' + i, ARGLEN);
		args[3 + i][ARGLEN] = '\0';
	}
	args[3 + NARG] = NULL;
	int in[2];
	CHECK(pipe2(in, O_CLOEXEC) == 0);
	if ((pid = fork()) == 0) {
		(void) dup2(in[0], 0);
		(void) execv("/bin/sh", args);
		_exit(127);
	}
	CHECK(pid > 0);
	(void) close(p[1]);
	(void) close(in[0]);
	CHECK(read(p[0], &c, 1) == 0);	/* exec'd */
	CHECK_INT(lx_members_info(&pid, 1, &m, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(m[0].argv[0], "sh");
		for (size_t i = 0; i < m[0].argc; i++)
			total += strlen(m[0].argv[i]) + 1;
		/* 3 + 100 KiB * 4 > 256 KiB: the last words are cut off. */
		CHECK(m[0].argc == 3 + 3);
		CHECK(total <= CT_MEMBER_ARGMAX + 1);
		CHECK(total >= CT_MEMBER_ARGMAX - 1);
	}
	ct_members_free(m, n);
	(void) close(in[1]);	/* read x: EOF, sh exits */
	(void) close(p[0]);
	CHECK(waitpid(pid, &st, 0) == pid);
	free(blob);
}

int
main(void)
{
	test_stat();
	test_start_epoch();
	test_cmdline();
	test_self_comm();
	test_child_start();
	test_child_huge_cmdline();
	return (check_report());
}

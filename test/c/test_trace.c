/*
 * test_trace.c -- the Linux backend's trace records (src/linux/trace.c,
 * docs/trace.md): the cleaning of a cmdline read with a bound, the
 * zombie's /proc/<pid>/stat (CPU at exit) as hostile input, and records
 * of real processes: a fork that never execs shares its parent's argv, a
 * zombie gives its CPU, a process reaped first leaves it unknown.
 *
 * The sources under test are compiled in here.
 */
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/linux/map.c"
#include "../../src/linux/trace.c"

static void
test_argv_clean(void)
{
	static const struct {
		const char *in;
		size_t len;
		bool cut;
		size_t want;
	} rows[] = {
		{ "a\0b\0", 4, false, 4 },
		{ "a\0b", 3, false, 4 },	/* a NUL is added */
		{ "a\0bc", 4, true, 2 },	/* cut: the partial word goes */
		{ "abc", 3, true, 0 },		/* one word past the bound */
		{ "", 0, false, 0 },
		{ "", 0, true, 0 },
		{ "\0", 1, true, 1 },
	};

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		char buf[8] = { 0 };

		memcpy(buf, rows[i].in, rows[i].len);
		CHECK_INT(lx_trace_argv_clean(buf, rows[i].len, rows[i].cut),
		    rows[i].want);
		CHECK(rows[i].want == 0 || buf[rows[i].want - 1] == '\0');
	}
}

#define	Z9	" 1 1 0 -1 4194560 0 0 0 0 "

static void
test_parse_stat(void)
{
	static const struct {
		const char *in;
		int err;
		uint64_t ut, st, start;
	} rows[] = {
		{ "9 (cc) Z 1" Z9 "7 8 0 0 20 0 1 0 300", 0, 7, 8, 300 },
		/* comm ends at the last ')', however it looks. */
		{ "9 (a) R 1 (b) Z 1" Z9 "7 8 0 0 20 0 1 0 300", 0, 7, 8,
		    300 },
		{ "9 (x) Z) S 1" Z9 "7 8 0 0 20 0 1 0 300", ESRCH, 0, 0, 0 },
		{ "9 (cc) S 1" Z9 "7 8 0 0 20 0 1 0 300", ESRCH, 0, 0, 0 },
		/* Truncated: at the end, in the middle, right after ')'. */
		{ "9 (cc) Z 1" Z9 "7 8 0 0 20 0 1 0", ESRCH, 0, 0, 0 },
		{ "9 (cc) Z 1 1", ESRCH, 0, 0, 0 },
		{ "9 (cc) Z", ESRCH, 0, 0, 0 },
		{ "9 (cc) ", ESRCH, 0, 0, 0 },
		{ "9 (cc)", ESRCH, 0, 0, 0 },
		{ "9 (cc", ESRCH, 0, 0, 0 },
		{ "", ESRCH, 0, 0, 0 },
		{ "9 (cc) Z 1" Z9 "x 8 0 0 20 0 1 0 300", ESRCH, 0, 0, 0 },
	};

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		uint64_t ut = 1, st = 1, start = 1;

		CHECK_INT(lx_trace_parse_stat(rows[i].in, &ut, &st, &start),
		    rows[i].err);
		if (rows[i].err == 0) {
			CHECK_INT(ut, rows[i].ut);
			CHECK_INT(st, rows[i].st);
			CHECK_INT(start, rows[i].start);
		}
	}
}

/* A child that spins for a while of CPU, then exits with code. */
static pid_t
child(int code)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec t0, t;
		(void) clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		do {
			(void) clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
		} while ((t.tv_sec - t0.tv_sec) * 1000000000L +
		    (t.tv_nsec - t0.tv_nsec) < 30000000L);
		_exit(code);
	}
	return (pid);
}

/* Wait for pid to be a zombie without reaping it (WNOWAIT). */
static void
wait_zombie(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 &&
	    errno == EINTR)
		;
}

static void
test_records(void)
{
	lx_trace_t *t = lx_trace_new(0, getpid());
	ct_trace_t out;
	pid_t a, b;
	int st;

	CHECK(t != NULL);
	if (t == NULL)
		return;
	/* Our own record first: a's and b's parent. */
	CHECK_INT(lx_trace_fork(t, getppid(), getpid(), 0), 0);
	a = child(3);
	b = child(4);
	CHECK(a > 0 && b > 0);
	CHECK_INT(lx_trace_fork(t, getpid(), a, 0), 0);
	CHECK_INT(lx_trace_fork(t, getpid(), b, 0), 0);
	wait_zombie(a);
	lx_trace_exit(t, a, 3 << 8, 0);		/* a zombie: CPU known */
	CHECK(waitpid(a, &st, 0) == a);
	CHECK(waitpid(b, &st, 0) == b);
	lx_trace_exit(t, b, 4 << 8, 0);		/* reaped first: unknown */
	CHECK_INT(lx_trace_copy(t, &out), 0);
	CHECK_INT(out.nprocs, 3);
	if (out.nprocs == 3) {
		const ct_proc_t *me = &out.procs[0], *pa = &out.procs[1],
		    *pb = &out.procs[2];

		CHECK(pa->pid == a && pa->ppid == getpid() && pa->exited &&
		    pa->exitstatus == 3 << 8 && (pa->missed & CT_PM_CPU) == 0);
		/* ≥ 30 ms of CPU, in clock ticks. */
		CHECK(pa->user_usec + pa->system_usec >= 20000);
		/* Forks that never exec share their parent's argv. */
		CHECK(pa->argvlen == me->argvlen && me->argvlen > 0 &&
		    memcmp(pa->argv, me->argv, me->argvlen) == 0);
		CHECK(pb->pid == b && pb->exited &&
		    (pb->missed & CT_PM_CPU) != 0);
		CHECK(pa->end_us >= pa->start_us && pa->start_us > 0);
		CHECK(!me->exited && me->end_us == 0);
	}
	ct_trace_fini(&out);
	lx_trace_free(t);
}

int
main(void)
{
	test_argv_clean();
	test_parse_stat();
	test_records();
	return (check_report());
}

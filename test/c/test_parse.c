/*
 * test_parse.c -- the Linux backend's parsers and encoders, table-driven,
 * without a kernel: cgroup.events, pid lists, contract directory names,
 * /proc/<pid>/stat, flat keyed files (cpu.stat), mountinfo escapes, our
 * terms and holder-state records, and core_pattern expansion.
 *
 * The sources under test are compiled in here (they need no other part
 * of the backend).
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>

#include "../../src/linux/map.c"
#include "../../src/linux/parse.c"
#include "../../src/linux/safeio.c"
#include "../../src/linux/proc.c"
#include "../../src/linux/core.c"

static void
test_events(void)
{
	static const struct {
		const char *in;
		int err, pop, frozen;
	} rows[] = {
		{ "populated 1\nfrozen 0\n", 0, 1, 0 },
		{ "populated 0\nfrozen 1\n", 0, 0, 1 },
		{ "populated 0\n", 0, 0, -1 },		/* no freezer */
		{ "frozen 1\npopulated 1", 0, 1, 1 },	/* any order, no \n */
		{ "frozen 0\n", EINVAL, -1, 0 },	/* no populated */
		{ "", EINVAL, -1, -1 },
		{ "populated\nfrozen\n", EINVAL, -1, -1 },	/* no value */
		{ "populatedx 1\n", EINVAL, -1, -1 },
	};

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		int pop = 9, frozen = 9;
		CHECK_INT(lx_parse_events(rows[i].in, &pop, &frozen),
		    rows[i].err);
		CHECK_INT(pop, rows[i].pop);
		CHECK_INT(frozen, rows[i].frozen);
	}
}

static void
test_pids(void)
{
	static const struct {
		const char *in;
		size_t n;
		pid_t want[4];
	} rows[] = {
		{ "1\n2\n3\n", 3, { 1, 2, 3 } },
		{ "4 5", 2, { 4, 5 } },			/* .../children */
		{ "", 0, { 0 } },
		{ "\n", 0, { 0 } },
		{ "-5 7 0 8", 2, { 7, 8 } },		/* not pids: skipped */
		{ "9 x 10", 1, { 9 } },			/* stops at junk */
		{ "2147483647 2147483648", 1, { 2147483647 } },
	};

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		pid_t *pids = NULL;
		size_t n = 99;
		CHECK_INT(lx_parse_pids(rows[i].in, &pids, &n), 0);
		CHECK_INT(n, rows[i].n);
		for (size_t k = 0; k < n && k < rows[i].n; k++)
			CHECK_INT(pids[k], rows[i].want[k]);
		free(pids);
	}
}

static void
test_ctid(void)
{
	static const struct {
		const char *in;
		bool ok;
		ct_id_t id;
	} rows[] = {
		{ "1", true, 1 }, { "42", true, 42 },
		{ "2147483647", true, 2147483647 },
		{ "2147483648", false, 0 }, { "99999999999999999999", false, 0 },
		{ "0", false, 0 }, { "01", false, 0 }, { "-1", false, 0 },
		{ "12a", false, 0 }, { "", false, 0 }, { "k12-34", false, 0 },
		{ "user.ct.next", false, 0 }, { " 1", false, 0 },
	};

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		ct_id_t id = 0;
		CHECK_INT(lx_parse_ctid(rows[i].in, &id), rows[i].ok);
		if (rows[i].ok)
			CHECK_INT(id, rows[i].id);
	}
}

static void
test_stat(void)
{
	/* Fields 3 .. 22 after the comm: state, then 18 more, then start. */
	static const char tail[] = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 "
	    "18 424242 19 20\n";
	static const struct {
		const char *comm;
		char state;
		int err;
	} rows[] = {
		{ "(sh)", 'S', 0 },
		{ "(a b) c)", 'R', 0 },		/* a comm with ") " in it */
		{ "(z)", 'Z', ESRCH },		/* a zombie has exited */
		{ "(x)", 'X', ESRCH },
	};
	char buf[256];
	uint64_t start;

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		(void) snprintf(buf, sizeof (buf), "77 %s %c %s", rows[i].comm,
		    rows[i].state, tail);
		start = 0;
		CHECK_INT(lx_parse_stat_start(buf, &start), rows[i].err);
		if (rows[i].err == 0)
			CHECK_INT(start, 424242);
	}
	CHECK_INT(lx_parse_stat_start("77 sh S 1 2", &start), ESRCH);
	CHECK_INT(lx_parse_stat_start("77 (sh) S 1 2", &start), ESRCH);
	CHECK_INT(lx_parse_stat_start("77 (sh)", &start), ESRCH);

	/* The state letter follows the last paren: a comm may hold ") Z". */
	char state = 0;
	CHECK_INT(lx_parse_stat_state("77 (a) Z b) S 1", &state), 0);
	CHECK_INT(state, 'S');
	CHECK_INT(lx_parse_stat_state("77 (sh) Z 1 1", &state), 0);
	CHECK_INT(state, 'Z');
	CHECK_INT(lx_parse_stat_state("77 (sh)", &state), ESRCH);
	CHECK_INT(lx_parse_stat_state("77 sh Z 1", &state), ESRCH);

	/* ppid is field 4, after a comm that may look like more fields. */
	pid_t ppid = 0;
	CHECK_INT(lx_parse_stat_ppid("77 (a) S 9) R 42 1 2", &ppid), 0);
	CHECK_INT(ppid, 42);
	CHECK_INT(lx_parse_stat_ppid("77 (sh) Z 0 1", &ppid), 0);
	CHECK_INT(ppid, 0);
	CHECK_INT(lx_parse_stat_ppid("77 (sh) S", &ppid), ESRCH);
	CHECK_INT(lx_parse_stat_ppid("77 (sh) S x", &ppid), ESRCH);
	CHECK_INT(lx_parse_stat_ppid("77 (sh) S -1", &ppid), ESRCH);
	CHECK_INT(lx_parse_stat_ppid("77 sh S 1", &ppid), ESRCH);

	/* utime .. cstime are fields 14 .. 17 (11 .. 14 in tail); a
	 * zombie's count too. */
	uint64_t t[4] = { 0 };
	(void) snprintf(buf, sizeof (buf), "77 (a b) c) Z %s", tail);
	CHECK_INT(lx_parse_stat_times(buf, t), 0);
	CHECK_INT(t[0], 11);
	CHECK_INT(t[1], 12);
	CHECK_INT(t[2], 13);
	CHECK_INT(t[3], 14);
	CHECK_INT(lx_parse_stat_times("77 (sh) S 1 2 3", t), ESRCH);
	CHECK_INT(lx_parse_stat_times("77 sh S 1 2", t), ESRCH);
}

static void
test_keyed(void)
{
	const char *cpu = "usage_usec 100\nuser_usec 60\nsystem_usec 40\n"
	    "nr_periods 0\n";

	CHECK_INT(lx_parse_keyed(cpu, "user_usec"), 60);
	CHECK_INT(lx_parse_keyed(cpu, "system_usec"), 40);
	CHECK_INT(lx_parse_keyed(cpu, "usage_usec"), 100);
	CHECK_INT(lx_parse_keyed(cpu, "usec"), 0);	/* whole keys only */
	CHECK_INT(lx_parse_keyed(cpu, "nr_throttled"), 0);
	CHECK_INT(lx_parse_keyed("", "user_usec"), 0);
	CHECK_INT(lx_parse_keyed("user_usec 7", "user_usec"), 7);
}

static void
test_unescape(void)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "/sys/fs/cgroup", "/sys/fs/cgroup" },
		{ "/a\\040b", "/a b" },			/* a space */
		{ "\\011tab\\012", "\ttab\n" },
		{ "back\\134slash", "back\\slash" },
		{ "\\9\\08\\0400", "\\9\\08 0" },	/* not octal: kept */
		{ "end\\04", "end\\04" },		/* cut short: kept */
	};
	char buf[64];

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		(void) snprintf(buf, sizeof (buf), "%s", rows[i].in);
		lx_parse_unescape(buf);
		CHECK_STR(buf, rows[i].want);
	}
}

static void
test_terms(void)
{
	lx_terms_t t = { .type = CT_TYPE_PROCESS, .critical = 0x21,
	    .informative = 0x18, .fatal = 0x20, .params = 0x3,
	    .cookie = UINT64_MAX, .svc_ctid = 7, .regent = 9, .dev_aset = 3,
	    .svc_fmri = "svc:/a;b=c:d", .svc_aux = "", .creator = "node",
	    .dev_minor = NULL, .dev_path = "/devices/x" };
	lx_terms_t back, copy;
	char *buf = NULL;
	size_t len = 0;

	CHECK_INT(lx_terms_encode(&t, &buf, &len), 0);
	CHECK_INT(lx_terms_decode(buf, len, &back), 0);
	CHECK_INT(back.type, CT_TYPE_PROCESS);
	CHECK_INT(back.critical, 0x21);
	CHECK_INT(back.informative, 0x18);
	CHECK_INT(back.fatal, 0x20);
	CHECK_INT(back.params, 0x3);
	CHECK(back.cookie == UINT64_MAX);
	CHECK_INT(back.svc_ctid, 7);
	CHECK_INT(back.regent, 9);
	CHECK_INT(back.dev_aset, 3);
	CHECK_STR(back.svc_fmri, "svc:/a;b=c:d");	/* ";" and "=" inside */
	CHECK_STR(back.svc_aux, "");
	CHECK_STR(back.creator, "node");
	CHECK_STR(back.dev_minor, NULL);		/* absent stays absent */
	CHECK_STR(back.dev_path, "/devices/x");
	CHECK_INT(lx_terms_copy(&copy, &back), 0);
	CHECK(copy.svc_fmri != back.svc_fmri);
	CHECK_STR(copy.svc_fmri, back.svc_fmri);
	lx_terms_fini(&copy);
	lx_terms_fini(&back);
	CHECK_STR(back.svc_fmri, NULL);
	free(buf);

	/* The widest numbers fit the room lx_terms_encode sizes. */
	lx_terms_t w = { .type = CT_TYPE_DEVICE, .critical = UINT32_MAX,
	    .informative = UINT32_MAX, .fatal = UINT32_MAX,
	    .params = UINT32_MAX, .cookie = UINT64_MAX, .svc_ctid = INT32_MIN,
	    .regent = INT32_MIN, .dev_aset = UINT32_MAX };
	CHECK_INT(lx_terms_encode(&w, &buf, &len), 0);
	CHECK_STR(buf, "v1;type=1;crit=4294967295;info=4294967295;"
	    "fatal=4294967295;params=4294967295;"
	    "cookie=18446744073709551615;svcctid=-2147483648;"
	    "regent=-2147483648;aset=4294967295;");
	CHECK(len == strlen(buf));
	free(buf);

	static const char *const bad[] = {
		"", "v1", "v2;type=0;", "v1;crit=;", "v1;crit=5",
		"v1;fmri=10:short;", "v1;fmri=3:abcd;", "v1;fmri=x:abc;",
	};
	for (size_t i = 0; i < CHECK_NELEM(bad); i++)
		CHECK_INT(lx_terms_decode(bad[i], strlen(bad[i]), &back),
		    EINVAL);
	/* Numeric keys a newer writer added are passed over. */
	const char *newer = "v1;type=1;future=5;crit=4;";
	CHECK_INT(lx_terms_decode(newer, strlen(newer), &back), 0);
	CHECK_INT(back.type, CT_TYPE_DEVICE);
	CHECK_INT(back.critical, 4);
	lx_terms_fini(&back);
}

static void
test_state(void)
{
	static const lx_hstate_t rows[] = {
		{ .state = LX_SPARE, .holder = 12, .start = 345 },
		{ .state = LX_OWNED, .holder = 2147483647, .start = UINT64_MAX },
		{ .state = LX_OWNED, .holder = 7, .start = 8,
		    .pidns = 4026531836 },
		{ .state = LX_SPARE, .holder = 9, .start = 10,
		    .pidns = UINT64_MAX },
		{ .state = LX_INHERITED, .regent = 77 },
		{ .state = LX_ORPHAN },
		{ .state = LX_DEAD },
	};
	char buf[64];

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		lx_hstate_t back;
		CHECK(lx_state_encode(&rows[i], buf, sizeof (buf)) > 0);
		CHECK_INT(lx_state_decode(buf, &back), 0);
		CHECK_INT(back.state, rows[i].state);
		CHECK_INT(back.holder, rows[i].holder);
		CHECK(back.start == rows[i].start);
		CHECK(back.pidns == rows[i].pidns);
		CHECK_INT(back.regent, rows[i].regent);
	}
	static const char *const bad[] = {
		"", "owned", "owned 1", "owned 1 2 3 4", "owned 1 2 x",
		"spare 1 2 3 ", "orphan ", "dead!",
		"inherited", "inherited -3", "spare x y", "held 1 2",
	};
	for (size_t i = 0; i < CHECK_NELEM(bad); i++) {
		lx_hstate_t back;
		CHECK_INT(lx_state_decode(bad[i], &back), EINVAL);
	}
	CHECK_INT(lx_state_encode(&rows[1], buf, 8), -1);	/* no room */
}

static void
test_core(void)
{
	const lx_core_facts_t fx = { .pid = 42, .uid = 1000, .gid = 100,
	    .time = 1700000000, .cwd = "/w", .host = "box", .comm = "sleep",
	    .uses_pid = false };
	lx_core_facts_t nocwd = fx, usespid = fx;
	static const struct {
		const char *pattern;
		const char *want;	/* \001 marks the signal, filled later */
	} rows[] = {
		{ "/cores/core.%p", "/cores/core.42" },
		{ "/cores/%e.%u.%g.%t", "/cores/sleep.1000.100.1700000000" },
		{ "/c/%h-%P-%i-%I", "/c/box-42-42-42" },
		{ "/c/core.%s", "/c/core.\001" },
		{ "/c/100%%", "/c/100%" },
		{ "core", "/w/core" },			/* relative: its cwd */
		{ "|/usr/lib/systemd/coredump %p", NULL },	/* piped */
		{ "", NULL },
		{ "/c/%c", NULL },			/* not worked out */
		{ "/c/%E", NULL },
	};
	char *got;

	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		got = lx_core_expand(rows[i].pattern, &fx);
		CHECK_STR(got, rows[i].want);
		free(got);
	}
	nocwd.cwd = NULL;
	got = lx_core_expand("core", &nocwd);
	CHECK_STR(got, NULL);
	got = lx_core_expand("/abs/core", &nocwd);
	CHECK_STR(got, "/abs/core");
	free(got);
	usespid.uses_pid = true;
	got = lx_core_expand("core", &usespid);	/* core_uses_pid adds it */
	CHECK_STR(got, "/w/core.42");
	free(got);
	got = lx_core_expand("/c/core.%p", &usespid);	/* once only */
	CHECK_STR(got, "/c/core.42");
	free(got);
	/* The signal is filled in at EXIT; only a core that exists counts. */
	char *mark = strdup("/nonexistent/core.\001");
	CHECK_STR(lx_core_finish(mark, 11), NULL);
	char *tmp = strdup("/tmp/ict-core-test-XXXXXX");
	int fd = mkstemp(tmp);
	CHECK(fd >= 0);
	char *withsig = NULL;
	CHECK(asprintf(&withsig, "%s.\001", tmp) > 0);
	char *real = NULL;
	CHECK(asprintf(&real, "%s.11", tmp) > 0);
	FILE *f = fopen(real, "w");
	CHECK(f != NULL);
	if (f != NULL)
		(void) fclose(f);
	got = lx_core_finish(withsig, 11);
	CHECK_STR(got, real);
	free(got);
	(void) unlink(real);
	(void) unlink(tmp);
	(void) close(fd);
	free(real);
	free(tmp);
}

int
main(void)
{
	test_events();
	test_pids();
	test_ctid();
	test_stat();
	test_keyed();
	test_unescape();
	test_terms();
	test_state();
	test_core();
	return (check_report());
}

/*
 * check.h -- the one check header of the C unit tests (test/c/test_*.c,
 * built and run by test/c/run.sh).  A failed check prints file:line and
 * what failed, and the program goes on; main ends with
 *
 *	return (check_report());
 *
 * which prints "N passed, N failed" (the line run.sh sums) and exits
 * non-zero when anything failed.  Each test program includes this once;
 * everything here is static, so there is nothing to link.
 *
 *   CHECK(cond)              cond is true
 *   CHECK_INT(got, want)     integers equal; prints both when not
 *   CHECK_STR(got, want)     strings equal (NULL only equals NULL);
 *                            prints both when not
 *   check_at(ok, what, file, line)
 *                            a check reported at the caller's line, for
 *                            helpers that check on their caller's behalf
 *   CHECK_NELEM(array)       rows of a table, for table-driven tests
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <string.h>

static int check_npass, check_nfail;

static inline int
check_at(int ok, const char *what, const char *file, int line)
{
	if (ok) {
		check_npass++;
	} else {
		check_nfail++;
		printf("%s:%d: FAIL: %s\n", file, line, what);
	}
	return (ok);
}

/* s1 and s2 equal, NULL only equal to NULL. */
static inline int
check_streq(const char *s1, const char *s2)
{
	if (s1 == NULL || s2 == NULL)
		return (s1 == s2);
	return (strcmp(s1, s2) == 0);
}

static inline int
check_int_at(long long got, long long want, const char *what,
    const char *file, int line)
{
	if (!check_at(got == want, what, file, line))
		printf("%s:%d:   got %lld, wanted %lld\n", file, line, got,
		    want);
	return (got == want);
}

static inline int
check_str_at(const char *got, const char *want, const char *what,
    const char *file, int line)
{
	int ok = check_streq(got, want);

	if (!check_at(ok, what, file, line))
		printf("%s:%d:   got \"%s\", wanted \"%s\"\n", file, line,
		    got != NULL ? got : "(null)", want != NULL ? want :
		    "(null)");
	return (ok);
}

/* Print the counts; the exit status of main. */
static inline int
check_report(void)
{
	printf("%d passed, %d failed\n", check_npass, check_nfail);
	/* Before any exit-time report (LeakSanitizer) can cut us short. */
	(void) fflush(stdout);
	return (check_nfail != 0);
}

#define	CHECK(cond)	check_at((cond) ? 1 : 0, #cond, __FILE__, \
	__LINE__)
#define	CHECK_INT(got, want)	check_int_at((long long)(got), \
	(long long)(want), #got " == " #want, __FILE__, __LINE__)
#define	CHECK_STR(got, want)	check_str_at((got), (want), \
	#got " == " #want, __FILE__, __LINE__)
#define	CHECK_NELEM(a)	(sizeof (a) / sizeof ((a)[0]))

#endif /* CHECK_H */

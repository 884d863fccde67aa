/*
 * trace.c -- traces on illumos (docs/trace.md): not yet.  The contract's
 * own pr_fork and pr_exit would give pid, ppid and the wait status, and
 * /proc/<pid>/psinfo the argv, but there is no exec event and a member's
 * CPU is gone once it is reaped; until those are settled, trace: true is
 * refused with ENOTSUP and features.trace is false.
 */
#include "il.h"
#include <errno.h>
#include <string.h>

int
ct_trace_arm(bool on)
{
	return (on ? ct_err_set(ENOTSUP, NULL, "traces are not implemented "
	    "on illumos yet (docs/trace.md)") : 0);
}

int
ct_contract_trace(ct_contract_t *c, ct_trace_t *t)
{
	(void) c;
	(void) memset(t, 0, sizeof (*t));
	return (ct_err_set(ENOTSUP, NULL, "traces are not implemented on "
	    "illumos yet (docs/trace.md)"));
}

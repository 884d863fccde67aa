/*
 * trace.c -- the exports of traces (docs/trace.md): arming the next
 * spawns of this thread, and a contract's records as plain JS values
 * (lib/trace.js shapes them: times in ms, signal names, nulls).
 */
#include <stdlib.h>
#include <string.h>

#include "bnd.h"

static napi_value
argv_array(napi_env env, const ct_proc_t *p)
{
	napi_value a;
	uint32_t k = 0;

	napi_create_array(env, &a);
	for (size_t i = 0; i < p->argvlen; ) {
		size_t n = strnlen(p->argv + i, p->argvlen - i);
		napi_value s;
		if (napi_create_string_utf8(env, p->argv + i, n, &s) == napi_ok)
			napi_set_element(env, a, k++, s);
		i += n + 1;
	}
	return (a);
}

static napi_value
proc_object(napi_env env, const ct_proc_t *p)
{
	napi_value o, ex;

	napi_create_object(env, &o);
	bnd_set(env, o, "pid", bnd_num(env, p->pid));
	bnd_set(env, o, "ppid", bnd_num(env, p->ppid));
	bnd_set(env, o, "argv", argv_array(env, p));
	bnd_set(env, o, "startUs", bnd_num(env, (double)p->start_us));
	bnd_set(env, o, "endUs", bnd_num(env, (double)p->end_us));
	bnd_set(env, o, "exited", bnd_bool(env, p->exited));
	bnd_set(env, o, "status", bnd_num(env, p->exitstatus));
	bnd_set(env, o, "userUs", bnd_num(env, (double)p->user_usec));
	bnd_set(env, o, "systemUs", bnd_num(env, (double)p->system_usec));
	bnd_set(env, o, "missed", bnd_num(env, p->missed));
	napi_create_array_with_length(env, p->nexec, &ex);
	for (size_t i = 0; i < p->nexec; i++)
		napi_set_element(env, ex, (uint32_t)i,
		    bnd_num(env, (double)p->exec_us[i]));
	bnd_set(env, o, "execUs", ex);
	return (o);
}

napi_value
bnd_trace(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o, a;
	ct_contract_t *c;
	ct_trace_t t;
	int err;

	if ((c = bnd_contract_args(env, info, 1, argv)) == NULL)
		return (NULL);
	if ((err = ct_contract_trace(c, &t)) != 0)
		return (bnd_throw_sys(env, err, "ct_trace",
		    "cannot read the trace"));
	napi_create_object(env, &o);
	napi_create_array_with_length(env, t.nprocs, &a);
	for (size_t i = 0; i < t.nprocs; i++)
		napi_set_element(env, a, (uint32_t)i,
		    proc_object(env, &t.procs[i]));
	bnd_set(env, o, "procs", a);
	bnd_set(env, o, "lost", bnd_num(env, (double)t.lost));
	ct_trace_fini(&t);
	return (o);
}

napi_value
bnd_trace_arm(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	bool on;

	if (!bnd_args(env, info, 1, argv))
		return (NULL);
	if (napi_get_value_bool(env, argv[0], &on) != napi_ok)
		return (bnd_throw_arg(env, "TypeError", "ERR_INVALID_ARG_TYPE",
		    "The \"trace\" option must be of type boolean"));
	return (bnd_result(env, ct_trace_arm(on), "ct_trace",
	    "cannot trace the contract"));
}

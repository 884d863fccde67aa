/*
 * model_napi.c -- a Node-API addon that scripts the model of the illumos
 * kernel (model.h) from a JS test, beside the addon built from
 * src/binding.c and src/illumos/ against the same model (both link the
 * one libilmodel.so, so they share its state).  Test-only.
 */
#include <node_api.h>

#include "model.h"

static int32_t
arg(napi_env env, napi_callback_info info, size_t i)
{
	napi_value argv[3];
	size_t argc = 3;
	int32_t v = 0;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok &&
	    i < argc)
		(void) napi_get_value_int32(env, argv[i], &v);
	return (v);
}

static napi_value
num(napi_env env, double d)
{
	napi_value v;

	napi_create_double(env, d, &v);
	return (v);
}

/* fork(pid): a fork by us under the active template; the contract id. */
static napi_value
m_fork(napi_env env, napi_callback_info info)
{
	return (num(env, model_fork(arg(env, info, 0))));
}

/* exit(pid, status) */
static napi_value
m_exit(napi_env env, napi_callback_info info)
{
	return (num(env, model_exit(arg(env, info, 0), arg(env, info, 1))));
}

/* real(pid): member pid is a real process; sigsend kill(2)s it */
static napi_value
m_real(napi_env env, napi_callback_info info)
{
	return (num(env, model_real(arg(env, info, 0))));
}

/* memberFork(ppid, pid) */
static napi_value
m_member_fork(napi_env env, napi_callback_info info)
{
	return (num(env, model_member_fork(arg(env, info, 0),
	    arg(env, info, 1))));
}

/* exists(ctid): still in ctfs (not destroyed) */
static napi_value
m_exists(napi_env env, napi_callback_info info)
{
	napi_value v;

	napi_get_boolean(env, model_exists(arg(env, info, 0)), &v);
	return (v);
}

/* lastSignal(ctid) */
static napi_value
m_last_signal(napi_env env, napi_callback_info info)
{
	return (num(env, model_last_signal(arg(env, info, 0))));
}

/* foreignSameUser(pid, critical, informative, params): its ctid */
static napi_value
m_foreign_same_user(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	size_t argc = 4;
	uint32_t v[4] = { 0, 0, 0, 0 };

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok)
		for (size_t i = 0; i < argc && i < 4; i++)
			(void) napi_get_value_uint32(env, argv[i], &v[i]);
	return (num(env, model_foreign_same_user((pid_t)v[0], v[1], v[2],
	    v[3])));
}

/* selfParams(params): the terms of our own process contract (model.h) */
static napi_value
m_self_params(napi_env env, napi_callback_info info)
{
	model_self_params((uint_t)arg(env, info, 0));
	return (num(env, 0));
}

/* holderIn(ctid, where, params): 1 ours, 2 another's with params */
static napi_value
m_holder_in(napi_env env, napi_callback_info info)
{
	return (num(env, model_holder_in(arg(env, info, 0), arg(env, info, 1),
	    (uint_t)arg(env, info, 2))));
}

/* holderExit(ctid): inherited by a regent, or orphaned (model.h) */
static napi_value
m_holder_exit(napi_env env, napi_callback_info info)
{
	return (num(env, model_holder_exit(arg(env, info, 0))));
}

/*
 * privileges(event, observer): contract_event and contract_observer for
 * the rest of the process (model.h; root has both, the default).
 */
static napi_value
m_privileges(napi_env env, napi_callback_info info)
{
	model_default_privileges(arg(env, info, 0) != 0,
	    arg(env, info, 1) != 0);
	return (num(env, 0));
}

/* state(ctid): ctstate_t, -1 never existed */
static napi_value
m_state(napi_env env, napi_callback_info info)
{
	return (num(env, model_state(arg(env, info, 0))));
}

NAPI_MODULE_INIT()
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = {
		{ "fork", m_fork }, { "exit", m_exit },
		{ "memberFork", m_member_fork }, { "exists", m_exists },
		{ "lastSignal", m_last_signal },
		{ "foreignSameUser", m_foreign_same_user },
		{ "selfParams", m_self_params }, { "holderIn", m_holder_in },
		{ "holderExit", m_holder_exit }, { "state", m_state },
		{ "privileges", m_privileges }, { "real", m_real },
	};
	napi_value fn;

	for (size_t i = 0; i < sizeof (fns) / sizeof (fns[0]); i++) {
		if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH,
		    fns[i].fn, NULL, &fn) != napi_ok ||
		    napi_set_named_property(env, exports, fns[i].name, fn) !=
		    napi_ok)
			return (NULL);
	}
	return (exports);
}

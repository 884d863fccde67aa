/*
 * errors.c -- the JS errors the binding throws.  Bad arguments are
 * TypeError/RangeError/Error with Node's own codes; a failure in the
 * backend is an Error whose code is the errno name, with errno and the
 * syscall that failed, and the backend's detail as the message when it
 * left one (ct_err_set).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnd.h"

static napi_value
error_new(napi_env env, const char *ctor, const char *code, const char *msg)
{
	napi_value c, m, e;

	if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c) != napi_ok ||
	    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m) != napi_ok)
		return (NULL);
	if (strcmp(ctor, "TypeError") == 0)
		napi_create_type_error(env, c, m, &e);
	else if (strcmp(ctor, "RangeError") == 0)
		napi_create_range_error(env, c, m, &e);
	else
		napi_create_error(env, c, m, &e);
	return (e);
}

napi_value
bnd_throw_arg(napi_env env, const char *ctor, const char *code,
    const char *msg)
{
	napi_value e = error_new(env, ctor, code, msg);

	if (e != NULL)
		napi_throw(env, e);
	return (NULL);
}

napi_value
bnd_throw_sys(napi_env env, int err, const char *syscall, const char *what)
{
	const char *name = ct_names_errno(err), *detail = ct_err_message();
	const char *sc = ct_err_syscall() != NULL ? ct_err_syscall() : syscall;
	char *msg = NULL;
	napi_value e, v;

	if (name == NULL)
		name = "EUNKNOWN";
	if (detail != NULL)
		(void) asprintf(&msg, "%s: %s", name, detail);
	else
		(void) asprintf(&msg, "%s: %s: %s", name, what, strerror(err));
	e = error_new(env, "Error", name, msg != NULL ? msg : what);
	free(msg);
	if (e == NULL)
		return (NULL);
	if (napi_create_int32(env, err, &v) == napi_ok)
		napi_set_named_property(env, e, "errno", v);
	if (napi_create_string_utf8(env, sc, NAPI_AUTO_LENGTH, &v) == napi_ok)
		napi_set_named_property(env, e, "syscall", v);
	ct_err_clear();
	napi_throw(env, e);
	return (NULL);
}

napi_value
bnd_result(napi_env env, int err, const char *syscall, const char *what)
{
	if (err != 0)
		return (bnd_throw_sys(env, err, syscall, what));
	return (NULL);
}

void
bnd_throw_parse(napi_env env, const ct_perr_t *pe)
{
	const char *ctor = pe->cls == CT_PE_TYPE ? "TypeError" :
	    pe->cls == CT_PE_RANGE ? "RangeError" : "Error";

	(void) bnd_throw_arg(env, ctor, pe->code != NULL ? pe->code : "EINVAL",
	    pe->message != NULL ? pe->message : "invalid template");
}

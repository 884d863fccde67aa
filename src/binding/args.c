/*
 * args.c -- arguments from JS, checked the way Node checks its own: the
 * message names the argument, the code is ERR_INVALID_ARG_TYPE,
 * ERR_INVALID_ARG_VALUE or ERR_OUT_OF_RANGE.  Each returns false (or
 * NULL) with the exception pending.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnd.h"

bool
bnd_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;
	napi_value undef;

	for (size_t i = 0; i < want; i++)
		argv[i] = NULL;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return (false);
	napi_get_undefined(env, &undef);
	for (size_t i = argc; i < want; i++)
		argv[i] = undef;
	ct_err_clear();
	return (true);
}

static ct_contract_t *
get_contract(napi_env env, napi_value v)
{
	bnd_box_t *b;

	if (napi_get_value_external(env, v, (void **)&b) != napi_ok || b == NULL) {
		bnd_throw_arg(env, "TypeError", "ERR_INVALID_ARG_TYPE",
		    "not a contract handle");
		return (NULL);
	}
	if (b->c == NULL) {
		bnd_throw_arg(env, "Error", "ERR_CONTRACT_DISPOSED",
		    "this contract has been disposed");
		return (NULL);
	}
	return (b->c);
}

ct_contract_t *
bnd_contract_args(napi_env env, napi_callback_info info, size_t want,
    napi_value *argv)
{
	if (!bnd_args(env, info, want, argv))
		return (NULL);
	return (get_contract(env, argv[0]));
}

bool
bnd_get_int(napi_env env, napi_value v, const char *name, int64_t lo,
    int64_t hi, int64_t *out)
{
	napi_valuetype t;
	double d;
	char msg[160];

	if (napi_typeof(env, v, &t) != napi_ok)
		return (false);
	if (t != napi_number) {
		(void) snprintf(msg, sizeof (msg), "The \"%s\" argument must "
		    "be of type number", name);
		bnd_throw_arg(env, "TypeError", "ERR_INVALID_ARG_TYPE", msg);
		return (false);
	}
	napi_get_value_double(env, v, &d);
	if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) {
		(void) snprintf(msg, sizeof (msg), "The value of \"%s\" is out "
		    "of range. It must be an integer >= %" PRId64 " and <= %"
		    PRId64 ". Received %g", name, lo, hi, d);
		bnd_throw_arg(env, "RangeError", "ERR_OUT_OF_RANGE", msg);
		return (false);
	}
	*out = (int64_t)d;
	return (true);
}

char *
bnd_get_str(napi_env env, napi_value v, const char *name)
{
	napi_valuetype t;
	size_t len;
	char *s, msg[160];

	if (napi_typeof(env, v, &t) != napi_ok)
		return (NULL);
	if (t != napi_string) {
		(void) snprintf(msg, sizeof (msg), "The \"%s\" argument must "
		    "be of type string", name);
		bnd_throw_arg(env, "TypeError", "ERR_INVALID_ARG_TYPE", msg);
		return (NULL);
	}
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok ||
	    (s = malloc(len + 1)) == NULL)
		return (NULL);
	napi_get_value_string_utf8(env, v, s, len + 1, &len);
	/* C reads it up to the first NUL: 'process\0x' would be 'process'. */
	if (strlen(s) != len) {
		free(s);
		(void) snprintf(msg, sizeof (msg), "The \"%s\" argument must "
		    "not contain NUL bytes", name);
		bnd_throw_arg(env, "TypeError", "ERR_INVALID_ARG_VALUE", msg);
		return (NULL);
	}
	return (s);
}

bool
bnd_get_type(napi_env env, napi_value v, ct_type_t *tp)
{
	napi_valuetype t;
	uint32_t val;
	char *s;
	bool ok;

	if (napi_typeof(env, v, &t) != napi_ok)
		return (false);
	if (t == napi_undefined) {
		*tp = CT_TYPE_COUNT;
		return (true);
	}
	if ((s = bnd_get_str(env, v, "type")) == NULL)
		return (false);
	ok = ct_names_lookup(ct_names_types, s, &val) == 0;
	free(s);
	if (!ok) {
		bnd_throw_arg(env, "TypeError", "ERR_INVALID_ARG_VALUE", "The "
		    "\"type\" argument must be one of 'process', 'device'");
		return (false);
	}
	*tp = (ct_type_t)val;
	return (true);
}

bool
bnd_get_evid(napi_env env, napi_value v, ct_evid_t *out)
{
	uint64_t evid;
	char *s;
	int err;

	if ((s = bnd_get_str(env, v, "evid")) == NULL)
		return (false);
	err = ct_parse_u64(s, &evid);
	free(s);
	if (err != 0) {
		bnd_throw_arg(env, err == ERANGE ? "RangeError" : "TypeError",
		    err == ERANGE ? "ERR_OUT_OF_RANGE" : "ERR_INVALID_ARG_VALUE",
		    "The \"evid\" argument must be a decimal or 0x-hex string "
		    "of a 64-bit event id");
		return (false);
	}
	*out = evid;
	return (true);
}

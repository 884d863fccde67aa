/*
 * convert.c -- a JS template object -> ct_value_t -> ct_template_t.  The
 * binding only copies what JS holds into plain C values (one level of
 * keys and the values inside); every rule about what a template may say
 * is the portable parser's (src/template.c), so all backends agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnd.h"

/* Everything one conversion allocates, freed at once. */
typedef struct arena {
	void **blocks;
	size_t n;
} arena_t;

static void *
arena_alloc(arena_t *a, size_t size)
{
	void **nb = realloc(a->blocks, (a->n + 1) * sizeof (*nb));
	void *p;

	if (nb == NULL)
		return (NULL);
	a->blocks = nb;
	if ((p = calloc(1, size == 0 ? 1 : size)) != NULL)
		a->blocks[a->n++] = p;
	return (p);
}

static void
arena_free(arena_t *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
}

static bool to_value(napi_env, napi_value, ct_value_t *, arena_t *, int);

static bool
bigint_value(napi_env env, napi_value v, ct_value_t *out)
{
	int sign = 0;
	size_t words = 0, got;
	uint64_t w[2] = { 0, 0 };

	out->kind = CT_V_BIGINT;
	if (napi_get_value_bigint_words(env, v, NULL, &words, NULL) != napi_ok)
		return (false);
	got = words > 2 ? 2 : words;
	if (napi_get_value_bigint_words(env, v, &sign, &got, w) != napi_ok)
		return (false);
	out->big = w[0];
	out->big_neg = sign != 0 && (words > 1 || w[0] != 0);
	out->big_lossless = words <= 1;
	return (true);
}

static bool
string_value(napi_env env, napi_value v, ct_value_t *out, arena_t *a)
{
	size_t len;
	char *s;

	out->kind = CT_V_STRING;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok ||
	    (s = arena_alloc(a, len + 1)) == NULL)
		return (false);
	napi_get_value_string_utf8(env, v, s, len + 1, &len);
	out->str = s;
	out->len = len;
	return (true);
}

/* Key i of names and its value in obj. */
static bool
object_entry(napi_env env, napi_value obj, napi_value names, uint32_t i,
    const char **keyp, ct_value_t *valp, arena_t *a, int depth)
{
	napi_value k, val;
	ct_value_t kv;
	char msg[160];

	if (napi_get_element(env, names, i, &k) != napi_ok ||
	    !to_value(env, k, &kv, a, 2) || kv.kind != CT_V_STRING ||
	    napi_get_property(env, obj, k, &val) != napi_ok ||
	    !to_value(env, val, valp, a, depth + 1))
		return (false);
	/*
	 * The parser compares keys as C strings: "cookie\0x" would be read
	 * as "cookie".  No real key has a NUL, so it is unknown.
	 */
	if (strlen(kv.str) != kv.len) {
		(void) snprintf(msg, sizeof (msg), "Unknown key '%.64s\\0...' "
		    "in the template: keys never contain NUL bytes", kv.str);
		bnd_throw_arg(env, "TypeError", "ERR_INVALID_ARG_VALUE", msg);
		return (false);
	}
	*keyp = kv.str;
	return (true);
}

/* An object's own enumerable string keys and their values, one level. */
static bool
object_value(napi_env env, napi_value v, ct_value_t *out, arena_t *a,
    int depth)
{
	napi_value names;
	uint32_t n;
	bool isarr;
	const char **keys;
	ct_value_t *vals;

	if (napi_is_array(env, v, &isarr) != napi_ok)
		return (false);
	if (isarr) {
		out->kind = CT_V_ARRAY;
		return (true);
	}
	out->kind = CT_V_OBJECT;
	if (depth >= 2)
		return (true);	/* deeper objects are never valid */
	if (napi_get_all_property_names(env, v, napi_key_own_only,
	    napi_key_enumerable | napi_key_skip_symbols,
	    napi_key_numbers_to_strings, &names) != napi_ok ||
	    napi_get_array_length(env, names, &n) != napi_ok)
		return (false);
	keys = arena_alloc(a, n * sizeof (*keys));
	vals = arena_alloc(a, n * sizeof (*vals));
	if (keys == NULL || vals == NULL)
		return (false);
	for (uint32_t i = 0; i < n; i++) {
		if (!object_entry(env, v, names, i, &keys[i], &vals[i], a,
		    depth))
			return (false);
	}
	out->keys = keys;
	out->vals = vals;
	out->nkeys = n;
	return (true);
}

/* false with a pending exception (a getter or Proxy trap threw) or OOM. */
static bool
to_value(napi_env env, napi_value v, ct_value_t *out, arena_t *a, int depth)
{
	napi_valuetype t;

	memset(out, 0, sizeof (*out));
	if (napi_typeof(env, v, &t) != napi_ok)
		return (false);
	switch (t) {
	case napi_undefined: out->kind = CT_V_UNDEFINED; return (true);
	case napi_null: out->kind = CT_V_NULL; return (true);
	case napi_symbol: out->kind = CT_V_SYMBOL; return (true);
	case napi_function: out->kind = CT_V_FUNCTION; return (true);
	case napi_boolean:
		out->kind = CT_V_BOOL;
		return (napi_get_value_bool(env, v, &out->b) == napi_ok);
	case napi_number:
		out->kind = CT_V_NUMBER;
		return (napi_get_value_double(env, v, &out->num) == napi_ok);
	case napi_bigint:
		return (bigint_value(env, v, out));
	case napi_string:
		return (string_value(env, v, out, a));
	case napi_object:
		return (object_value(env, v, out, a, depth));
	default:
		out->kind = CT_V_OTHER;
		return (true);
	}
}

bool
bnd_get_template(napi_env env, napi_value v, ct_template_t *t)
{
	ct_value_t val;
	ct_perr_t pe = { 0 };
	arena_t a = { NULL, 0 };
	int err;

	if (!to_value(env, v, &val, &a, 0)) {
		arena_free(&a);
		return (false);	/* a getter threw: it is pending */
	}
	err = ct_template_parse(&val, t, &pe);
	arena_free(&a);
	if (err != 0) {
		bnd_throw_parse(env, &pe);
		ct_perr_fini(&pe);
		return (false);
	}
	return (true);
}

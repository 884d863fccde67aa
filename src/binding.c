/*
 * binding.c -- Node-API glue only: JS values <-> the C structs of ct.h,
 * one uv_poll on the backend's event fd, and errors.  It calls no OS API
 * for contracts itself; the backend (src/linux/ or src/illumos/) is
 * picked at build time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>
#include <uv.h>

#include "ct.h"

#define	CHECK(call)	do { if ((call) != napi_ok) return (NULL); } while (0)

typedef struct inst {
	napi_env env;
	uv_poll_t poll;
	bool polling;
	bool main;		/* the one env allowed to use the backend */
	napi_ref dispatch;
	napi_async_context actx;
	int refs;
} inst_t;

/* The backend's state is per process (templates per thread): one env. */
static napi_env owner_env;

/* A contract handle as JS holds it (an external). */
typedef struct box {
	ct_contract_t *c;
} box_t;

/* ---- errors ---- */

static napi_value
make_error(napi_env env, const char *ctor, const char *code,
    const char *msg)
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

static napi_value
throw_arg(napi_env env, const char *ctor, const char *code, const char *msg)
{
	napi_value e = make_error(env, ctor, code, msg);

	if (e != NULL)
		napi_throw(env, e);
	return (NULL);
}

/* An errno from the backend: Error with code, errno, syscall, message. */
static napi_value
throw_sys(napi_env env, int err, const char *syscall, const char *what)
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
	e = make_error(env, "Error", name, msg != NULL ? msg : what);
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

/* ---- argument helpers ---- */

static bool
args(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;

	for (size_t i = 0; i < want; i++)
		argv[i] = NULL;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return (false);
	napi_value undef;
	napi_get_undefined(env, &undef);
	for (size_t i = argc; i < want; i++)
		argv[i] = undef;
	ct_err_clear();
	if (owner_env != env) {
		(void) ct_err_set(ENOTSUP, "napi_module_register",
		    "illumos_contract works from one thread per process (the "
		    "first that loaded it)");
		throw_sys(env, ENOTSUP, "napi_module_register", "");
		return (false);
	}
	return (true);
}

static bool
get_int(napi_env env, napi_value v, const char *name, int64_t lo,
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
		throw_arg(env, "TypeError", "ERR_INVALID_ARG_TYPE", msg);
		return (false);
	}
	napi_get_value_double(env, v, &d);
	if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) {
		(void) snprintf(msg, sizeof (msg), "The value of \"%s\" is out "
		    "of range. It must be an integer >= %" PRId64 " and <= %"
		    PRId64 ". Received %g", name, lo, hi, d);
		throw_arg(env, "RangeError", "ERR_OUT_OF_RANGE", msg);
		return (false);
	}
	*out = (int64_t)d;
	return (true);
}

/* A string argument, heap-allocated; NULL (and thrown) on error. */
static char *
get_str(napi_env env, napi_value v, const char *name)
{
	napi_valuetype t;
	size_t len;
	char *s, msg[160];

	if (napi_typeof(env, v, &t) != napi_ok)
		return (NULL);
	if (t != napi_string) {
		(void) snprintf(msg, sizeof (msg), "The \"%s\" argument must "
		    "be of type string", name);
		throw_arg(env, "TypeError", "ERR_INVALID_ARG_TYPE", msg);
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
		throw_arg(env, "TypeError", "ERR_INVALID_ARG_VALUE", msg);
		return (NULL);
	}
	return (s);
}

/* An optional contract type name: undefined -> CT_TYPE_COUNT. */
static bool
get_type(napi_env env, napi_value v, ct_type_t *tp)
{
	napi_valuetype t;
	uint32_t val;
	char *s;

	if (napi_typeof(env, v, &t) != napi_ok)
		return (false);
	if (t == napi_undefined) {
		*tp = CT_TYPE_COUNT;
		return (true);
	}
	if ((s = get_str(env, v, "type")) == NULL)
		return (false);
	bool ok = ct_names_lookup(ct_names_types, s, &val) == 0;
	free(s);
	if (!ok) {
		throw_arg(env, "TypeError", "ERR_INVALID_ARG_VALUE", "The "
		    "\"type\" argument must be one of 'process', 'device'");
		return (false);
	}
	*tp = (ct_type_t)val;
	return (true);
}

static ct_contract_t *
get_contract(napi_env env, napi_value v)
{
	box_t *b;

	if (napi_get_value_external(env, v, (void **)&b) != napi_ok || b == NULL) {
		throw_arg(env, "TypeError", "ERR_INVALID_ARG_TYPE",
		    "not a contract handle");
		return (NULL);
	}
	if (b->c == NULL) {
		throw_arg(env, "Error", "ERR_CONTRACT_DISPOSED",
		    "this contract has been disposed");
		return (NULL);
	}
	return (b->c);
}

/* ---- value constructors ---- */

static napi_value
str(napi_env env, const char *s)
{
	napi_value v;

	napi_create_string_utf8(env, s != NULL ? s : "", NAPI_AUTO_LENGTH, &v);
	return (v);
}

static napi_value
u64str(napi_env env, uint64_t x)
{
	char buf[24];

	(void) snprintf(buf, sizeof (buf), "%" PRIu64, x);
	return (str(env, buf));
}

static napi_value
num(napi_env env, double d)
{
	napi_value v;

	napi_create_double(env, d, &v);
	return (v);
}

static napi_value
boolean(napi_env env, bool b)
{
	napi_value v;

	napi_get_boolean(env, b, &v);
	return (v);
}

static void
set(napi_env env, napi_value obj, const char *key, napi_value v)
{
	if (v != NULL)
		napi_set_named_property(env, obj, key, v);
}

/* { name: bool } for every name of a table. */
static napi_value
bits(napi_env env, const ct_name_t *tab, uint32_t mask)
{
	napi_value o;

	napi_create_object(env, &o);
	for (; tab->name != NULL; tab++)
		set(env, o, tab->name, boolean(env, tab->value != 0 &&
		    (mask & tab->value) == tab->value));
	return (o);
}

static napi_value
int_array(napi_env env, const int32_t *v, size_t n)
{
	napi_value a;

	napi_create_array_with_length(env, n, &a);
	for (size_t i = 0; i < n; i++)
		napi_set_element(env, a, (uint32_t)i, num(env, v[i]));
	return (a);
}

/* ---- templates: JS object -> ct_value_t ---- */

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

/* false with a pending exception (a getter or Proxy trap threw) or OOM. */
static bool
to_value(napi_env env, napi_value v, ct_value_t *out, arena_t *a, int depth)
{
	napi_valuetype t;
	bool isarr;

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
	case napi_bigint: {
		int sign = 0;
		size_t words = 0;
		uint64_t w[2] = { 0, 0 };
		out->kind = CT_V_BIGINT;
		if (napi_get_value_bigint_words(env, v, NULL, &words, NULL) !=
		    napi_ok)
			return (false);
		size_t got = words > 2 ? 2 : words;
		if (napi_get_value_bigint_words(env, v, &sign, &got, w) !=
		    napi_ok)
			return (false);
		out->big = w[0];
		out->big_neg = sign != 0 && (words > 1 || w[0] != 0);
		out->big_lossless = words <= 1;
		return (true);
	}
	case napi_string: {
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
	case napi_object:
		break;
	default:
		out->kind = CT_V_OTHER;
		return (true);
	}
	if (napi_is_array(env, v, &isarr) != napi_ok)
		return (false);
	if (isarr) {
		out->kind = CT_V_ARRAY;
		return (true);
	}
	out->kind = CT_V_OBJECT;
	if (depth >= 2)
		return (true);	/* deeper objects are never valid */
	napi_value names;
	uint32_t n;
	if (napi_get_all_property_names(env, v, napi_key_own_only,
	    napi_key_enumerable | napi_key_skip_symbols,
	    napi_key_numbers_to_strings, &names) != napi_ok ||
	    napi_get_array_length(env, names, &n) != napi_ok)
		return (false);
	const char **keys = arena_alloc(a, n * sizeof (*keys));
	ct_value_t *vals = arena_alloc(a, n * sizeof (*vals));
	if (keys == NULL || vals == NULL)
		return (false);
	for (uint32_t i = 0; i < n; i++) {
		napi_value k, val;
		ct_value_t kv;
		if (napi_get_element(env, names, i, &k) != napi_ok ||
		    !to_value(env, k, &kv, a, 2) || kv.kind != CT_V_STRING ||
		    napi_get_property(env, v, k, &val) != napi_ok ||
		    !to_value(env, val, &vals[i], a, depth + 1))
			return (false);
		/*
		 * The parser compares keys as C strings: "cookie\0x" would be
		 * read as "cookie".  No real key has a NUL, so it is unknown.
		 */
		if (strlen(kv.str) != kv.len) {
			char msg[160];
			(void) snprintf(msg, sizeof (msg), "Unknown key '%.64s"
			    "\\0...' in the template: keys never contain NUL "
			    "bytes", kv.str);
			throw_arg(env, "TypeError", "ERR_INVALID_ARG_VALUE", msg);
			return (false);
		}
		keys[i] = kv.str;
	}
	out->keys = keys;
	out->vals = vals;
	out->nkeys = n;
	return (true);
}

static napi_value
b_set_template(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_value_t v;
	ct_template_t t;
	ct_perr_t pe = { 0 };
	arena_t a = { NULL, 0 };
	int err;

	if (!args(env, info, 1, argv))
		return (NULL);
	if (!to_value(env, argv[0], &v, &a, 0)) {
		arena_free(&a);
		return (NULL);	/* a getter threw: it is pending */
	}
	err = ct_template_parse(&v, &t, &pe);
	arena_free(&a);
	if (err != 0) {
		const char *ctor = pe.cls == CT_PE_TYPE ? "TypeError" :
		    pe.cls == CT_PE_RANGE ? "RangeError" : "Error";
		throw_arg(env, ctor, pe.code != NULL ? pe.code : "EINVAL",
		    pe.message != NULL ? pe.message : "invalid template");
		ct_perr_fini(&pe);
		return (NULL);
	}
	err = ct_tmpl_active_set(&t);
	ct_template_fini(&t);
	if (err != 0)
		return (throw_sys(env, err, "ct_tmpl_activate",
		    "cannot activate the template"));
	return (NULL);
}

static napi_value
b_clear_template(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_type_t type;
	int err;

	if (!args(env, info, 1, argv) || !get_type(env, argv[0], &type))
		return (NULL);
	if ((err = ct_tmpl_active_clear(type)) != 0)
		return (throw_sys(env, err, "ct_tmpl_clear",
		    "cannot clear the template"));
	return (NULL);
}

static napi_value
b_latest(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_type_t type;
	ct_id_t id;
	int err;

	if (!args(env, info, 1, argv) || !get_type(env, argv[0], &type))
		return (NULL);
	if (type == CT_TYPE_COUNT)
		type = CT_TYPE_PROCESS;
	if ((err = ct_latest_get(type, &id)) != 0)
		return (throw_sys(env, err, "open", "no latest contract"));
	return (num(env, id));
}

static napi_value
b_create(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_type_t type;
	ct_id_t id;
	int err;

	if (!args(env, info, 1, argv) || !get_type(env, argv[0], &type))
		return (NULL);
	if (type == CT_TYPE_COUNT)
		type = CT_TYPE_DEVICE;
	if ((err = ct_tmpl_create_now(type, &id)) != 0)
		return (throw_sys(env, err, "ct_tmpl_create",
		    "cannot create a contract"));
	return (num(env, id));
}

/* ---- events ---- */

static napi_value
event_object(napi_env env, const ct_evrec_t *ev)
{
	napi_value o, f;
	const char *name = ct_names_event(ev->cttype, ev->type);

	napi_create_object(env, &o);
	set(env, o, "ctid", num(env, ev->ctid));
	set(env, o, "evid", u64str(env, ev->evid));
	set(env, o, "type", str(env, name != NULL ? name : "unknown"));
	napi_create_object(env, &f);
	set(env, f, "info", boolean(env, ev->flags & NC_EVF_INFO));
	set(env, f, "ack", boolean(env, ev->flags & NC_EVF_ACK));
	set(env, f, "neg", boolean(env, ev->flags & NC_EVF_NEG));
	set(env, o, "flags", f);
	if (ev->have & CT_EVP_PID)
		set(env, o, "pid", num(env, ev->pid));
	if (ev->have & CT_EVP_PPID)
		set(env, o, "ppid", num(env, ev->ppid));
	if (ev->have & CT_EVP_EXITSTATUS)
		set(env, o, "exitstatus", num(env, ev->exitstatus));
	if (ev->have & CT_EVP_SIGNAL)
		set(env, o, "signal", num(env, ev->signal));
	if (ev->have & CT_EVP_SENDER)
		set(env, o, "sender", num(env, ev->sender));
	if (ev->have & CT_EVP_SENDCT)
		set(env, o, "sender_ctid", num(env, ev->sender_ctid));
	if (ev->pcorefile != NULL)
		set(env, o, "pcorefile", str(env, ev->pcorefile));
	if (ev->gcorefile != NULL)
		set(env, o, "gcorefile", str(env, ev->gcorefile));
	if (ev->zcorefile != NULL)
		set(env, o, "zcorefile", str(env, ev->zcorefile));
	if (ev->have & CT_EVP_NEVID)
		set(env, o, "nevid", u64str(env, ev->nevid));
	if (ev->have & CT_EVP_NEWCT)
		set(env, o, "newct", num(env, ev->newct));
	if (ev->have & CT_EVP_LOST) {
		set(env, o, "forks", num(env, (double)ev->lost_forks));
		set(env, o, "exits", num(env, (double)ev->lost_exits));
	}
	return (o);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	inst_t *in = h->data;
	napi_env env = in->env;
	napi_handle_scope scope;
	napi_value fn, recv, argv[4], res;
	ct_evrec_t ev;

	(void) status;
	(void) events;
	(void) ct_evq_dispatch();
	while (ct_evq_pop(ct_evq_next, &ev) == 0) {
		if (in->dispatch == NULL ||
		    napi_open_handle_scope(env, &scope) != napi_ok) {
			ct_evrec_fini(&ev);
			continue;
		}
		const char *name = ct_names_event(ev.cttype, ev.type);
		if (napi_get_reference_value(env, in->dispatch, &fn) == napi_ok &&
		    fn != NULL) {
			argv[0] = num(env, ev.ctid);
			argv[1] = str(env, name != NULL ? name : "unknown");
			argv[2] = event_object(env, &ev);
			argv[3] = u64str(env, ev.gen);
			napi_get_global(env, &recv);
			if (napi_make_callback(env, in->actx, recv, fn, 4, argv,
			    &res) == napi_pending_exception) {
				napi_value exc;
				napi_get_and_clear_last_exception(env, &exc);
				napi_fatal_exception(env, exc);
			}
		}
		ct_evrec_fini(&ev);
		napi_close_handle_scope(env, scope);
	}
}

/* Start polling the backend's event fd (on first need). */
static napi_value
ensure_poll(napi_env env, inst_t *in)
{
	uv_loop_t *loop;
	int fd, err;

	if (in->polling)
		return (NULL);
	if ((err = ct_evq_fd(&fd)) != 0)
		return (throw_sys(env, err, "epoll_create1",
		    "cannot set up contract events"));
	if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
	    uv_poll_init(loop, &in->poll, fd) != 0)
		return (throw_sys(env, EIO, "uv_poll_init",
		    "cannot poll contract events"));
	in->poll.data = in;
	uv_poll_start(&in->poll, UV_READABLE, on_poll);
	if (in->refs == 0)
		uv_unref((uv_handle_t *)&in->poll);
	in->polling = true;
	return (NULL);
}

static inst_t *
inst(napi_env env)
{
	inst_t *in = NULL;

	napi_get_instance_data(env, (void **)&in);
	return (in);
}

static napi_value
b_set_dispatch(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	inst_t *in = inst(env);

	if (!args(env, info, 1, argv))
		return (NULL);
	if (in->dispatch != NULL)
		napi_delete_reference(env, in->dispatch);
	CHECK(napi_create_reference(env, argv[0], 1, &in->dispatch));
	return (NULL);
}

/* Hold the event loop open while JS says a contract needs it. */
static napi_value
b_ref(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	inst_t *in = inst(env);
	bool on;

	if (!args(env, info, 1, argv))
		return (NULL);
	napi_get_value_bool(env, argv[0], &on);
	in->refs = on;
	if (in->polling) {
		if (on)
			uv_ref((uv_handle_t *)&in->poll);
		else
			uv_unref((uv_handle_t *)&in->poll);
	}
	return (NULL);
}

/* ---- contracts ---- */

static void
box_finalize(napi_env env, void *data, void *hint)
{
	box_t *b = data;

	(void) env;
	(void) hint;
	ct_contract_close(b->c);
	free(b);
}

static napi_value
b_open(napi_env env, napi_callback_info info)
{
	napi_value argv[2], ext;
	int64_t id, how;
	ct_contract_t *c;
	box_t *b;
	int err;

	if (!args(env, info, 2, argv) ||
	    !get_int(env, argv[0], "ctid", 1, INT32_MAX, &id) ||
	    !get_int(env, argv[1], "how", 0, 2, &how))
		return (NULL);
	if (ensure_poll(env, inst(env)) != NULL)
		return (NULL);
	if ((err = ct_contract_open((ct_id_t)id, (ct_open_t)how, &c)) != 0)
		return (throw_sys(env, err, "open", "cannot open the contract"));
	if ((b = malloc(sizeof (*b))) == NULL) {
		ct_contract_close(c);
		return (throw_sys(env, ENOMEM, "malloc", "out of memory"));
	}
	b->c = c;
	if (napi_create_external(env, b, box_finalize, NULL, &ext) != napi_ok) {
		ct_contract_close(c);
		free(b);
		return (NULL);
	}
	return (ext);
}

static napi_value
b_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	box_t *b;

	if (!args(env, info, 1, argv))
		return (NULL);
	if (napi_get_value_external(env, argv[0], (void **)&b) == napi_ok &&
	    b != NULL && b->c != NULL) {
		ct_contract_close(b->c);
		b->c = NULL;
	}
	return (NULL);
}

/* Which contract of its id the handle is on (its events carry the same). */
static napi_value
b_gen(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_contract_t *c;

	if (!args(env, info, 1, argv) || (c = get_contract(env, argv[0])) == NULL)
		return (NULL);
	return (u64str(env, ct_contract_gen(c)));
}

static napi_value
b_status(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o;
	ct_contract_t *c;
	ct_cstatus_t st;
	int err;

	if (!args(env, info, 1, argv) || (c = get_contract(env, argv[0])) == NULL)
		return (NULL);
	if ((err = ct_contract_status(c, &st)) != 0)
		return (throw_sys(env, err, "ct_status_read",
		    "cannot read the contract status"));
	const ct_name_t *evs = ct_names_events(st.type);
	const char *state = ct_names_name(ct_names_states, (uint32_t)st.state);
	napi_create_object(env, &o);
	set(env, o, "ctid", num(env, st.ctid));
	set(env, o, "zoneid", num(env, st.zoneid));
	set(env, o, "type", str(env, st.type == CT_TYPE_DEVICE ? "device" :
	    "process"));
	set(env, o, "state", str(env, state != NULL ? state : "unknown"));
	set(env, o, "holder", num(env, st.holder));
	set(env, o, "nevents", num(env, st.nevents));
	set(env, o, "ntime", num(env, st.ntime));
	set(env, o, "qtime", num(env, st.qtime));
	set(env, o, "nevid", u64str(env, st.nevid));
	set(env, o, "cookie", u64str(env, st.cookie));
	set(env, o, "critical", bits(env, evs, st.critical));
	set(env, o, "informative", bits(env, evs, st.informative));
	if (st.type == CT_TYPE_PROCESS) {
		set(env, o, "pr_param", bits(env, ct_names_params, st.params));
		set(env, o, "pr_fatal", bits(env, evs, st.fatal));
		set(env, o, "pr_members", int_array(env, st.members,
		    st.nmembers));
		set(env, o, "pr_contracts", int_array(env, st.contracts,
		    st.ncontracts));
		set(env, o, "pr_svc_fmri", str(env, st.svc_fmri));
		set(env, o, "pr_svc_aux", str(env, st.svc_aux));
		set(env, o, "pr_svc_ctid", num(env, st.svc_ctid));
		set(env, o, "pr_svc_creator", str(env, st.svc_creator));
	} else {
		const char *ds = ct_names_name(ct_names_devstates,
		    st.dev_state);
		set(env, o, "dev_state", str(env, ds != NULL ? ds : "unknown"));
		set(env, o, "dev_aset", bits(env, ct_names_devstates,
		    st.dev_aset));
		set(env, o, "dev_minor", str(env, st.dev_minor));
		set(env, o, "dev_noneg", boolean(env, st.dev_noneg));
	}
	if (st.frozen >= 0)
		set(env, o, "frozen", boolean(env, st.frozen == 1));
	set(env, o, "lost", num(env, (double)st.lost));
	ct_cstatus_fini(&st);
	return (o);
}

static napi_value
b_abandon(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_contract_t *c;
	int err;

	if (!args(env, info, 1, argv) || (c = get_contract(env, argv[0])) == NULL)
		return (NULL);
	if ((err = ct_contract_abandon(c)) != 0)
		return (throw_sys(env, err, "ct_ctl_abandon",
		    "cannot abandon the contract"));
	return (NULL);
}

typedef int (*ackfn_t)(ct_contract_t *, ct_evid_t);

static napi_value
ack_common(napi_env env, napi_callback_info info, ackfn_t fn,
    const char *syscall)
{
	napi_value argv[2];
	ct_contract_t *c;
	uint64_t evid;
	char *s;
	int err;

	if (!args(env, info, 2, argv) || (c = get_contract(env, argv[0])) == NULL)
		return (NULL);
	if ((s = get_str(env, argv[1], "evid")) == NULL)
		return (NULL);
	err = ct_parse_u64(s, &evid);
	free(s);
	if (err != 0)
		return (throw_arg(env, err == ERANGE ? "RangeError" :
		    "TypeError", err == ERANGE ? "ERR_OUT_OF_RANGE" :
		    "ERR_INVALID_ARG_VALUE", "The \"evid\" argument must be a "
		    "decimal or 0x-hex string of a 64-bit event id"));
	if ((err = fn(c, evid)) != 0)
		return (throw_sys(env, err, syscall, "cannot acknowledge"));
	return (NULL);
}

static napi_value
b_ack(napi_env env, napi_callback_info info)
{
	return (ack_common(env, info, ct_contract_ack, "ct_ctl_ack"));
}

static napi_value
b_nack(napi_env env, napi_callback_info info)
{
	return (ack_common(env, info, ct_contract_nack, "ct_ctl_nack"));
}

static napi_value
b_qack(napi_env env, napi_callback_info info)
{
	return (ack_common(env, info, ct_contract_qack, "ct_ctl_qack"));
}

static napi_value
b_sigsend(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	ct_contract_t *c;
	int64_t sig;
	int err;

	if (!args(env, info, 2, argv) || (c = get_contract(env, argv[0])) == NULL ||
	    !get_int(env, argv[1], "signal", 0, ct_sig_max(), &sig))
		return (NULL);
	if ((err = ct_contract_sigsend(c, (int)sig)) != 0)
		return (throw_sys(env, err, "sigsend",
		    "cannot signal the contract"));
	return (NULL);
}

static napi_value
b_freeze(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	ct_contract_t *c;
	bool on = false;
	int err;

	if (!args(env, info, 2, argv) || (c = get_contract(env, argv[0])) == NULL)
		return (NULL);
	napi_get_value_bool(env, argv[1], &on);
	if ((err = ct_contract_freeze(c, on)) != 0)
		return (throw_sys(env, err, "write", on ? "cannot freeze" :
		    "cannot thaw"));
	return (NULL);
}

static napi_value
b_usage(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o;
	ct_contract_t *c;
	ct_usage_t u;
	int err;

	if (!args(env, info, 1, argv) || (c = get_contract(env, argv[0])) == NULL)
		return (NULL);
	if ((err = ct_contract_usage(c, &u)) != 0)
		return (throw_sys(env, err, "read", "cannot read CPU usage"));
	napi_create_object(env, &o);
	set(env, o, "userCPUTime", num(env, (double)u.user_usec));
	set(env, o, "systemCPUTime", num(env, (double)u.system_usec));
	if (u.have_memory) {
		set(env, o, "memoryCurrent", num(env,
		    (double)u.memory_current));
		set(env, o, "memoryPeak", num(env, (double)u.memory_peak));
	}
	return (o);
}

/* The highest signal number (lib/spawn.js checks killSignal with it). */
static napi_value
b_sig_max(napi_env env, napi_callback_info info)
{
	napi_value argv[1];

	if (!args(env, info, 0, argv))
		return (NULL);
	return (num(env, ct_sig_max()));
}

static napi_value
b_list(napi_env env, napi_callback_info info)
{
	napi_value argv[1], a;
	ct_type_t type;
	ct_id_t *ids;
	size_t n;
	int err;

	if (!args(env, info, 1, argv) || !get_type(env, argv[0], &type))
		return (NULL);
	if ((err = ct_contract_list(type, &ids, &n)) != 0)
		return (throw_sys(env, err, "opendir",
		    "cannot list contracts"));
	a = int_array(env, ids, n);
	free(ids);
	return (a);
}

static const char *const spawn_modes[] = { "kernel", "atfork", "shim",
    "anchor" };

static napi_value
b_features(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o;
	ct_features_t f;
	int err;

	if (!args(env, info, 0, argv))
		return (NULL);
	if ((err = ct_features_get(&f)) != 0)
		return (throw_sys(env, err, "open", "cannot read features"));
	napi_create_object(env, &o);
	set(env, o, "backend", str(env, f.backend));
	napi_value nul;
	napi_get_null(env, &nul);
	set(env, o, "root", f.root != NULL ? str(env, f.root) : nul);
	if (f.root_error != NULL) {
		set(env, o, "rootError", str(env, f.root_error));
		set(env, o, "rootErrno", num(env, f.root_errno));
	}
	set(env, o, "delegated", boolean(env, f.delegated));
	set(env, o, "freeze", boolean(env, f.freeze));
	set(env, o, "usage", boolean(env, f.usage));
	set(env, o, "memory", boolean(env, f.memory));
	set(env, o, "events", bits(env, ct_names_events(CT_TYPE_PROCESS),
	    f.pr_events));
	set(env, o, "devices", boolean(env, f.devices));
	set(env, o, "holderDeath", boolean(env, f.holder_death));
	set(env, o, "spawn", str(env, spawn_modes[f.spawn]));
	set(env, o, "membership", f.membership != NULL ?
	    str(env, f.membership) : nul);
	ct_features_fini(&f);
	return (o);
}

/*
 * The directory of the loaded addon, where its helpers are (lib/binding.js).
 * Not through args(): a worker loading the module sets the same directory.
 */
static napi_value
b_set_helper_dir(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	size_t argc = 1;
	char *s;
	int err;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return (NULL);
	if (argc < 1)
		napi_get_undefined(env, &argv[0]);
	if ((s = get_str(env, argv[0], "dir")) == NULL)
		return (NULL);
	err = ct_helper_dir_set(s);
	free(s);
	if (err != 0)
		return (throw_sys(env, err, "strdup",
		    "cannot record the helper directory"));
	return (NULL);
}

/* ---- spawn plumbing (lib/spawn.js) ---- */

static napi_value
b_spawn_mode(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	napi_valuetype t;
	ct_spawn_mode_t mode;

	if (!args(env, info, 1, argv))
		return (NULL);
	napi_typeof(env, argv[0], &t);
	if (t == napi_string) {
		char *s = get_str(env, argv[0], "mode");
		int err = ENOTSUP;
		for (int i = 0; s != NULL && i < 3; i++) {	/* not anchor */
			if (strcmp(s, spawn_modes[i]) == 0)
				err = ct_spawn_mode_set((ct_spawn_mode_t)i);
		}
		free(s);
		if (err != 0)
			return (throw_sys(env, err, "ct_spawn_mode_set",
			    "unsupported spawn mechanism"));
	}
	(void) ct_spawn_mode_get(&mode);
	return (str(env, spawn_modes[mode]));
}

static napi_value
b_fork_count(napi_env env, napi_callback_info info)
{
	napi_value argv[1];

	if (!args(env, info, 0, argv))
		return (NULL);
	return (num(env, (double)ct_spawn_forks()));
}

static napi_value
b_spawn_prepare(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o;
	ct_id_t id;
	char *procs;
	int err;

	if (!args(env, info, 0, argv))
		return (NULL);
	if ((err = ct_spawn_prepare(&id, &procs)) != 0)
		return (throw_sys(env, err, "mkdir",
		    "cannot prepare a contract"));
	napi_create_object(env, &o);
	set(env, o, "ctid", num(env, id));
	set(env, o, "procs", str(env, procs));
	free(procs);
	return (o);
}

static napi_value
b_spawn_commit(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int64_t id, pid;
	int err;

	if (!args(env, info, 2, argv) ||
	    !get_int(env, argv[0], "ctid", 0, INT32_MAX, &id) ||
	    !get_int(env, argv[1], "pid", 1, INT32_MAX, &pid))
		return (NULL);
	if (ensure_poll(env, inst(env)) != NULL)
		return (NULL);
	if ((err = ct_spawn_commit((ct_id_t)id, (pid_t)pid)) != 0)
		return (throw_sys(env, err, "write",
		    "cannot put the child into its contract"));
	return (NULL);
}

static napi_value
b_spawn_abort(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int64_t id;

	if (!args(env, info, 1, argv) ||
	    !get_int(env, argv[0], "ctid", 0, INT32_MAX, &id))
		return (NULL);
	(void) ct_spawn_abort((ct_id_t)id);
	return (NULL);
}

static napi_value
b_spawn_ready(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int err;

	if (!args(env, info, 0, argv))
		return (NULL);
	if ((err = ct_spawn_ready()) != 0)
		return (throw_sys(env, err, "mkdir",
		    "cannot prepare the next contract"));
	return (NULL);
}

/* ---- module ---- */

static void
poll_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
inst_finalize(napi_env env, void *data, void *hint)
{
	inst_t *in = data;

	(void) hint;
	if (in->dispatch != NULL)
		napi_delete_reference(env, in->dispatch);
	if (in->actx != NULL)
		napi_async_destroy(env, in->actx);
	if (in->main)
		owner_env = NULL;
	if (in->polling) {
		uv_poll_stop(&in->poll);
		uv_close((uv_handle_t *)&in->poll, poll_closed);
	} else {
		free(in);
	}
}

NAPI_MODULE_INIT()
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = {
		{ "setTemplate", b_set_template },
		{ "clearTemplate", b_clear_template },
		{ "latest", b_latest },
		{ "create", b_create },
		{ "open", b_open },
		{ "close", b_close },
		{ "gen", b_gen },
		{ "status", b_status },
		{ "abandon", b_abandon },
		{ "ack", b_ack },
		{ "nack", b_nack },
		{ "qack", b_qack },
		{ "sigsend", b_sigsend },
		{ "freeze", b_freeze },
		{ "usage", b_usage },
		{ "list", b_list },
		{ "sigMax", b_sig_max },
		{ "features", b_features },
		{ "setDispatch", b_set_dispatch },
		{ "ref", b_ref },
		{ "spawnMode", b_spawn_mode },
		{ "forkCount", b_fork_count },
		{ "spawnPrepare", b_spawn_prepare },
		{ "spawnCommit", b_spawn_commit },
		{ "spawnAbort", b_spawn_abort },
		{ "spawnReady", b_spawn_ready },
		{ "setHelperDir", b_set_helper_dir },
	};
	inst_t *in = calloc(1, sizeof (*in));
	napi_value fn, name;

	if (in == NULL)
		return (NULL);
	in->env = env;
	if (owner_env == NULL) {
		owner_env = env;
		in->main = true;
	}
	napi_create_string_utf8(env, "illumos_contract", NAPI_AUTO_LENGTH,
	    &name);
	napi_value resource;
	napi_create_object(env, &resource);
	napi_async_init(env, resource, name, &in->actx);
	if (napi_set_instance_data(env, in, inst_finalize, NULL) != napi_ok) {
		free(in);
		return (NULL);
	}
	for (size_t i = 0; i < sizeof (fns) / sizeof (fns[0]); i++) {
		if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH,
		    fns[i].fn, NULL, &fn) != napi_ok ||
		    napi_set_named_property(env, exports, fns[i].name, fn) !=
		    napi_ok)
			return (NULL);
	}
	return (exports);
}

/*
 * test_template.c -- template parsing (src/template.c): defaults, every
 * key of each type, every error with its class, code and message, and
 * ct_parse_u64, ct_template_copy, ct_template_fini.
 * Checks with test/c/check.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "check.h"

/* ------------------------------------------------------------------ */
/* Building values as the binding would */

static ct_value_t
vkind(ct_vkind_t kind)
{
	return ((ct_value_t){ .kind = kind });
}

static ct_value_t
vbool(bool b)
{
	return ((ct_value_t){ .kind = CT_V_BOOL, .b = b });
}

static ct_value_t
vnum(double d)
{
	return ((ct_value_t){ .kind = CT_V_NUMBER, .num = d });
}

static ct_value_t
vbig(uint64_t mag, bool neg, bool lossless)
{
	return ((ct_value_t){ .kind = CT_V_BIGINT, .big = mag,
	    .big_neg = neg, .big_lossless = lossless });
}

static ct_value_t
vstrn(const char *s, size_t len)
{
	return ((ct_value_t){ .kind = CT_V_STRING, .str = s, .len = len });
}

static ct_value_t
vstr(const char *s)
{
	return (vstrn(s, strlen(s)));
}

#define	UNDEF	vkind(CT_V_UNDEFINED)
#define	T	vbool(true)
#define	F	vbool(false)

/*
 * Objects live in static pools, reset before each parse, so the tests
 * themselves allocate nothing (leak checkers see only template.c).
 */
#define	POOL	256
static const char *key_pool[POOL];
static ct_value_t val_pool[POOL];
static size_t pool_used;

typedef struct { const char *k; ct_value_t v; } kv_t;

static ct_value_t
mkobj(const kv_t *kv, size_t n)
{
	ct_value_t o = { .kind = CT_V_OBJECT, .nkeys = n };

	if (pool_used + n > POOL) {
		fprintf(stderr, "test pool exhausted\n");
		abort();
	}
	o.keys = &key_pool[pool_used];
	o.vals = &val_pool[pool_used];
	for (size_t i = 0; i < n; i++) {
		key_pool[pool_used] = kv[i].k;
		val_pool[pool_used] = kv[i].v;
		pool_used++;
	}
	return (o);
}

#define	KV(k, v)	((kv_t){ (k), (v) })
#define	OBJ(...)	mkobj((const kv_t[]){ __VA_ARGS__ }, \
	sizeof ((const kv_t[]){ __VA_ARGS__ }) / sizeof (kv_t))
#define	EMPTY		mkobj(NULL, 0)
#define	PROC(...)	OBJ(KV("type", vstr("process")), __VA_ARGS__)
#define	DEV(...)	OBJ(KV("type", vstr("device")), __VA_ARGS__)
/* {type, key: v} with the type a string. */
#define	TYPED(type, key, v)	OBJ(KV("type", vstr(type)), KV((key), (v)))

/* ------------------------------------------------------------------ */
/* Parsing with checks */

/*
 * Parse obj, which must succeed, into *t (the caller checks the fields
 * and calls ct_template_fini).
 */
#define	PARSE_OK(obj, t)	parse_ok((obj), (t), __FILE__, __LINE__)

static bool
parse_ok(ct_value_t obj, ct_template_t *t, const char *file, int line)
{
	ct_perr_t err;
	int rc;

	memset(&err, 0xa5, sizeof (err));
	rc = ct_template_parse(&obj, t, &err);
	pool_used = 0;
	check_at(rc == 0, "parse succeeds", file, line);
	if (rc != 0)
		printf("%s:%d:   rc %d: %s\n", file, line, rc,
		    err.message != NULL ? err.message : "(no message)");
	check_at(err.message == NULL && err.code == NULL,
	    "err zeroed on success", file, line);
	if (rc != 0)
		ct_perr_fini(&err);
	return (rc == 0);
}

/*
 * Parse obj, which must fail with rc, class cls, code, and a message
 * containing want (NULL: not checked).  The template must own nothing.
 */
#define	PARSE_ERR(obj, rc, cls, code, want) \
	parse_err((obj), (rc), (cls), (code), (want), __FILE__, __LINE__)
#define	TYPE_ERR(obj, want) PARSE_ERR((obj), EINVAL, CT_PE_TYPE, \
	"ERR_INVALID_ARG_TYPE", (want))
#define	VALUE_ERR(obj, want) PARSE_ERR((obj), EINVAL, CT_PE_TYPE, \
	"ERR_INVALID_ARG_VALUE", (want))
#define	RANGE_ERR(obj, want) PARSE_ERR((obj), ERANGE, CT_PE_RANGE, \
	"ERR_OUT_OF_RANGE", (want))

static char last_msg[1024];	/* the last error message, cut to fit */
static size_t last_msg_len;	/* its whole length */

static void
parse_err(ct_value_t obj, int want_rc, ct_pe_class_t cls, const char *code,
    const char *want, const char *file, int line)
{
	ct_template_t t;
	ct_perr_t err;
	int rc;

	memset(&t, 0xa5, sizeof (t));
	rc = ct_template_parse(&obj, &t, &err);
	pool_used = 0;
	check_at(rc == want_rc, "rc", file, line);
	check_at(err.cls == cls, "error class", file, line);
	check_at(check_streq(err.code, code), "error code", file, line);
	check_at(err.message != NULL, "message", file, line);
	if (err.message != NULL && want != NULL)
		check_at(strstr(err.message, want) != NULL, "message text",
		    file, line);
	if (rc != want_rc || !check_streq(err.code, code) || (want != NULL &&
	    (err.message == NULL || strstr(err.message, want) == NULL))) {
		printf("%s:%d:   got rc %d code %s message: %s\n", file, line,
		    rc, err.code != NULL ? err.code : "(null)",
		    err.message != NULL ? err.message : "(null)");
		if (want != NULL)
			printf("%s:%d:   wanted: %s\n", file, line, want);
	}
	/* Nothing left to free in t. */
	check_at(t.svc_fmri == NULL && t.svc_aux == NULL && t.dev_minor == NULL,
	    "failed template owns nothing", file, line);
	ct_template_fini(&t);
	last_msg[0] = '\0';
	last_msg_len = 0;
	if (err.message != NULL) {
		last_msg_len = strlen(err.message);
		(void) snprintf(last_msg, sizeof (last_msg), "%s", err.message);
	}
	ct_perr_fini(&err);
	check_at(err.message == NULL, "ct_perr_fini clears", file, line);
	ct_perr_fini(&err);
}

/* ------------------------------------------------------------------ */
/* Tests */

static void
test_init(void)
{
	ct_template_t t;

	memset(&t, 0xa5, sizeof (t));
	ct_template_init(&t, CT_TYPE_PROCESS);
	CHECK(t.type == CT_TYPE_PROCESS && t.given == 0);
	CHECK(t.critical == 0x21 && t.critical == NC_PR_DEF_CRITICAL);
	CHECK(t.informative == 0x18 && t.informative == NC_PR_DEF_INFO);
	CHECK(t.fatal == 0x20 && t.fatal == NC_PR_DEF_FATAL);
	CHECK(t.params == 0 && t.cookie == 0 && t.transfer == 0);
	CHECK(t.svc_fmri == NULL && t.svc_aux == NULL && t.dev_minor == NULL);
	CHECK(t.dev_aset == 0 && !t.dev_noneg);
	ct_template_fini(&t);

	memset(&t, 0xa5, sizeof (t));
	ct_template_init(&t, CT_TYPE_DEVICE);
	CHECK(t.type == CT_TYPE_DEVICE && t.given == 0);
	CHECK(t.critical == NC_DEV_DEF_CRITICAL && t.critical == 0x4);
	CHECK(t.informative == NC_DEV_DEF_INFO && t.informative == 0x2);
	CHECK(t.dev_aset == NC_DEV_DEF_ASET && t.dev_aset == 0x3);
	CHECK(!t.dev_noneg && t.dev_minor == NULL && t.cookie == 0);
	CHECK(t.fatal == 0 && t.params == 0 && t.transfer == 0);
	CHECK(t.svc_fmri == NULL && t.svc_aux == NULL);
	ct_template_fini(&t);
}

static void
test_minimal(void)
{
	ct_template_t t;

	if (PARSE_OK(OBJ(KV("type", vstr("process"))), &t)) {
		CHECK(t.type == CT_TYPE_PROCESS && t.given == 0);
		CHECK(t.critical == NC_PR_DEF_CRITICAL &&
		    t.informative == NC_PR_DEF_INFO &&
		    t.fatal == NC_PR_DEF_FATAL && t.params == 0);
		CHECK(t.svc_fmri == NULL && t.svc_aux == NULL);
		ct_template_fini(&t);
	}
	if (PARSE_OK(OBJ(KV("type", vstr("device"))), &t)) {
		CHECK(t.type == CT_TYPE_DEVICE && t.given == 0);
		CHECK(t.critical == NC_DEV_DEF_CRITICAL &&
		    t.informative == NC_DEV_DEF_INFO &&
		    t.dev_aset == NC_DEV_DEF_ASET && !t.dev_noneg);
		ct_template_fini(&t);
	}
	/* The type may come after the keys it governs. */
	if (PARSE_OK(OBJ(KV("dev_noneg", T), KV("critical",
	    OBJ(KV("dev_online", T))), KV("type", vstr("device"))), &t)) {
		CHECK(t.type == CT_TYPE_DEVICE && t.critical == 0x1);
		CHECK(t.dev_noneg);
		CHECK(t.given == (CT_T_CRITICAL | CT_T_DEV_NONEG));
		ct_template_fini(&t);
	}
}

static void
test_not_object(void)
{
	const char *want = "The \"template\" argument must be of type "
	    "object. Received ";
	static const struct {
		ct_vkind_t kind;
		const char *received;
	} kinds[] = {
		{ CT_V_UNDEFINED, "undefined" }, { CT_V_NULL, "null" },
		{ CT_V_ARRAY, "an instance of Array" },
		{ CT_V_FUNCTION, "a function" }, { CT_V_SYMBOL, "symbol" },
		{ CT_V_OTHER, "unsupported" },
	};
	ct_template_t t;
	ct_perr_t err;

	for (size_t i = 0; i < sizeof (kinds) / sizeof (kinds[0]); i++) {
		TYPE_ERR(vkind(kinds[i].kind), want);
		CHECK(strstr(last_msg, kinds[i].received) != NULL);
	}
	TYPE_ERR(vkind(CT_V_NULL), "The \"template\" argument must be of "
	    "type object. Received null");
	TYPE_ERR(vbool(true), "Received type boolean (true)");
	TYPE_ERR(vnum(1.5), "Received type number (1.5)");
	TYPE_ERR(vnum(NAN), "Received type number (NaN)");
	TYPE_ERR(vnum(-INFINITY), "Received type number (-Infinity)");
	TYPE_ERR(vnum(42), "Received type number (42)");
	TYPE_ERR(vbig(7, true, true), "Received type bigint (-7n)");
	TYPE_ERR(vbig(7, false, false), "Received type bigint");
	TYPE_ERR(vstr("process"), "Received type string ('process')");

	/* A NULL pointer reads as undefined. */
	memset(&t, 0xa5, sizeof (t));
	CHECK(ct_template_parse(NULL, &t, &err) == EINVAL);
	CHECK_STR(err.code, "ERR_INVALID_ARG_TYPE");
	CHECK(err.message != NULL && strstr(err.message, "undefined"));
	ct_perr_fini(&err);
	ct_template_fini(&t);
}

static void
test_type(void)
{
	static char big[10000];

	TYPE_ERR(EMPTY, "The \"template.type\" property must be of type "
	    "string. Received undefined");
	TYPE_ERR(OBJ(KV("critical", EMPTY)),
	    "The \"template.type\" property must be of type string. "
	    "Received undefined");
	TYPE_ERR(OBJ(KV("type", UNDEF)), "The \"template.type\" property "
	    "must be of type string. Received undefined");
	TYPE_ERR(OBJ(KV("type", vkind(CT_V_NULL))), "Received null");
	TYPE_ERR(OBJ(KV("type", vnum(0))), "must be of type string. "
	    "Received type number (0)");
	TYPE_ERR(OBJ(KV("type", EMPTY)), "an instance of Object");
	TYPE_ERR(OBJ(KV("type", vkind(CT_V_ARRAY))), "an instance of Array");

	VALUE_ERR(OBJ(KV("type", vstr("xyz"))), "The \"template.type\" "
	    "property must be one of 'process', 'device'. Received 'xyz'");
	VALUE_ERR(OBJ(KV("type", vstr("Process"))), "Received 'Process'");
	VALUE_ERR(OBJ(KV("type", vstr(""))), "Received ''");
	VALUE_ERR(OBJ(KV("type", vstr("all"))), NULL);
	VALUE_ERR(OBJ(KV("type", vstrn("process\0x", 9))), NULL);

	/* A huge value is cut in the message. */
	memset(big, 'p', sizeof (big) - 1);
	VALUE_ERR(OBJ(KV("type", vstr(big))), "Received 'pppp");
	CHECK(strstr(last_msg, "...'") != NULL);
	CHECK(last_msg_len < 300);
	/* Unknown keys are no error before the type is known. */
	VALUE_ERR(OBJ(KV("foo", vnum(1)), KV("type", vstr("xyz"))),
	    "Received 'xyz'");
}

static void
test_unknown_keys(void)
{
	static const char *const pr_only[] = { "fatal", "param", "transfer",
	    "svc_fmri", "svc_aux" };
	static const char *const dev_only[] = { "dev_minor", "dev_aset",
	    "dev_noneg" };
	static char big[5000];
	char want[128];

	VALUE_ERR(PROC(KV("foo", vnum(1))),
	    "Unknown key 'foo' in a process template");
	VALUE_ERR(DEV(KV("foo", T)),
	    "Unknown key 'foo' in a device template");
	VALUE_ERR(PROC(KV("Critical", EMPTY)), "'Critical'");
	VALUE_ERR(PROC(KV("", EMPTY)), "Unknown key '' in a process");
	VALUE_ERR(PROC(KV("pr_svc_fmri", vstr("x"))), "'pr_svc_fmri'");
	for (size_t i = 0; i < sizeof (pr_only) / sizeof (pr_only[0]); i++) {
		(void) snprintf(want, sizeof (want),
		    "Unknown key '%s' in a device template", pr_only[i]);
		VALUE_ERR(DEV(KV(pr_only[i], EMPTY)), want);
	}
	for (size_t i = 0; i < sizeof (dev_only) / sizeof (dev_only[0]);
	    i++) {
		(void) snprintf(want, sizeof (want),
		    "Unknown key '%s' in a process template", dev_only[i]);
		VALUE_ERR(PROC(KV(dev_only[i], T)), want);
	}
	/* Found even after good keys; nothing leaks from those. */
	VALUE_ERR(PROC(KV("svc_fmri", vstr("svc:/a")), KV("svc_aux",
	    vstr("b")), KV("bogus", T)), "'bogus'");

	/* A huge key is cut, at a UTF-8 boundary. */
	memset(big, 'k', sizeof (big) - 1);
	VALUE_ERR(PROC(KV(big, T)), "Unknown key 'kkkk");
	CHECK(strstr(last_msg, "...' in a process template") != NULL);
	CHECK(last_msg_len < 300);
	memset(big, 'a', 63);
	memcpy(big + 63, "\xc3\xa9", 2);	/* U+00E9 across byte 64 */
	VALUE_ERR(PROC(KV(big, T)), NULL);
	memset(want, 'a', 63);
	(void) strcpy(want + 63, "...'");
	CHECK(strstr(last_msg, want) != NULL);
	CHECK(strstr(last_msg, "\xc3") == NULL);
	/* Exactly 64 bytes: whole, no ellipsis. */
	big[64] = '\0';
	memset(big, 'b', 64);
	VALUE_ERR(PROC(KV(big, T)), big);
	CHECK(strstr(last_msg, "...") == NULL);
}

static void
test_undefined_ignored(void)
{
	ct_template_t t;

	if (PARSE_OK(PROC(KV("critical", UNDEF), KV("informative", UNDEF),
	    KV("cookie", UNDEF), KV("fatal", UNDEF), KV("param", UNDEF),
	    KV("transfer", UNDEF), KV("svc_fmri", UNDEF), KV("svc_aux", UNDEF),
	    KV("dev_minor", UNDEF), KV("foo", UNDEF)), &t)) {
		CHECK(t.given == 0);
		CHECK(t.critical == NC_PR_DEF_CRITICAL &&
		    t.informative == NC_PR_DEF_INFO &&
		    t.fatal == NC_PR_DEF_FATAL);
		ct_template_fini(&t);
	}
	if (PARSE_OK(DEV(KV("dev_aset", UNDEF), KV("dev_noneg", UNDEF),
	    KV("fatal", UNDEF)), &t)) {
		CHECK(t.given == 0 && t.dev_aset == NC_DEV_DEF_ASET);
		ct_template_fini(&t);
	}
}

static void
test_event_sets(void)
{
	static char big[3000];
	ct_template_t t;

	/* A set replaces the default. */
	if (PARSE_OK(PROC(KV("critical", OBJ(KV("pr_fork", T),
	    KV("pr_exit", T)))), &t)) {
		CHECK(t.critical == (NC_PR_EV_FORK | NC_PR_EV_EXIT));
		CHECK(t.informative == NC_PR_DEF_INFO);
		CHECK(t.given == CT_T_CRITICAL);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("critical", OBJ(KV("pr_empty", F)))), &t)) {
		CHECK(t.critical == 0 && t.given == CT_T_CRITICAL);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("informative", EMPTY)), &t)) {
		CHECK(t.informative == 0 && t.given == CT_T_INFO);
		CHECK(t.critical == NC_PR_DEF_CRITICAL);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("informative", OBJ(KV("negend", F),
	    KV("pr_empty", T), KV("pr_fork", T), KV("pr_exit", T),
	    KV("pr_core", T), KV("pr_signal", T), KV("pr_hwerr", T)))), &t)) {
		CHECK(t.informative == NC_PR_ALLEVENT);
		ct_template_fini(&t);
	}
	if (PARSE_OK(DEV(KV("critical", OBJ(KV("dev_online", T))),
	    KV("informative", OBJ(KV("dev_degraded", T),
	    KV("dev_offline", T)))), &t)) {
		CHECK(t.critical == NC_DEV_EV_ONLINE);
		CHECK(t.informative ==
		    (NC_DEV_EV_DEGRADED | NC_DEV_EV_OFFLINE));
		CHECK(t.given == (CT_T_CRITICAL | CT_T_INFO));
		ct_template_fini(&t);
	}

	/* Not an object. */
	TYPE_ERR(PROC(KV("critical", vkind(CT_V_ARRAY))), "The \"template."
	    "critical\" property must be of type object. Received an instance "
	    "of Array");
	TYPE_ERR(PROC(KV("critical", vkind(CT_V_NULL))),
	    "The \"template.critical\" property must be of type object. "
	    "Received null");
	TYPE_ERR(PROC(KV("informative", vstr("pr_fork"))),
	    "The \"template.informative\" property must be of type object");
	TYPE_ERR(DEV(KV("critical", vnum(4))), "template.critical");
	TYPE_ERR(PROC(KV("critical", T)), "type boolean (true)");

	/* Unknown names. */
	VALUE_ERR(PROC(KV("critical", OBJ(KV("pr_foo", T)))),
	    "Unknown process event 'pr_foo' in template.critical");
	VALUE_ERR(PROC(KV("critical", OBJ(KV("pr_empty", T),
	    KV("dev_online", T)))), "Unknown process event 'dev_online'");
	VALUE_ERR(DEV(KV("informative", OBJ(KV("pr_fork", F)))),
	    "Unknown device event 'pr_fork' in template.informative");
	VALUE_ERR(PROC(KV("critical", OBJ(KV("pr_lost", T)))), "'pr_lost'");
	VALUE_ERR(PROC(KV("informative", OBJ(KV("frozen", F)))), "'frozen'");
	VALUE_ERR(PROC(KV("critical", OBJ(KV("PR_FORK", T)))), "'PR_FORK'");
	VALUE_ERR(PROC(KV("critical", OBJ(KV("", T)))), "event ''");
	memset(big, 'e', sizeof (big) - 1);
	VALUE_ERR(PROC(KV("critical", OBJ(KV(big, T)))), "'eeee");
	CHECK(strstr(last_msg, "...' in template.critical") != NULL);
	CHECK(last_msg_len < 300);

	/* Members must be booleans. */
	TYPE_ERR(PROC(KV("critical", OBJ(KV("pr_fork", vnum(1))))),
	    "The \"template.critical.pr_fork\" property must be of type "
	    "boolean. Received type number (1)");
	TYPE_ERR(PROC(KV("informative", OBJ(KV("pr_core", vstr("true"))))),
	    "template.informative.pr_core");
	TYPE_ERR(PROC(KV("critical", OBJ(KV("pr_fork", UNDEF)))),
	    "template.critical.pr_fork\" property must be of type boolean. "
	    "Received undefined");
	TYPE_ERR(PROC(KV("critical", OBJ(KV("pr_fork", EMPTY)))),
	    "an instance of Object");
	TYPE_ERR(DEV(KV("critical", OBJ(KV("negend", vkind(CT_V_NULL))))),
	    "template.critical.negend");

	/* negend: false is fine, true never. */
	if (PARSE_OK(DEV(KV("critical", OBJ(KV("negend", F),
	    KV("dev_offline", T)))), &t)) {
		CHECK(t.critical == NC_DEV_EV_OFFLINE);
		ct_template_fini(&t);
	}
	VALUE_ERR(PROC(KV("critical", OBJ(KV("negend", T)))),
	    "'negend' can never be put in an event set (template.critical)");
	VALUE_ERR(DEV(KV("informative", OBJ(KV("negend", T)))),
	    "template.informative");
	VALUE_ERR(PROC(KV("fatal", OBJ(KV("negend", T)))), "'negend'");
}

static void
test_fatal(void)
{
	static const char *const not_fatal[] = { "pr_empty", "pr_fork",
	    "pr_exit" };
	ct_template_t t;
	char want[128];

	if (PARSE_OK(PROC(KV("fatal", OBJ(KV("pr_core", T),
	    KV("pr_signal", T), KV("pr_hwerr", T)))), &t)) {
		CHECK(t.fatal == NC_PR_ALLFATAL && t.given == CT_T_FATAL);
		CHECK(t.critical == NC_PR_DEF_CRITICAL);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("fatal", EMPTY)), &t)) {
		CHECK(t.fatal == 0 && t.given == CT_T_FATAL);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("fatal", OBJ(KV("pr_fork", F), KV("pr_core", T),
	    KV("negend", F)))), &t)) {
		CHECK(t.fatal == NC_PR_EV_CORE);
		ct_template_fini(&t);
	}
	for (size_t i = 0; i < 3; i++) {
		(void) snprintf(want, sizeof (want), "'%s' cannot be fatal: "
		    "only pr_core, pr_signal and pr_hwerr can", not_fatal[i]);
		VALUE_ERR(PROC(KV("fatal", OBJ(KV("pr_core", T),
		    KV(not_fatal[i], T)))), want);
	}
	TYPE_ERR(PROC(KV("fatal", vkind(CT_V_ARRAY))), "template.fatal");
	TYPE_ERR(PROC(KV("fatal", OBJ(KV("pr_core", vnum(1))))),
	    "template.fatal.pr_core");
	VALUE_ERR(PROC(KV("fatal", OBJ(KV("pr_bogus", T)))),
	    "Unknown process event 'pr_bogus' in template.fatal");
	VALUE_ERR(DEV(KV("fatal", OBJ(KV("pr_core", T)))),
	    "Unknown key 'fatal' in a device template");
}

static void
test_param(void)
{
	ct_template_t t;

	if (PARSE_OK(PROC(KV("param", OBJ(KV("inherit", T),
	    KV("noorphan", T), KV("pgrponly", T), KV("regent", T)))), &t)) {
		CHECK(t.params == NC_PR_ALLPARAM && t.given == CT_T_PARAM);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("param", OBJ(KV("noorphan", T),
	    KV("regent", F)))), &t)) {
		CHECK(t.params == NC_PR_NOORPHAN);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("param", EMPTY)), &t)) {
		CHECK(t.params == 0 && t.given == CT_T_PARAM);
		ct_template_fini(&t);
	}
	VALUE_ERR(PROC(KV("param", OBJ(KV("foo", T)))),
	    "Unknown parameter 'foo' in template.param");
	VALUE_ERR(PROC(KV("param", OBJ(KV("negend", F)))), "'negend'");
	VALUE_ERR(PROC(KV("param", OBJ(KV("keep_exec", T)))), "'keep_exec'");
	TYPE_ERR(PROC(KV("param", OBJ(KV("noorphan", vnum(1))))),
	    "The \"template.param.noorphan\" property must be of type "
	    "boolean");
	TYPE_ERR(PROC(KV("param", vnum(2))), "The \"template.param\" property "
	    "must be of type object. Received type number (2)");
	TYPE_ERR(PROC(KV("param", vstr("noorphan"))), "template.param");
}

#define	COOKIE_OK(v, want)	cookie_ok((v), (want), __FILE__, __LINE__)

static void
cookie_ok(ct_value_t v, uint64_t want, const char *file, int line)
{
	ct_template_t t;

	if (parse_ok(PROC(KV("cookie", v)), &t, file, line)) {
		check_at(t.cookie == want, "cookie value", file, line);
		check_at(t.given == CT_T_COOKIE, "given", file, line);
		ct_template_fini(&t);
	}
}

static void
test_cookie(void)
{
	static char big[2000];
	ct_template_t t;

	/* Strings. */
	COOKIE_OK(vstr("0"), 0);
	COOKIE_OK(vstr("42"), 42);
	COOKIE_OK(vstr("007"), 7);	/* decimal, not octal */
	COOKIE_OK(vstr("18446744073709551615"), UINT64_MAX);
	COOKIE_OK(vstr("0xffffffffffffffff"), UINT64_MAX);
	COOKIE_OK(vstr("0XDEADbeef"), 0xdeadbeef);
	COOKIE_OK(vstr("0x0"), 0);
	COOKIE_OK(vstr("0x00000000000000000001"), 1);
	RANGE_ERR(PROC(KV("cookie", vstr("18446744073709551616"))),
	    "The value of \"template.cookie\" is out of range. It must be "
	    "<= 18446744073709551615. Received '18446744073709551616'");
	RANGE_ERR(PROC(KV("cookie", vstr("0x10000000000000000"))),
	    "Received '0x10000000000000000'");
	RANGE_ERR(PROC(KV("cookie", vstr("99999999999999999999999"))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstr("0x"))), "The \"template.cookie\" "
	    "property must be a string of decimal digits or 0x and hex "
	    "digits. Received '0x'");
	VALUE_ERR(PROC(KV("cookie", vstr(""))), "Received ''");
	VALUE_ERR(PROC(KV("cookie", vstr(" 1"))), "Received ' 1'");
	VALUE_ERR(PROC(KV("cookie", vstr("1 "))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstr("-1"))), "Received '-1'");
	VALUE_ERR(PROC(KV("cookie", vstr("+1"))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstr("1e3"))), "Received '1e3'");
	VALUE_ERR(PROC(KV("cookie", vstr("1.0"))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstr("0b101"))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstr("0xfg"))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstr("0x 1"))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstr("x10"))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstr("ff"))), NULL);
	VALUE_ERR(PROC(KV("cookie", vstrn("12\0" "3", 4))), NULL);
	/* Malformed wins over too big. */
	VALUE_ERR(PROC(KV("cookie", vstr("99999999999999999999999x"))), NULL);
	/* Huge strings: cut in the message. */
	memset(big, '9', sizeof (big) - 1);
	RANGE_ERR(PROC(KV("cookie", vstr(big))), "Received '9999");
	CHECK(strstr(last_msg, "...'") != NULL && last_msg_len < 300);
	big[1000] = 'z';
	VALUE_ERR(PROC(KV("cookie", vstr(big))), "...'");
	CHECK(last_msg_len < 300);

	/* Numbers: exact integers only. */
	COOKIE_OK(vnum(0), 0);
	COOKIE_OK(vnum(-0.0), 0);
	COOKIE_OK(vnum(3735928559.0), 3735928559u);
	COOKIE_OK(vnum(9007199254740991.0), 9007199254740991u);
	RANGE_ERR(PROC(KV("cookie", vnum(9007199254740992.0))),
	    "The value of \"template.cookie\" is out of range. It must be an "
	    "integer >= 0 and <= 9007199254740991");
	CHECK(strstr(last_msg, "Received 9007199254740992") != NULL);
	RANGE_ERR(PROC(KV("cookie", vnum(1.5))), "Received 1.5");
	RANGE_ERR(PROC(KV("cookie", vnum(-1))), "Received -1");
	RANGE_ERR(PROC(KV("cookie", vnum(NAN))), "Received NaN");
	RANGE_ERR(PROC(KV("cookie", vnum(INFINITY))), "Received Infinity");
	RANGE_ERR(PROC(KV("cookie", vnum(-INFINITY))), "Received -Infinity");
	RANGE_ERR(PROC(KV("cookie", vnum(1e300))), NULL);
	RANGE_ERR(PROC(KV("cookie", vnum(0.1))), "Received 0.1");
	RANGE_ERR(PROC(KV("cookie", vnum(5e-324))), NULL);

	/* Bigints: non-negative, 64 bits. */
	COOKIE_OK(vbig(0, false, true), 0);
	COOKIE_OK(vbig(UINT64_MAX, false, true), UINT64_MAX);
	COOKIE_OK(vbig(0, true, true), 0);	/* -0n is 0n */
	RANGE_ERR(PROC(KV("cookie", vbig(1, true, true))),
	    "The value of \"template.cookie\" is out of range. It must be "
	    ">= 0n");
	RANGE_ERR(PROC(KV("cookie", vbig(5, false, false))),
	    "wider than 64 bits");
	RANGE_ERR(PROC(KV("cookie", vbig(5, true, false))), "negative");
	/* -(2^64)n: the low 64 bits are 0, the sign still counts. */
	RANGE_ERR(PROC(KV("cookie", vbig(0, true, false))), "negative");

	/* Anything else. */
	TYPE_ERR(PROC(KV("cookie", T)), "The \"template.cookie\" property "
	    "must be of type string, number or bigint. Received type boolean");
	TYPE_ERR(PROC(KV("cookie", vkind(CT_V_NULL))), "Received null");
	TYPE_ERR(PROC(KV("cookie", EMPTY)), "an instance of Object");
	TYPE_ERR(PROC(KV("cookie", vkind(CT_V_ARRAY))), "Array");
	TYPE_ERR(PROC(KV("cookie", vkind(CT_V_SYMBOL))), "symbol");

	/* Device templates have cookies too. */
	if (PARSE_OK(DEV(KV("cookie", vstr("0x10"))), &t)) {
		CHECK(t.cookie == 16 && t.given == CT_T_COOKIE);
		ct_template_fini(&t);
	}
}

static void
test_transfer(void)
{
	ct_template_t t;

	if (PARSE_OK(PROC(KV("transfer", vnum(0))), &t)) {
		CHECK(t.transfer == 0 && t.given == CT_T_TRANSFER);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("transfer", vnum(17))), &t)) {
		CHECK(t.transfer == 17);
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("transfer", vnum(2147483647.0))), &t)) {
		CHECK(t.transfer == INT32_MAX);
		ct_template_fini(&t);
	}
	RANGE_ERR(PROC(KV("transfer", vnum(2147483648.0))), "The value of "
	    "\"template.transfer\" is out of range. It must be an integer >= 0 "
	    "and <= 2147483647. Received 2147483648");
	RANGE_ERR(PROC(KV("transfer", vnum(-1))), "Received -1");
	RANGE_ERR(PROC(KV("transfer", vnum(1.5))), "Received 1.5");
	RANGE_ERR(PROC(KV("transfer", vnum(NAN))), "Received NaN");
	RANGE_ERR(PROC(KV("transfer", vnum(INFINITY))), NULL);
	TYPE_ERR(PROC(KV("transfer", vstr("5"))), "The \"template.transfer\" "
	    "property must be of type number. Received type string ('5')");
	TYPE_ERR(PROC(KV("transfer", vbig(5, false, true))), "bigint (5n)");
	TYPE_ERR(PROC(KV("transfer", vkind(CT_V_NULL))), "null");
	VALUE_ERR(DEV(KV("transfer", vnum(1))), "Unknown key 'transfer'");
}

/* A string of n bytes of c (heap; the caller frees). */
static char *
filled(size_t n, char c)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memset(s, c, n);
	s[n] = '\0';
	return (s);
}

static void
test_strings(void)
{
	static const char *const keys[] = { "svc_fmri", "svc_aux",
	    "dev_minor" };
	const char *fmri = "svc:/site/app:default";
	char *max = filled(NC_PARAM_MAX_SIZE - 1, 'm');
	char *over = filled(NC_PARAM_MAX_SIZE, 'o');
	char *huge = filled(1 << 20, 'h');
	ct_template_t t;
	char want[128];

	if (PARSE_OK(PROC(KV("svc_fmri", vstr(fmri)), KV("svc_aux",
	    vstr("aux text"))), &t)) {
		CHECK(check_streq(t.svc_fmri, fmri) && t.svc_fmri != fmri);
		CHECK_STR(t.svc_aux, "aux text");
		CHECK(t.given == (CT_T_SVC_FMRI | CT_T_SVC_AUX));
		ct_template_fini(&t);
		CHECK(t.svc_fmri == NULL && t.svc_aux == NULL);
	}
	/* The values that mean "the default". */
	if (PARSE_OK(PROC(KV("svc_fmri", vstr("inherit:")), KV("svc_aux",
	    vstr(""))), &t)) {
		CHECK(t.svc_fmri == NULL && t.svc_aux == NULL);
		CHECK(t.given == (CT_T_SVC_FMRI | CT_T_SVC_AUX));
		ct_template_fini(&t);
	}
	if (PARSE_OK(PROC(KV("svc_fmri", vstr("inherit:x"))), &t)) {
		CHECK_STR(t.svc_fmri, "inherit:x");
		ct_template_fini(&t);
	}
	if (PARSE_OK(DEV(KV("dev_minor", vstr("/pseudo/foo@0:minor"))), &t)) {
		CHECK_STR(t.dev_minor, "/pseudo/foo@0:minor");
		CHECK(t.given == CT_T_DEV_MINOR);
		ct_template_fini(&t);
	}
	VALUE_ERR(DEV(KV("dev_minor", vstr(""))), "The \"template.dev_minor\" "
	    "property must not be empty");

	for (size_t i = 0; i < 3; i++) {
		const char *key = keys[i];
		const char *type = i < 2 ? "process" : "device";

		/* 8191 bytes fit, 8192 do not. */
		if (PARSE_OK(TYPED(type, key, vstr(max)), &t)) {
			char *s = i == 0 ? t.svc_fmri : i == 1 ? t.svc_aux :
			    t.dev_minor;
			CHECK(s != NULL && strlen(s) == NC_PARAM_MAX_SIZE - 1);
			ct_template_fini(&t);
		}
		(void) snprintf(want, sizeof (want), "The value of "
		    "\"template.%s\" is out of range. It must be at most 8191 "
		    "bytes long. Received a string of 8192 bytes", key);
		RANGE_ERR(TYPED(type, key, vstr(over)), want);
		RANGE_ERR(TYPED(type, key, vstr(huge)), "1048576 bytes");
		CHECK(last_msg_len < 300);
		/* Embedded NUL. */
		(void) snprintf(want, sizeof (want), "The \"template.%s\" "
		    "property must not contain NUL bytes", key);
		VALUE_ERR(TYPED(type, key, vstrn("ab\0cd", 5)), want);
		CHECK(strstr(last_msg, "byte 2") != NULL);
		VALUE_ERR(TYPED(type, key, vstrn("\0", 1)), want);
		/* Other kinds. */
		(void) snprintf(want, sizeof (want), "The \"template.%s\" "
		    "property must be of type string. Received type number "
		    "(1)", key);
		TYPE_ERR(TYPED(type, key, vnum(1)), want);
		TYPE_ERR(TYPED(type, key, vkind(CT_V_NULL)), "Received null");
		TYPE_ERR(TYPED(type, key, vkind(CT_V_FUNCTION)), "a function");
	}
	/* A string later in the object fails: the earlier one is freed. */
	RANGE_ERR(PROC(KV("svc_fmri", vstr(fmri)), KV("svc_aux", vstr(over))),
	    "template.svc_aux");
	TYPE_ERR(PROC(KV("svc_aux", vstr("x")), KV("svc_fmri", vstr(fmri)),
	    KV("critical", vnum(1))), "template.critical");
	free(max);
	free(over);
	free(huge);
}

static void
test_device_terms(void)
{
	ct_template_t t;

	if (PARSE_OK(DEV(KV("dev_aset", OBJ(KV("online", T)))), &t)) {
		CHECK(t.dev_aset == NC_DEV_EV_ONLINE);
		CHECK(t.given == CT_T_DEV_ASET);
		ct_template_fini(&t);
	}
	if (PARSE_OK(DEV(KV("dev_aset", OBJ(KV("online", T),
	    KV("degraded", F), KV("offline", T)))), &t)) {
		CHECK(t.dev_aset == (NC_DEV_EV_ONLINE | NC_DEV_EV_OFFLINE));
		ct_template_fini(&t);
	}
	VALUE_ERR(DEV(KV("dev_aset", EMPTY)), "template.dev_aset must name "
	    "one or two of online, degraded, offline");
	VALUE_ERR(DEV(KV("dev_aset", OBJ(KV("online", F)))),
	    "template.dev_aset must name one or two of online, degraded, "
	    "offline");
	VALUE_ERR(DEV(KV("dev_aset", OBJ(KV("online", T), KV("degraded", T),
	    KV("offline", T)))), "template.dev_aset must name one or two of "
	    "online, degraded, offline");
	VALUE_ERR(DEV(KV("dev_aset", OBJ(KV("dev_online", T)))),
	    "Unknown device state 'dev_online' in template.dev_aset");
	VALUE_ERR(DEV(KV("dev_aset", OBJ(KV("negend", F)))), "'negend'");
	TYPE_ERR(DEV(KV("dev_aset", OBJ(KV("online", vnum(1))))),
	    "The \"template.dev_aset.online\" property must be of type "
	    "boolean");
	TYPE_ERR(DEV(KV("dev_aset", vkind(CT_V_ARRAY))), "The \"template."
	    "dev_aset\" property must be of type object");
	TYPE_ERR(DEV(KV("dev_aset", vnum(3))), "template.dev_aset");

	if (PARSE_OK(DEV(KV("dev_noneg", T)), &t)) {
		CHECK(t.dev_noneg && t.given == CT_T_DEV_NONEG);
		ct_template_fini(&t);
	}
	if (PARSE_OK(DEV(KV("dev_noneg", F)), &t)) {
		CHECK(!t.dev_noneg && t.given == CT_T_DEV_NONEG);
		ct_template_fini(&t);
	}
	TYPE_ERR(DEV(KV("dev_noneg", vnum(1))), "The \"template.dev_noneg\" "
	    "property must be of type boolean. Received type number (1)");
	TYPE_ERR(DEV(KV("dev_noneg", vstr("true"))), "type string ('true')");
	TYPE_ERR(DEV(KV("dev_noneg", vkind(CT_V_NULL))), "Received null");
}

static void
test_everything(void)
{
	ct_template_t t;

	if (PARSE_OK(PROC(KV("critical", OBJ(KV("pr_empty", T))),
	    KV("informative", OBJ(KV("pr_fork", T))),
	    KV("cookie", vstr("0xdeadbeef")),
	    KV("fatal", OBJ(KV("pr_core", T))),
	    KV("param", OBJ(KV("noorphan", T))),
	    KV("transfer", vnum(9)),
	    KV("svc_fmri", vstr("svc:/x:y")),
	    KV("svc_aux", vstr("aux"))), &t)) {
		CHECK(t.type == CT_TYPE_PROCESS);
		CHECK(t.critical == NC_PR_EV_EMPTY);
		CHECK(t.informative == NC_PR_EV_FORK);
		CHECK(t.cookie == 0xdeadbeef);
		CHECK(t.fatal == NC_PR_EV_CORE);
		CHECK(t.params == NC_PR_NOORPHAN);
		CHECK(t.transfer == 9);
		CHECK(check_streq(t.svc_fmri, "svc:/x:y") &&
		    check_streq(t.svc_aux, "aux"));
		CHECK(t.given == (CT_T_CRITICAL | CT_T_INFO | CT_T_COOKIE |
		    CT_T_FATAL | CT_T_PARAM | CT_T_TRANSFER | CT_T_SVC_FMRI |
		    CT_T_SVC_AUX));
		CHECK(t.dev_minor == NULL && t.dev_aset == 0);
		ct_template_fini(&t);
	}
	if (PARSE_OK(DEV(KV("critical", OBJ(KV("dev_degraded", T))),
	    KV("informative", EMPTY), KV("cookie", vnum(5)),
	    KV("dev_minor", vstr("/pseudo/x@0:y")),
	    KV("dev_aset", OBJ(KV("online", T))),
	    KV("dev_noneg", T)), &t)) {
		CHECK(t.type == CT_TYPE_DEVICE);
		CHECK(t.critical == NC_DEV_EV_DEGRADED && t.informative == 0);
		CHECK(t.cookie == 5 &&
		    check_streq(t.dev_minor, "/pseudo/x@0:y"));
		CHECK(t.dev_aset == NC_DEV_EV_ONLINE && t.dev_noneg);
		CHECK(t.given == (CT_T_CRITICAL | CT_T_INFO | CT_T_COOKIE |
		    CT_T_DEV_MINOR | CT_T_DEV_ASET | CT_T_DEV_NONEG));
		CHECK(t.svc_fmri == NULL && t.svc_aux == NULL && t.fatal == 0);
		ct_template_fini(&t);
	}
}

static void
test_copy_fini(void)
{
	ct_template_t t, c;
	ct_perr_t err;

	if (PARSE_OK(PROC(KV("svc_fmri", vstr("svc:/a:b")),
	    KV("svc_aux", vstr("aux")), KV("cookie", vnum(3)),
	    KV("critical", OBJ(KV("pr_fork", T)))), &t)) {
		memset(&c, 0xa5, sizeof (c));
		CHECK(ct_template_copy(&c, &t) == 0);
		CHECK(c.svc_fmri != t.svc_fmri &&
		    check_streq(c.svc_fmri, "svc:/a:b"));
		CHECK(c.svc_aux != t.svc_aux && check_streq(c.svc_aux, "aux"));
		CHECK(c.dev_minor == NULL);
		CHECK(c.type == t.type && c.given == t.given &&
		    c.cookie == 3 && c.critical == NC_PR_EV_FORK &&
		    c.informative == t.informative && c.fatal == t.fatal);
		ct_template_fini(&t);
		/* The copy outlives the original. */
		CHECK_STR(c.svc_fmri, "svc:/a:b");
		ct_template_fini(&c);
		CHECK(c.svc_fmri == NULL && c.svc_aux == NULL);
		ct_template_fini(&c);	/* again: harmless */
		ct_template_fini(&t);
	}
	if (PARSE_OK(DEV(KV("dev_minor", vstr("/pseudo/x@0:y"))), &t)) {
		CHECK(ct_template_copy(&c, &t) == 0);
		CHECK(c.dev_minor != t.dev_minor &&
		    check_streq(c.dev_minor, "/pseudo/x@0:y"));
		CHECK(c.svc_fmri == NULL && c.svc_aux == NULL);
		CHECK(c.dev_aset == NC_DEV_DEF_ASET &&
		    c.type == CT_TYPE_DEVICE);
		ct_template_fini(&c);
		ct_template_fini(&t);
	}
	/* A template with no strings. */
	ct_template_init(&t, CT_TYPE_PROCESS);
	CHECK(ct_template_copy(&c, &t) == 0);
	CHECK(memcmp(&c, &t, sizeof (c)) == 0);
	ct_template_fini(&c);
	ct_template_fini(&t);

	/* ct_perr_fini on a zeroed struct, twice. */
	memset(&err, 0, sizeof (err));
	ct_perr_fini(&err);
	ct_perr_fini(&err);
	CHECK(err.message == NULL);
}

#define	U64(s, rc, want)	u64((s), (rc), (want), __FILE__, __LINE__)

static void
u64(const char *s, int want_rc, uint64_t want, const char *file, int line)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5a;
	int rc = ct_parse_u64(s, &v);

	check_at(rc == want_rc, "ct_parse_u64 rc", file, line);
	if (rc == 0)
		check_at(v == want, "ct_parse_u64 value", file, line);
	else
		check_at(v == 0x5a5a5a5a5a5a5a5a, "value untouched", file,
		    line);
}

static void
test_parse_u64(void)
{
	U64("0", 0, 0);
	U64("1", 0, 1);
	U64("000123", 0, 123);
	U64("18446744073709551615", 0, UINT64_MAX);
	U64("18446744073709551614", 0, UINT64_MAX - 1);
	U64("0xffffffffffffffff", 0, UINT64_MAX);
	U64("0XFFFFFFFFFFFFFFFF", 0, UINT64_MAX);
	U64("0x00000000000000000000ffffffffffffffff", 0, UINT64_MAX);
	U64("0x0", 0, 0);
	U64("0xaBcD", 0, 0xabcd);
	U64("0x8000000000000000", 0, 0x8000000000000000u);

	U64("18446744073709551616", ERANGE, 0);
	U64("18446744073709551620", ERANGE, 0);
	U64("184467440737095516150", ERANGE, 0);
	U64("0x10000000000000000", ERANGE, 0);
	U64("0x1ffffffffffffffff", ERANGE, 0);

	U64(NULL, EINVAL, 0);
	U64("", EINVAL, 0);
	U64("0x", EINVAL, 0);
	U64("0X", EINVAL, 0);
	U64(" 1", EINVAL, 0);
	U64("1 ", EINVAL, 0);
	U64("-1", EINVAL, 0);
	U64("+1", EINVAL, 0);
	U64("1e3", EINVAL, 0);
	U64("1.0", EINVAL, 0);
	U64("0x-1", EINVAL, 0);
	U64("0x+1", EINVAL, 0);
	U64("0xx1", EINVAL, 0);
	U64("0x 1", EINVAL, 0);
	U64("0b1", EINVAL, 0);
	U64("0o7", EINVAL, 0);
	U64("abc", EINVAL, 0);
	U64("0xg", EINVAL, 0);
	U64("x1", EINVAL, 0);
	U64("1\n", EINVAL, 0);
	U64("99999999999999999999999999x", EINVAL, 0);
	U64("0x1ffffffffffffffffz", EINVAL, 0);
}

int
main(void)
{
	test_init();
	test_minimal();
	test_not_object();
	test_type();
	test_unknown_keys();
	test_undefined_ignored();
	test_event_sets();
	test_fatal();
	test_param();
	test_cookie();
	test_transfer();
	test_strings();
	test_device_terms();
	test_everything();
	test_copy_fini();
	test_parse_u64();
	return (check_report());
}

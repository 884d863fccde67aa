/*
 * template.c -- parse and validate a template object once, for every
 * backend.  The binding turns the JavaScript object into a ct_value_t tree;
 * this file turns that into a ct_template_t holding the OS defaults
 * (docs/ARCHITECTURE.md, "Templates and defaults") overridden by every term the object gave, or into an
 * error that says which JS error to throw and why (docs/api.md, "The 1.0.3 surface").
 *
 * Portable: libc only, no Node, no OS calls.  Messages follow Node's own
 * ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE / ERR_OUT_OF_RANGE wording.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

#define	MAX_SAFE_INTEGER	9007199254740991.0	/* 2^53 - 1 */
#define	SHOW_MAX		64	/* bytes of a key or value quoted */

/* ------------------------------------------------------------------ */
/* Error messages */

/* printf into a fresh heap string, or NULL. */
static char *
vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return (NULL);
	(void) vsnprintf(s, (size_t)n + 1, fmt, ap);
	return (s);
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static char *
format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	return (s);
}

/*
 * How many bytes of s (len bytes long) a message quotes: at most SHOW_MAX,
 * cut back to the start of a UTF-8 sequence so the text stays valid.
 * Use through SHOW(), which supplies the arguments of "%.*s%s".
 */
static int
show_len(const char *s, size_t len)
{
	size_t n = len;

	if (n > SHOW_MAX) {
		n = SHOW_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return ((int)n);
}
#define	SHOW(s, len)	show_len((s), (len)), (s), \
	((len) > SHOW_MAX ? "..." : "")
#define	SHOWZ(s)	SHOW((s), strlen(s))

/* A number as JavaScript would print it (shortest text that reads back). */
static const char *
num_text(double d, char *buf, size_t size)
{
	if (isnan(d))
		return ("NaN");
	if (isinf(d))
		return (d > 0 ? "Infinity" : "-Infinity");
	if (d == 0)
		return (signbit(d) ? "-0" : "0");
	for (int prec = 1; prec <= 17; prec++) {
		(void) snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return (buf);
}

static int
nomem(ct_perr_t *err)
{
	err->cls = CT_PE_ERROR;
	err->code = "ENOMEM";
	/* The failed allocation may have been a big one; try a small one. */
	err->message = format("out of memory");
	return (ENOMEM);
}

/*
 * Fill *err: cls says which JS error, code its .code; EINVAL for a
 * TypeError, ERANGE for a RangeError.
 */
static int
vfail(ct_perr_t *err, ct_pe_class_t cls, const char *code, const char *fmt,
    va_list ap)
{
	char *msg = vformat(fmt, ap);

	if (msg == NULL)
		return (nomem(err));
	err->cls = cls;
	err->code = code;
	err->message = msg;
	return (cls == CT_PE_RANGE ? ERANGE : EINVAL);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail(ct_perr_t *err, ct_pe_class_t cls, const char *code, const char *fmt,
    ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(err, cls, code, fmt, ap);
	va_end(ap);
	return (rc);
}

#define	bad_value(err, ...) \
	fail((err), CT_PE_TYPE, "ERR_INVALID_ARG_VALUE", __VA_ARGS__)
#define	bad_range(err, ...) \
	fail((err), CT_PE_RANGE, "ERR_OUT_OF_RANGE", __VA_ARGS__)

/* What was received, for "... Received <this>" (heap, or NULL). */
static char *
received(const ct_value_t *v)
{
	char num[32];

	switch (v->kind) {
	case CT_V_UNDEFINED:
		return (format("undefined"));
	case CT_V_NULL:
		return (format("null"));
	case CT_V_BOOL:
		return (format("type boolean (%s)", v->b ? "true" : "false"));
	case CT_V_NUMBER:
		return (format("type number (%s)",
		    num_text(v->num, num, sizeof (num))));
	case CT_V_BIGINT:
		if (!v->big_lossless)
			return (format("type bigint (wider than 64 bits)"));
		return (format("type bigint (%s%" PRIu64 "n)",
		    v->big_neg ? "-" : "", v->big));
	case CT_V_STRING:
		return (format("type string ('%.*s%s')", SHOW(v->str, v->len)));
	case CT_V_OBJECT:
		return (format("an instance of Object"));
	case CT_V_ARRAY:
		return (format("an instance of Array"));
	case CT_V_FUNCTION:
		return (format("a function"));
	case CT_V_SYMBOL:
		return (format("type symbol"));
	default:
		return (format("an unsupported value"));
	}
}

/*
 * TypeError ERR_INVALID_ARG_TYPE about the "template" argument (key NULL),
 * the "template.<key>" property, or "template.<key>.<sub>".
 */
static int
bad_type(ct_perr_t *err, const char *key, const char *sub,
    const char *expected, const ct_value_t *v)
{
	char *name, *recv = NULL;
	int rc;

	if (sub != NULL)
		name = format("template.%s.%.*s%s", key, SHOWZ(sub));
	else if (key != NULL)
		name = format("template.%s", key);
	else
		name = format("template");
	if (name == NULL || (recv = received(v)) == NULL) {
		free(name);
		return (nomem(err));
	}
	rc = fail(err, CT_PE_TYPE, "ERR_INVALID_ARG_TYPE",
	    "The \"%s\" %s must be of type %s. Received %s", name,
	    key != NULL ? "property" : "argument", expected, recv);
	free(name);
	free(recv);
	return (rc);
}

/* ------------------------------------------------------------------ */
/* Values */

int
ct_parse_u64(const char *s, uint64_t *vp)
{
	unsigned base = 10;
	uint64_t v = 0;
	bool overflow = false;

	if (s == NULL)
		return (EINVAL);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return (EINVAL);
	/* Read to the end even after an overflow: malformed beats too big. */
	for (; *s != '\0'; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a') + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A') + 10;
		else
			return (EINVAL);
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		else
			v = v * base + d;
	}
	if (overflow)
		return (ERANGE);
	*vp = v;
	return (0);
}

/* Whether d is an integer in 0..max (NaN and infinities are not). */
static bool
is_uint(double d, double max)
{
	return (d >= 0 && d <= max && (double)(uint64_t)d == d);
}

static char *
dupstr(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return (p);
}

/* ------------------------------------------------------------------ */
/* Terms */

typedef struct term term_t;
typedef int term_parse_t(const term_t *, const ct_value_t *, ct_template_t *,
    ct_perr_t *);

struct term {
	const char *key;
	unsigned types;		/* PR, DEV or both */
	uint32_t given;		/* CT_T_* */
	term_parse_t *parse;
	size_t off;		/* the field of ct_template_t it sets */
	const char *reset;	/* strings: the value meaning "unset" */
};

/* The field of t that term sets, as a pointer to type. */
#define	FIELD(t, term, type)	((type *)(void *)((char *)(t) + (term)->off))

/*
 * A set object {name: boolean, ...} over the names of tab (noun says what
 * they are, for messages).  The set replaces the default: the result is
 * the bits of the names given as true; false is the same as absent.  A
 * name with bit 0 (negend) can never be a member.
 */
static int
parse_bits(const term_t *term, const ct_value_t *v, const ct_name_t *tab,
    const char *noun, uint32_t *bitsp, ct_perr_t *err)
{
	uint32_t bits = 0, bit;

	if (v->kind != CT_V_OBJECT)
		return (bad_type(err, term->key, NULL, "object", v));
	for (size_t i = 0; i < v->nkeys; i++) {
		const char *name = v->keys[i];
		const ct_value_t *e = &v->vals[i];

		if (ct_names_lookup(tab, name, &bit) != 0) {
			return (bad_value(err, "Unknown %s '%.*s%s' in "
			    "template.%s", noun, SHOWZ(name), term->key));
		}
		if (e->kind != CT_V_BOOL)
			return (bad_type(err, term->key, name, "boolean", e));
		if (!e->b)
			continue;
		if (bit == 0) {
			return (bad_value(err, "'%s' can never be put in an "
			    "event set (template.%s)", name, term->key));
		}
		bits |= bit;
	}
	*bitsp = bits;
	return (0);
}

/* critical, informative, fatal. */
static int
parse_events(const term_t *term, const ct_value_t *v, ct_template_t *t,
    ct_perr_t *err)
{
	const ct_name_t *tab = ct_names_events(t->type);
	uint32_t bits, bad;
	int rc;

	rc = parse_bits(term, v, tab, t->type == CT_TYPE_DEVICE ?
	    "device event" : "process event", &bits, err);
	if (rc != 0)
		return (rc);
	if (term->given == CT_T_FATAL &&
	    (bad = bits & ~(uint32_t)NC_PR_ALLFATAL) != 0) {
		bad &= -bad;	/* name the lowest one */
		return (bad_value(err, "'%s' cannot be fatal: only pr_core, "
		    "pr_signal and pr_hwerr can", ct_names_name(tab, bad)));
	}
	*FIELD(t, term, uint32_t) = bits;
	return (0);
}

static int
parse_params(const term_t *term, const ct_value_t *v, ct_template_t *t,
    ct_perr_t *err)
{
	return (parse_bits(term, v, ct_names_params, "parameter",
	    FIELD(t, term, uint32_t), err));
}

/* The acceptable states: some, but not all (see "Templates and defaults" in docs/ARCHITECTURE.md). */
static int
parse_aset(const term_t *term, const ct_value_t *v, ct_template_t *t,
    ct_perr_t *err)
{
	uint32_t bits;
	int rc;

	rc = parse_bits(term, v, ct_names_devstates, "device state", &bits,
	    err);
	if (rc != 0)
		return (rc);
	if (bits == 0 || bits == NC_DEV_ALLEVENT) {
		return (bad_value(err, "template.dev_aset must name one or two "
		    "of online, degraded, offline (it names %s)",
		    bits == 0 ? "none" : "all three"));
	}
	*FIELD(t, term, uint32_t) = bits;
	return (0);
}

/*
 * A 64-bit cookie: a string (decimal or 0x hex, the only way to write all
 * of 64 bits), a number while it is exact, or a bigint.
 */
#define	COOKIE_RANGE	"The value of \"template.cookie\" is out of range. "

static int
parse_cookie(const term_t *term, const ct_value_t *v, ct_template_t *t,
    ct_perr_t *err)
{
	uint64_t *cookiep = FIELD(t, term, uint64_t);
	char num[32];
	int rc;

	switch (v->kind) {
	case CT_V_STRING:
		rc = strlen(v->str) == v->len ?
		    ct_parse_u64(v->str, cookiep) : EINVAL;
		if (rc == ERANGE) {
			return (bad_range(err, COOKIE_RANGE "It must be <= "
			    "18446744073709551615. Received '%.*s%s'",
			    SHOW(v->str, v->len)));
		}
		if (rc != 0) {
			return (bad_value(err, "The \"template.cookie\" "
			    "property must be a string of decimal digits or "
			    "0x and hex digits. Received '%.*s%s'",
			    SHOW(v->str, v->len)));
		}
		return (0);
	case CT_V_NUMBER:
		if (!is_uint(v->num, MAX_SAFE_INTEGER)) {
			return (bad_range(err, COOKIE_RANGE "It must be an "
			    "integer >= 0 and <= 9007199254740991 (use a "
			    "string or bigint for more). Received %s",
			    num_text(v->num, num, sizeof (num))));
		}
		*cookiep = (uint64_t)v->num;
		return (0);
	case CT_V_BIGINT:
		if (v->big_neg && (v->big != 0 || !v->big_lossless)) {
			return (bad_range(err, COOKIE_RANGE "It must be >= 0n. "
			    "Received a negative bigint"));
		}
		if (!v->big_lossless) {
			return (bad_range(err, COOKIE_RANGE "It must be <= "
			    "18446744073709551615n. Received a bigint wider "
			    "than 64 bits"));
		}
		*cookiep = v->big;
		return (0);
	default:
		return (bad_type(err, term->key, NULL,
		    "string, number or bigint", v));
	}
}

/* A ctid, 0 for none. */
static int
parse_transfer(const term_t *term, const ct_value_t *v, ct_template_t *t,
    ct_perr_t *err)
{
	char num[32];

	if (v->kind != CT_V_NUMBER)
		return (bad_type(err, term->key, NULL, "number", v));
	if (!is_uint(v->num, INT32_MAX)) {
		return (bad_range(err, "The value of \"template.%s\" is out of "
		    "range. It must be an integer >= 0 and <= %" PRId32
		    ". Received %s", term->key, INT32_MAX,
		    num_text(v->num, num, sizeof (num))));
	}
	*FIELD(t, term, ct_id_t) = (ct_id_t)v->num;
	return (0);
}

/*
 * svc_fmri, svc_aux, dev_minor: one kernel parameter each, so at most
 * NC_PARAM_MAX_SIZE bytes with the NUL.  term->reset is the value that
 * means "back to the default" (stored as NULL); where there is none, the
 * empty string is refused.
 */
static int
parse_string(const term_t *term, const ct_value_t *v, ct_template_t *t,
    ct_perr_t *err)
{
	char **fieldp = FIELD(t, term, char *);
	char *s = NULL;

	if (v->kind != CT_V_STRING)
		return (bad_type(err, term->key, NULL, "string", v));
	if (v->len > NC_PARAM_MAX_SIZE - 1) {
		return (bad_range(err, "The value of \"template.%s\" is out of "
		    "range. It must be at most %d bytes long. Received a "
		    "string of %zu bytes", term->key, NC_PARAM_MAX_SIZE - 1,
		    v->len));
	}
	if (strlen(v->str) != v->len) {
		return (bad_value(err, "The \"template.%s\" property must not "
		    "contain NUL bytes. Received a string with a NUL at byte "
		    "%zu", term->key, strlen(v->str)));
	}
	if (term->reset == NULL && v->len == 0) {
		return (bad_value(err, "The \"template.%s\" property must not "
		    "be empty. Received ''", term->key));
	}
	if (term->reset == NULL || strcmp(v->str, term->reset) != 0) {
		if ((s = dupstr(v->str, v->len)) == NULL)
			return (nomem(err));
	}
	free(*fieldp);
	*fieldp = s;
	return (0);
}

static int
parse_bool(const term_t *term, const ct_value_t *v, ct_template_t *t,
    ct_perr_t *err)
{
	if (v->kind != CT_V_BOOL)
		return (bad_type(err, term->key, NULL, "boolean", v));
	*FIELD(t, term, bool) = v->b;
	return (0);
}

#define	PR	(1u << CT_TYPE_PROCESS)
#define	DEV	(1u << CT_TYPE_DEVICE)
#define	ANY	(PR | DEV)
#define	F(f)	offsetof(ct_template_t, f)

/* Every key but "type" (docs/api.md, "The 1.0.3 surface"), in the order they are documented. */
static const term_t terms[] = {
	/* key, types, given, parse, field, reset */
	{ "critical", ANY, CT_T_CRITICAL, parse_events, F(critical), NULL },
	{ "informative", ANY, CT_T_INFO, parse_events, F(informative), NULL },
	{ "cookie", ANY, CT_T_COOKIE, parse_cookie, F(cookie), NULL },
	{ "fatal", PR, CT_T_FATAL, parse_events, F(fatal), NULL },
	{ "param", PR, CT_T_PARAM, parse_params, F(params), NULL },
	{ "transfer", PR, CT_T_TRANSFER, parse_transfer, F(transfer), NULL },
	{ "svc_fmri", PR, CT_T_SVC_FMRI, parse_string, F(svc_fmri), "inherit:"},
	{ "svc_aux", PR, CT_T_SVC_AUX, parse_string, F(svc_aux), "" },
	{ "dev_minor", DEV, CT_T_DEV_MINOR, parse_string, F(dev_minor), NULL },
	{ "dev_aset", DEV, CT_T_DEV_ASET, parse_aset, F(dev_aset), NULL },
	{ "dev_noneg", DEV, CT_T_DEV_NONEG, parse_bool, F(dev_noneg), NULL },
};

static const term_t *
term_find(const char *key, ct_type_t type)
{
	for (size_t i = 0; i < sizeof (terms) / sizeof (terms[0]); i++) {
		if ((terms[i].types & (1u << type)) != 0 &&
		    strcmp(terms[i].key, key) == 0)
			return (&terms[i]);
	}
	return (NULL);
}

/* A key no term of type has; say so when the other type has it. */
static int
unknown_key(ct_perr_t *err, const char *key, ct_type_t type)
{
	ct_type_t other = type == CT_TYPE_PROCESS ? CT_TYPE_DEVICE :
	    CT_TYPE_PROCESS;
	const char *tname = ct_names_name(ct_names_types, type);

	if (term_find(key, other) != NULL) {
		return (bad_value(err, "Unknown key '%s' in a %s template (it "
		    "is a %s term)", key, tname,
		    ct_names_name(ct_names_types, other)));
	}
	return (bad_value(err, "Unknown key '%.*s%s' in a %s template",
	    SHOWZ(key), tname));
}

/* ------------------------------------------------------------------ */
/* Templates */

void
ct_perr_fini(ct_perr_t *e)
{
	free(e->message);
	e->message = NULL;
}

void
ct_template_init(ct_template_t *t, ct_type_t type)
{
	memset(t, 0, sizeof (*t));
	t->type = type;
	if (type == CT_TYPE_DEVICE) {
		t->critical = NC_DEV_DEF_CRITICAL;
		t->informative = NC_DEV_DEF_INFO;
		t->dev_aset = NC_DEV_DEF_ASET;
	} else {
		t->critical = NC_PR_DEF_CRITICAL;
		t->informative = NC_PR_DEF_INFO;
		t->fatal = NC_PR_DEF_FATAL;
	}
}

/*
 * *err is always written (zeroed on success), so the caller may
 * ct_perr_fini it unconditionally.  On failure *t owns nothing.
 */
int
ct_template_parse(const ct_value_t *obj, ct_template_t *t, ct_perr_t *err)
{
	static const ct_value_t undefined = { .kind = CT_V_UNDEFINED };
	const ct_value_t *type = &undefined;
	uint32_t tv;
	int rc = 0;

	memset(err, 0, sizeof (*err));
	ct_template_init(t, CT_TYPE_PROCESS);
	if (obj == NULL)
		obj = &undefined;
	if (obj->kind != CT_V_OBJECT)
		return (bad_type(err, NULL, NULL, "object", obj));

	/* The type first: it decides which keys are valid. */
	for (size_t i = 0; i < obj->nkeys; i++) {
		if (strcmp(obj->keys[i], "type") == 0)
			type = &obj->vals[i];
	}
	if (type->kind != CT_V_STRING)
		return (bad_type(err, "type", NULL, "string", type));
	if (strlen(type->str) != type->len ||
	    ct_names_lookup(ct_names_types, type->str, &tv) != 0) {
		return (bad_value(err, "The \"template.type\" property must be "
		    "one of 'process', 'device'. Received '%.*s%s'",
		    SHOW(type->str, type->len)));
	}
	ct_template_init(t, (ct_type_t)tv);

	for (size_t i = 0; i < obj->nkeys && rc == 0; i++) {
		const char *key = obj->keys[i];
		const ct_value_t *v = &obj->vals[i];
		const term_t *term;

		/* As in JS options objects, undefined means "not given". */
		if (v->kind == CT_V_UNDEFINED || strcmp(key, "type") == 0)
			continue;
		if ((term = term_find(key, t->type)) == NULL)
			rc = unknown_key(err, key, t->type);
		else if ((rc = term->parse(term, v, t, err)) == 0)
			t->given |= term->given;
	}
	if (rc != 0)
		ct_template_fini(t);
	return (rc);
}

static int
copy_str(char **dstp, const char *src)
{
	if (src == NULL)
		return (0);
	return ((*dstp = dupstr(src, strlen(src))) != NULL ? 0 : ENOMEM);
}

/*
 * dst (not src) is overwritten, not finalised first.  On ENOMEM it is
 * left finalised, owning nothing.
 */
int
ct_template_copy(ct_template_t *dst, const ct_template_t *src)
{
	ct_template_t c = *src;

	c.svc_fmri = c.svc_aux = c.dev_minor = NULL;
	if (copy_str(&c.svc_fmri, src->svc_fmri) != 0 ||
	    copy_str(&c.svc_aux, src->svc_aux) != 0 ||
	    copy_str(&c.dev_minor, src->dev_minor) != 0) {
		ct_template_fini(&c);
		memset(dst, 0, sizeof (*dst));
		return (ENOMEM);
	}
	*dst = c;
	return (0);
}

/* Free what t owns and zero it; finalising again is harmless. */
void
ct_template_fini(ct_template_t *t)
{
	free(t->svc_fmri);
	free(t->svc_aux);
	free(t->dev_minor);
	memset(t, 0, sizeof (*t));
}

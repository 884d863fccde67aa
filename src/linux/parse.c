/*
 * parse.c -- the text the Linux backend reads and writes, parsed and
 * encoded without touching the system, so that test/c/test_parse.c can
 * run every case without a kernel: cgroup.events, pid lists, contract
 * directory names, /proc/<pid>/stat, flat keyed files, mountinfo escapes,
 * and our own records (terms and holder state).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lx.h"

int
lx_parse_events(const char *buf, int *populatedp, int *frozenp)
{
	*populatedp = -1;
	*frozenp = -1;
	for (const char *line = buf; *line != '\0'; ) {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (len >= 11 && strncmp(line, "populated ", 10) == 0)
			*populatedp = line[10] == '1';
		else if (len >= 8 && strncmp(line, "frozen ", 7) == 0)
			*frozenp = line[7] == '1';
		line += len + (nl != NULL);
	}
	return (*populatedp < 0 ? EINVAL : 0);
}

int
lx_parse_pids(const char *buf, pid_t **pidsp, size_t *np)
{
	size_t n = 0, cap = 0;
	pid_t *pids = NULL, *grown;
	const char *p;
	char *end;

	for (p = buf; ; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v <= 0 || v > INT32_MAX)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((grown = realloc(pids, cap * sizeof (*pids))) ==
			    NULL) {
				free(pids);
				return (ENOMEM);
			}
			pids = grown;
		}
		pids[n++] = (pid_t)v;
	}
	*pidsp = pids;
	*np = n;
	return (0);
}

bool
lx_parse_ctid(const char *name, ct_id_t *idp)
{
	uint64_t v = 0;

	if (name[0] < '1' || name[0] > '9')
		return (false);
	for (const char *p = name; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || (v = v * 10 + (uint64_t)(*p - '0'))
		    > INT32_MAX)
			return (false);
	}
	*idp = (ct_id_t)v;
	return (true);
}

int
lx_parse_stat_start(const char *buf, uint64_t *startp)
{
	unsigned long long start;
	const char *p;

	/* comm may hold anything, ")" too: parse after the last paren. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return (ESRCH);
	if (p[2] == 'Z' || p[2] == 'X')
		return (ESRCH);		/* a zombie has exited already */
	/* state is field 3; starttime is field 22. */
	if (sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
	    "%*s %*s %*s %*s %*s %*s %*s %llu", &start) != 1)
		return (ESRCH);
	*startp = start;
	return (0);
}

/* The state letter (field 3): R, S, D, Z, T... */
int
lx_parse_stat_state(const char *buf, char *statep)
{
	const char *p;

	/* comm may hold anything, ")" too: parse after the last paren. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return (ESRCH);
	*statep = p[2];
	return (0);
}

int
lx_parse_stat_ppid(const char *buf, pid_t *ppidp)
{
	const char *p;
	int ppid;

	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return (ESRCH);
	/* state is field 3; ppid is field 4. */
	if (sscanf(p + 2, "%*c %d", &ppid) != 1 || ppid < 0)
		return (ESRCH);
	*ppidp = (pid_t)ppid;
	return (0);
}

int
lx_parse_stat_times(const char *buf, uint64_t t[4])
{
	unsigned long long v[4];
	const char *p;

	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return (ESRCH);
	/* state is field 3; fields 4 .. 13, then utime .. cstime. */
	if (sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
	    "%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return (ESRCH);
	for (int i = 0; i < 4; i++)
		t[i] = v[i];
	return (0);
}

uint64_t
lx_parse_keyed(const char *buf, const char *key)
{
	size_t kl = strlen(key);

	for (const char *line = buf; *line != '\0'; ) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
			return (strtoull(line + kl + 1, NULL, 10));
		const char *nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return (0);
}

void
lx_parse_unescape(char *s)
{
	char *d = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* ---- terms ---- */

/* The string terms, by key, and where each lives in lx_terms_t. */
static const char *const str_keys[] = { "fmri", "aux", "creator", "minor",
    "devpath" };
#define	NSTR	(sizeof (str_keys) / sizeof (str_keys[0]))

static char **
str_slot(lx_terms_t *t, size_t i)
{
	char **slots[] = { &t->svc_fmri, &t->svc_aux, &t->creator,
	    &t->dev_minor, &t->dev_path };
	return (slots[i]);
}

/*
 * Room for the numbers (nine of at most 20 digits and a sign, and their
 * keys) and, per string, its key, its length in decimal and two marks.
 */
#define	TERMS_NUMS_MAX	256
#define	TERMS_STR_EXTRA	32

int
lx_terms_encode(const lx_terms_t *t, char **bufp, size_t *lenp)
{
	size_t cap = TERMS_NUMS_MAX + 1, len;
	char *buf;
	int n;

	/*
	 * Sized from the terms and written with snprintf: a stdio stream
	 * (open_memstream) cost more than the rest of a spawn's records.
	 */
	for (size_t i = 0; i < NSTR; i++) {
		const char *v = *str_slot((lx_terms_t *)t, i);
		if (v != NULL)
			cap += strlen(v) + TERMS_STR_EXTRA;
	}
	if ((buf = malloc(cap)) == NULL)
		return (ENOMEM);
	n = snprintf(buf, cap, "v1;type=%d;crit=%" PRIu32 ";info=%" PRIu32
	    ";fatal=%" PRIu32 ";params=%" PRIu32 ";cookie=%" PRIu64
	    ";svcctid=%" PRId32 ";regent=%" PRId32 ";aset=%" PRIu32 ";",
	    (int)t->type, t->critical, t->informative, t->fatal, t->params,
	    t->cookie, t->svc_ctid, t->regent, t->dev_aset);
	len = n < 0 ? cap : (size_t)n;
	for (size_t i = 0; i < NSTR && len < cap; i++) {
		const char *v = *str_slot((lx_terms_t *)t, i);
		if (v == NULL)
			continue;
		n = snprintf(buf + len, cap - len, "%s=%zu:%s;", str_keys[i],
		    strlen(v), v);
		len = n < 0 ? cap : len + (size_t)n;
	}
	if (len >= cap) {	/* cannot be: the room above is an upper bound */
		free(buf);
		return (EINVAL);
	}
	*bufp = buf;
	*lenp = len;
	return (0);
}

/* A numeric term by key; unknown keys are skipped (newer writers). */
static void
number_term(lx_terms_t *t, const char *key, size_t klen,
    unsigned long long n)
{
	static const struct { const char *key; size_t off; int bits; } tab[] = {
		{ "crit", offsetof(lx_terms_t, critical), 32 },
		{ "info", offsetof(lx_terms_t, informative), 32 },
		{ "fatal", offsetof(lx_terms_t, fatal), 32 },
		{ "params", offsetof(lx_terms_t, params), 32 },
		{ "cookie", offsetof(lx_terms_t, cookie), 64 },
		{ "svcctid", offsetof(lx_terms_t, svc_ctid), 32 },
		{ "regent", offsetof(lx_terms_t, regent), 32 },
		{ "aset", offsetof(lx_terms_t, dev_aset), 32 },
	};

	if (klen == 4 && memcmp(key, "type", 4) == 0) {
		t->type = n == 1 ? CT_TYPE_DEVICE : CT_TYPE_PROCESS;
		return;
	}
	for (size_t i = 0; i < sizeof (tab) / sizeof (tab[0]); i++) {
		if (strlen(tab[i].key) != klen ||
		    memcmp(tab[i].key, key, klen) != 0)
			continue;
		char *at = (char *)t + tab[i].off;
		if (tab[i].bits == 64) {
			uint64_t v = (uint64_t)n;
			memcpy(at, &v, sizeof (v));
		} else {
			uint32_t v = (uint32_t)n;
			memcpy(at, &v, sizeof (v));
		}
		return;
	}
}

/*
 * Decimal digits at p, never reading at or past end (a record need not be
 * NUL-terminated): *stopp at the first non-digit, or end.
 */
static unsigned long long
dec_bounded(const char *p, const char *end, const char **stopp)
{
	unsigned long long v = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++)
		v = v > ULLONG_MAX / 10 ? ULLONG_MAX : v * 10 + (unsigned)(*p - '0');
	*stopp = p;
	return (v);
}

/* A string term at v ("<len>:<bytes>;"): 0 and *nextp past it. */
static int
string_term(char **slot, const char *v, const char *end, const char **nextp)
{
	const char *colon;
	char *s;
	unsigned long long sl = dec_bounded(v, end, &colon);

	if (colon == v || colon >= end || *colon != ':' ||
	    sl >= (size_t)(end - colon - 1) || colon[1 + sl] != ';')
		return (EINVAL);
	if ((s = strndup(colon + 1, (size_t)sl)) == NULL)
		return (ENOMEM);
	free(*slot);
	*slot = s;
	*nextp = colon + 1 + sl + 1;
	return (0);
}

int
lx_terms_decode(const char *buf, size_t len, lx_terms_t *t)
{
	const char *p, *end = buf + len;
	int err = 0;

	memset(t, 0, sizeof (*t));
	if (len < 3 || memcmp(buf, "v1;", 3) != 0)
		return (EINVAL);
	for (p = buf + 3; err == 0 && p < end; ) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL)
			break;
		size_t klen = (size_t)(eq - p), i;
		for (i = 0; i < NSTR; i++) {
			if (strlen(str_keys[i]) == klen &&
			    memcmp(p, str_keys[i], klen) == 0)
				break;
		}
		if (i < NSTR) {
			err = string_term(str_slot(t, i), eq + 1, end, &p);
			continue;
		}
		const char *stop;
		unsigned long long n = dec_bounded(eq + 1, end, &stop);
		if (stop == eq + 1 || stop >= end || *stop != ';') {
			err = EINVAL;
			break;
		}
		number_term(t, p, klen, n);
		p = stop + 1;
	}
	if (err != 0)
		lx_terms_fini(t);
	return (err);
}

int
lx_terms_copy(lx_terms_t *dst, const lx_terms_t *src)
{
	*dst = *src;
	for (size_t i = 0; i < NSTR; i++)
		*str_slot(dst, i) = NULL;
	for (size_t i = 0; i < NSTR; i++) {
		const char *s = *str_slot((lx_terms_t *)src, i);
		if (s != NULL && (*str_slot(dst, i) = strdup(s)) == NULL) {
			lx_terms_fini(dst);
			return (ENOMEM);
		}
	}
	return (0);
}

void
lx_terms_fini(lx_terms_t *t)
{
	for (size_t i = 0; i < NSTR; i++) {
		free(*str_slot(t, i));
		*str_slot(t, i) = NULL;
	}
}

/* ---- holder state ---- */

int
lx_state_encode(const lx_hstate_t *s, char *buf, size_t size)
{
	int n;

	switch (s->state) {
	case LX_SPARE:
	case LX_OWNED:
		if (s->pidns != 0)
			n = snprintf(buf, size, "%s %d %" PRIu64 " %" PRIu64,
			    s->state == LX_SPARE ? "spare" : "owned",
			    (int)s->holder, s->start, s->pidns);
		else
			n = snprintf(buf, size, "%s %d %" PRIu64,
			    s->state == LX_SPARE ? "spare" : "owned",
			    (int)s->holder, s->start);
		break;
	case LX_INHERITED:
		n = snprintf(buf, size, "inherited %" PRId32, s->regent);
		break;
	case LX_ORPHAN:
		n = snprintf(buf, size, "orphan");
		break;
	default:
		n = snprintf(buf, size, "dead");
		break;
	}
	return (n < 0 || (size_t)n >= size ? -1 : n);
}

int
lx_state_decode(const char *buf, lx_hstate_t *s)
{
	int pid = 0, used = 0;
	unsigned long long start = 0, pidns = 0;
	long regent = 0;

	memset(s, 0, sizeof (*s));
	/* The pid namespace is optional: records made before it have none. */
	if (sscanf(buf, "owned %d %llu %llu%n", &pid, &start, &pidns,
	    &used) == 3 ||
	    sscanf(buf, "owned %d %llu%n", &pid, &start, &used) == 2)
		s->state = LX_OWNED;
	else if (sscanf(buf, "spare %d %llu %llu%n", &pid, &start, &pidns,
	    &used) == 3 ||
	    sscanf(buf, "spare %d %llu%n", &pid, &start, &used) == 2)
		s->state = LX_SPARE;
	else if (sscanf(buf, "inherited %ld%n", &regent, &used) == 1)
		s->state = LX_INHERITED;
	else if (strcmp(buf, "orphan") == 0)
		s->state = LX_ORPHAN, used = 6;
	else if (strcmp(buf, "dead") == 0)
		s->state = LX_DEAD, used = 4;
	else
		return (EINVAL);
	if (buf[used] != '\0' || pid < 0 || regent < 0 || regent > INT32_MAX)
		return (EINVAL);
	s->holder = (pid_t)pid;
	s->start = start;
	s->pidns = pidns;
	s->regent = (ct_id_t)regent;
	return (0);
}

int
lx_parse_u64s(const char *buf, uint64_t *v, size_t n)
{
	const char *p = buf;

	/* Exactly n decimals, one space between: what we write, nothing else. */
	for (size_t i = 0; i < n; i++) {
		uint64_t x = 0;
		const char *d;
		if (i > 0 && *p++ != ' ')
			return (EINVAL);
		for (d = p; *p >= '0' && *p <= '9'; p++) {
			if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
				return (EINVAL);
			x = x * 10 + (uint64_t)(*p - '0');
		}
		if (p == d || p - d > 20)
			return (EINVAL);
		v[i] = x;
	}
	return (*p == '\0' ? 0 : EINVAL);
}

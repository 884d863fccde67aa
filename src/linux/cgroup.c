/*
 * cgroup.c -- the files of a contract directory <root>/<id>, and our
 * metadata in its user.* extended attributes:
 *
 *   user.ct.terms    fixed terms, written once before the contract is used
 *   user.ct.state    "spare|owned <pid> <start>", "inherited <ctid>",
 *                    "orphan", "dead"
 *   user.ct.nevents  unacknowledged critical events (kept by the holder)
 *
 * Only the directory's owner (or root) may write user.* xattrs on
 * cgroupfs, so nobody can forge another user's contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lx.h"

#define	XA_TERMS	"user.ct.terms"
#define	XA_STATE	"user.ct.state"

int
lx_cg_open(ct_id_t id, int *fdp)
{
	const lx_root_t *r;
	char name[16];
	int err, fd;

	if ((err = lx_root_get(&r)) != 0)
		return (err);
	(void) snprintf(name, sizeof (name), "%" PRId32, id);
	fd = openat(r->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ? ESRCH : errno;
		return (ct_err_set(err, "open", "cannot open contract %" PRId32
		    " (%s/%s): %s", id, r->path, name, strerror(errno)));
	}
	*fdp = fd;
	return (0);
}

int
lx_cg_read(int dirfd, const char *file, char **bufp)
{
	size_t cap = 256, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int fd, err;

	if (buf == NULL)
		return (ENOMEM);
	if ((fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno;
		free(buf);
		return (err);
	}
	for (;;) {
		if (len + 1 >= cap) {
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				err = ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void) close(fd);
	buf[len] = '\0';
	*bufp = buf;
	return (0);
fail:
	(void) close(fd);
	free(buf);
	return (err);
}

int
lx_cg_events(int dirfd, int *populatedp, int *frozenp)
{
	char buf[256];	/* cgroup.events: a few short "key value" lines */
	ssize_t n;
	int fd, err;

	*populatedp = -1;
	*frozenp = -1;
	if ((fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC)) < 0)
		return (errno);
	do {
		n = read(fd, buf, sizeof (buf) - 1);
	} while (n < 0 && errno == EINTR);
	err = n < 0 ? errno : 0;
	(void) close(fd);
	if (err != 0)
		return (err);
	buf[n] = '\0';
	for (char *line = buf, *nl; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line) - 1;
		if (strncmp(line, "populated ", 10) == 0)
			*populatedp = line[10] == '1';
		else if (strncmp(line, "frozen ", 7) == 0)
			*frozenp = line[7] == '1';
	}
	return (*populatedp < 0 ? EINVAL : 0);
}

int
lx_cg_procs(int dirfd, pid_t **pidsp, size_t *np)
{
	char *buf, *p, *end;
	size_t n = 0, cap = 0;
	pid_t *pids = NULL, *np2;
	int err;

	if ((err = lx_cg_read(dirfd, "cgroup.procs", &buf)) != 0)
		return (err);
	for (p = buf; *p != '\0'; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((np2 = realloc(pids, cap * sizeof (*pids))) == NULL) {
				free(pids);
				free(buf);
				return (ENOMEM);
			}
			pids = np2;
		}
		pids[n++] = (pid_t)v;
	}
	free(buf);
	*pidsp = pids;
	*np = n;
	return (0);
}

int
lx_cg_write(int dirfd, const char *file, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	if ((fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC)) < 0)
		return (errno);
	do {
		n = write(fd, val, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	(void) close(fd);
	return (err);
}

/* ---- xattrs ---- */

static int
xa_get(int dirfd, const char *name, char **bufp, size_t *lenp)
{
	for (;;) {
		ssize_t sz = fgetxattr(dirfd, name, NULL, 0), got;
		char *buf;

		if (sz < 0)
			return (errno);
		if ((buf = malloc((size_t)sz + 1)) == NULL)
			return (ENOMEM);
		got = fgetxattr(dirfd, name, buf, (size_t)sz);
		if (got < 0 && errno == ERANGE) {	/* grew meanwhile */
			free(buf);
			continue;
		}
		if (got < 0) {
			int err = errno;
			free(buf);
			return (err);
		}
		buf[got] = '\0';
		*bufp = buf;
		if (lenp != NULL)
			*lenp = (size_t)got;
		return (0);
	}
}

static int
xa_set(int dirfd, const char *name, const char *val, size_t len)
{
	return (fsetxattr(dirfd, name, val, len, 0) == 0 ? 0 : errno);
}

int
lx_xattr_set_u64(int dirfd, const char *name, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof (buf), "%" PRIu64, v);

	return (xa_set(dirfd, name, buf, (size_t)n));
}

int
lx_xattr_get_u64(int dirfd, const char *name, uint64_t *vp)
{
	char *buf = NULL;
	int err;

	if ((err = xa_get(dirfd, name, &buf, NULL)) != 0)
		return (err);
	err = ct_parse_u64(buf, vp);
	free(buf);
	return (err);
}

/*
 * Terms are one xattr of "key=value;" items; strings are "key=<len>:<bytes>;"
 * so that they may hold any byte.
 */
static const char *const str_keys[] = { "fmri", "aux", "creator", "minor",
    "devpath" };

static char **
str_slot(lx_terms_t *t, size_t i)
{
	char **slots[] = { &t->svc_fmri, &t->svc_aux, &t->creator,
	    &t->dev_minor, &t->dev_path };
	return (slots[i]);
}

int
lx_terms_write(int dirfd, const lx_terms_t *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (f == NULL)
		return (ENOMEM);
	(void) fprintf(f, "v1;type=%d;crit=%" PRIu32 ";info=%" PRIu32
	    ";fatal=%" PRIu32 ";params=%" PRIu32 ";cookie=%" PRIu64
	    ";svcctid=%" PRId32 ";regent=%" PRId32 ";aset=%" PRIu32 ";",
	    (int)t->type, t->critical, t->informative, t->fatal, t->params,
	    t->cookie, t->svc_ctid, t->regent, t->dev_aset);
	for (size_t i = 0; i < sizeof (str_keys) / sizeof (str_keys[0]); i++) {
		const char *s = *str_slot((lx_terms_t *)t, i);
		if (s != NULL)
			(void) fprintf(f, "%s=%zu:%s;", str_keys[i],
			    strlen(s), s);
	}
	if (fclose(f) != 0) {
		free(buf);
		return (ENOMEM);
	}
	err = xa_set(dirfd, XA_TERMS, buf, len);
	free(buf);
	return (err);
}

int
lx_terms_read(int dirfd, lx_terms_t *t)
{
	char *buf = NULL, *p, *end;
	size_t len = 0;
	int err;

	memset(t, 0, sizeof (*t));
	if ((err = xa_get(dirfd, XA_TERMS, &buf, &len)) != 0)
		return (err == ENODATA ? EINVAL : err);
	if (strncmp(buf, "v1;", 3) != 0) {
		free(buf);
		return (EINVAL);
	}
	end = buf + len;
	for (p = buf + 3; p < end; ) {
		char *eq = memchr(p, '=', (size_t)(end - p));
		size_t klen;
		if (eq == NULL)
			break;
		klen = (size_t)(eq - p);
		char *v = eq + 1;
		bool isstr = false;
		for (size_t i = 0; i < sizeof (str_keys) / sizeof (str_keys[0]);
		    i++) {
			if (strlen(str_keys[i]) != klen ||
			    memcmp(p, str_keys[i], klen) != 0)
				continue;
			char *colon;
			unsigned long long sl = strtoull(v, &colon, 10);
			if (*colon != ':' || sl > (size_t)(end - colon - 1))
				goto bad;
			char *s = strndup(colon + 1, (size_t)sl);
			if (s == NULL) {
				err = ENOMEM;
				goto out;
			}
			free(*str_slot(t, i));
			*str_slot(t, i) = s;
			p = colon + 1 + sl + 1;
			isstr = true;
			break;
		}
		if (isstr)
			continue;
		unsigned long long n = strtoull(v, &p, 10);
		if (*p != ';')
			goto bad;
		p++;
#define	K(s)	(klen == sizeof (s) - 1 && memcmp(eq - klen, s, klen) == 0)
		if (K("type"))
			t->type = n == 1 ? CT_TYPE_DEVICE : CT_TYPE_PROCESS;
		else if (K("crit"))
			t->critical = (uint32_t)n;
		else if (K("info"))
			t->informative = (uint32_t)n;
		else if (K("fatal"))
			t->fatal = (uint32_t)n;
		else if (K("params"))
			t->params = (uint32_t)n;
		else if (K("cookie"))
			t->cookie = (uint64_t)n;
		else if (K("svcctid"))
			t->svc_ctid = (ct_id_t)n;
		else if (K("regent"))
			t->regent = (ct_id_t)n;
		else if (K("aset"))
			t->dev_aset = (uint32_t)n;
#undef K
	}
	free(buf);
	return (0);
bad:
	err = EINVAL;
out:
	free(buf);
	lx_terms_fini(t);
	return (err);
}

int
lx_terms_copy(lx_terms_t *dst, const lx_terms_t *src)
{
	*dst = *src;
	for (size_t i = 0; i < sizeof (str_keys) / sizeof (str_keys[0]); i++)
		*str_slot(dst, i) = NULL;
	for (size_t i = 0; i < sizeof (str_keys) / sizeof (str_keys[0]); i++) {
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
	for (size_t i = 0; i < sizeof (str_keys) / sizeof (str_keys[0]); i++) {
		free(*str_slot(t, i));
		*str_slot(t, i) = NULL;
	}
}

int
lx_state_write(int dirfd, const lx_hstate_t *s)
{
	char buf[64];
	int n;

	switch (s->state) {
	case LX_SPARE:
	case LX_OWNED:
		n = snprintf(buf, sizeof (buf), "%s %d %" PRIu64,
		    s->state == LX_SPARE ? "spare" : "owned", (int)s->holder,
		    s->start);
		break;
	case LX_INHERITED:
		n = snprintf(buf, sizeof (buf), "inherited %" PRId32,
		    s->regent);
		break;
	case LX_ORPHAN:
		n = snprintf(buf, sizeof (buf), "orphan");
		break;
	default:
		n = snprintf(buf, sizeof (buf), "dead");
		break;
	}
	return (xa_set(dirfd, XA_STATE, buf, (size_t)n));
}

int
lx_state_read(int dirfd, lx_hstate_t *s)
{
	char *buf = NULL;
	int err, pid = 0;
	unsigned long long start = 0;
	long regent = 0;

	memset(s, 0, sizeof (*s));
	if ((err = xa_get(dirfd, XA_STATE, &buf, NULL)) != 0)
		return (err == ENODATA ? EINVAL : err);
	if (sscanf(buf, "owned %d %llu", &pid, &start) == 2) {
		s->state = LX_OWNED;
	} else if (sscanf(buf, "spare %d %llu", &pid, &start) == 2) {
		s->state = LX_SPARE;
	} else if (sscanf(buf, "inherited %ld", &regent) == 1) {
		s->state = LX_INHERITED;
	} else if (strcmp(buf, "orphan") == 0) {
		s->state = LX_ORPHAN;
	} else if (strcmp(buf, "dead") == 0) {
		s->state = LX_DEAD;
	} else {
		err = EINVAL;
	}
	s->holder = (pid_t)pid;
	s->start = start;
	s->regent = (ct_id_t)regent;
	free(buf);
	return (err);
}

bool
lx_state_holder_gone(const lx_hstate_t *s)
{
	uint64_t start;

	if (s->state != LX_OWNED && s->state != LX_SPARE)
		return (false);
	return (lx_proc_start(s->holder, &start) != 0 || start != s->start);
}

void
lx_cg_bury(ct_id_t id, int dirfd)
{
	const lx_root_t *r;
	lx_hstate_t s = { .state = LX_DEAD };
	struct stat ours, named;
	char name[16];

	(void) lx_state_write(dirfd, &s);
	if (lx_root_get(&r) != 0 || fstat(dirfd, &ours) != 0)
		return;
	(void) snprintf(name, sizeof (name), "%" PRId32, id);
	/* Ours only: once ours is gone, the id may name a newer contract. */
	if (fstatat(r->fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	    named.st_ino == ours.st_ino && named.st_dev == ours.st_dev)
		(void) unlinkat(r->fd, name, AT_REMOVEDIR);
}

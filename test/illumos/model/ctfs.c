/*
 * ctfs.c -- the model's /system/contract, written from illumos's
 * usr/src/uts/common/fs/ctfs: which file opens with which flags (the
 * template, ctl, latest and the event endpoints check their flag word
 * exactly, so O_CLOEXEC is refused there; status files and directories
 * take it), who may open ctl (the holder, or a member of the regent of
 * an inherited contract) and events (the holder's or author's user, else
 * the contract_observer privilege), and what each descriptor then does.
 * Descriptors are real ones (eventfd) so that their numbers are unique;
 * the model keeps what they stand for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/ctfs.h>
#include <procfs.h>

#include "mint.h"

typedef enum {
	F_NONE, F_TMPL, F_CTL, F_STATUS, F_LISTENER, F_DIR, F_PROC
} fkind_t;

typedef struct mfd {
	fkind_t kind;
	bool cloexec;
	ctid_t id;		/* CTL, STATUS */
	mtmpl_t tmpl;		/* TMPL */
	mlistener_t l;		/* LISTENER */
	int dirtype;		/* DIR: 0, 1, or 2 for all */
	pid_t pid;		/* PROC: /proc/<pid>/<procfile> (proc.c) */
	int procfile;
} mfd_t;

static mfd_t *fds[MAX_FD];
static char **opened;		/* every path opened since the reset */
static size_t nopened;

/* A model directory stream: the ids, then NULL. */
typedef struct mdir {
	int fd;
	size_t next;
	struct dirent de;
} mdir_t;

static const char *const dirs[] = { "process", "device", "all" };

void
model_reset(void)
{
	for (int i = 0; i < MAX_FD; i++) {
		if (fds[i] != NULL) {
			(void) close(i);
			free(fds[i]);
			fds[i] = NULL;
		}
	}
	for (size_t i = 0; i < nopened; i++)
		free(opened[i]);
	free(opened);
	opened = NULL;
	nopened = 0;
	port_reset();
	k_reset();
}

bool
model_is_fd(int fd)
{
	return (fd >= 0 && fd < MAX_FD && fds[fd] != NULL);
}

static int
fd_new(fkind_t kind, bool cloexec)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0)
		return (-1);
	if (fd >= MAX_FD || (fds[fd] = calloc(1, sizeof (mfd_t))) == NULL)
		abort();
	fds[fd]->kind = kind;
	fds[fd]->cloexec = cloexec;
	return (fd);
}

static int
fail(int err)
{
	errno = err;
	return (-1);
}

static void
listen_on(int fd, mqueue_t *q)
{
	mlistener_t *l = &fds[fd]->l;

	l->q = q;
	l->pos = q->n;		/* a new listener starts at the tail */
	for (size_t i = 0; i < MAX_LISTENERS; i++) {
		if (q->listeners[i] == NULL) {
			q->listeners[i] = l;
			q->nlisteners++;
			return;
		}
	}
	abort();
}

/* The exact flag words ctfs wants (FOFFMAX aside). */
static bool
endpoint_flags(int flags)
{
	return ((flags & ~O_NONBLOCK) == O_RDONLY);
}

static int
open_type_file(int type, const char *file, int flags)
{
	int fd;

	if (strcmp(file, "template") == 0) {
		if (flags != O_RDWR || type == 2)
			return (fail(EINVAL));
		if ((fd = fd_new(F_TMPL, false)) < 0)
			return (-1);
		fds[fd]->tmpl.type = type;
		if (type == CTT_PROCESS) {
			fds[fd]->tmpl.critical = 0x21;	/* empty, hwerr */
			fds[fd]->tmpl.informative = 0x18; /* core, signal */
			fds[fd]->tmpl.fatal = 0x20;
		} else {
			fds[fd]->tmpl.critical = 0x4;
			fds[fd]->tmpl.informative = 0x2;
		}
		return (fd);
	}
	if (strcmp(file, "latest") == 0) {
		if (flags != O_RDONLY || type == 2)
			return (fail(EINVAL));
		/* The kernel keeps its reference to a destroyed latest. */
		if (m_latest[type] == 0)
			return (fail(ESRCH));
		if ((fd = fd_new(F_STATUS, false)) >= 0)
			fds[fd]->id = m_latest[type];
		return (fd);
	}
	if (strcmp(file, "pbundle") == 0 || strcmp(file, "bundle") == 0) {
		if (!endpoint_flags(flags) || type == 2)
			return (fail(EINVAL));
		if ((fd = fd_new(F_LISTENER, false)) >= 0)
			listen_on(fd, file[0] == 'p' ? &m_pbundle[type] :
			    &m_bundle[type]);
		return (fd);
	}
	return (fail(ENOENT));
}

static int
open_ct_file(mcontract_t *ct, const char *file, int flags)
{
	int fd;

	if (strcmp(file, "ctl") == 0) {
		if (flags != O_WRONLY)
			return (fail(EINVAL));
		/*
		 * ctfs_ctl.c:96-99 (ctfs_ctl_access, at open): the holder,
		 * or a member of the regent of a contract with no holder.
		 * An orphan's regent is NULL (contract.c:564), so an orphan
		 * and a contract another regent inherited are refused here,
		 * with EACCES, before contract_adopt could say EINVAL.
		 */
		if (ct->owner != MODEL_US && !(ct->owner == MODEL_NONE &&
		    ct->regent == MODEL_US))
			return (fail(EACCES));
		if ((fd = fd_new(F_CTL, false)) >= 0)
			fds[fd]->id = ct->id;
		return (fd);
	}
	if (strcmp(file, "status") == 0) {
		if ((flags & O_ACCMODE) != O_RDONLY)
			return (fail(EINVAL));
		if ((fd = fd_new(F_STATUS, (flags & O_CLOEXEC) != 0)) >= 0)
			fds[fd]->id = ct->id;
		return (fd);
	}
	if (strcmp(file, "events") == 0) {
		if (!endpoint_flags(flags))
			return (fail(EINVAL));
		/*
		 * ctfs_event.c:227, secpolicy_contract_observer
		 * (policy.c:2398-2402): contract_owned, else EPERM without
		 * contract_observer.
		 */
		if (!m_owned(ct) && !m_priv_observer)
			return (fail(EPERM));
		if ((fd = fd_new(F_LISTENER, false)) >= 0)
			listen_on(fd, &ct->q);
		return (fd);
	}
	return (fail(ENOENT));
}

/* CTFS_ROOT/dir[/id][/file] into its parts; false if not one. */
static bool
parse(const char *path, int *typep, ctid_t *idp, char *file, size_t fsz)
{
	const char *p = path + strlen(CTFS_ROOT "/");
	char *end;
	long id;

	if (strncmp(path, CTFS_ROOT "/", strlen(CTFS_ROOT "/")) != 0)
		return (false);
	*typep = -1;
	for (int t = 0; t < 3; t++) {
		size_t n = strlen(dirs[t]);
		if (strncmp(p, dirs[t], n) == 0 && (p[n] == '/' ||
		    p[n] == '\0')) {
			*typep = t;
			p += n;
			break;
		}
	}
	if (*typep < 0)
		return (false);
	*idp = 0;
	file[0] = '\0';
	if (*p == '\0')
		return (true);
	p++;
	if (*p >= '1' && *p <= '9') {
		id = strtol(p, &end, 10);
		*idp = (ctid_t)id;
		p = end;
		if (*p == '\0')
			return (true);
		p++;
	}
	(void) snprintf(file, fsz, "%s", p);
	return (true);
}

int
model_open(const char *path, int flags, ...)
{
	char file[32];
	int type, pfile;
	ctid_t id;
	pid_t pid;
	mcontract_t *ct;

	opened = realloc(opened, (nopened + 1) * sizeof (*opened));
	if (opened == NULL || (opened[nopened++] = strdup(path)) == NULL)
		abort();
	if (p_parse(path, &pid, &pfile)) {
		char probe[sizeof (psinfo_t) + sizeof (prusage_t)];
		size_t len;
		int fd, err;

		/* prvnops.c: both files are read-only; a reaped pid is gone. */
		if (pfile == 0)
			return (fail(ENOENT));
		if ((flags & O_ACCMODE) != O_RDONLY)
			return (fail(EACCES));
		if ((err = p_read(pid, pfile, probe, &len)) != 0)
			return (fail(err));
		if ((fd = fd_new(F_PROC, (flags & O_CLOEXEC) != 0)) >= 0) {
			fds[fd]->pid = pid;
			fds[fd]->procfile = pfile;
		}
		return (fd);
	}
	if (!parse(path, &type, &id, file, sizeof (file)))
		return (fail(ENOENT));
	if (id == 0 && file[0] == '\0') {
		if ((flags & O_ACCMODE) != O_RDONLY)
			return (fail(EISDIR));
		int fd = fd_new(F_DIR, (flags & O_CLOEXEC) != 0);
		if (fd >= 0)
			fds[fd]->dirtype = type;
		return (fd);
	}
	if (id == 0)
		return (open_type_file(type, file, flags));
	ct = m_ct(id);
	if (ct == NULL || !ct->exists || (type != 2 && ct->type != type))
		return (fail(ENOENT));
	return (open_ct_file(ct, file, flags));
}

int
model_close(int fd)
{
	mfd_t *f;

	if (!model_is_fd(fd))
		return (close(fd));
	f = fds[fd];
	if (f->kind == F_LISTENER) {
		mqueue_t *q = f->l.q;
		for (size_t i = 0; i < MAX_LISTENERS; i++) {
			if (q->listeners[i] == &f->l) {
				q->listeners[i] = NULL;
				q->nlisteners--;
			}
		}
		q_trim(q);
	}
	port_forget(fd);
	free(f);
	fds[fd] = NULL;
	return (close(fd));
}

/* A /proc file is made anew at every read, as pr_read_psinfo does. */
ssize_t
model_pread(int fd, void *buf, size_t n, off_t off)
{
	char data[sizeof (psinfo_t) + sizeof (prusage_t)];
	size_t len = 0;
	int err;

	if (!model_is_fd(fd))
		return (pread(fd, buf, n, off));
	if (fds[fd]->kind != F_PROC || off < 0)
		return (fail(EINVAL));
	if ((err = p_read(fds[fd]->pid, fds[fd]->procfile, data, &len)) != 0)
		return (fail(err));
	if ((size_t)off >= len)
		return (0);
	if (n > len - (size_t)off)
		n = len - (size_t)off;
	(void) memcpy(buf, data + off, n);
	return ((ssize_t)n);
}

int
model_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int arg;

	va_start(ap, cmd);
	arg = va_arg(ap, int);
	va_end(ap);
	if (!model_is_fd(fd))
		return (fcntl(fd, cmd, arg));
	if (cmd != F_SETFD)
		return (fail(EINVAL));
	fds[fd]->cloexec = (arg & FD_CLOEXEC) != 0;
	return (0);
}

int
model_stat(const char *path, struct stat *sb)
{
	char file[32];
	int type;
	ctid_t id;
	mcontract_t *ct;

	memset(sb, 0, sizeof (*sb));
	if (!parse(path, &type, &id, file, sizeof (file)) || file[0] != '\0')
		return (fail(ENOENT));
	if (id == 0)
		return (0);
	ct = m_ct(id);
	if (ct == NULL || !ct->exists || (type != 2 && ct->type != type))
		return (fail(ENOENT));
	sb->st_mode = S_IFDIR | 0555;
	return (0);
}

DIR *
model_fdopendir(int fd)
{
	mdir_t *d;

	if (!model_is_fd(fd) || fds[fd]->kind != F_DIR) {
		errno = ENOTDIR;
		return (NULL);
	}
	if ((d = calloc(1, sizeof (*d))) == NULL)
		return (NULL);
	d->fd = fd;
	d->next = 1;
	return ((DIR *)(void *)d);
}

struct dirent *
model_readdir(DIR *dp)
{
	mdir_t *d = (mdir_t *)(void *)dp;
	int type = fds[d->fd]->dirtype;

	while (d->next < MAX_CT) {
		mcontract_t *ct = m_cts[d->next++];
		if (ct != NULL && ct->exists && (type == 2 || ct->type == type)) {
			(void) snprintf(d->de.d_name, sizeof (d->de.d_name),
			    "%d", (int)ct->id);
			return (&d->de);
		}
	}
	return (NULL);
}

int
model_closedir(DIR *dp)
{
	mdir_t *d = (mdir_t *)(void *)dp;
	int err = model_close(d->fd);

	free(d);
	return (err);
}

/* ---- what libcontract.c asks of the descriptors ---- */

mtmpl_t *
model_fd_tmpl(int fd)
{
	if (!model_is_fd(fd) || fds[fd]->kind != F_TMPL) {
		errno = EBADF;
		return (NULL);
	}
	return (&fds[fd]->tmpl);
}

int
model_tmpl_activate(int fd)
{
	mtmpl_t *t = model_fd_tmpl(fd);

	if (t == NULL)
		return (errno);
	m_active[t->type] = *t;
	m_has_active[t->type] = true;
	return (0);
}

int
model_tmpl_clear(int fd)
{
	mtmpl_t *t = model_fd_tmpl(fd);

	if (t == NULL)
		return (errno);
	m_has_active[t->type] = false;
	return (0);
}

int
model_ctl(int fd, int op, ctevid_t evid)
{
	mcontract_t *ct;

	if (!model_is_fd(fd) || fds[fd]->kind != F_CTL)
		return (EBADF);
	if ((ct = m_ct(fds[fd]->id)) == NULL || !ct->exists)
		return (ESRCH);
	switch (op) {
	case MODEL_CTL_ABANDON:
		return (k_abandon(ct));
	case MODEL_CTL_ADOPT:
		return (k_adopt(ct));
	case MODEL_CTL_ACK:
	case MODEL_CTL_NACK:
		/*
		 * ctfs_ctl.c:198-204: no check beyond the one at open
		 * (ctfs_ctl.c:96-99); contract_ack acks for whoever opened
		 * ctl, a regent's member before adopting included.
		 */
		return (k_ack(ct, evid, op == MODEL_CTL_NACK));
	default:
		return (ESRCH);	/* no negotiation on process contracts */
	}
}

int
model_status(int fd, mstatus_t *st)
{
	mcontract_t *ct;

	if (!model_is_fd(fd) || fds[fd]->kind != F_STATUS)
		return (EINVAL);
	if ((ct = m_ct(fds[fd]->id)) == NULL)
		return (ENOENT);
	memset(st, 0, sizeof (*st));
	st->id = ct->id;
	st->type = ct->type;
	st->state = ct->state;
	st->holder = ct->owner == MODEL_US ? getpid() : ct->owner ==
	    MODEL_OTHER ? 1 : 0;
	st->nevents = ct->nevents;
	st->critical = ct->critical;
	st->informative = ct->informative;
	st->fatal = ct->fatal;
	st->params = ct->params;
	st->cookie = ct->cookie;
	st->nmembers = (uint_t)ct->nmembers;
	if (ct->nmembers > 0) {
		st->members = malloc(ct->nmembers * sizeof (pid_t));
		memcpy(st->members, ct->members, ct->nmembers * sizeof (pid_t));
	}
	return (0);
}

static mlistener_t *
listener(int fd)
{
	return (model_is_fd(fd) && fds[fd]->kind == F_LISTENER ?
	    &fds[fd]->l : NULL);
}

/*
 * A bundle reader (ctfs_event.c:464-465: the bundle alone checks
 * credentials at read) without contract_observer skips the events of
 * contracts it does not "own" (contract.c:1977, contract_owned): neither
 * held by us nor made or held by our uid.  So an orphan or an inherited
 * contract our uid made is seen, another user's is not (:1987-1988).
 * Checked when the event is read, not when it is published.
 */
static bool
hidden(const mlistener_t *l, const mevent_t *e)
{
	const mcontract_t *ct;

	if (m_priv_observer || (l->q != &m_bundle[0] && l->q != &m_bundle[1]))
		return (false);
	ct = m_ct(e->ctid);
	return (ct == NULL || !m_owned(ct));
}

/* The next entry l may read: not trimmed. */
static mevent_t *
next_event(mlistener_t *l)
{
	while (l->pos < l->q->n && (l->q->gone[l->pos] ||
	    hidden(l, l->q->ev[l->pos])))
		l->pos++;
	return (l->pos < l->q->n ? l->q->ev[l->pos] : NULL);
}

int
model_event_read(int fd, mevinfo_t *ev)
{
	mlistener_t *l = listener(fd);
	mevent_t *e;

	if (l == NULL)
		return (EBADF);
	if ((e = next_event(l)) == NULL)
		return (EAGAIN);
	l->pos++;
	ev->ctid = e->ctid;
	ev->evid = e->evid;
	ev->cttype = e->cttype;
	ev->type = e->type;
	ev->flags = e->flags;
	ev->pid = e->pid;
	ev->ppid = e->ppid;
	ev->exitstatus = e->exitstatus;
	ev->has_pid = e->has_pid;
	ev->has_ppid = e->has_ppid;
	ev->has_exit = e->has_exit;
	q_trim(l->q);
	return (0);
}

/* cte_reset_listener: back to the head of the queue. */
int
model_event_reset(int fd)
{
	mlistener_t *l = listener(fd);

	if (l == NULL)
		return (EBADF);
	l->pos = 0;
	l->was_reset = true;
	return (0);
}

int
model_event_reliable(int fd)
{
	mlistener_t *l = listener(fd);

	if (l == NULL)
		return (EBADF);
	l->reliable = true;
	return (0);
}

bool
model_readable(int fd)
{
	mlistener_t *l = listener(fd);

	return (l != NULL && next_event(l) != NULL);
}

bool
model_listener(int fd, bool *reliable, bool *reset)
{
	mlistener_t *l = listener(fd);

	if (l == NULL)
		return (false);
	*reliable = l->reliable;
	*reset = l->was_reset;
	return (true);
}

unsigned
model_opens(const char *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < nopened; i++)
		n += strstr(opened[i], s) != NULL;
	return (n);
}

unsigned
model_open_fds(void)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_FD; i++)
		n += fds[i] != NULL;
	return (n);
}

bool
model_all_cloexec(void)
{
	for (int i = 0; i < MAX_FD; i++) {
		if (fds[i] != NULL && !fds[i]->cloexec)
			return (false);
	}
	return (true);
}

int
model_port_fd(void)
{
	return (eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
}

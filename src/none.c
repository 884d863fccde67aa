/*
 * none.c -- the backend for an OS that has neither illumos contracts nor
 * Linux cgroup v2 (binding.gyp builds it everywhere else).
 *
 * The package still installs and loads there: require() succeeds,
 * `backend` is 'none', `features` says why nothing works (root null,
 * rootError set), and every call that needs contracts throws an Error
 * with code ENOTSUP and a message naming this OS.
 *
 * Plain C11 plus uname(): no feature-test macros needed, so it builds
 * with the flags binding.gyp gives it on any POSIX system.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "ct.h"

#ifndef ENOTSUP
#define	ENOTSUP	EOPNOTSUPP
#endif

#define	WHY_FMT	"process contracts need illumos or Linux (cgroup v2); " \
	"this is %s"

/* The OS name for messages ("Darwin", "FreeBSD" ...). */
static const char *
sysname(void)
{
	static _Thread_local struct utsname u;
	static _Thread_local int have;

	if (!have)
		have = uname(&u) == 0 && u.sysname[0] != '\0' ? 1 : -1;
	return (have == 1 ? u.sysname : "an OS without a backend");
}

/* ENOTSUP, with the message the binding throws; call names the entry. */
static int
nosup(const char *call)
{
	return (ct_err_set(ENOTSUP, call, WHY_FMT, sysname()));
}

/* ------------------------------------------------------------------ */
/* Backend: templates and creation */

int
ct_tmpl_active_set(const ct_template_t *t)
{
	(void) t;
	return (nosup("ct_tmpl_activate"));
}

int
ct_tmpl_active_clear(ct_type_t type)
{
	(void) type;
	return (nosup("ct_tmpl_clear"));
}

int
ct_latest_get(ct_type_t type, ct_id_t *idp)
{
	(void) type;
	*idp = 0;
	return (nosup("ct_latest"));
}

int
ct_tmpl_create_now(ct_type_t type, ct_id_t *idp)
{
	(void) type;
	*idp = 0;
	return (nosup("ct_tmpl_create"));
}

/* Nothing to probe: lib/template.js then never runs its fork probe. */
int
ct_spawn_mode_get(ct_spawn_mode_t *modep)
{
	*modep = CT_SPAWN_KERNEL;
	return (0);
}

int
ct_spawn_mode_set(ct_spawn_mode_t mode)
{
	(void) mode;
	return (nosup("ct_spawn_mode_set"));
}

uint64_t
ct_spawn_forks(void)
{
	return (0);
}

int
ct_spawn_prepare(ct_id_t *idp, char **procsp)
{
	*idp = 0;
	*procsp = NULL;
	return (nosup("ct_spawn_prepare"));
}

int
ct_spawn_commit(ct_id_t id, pid_t pid)
{
	(void) id, (void) pid;
	return (nosup("ct_spawn_commit"));
}

int
ct_spawn_abort(ct_id_t id)
{
	(void) id;
	return (nosup("ct_spawn_abort"));
}

int
ct_spawn_ready(bool spawning)
{
	(void) spawning;
	return (nosup("ct_spawn_ready"));
}

int
ct_spawn_first(pid_t child, int report, pid_t *firstp)
{
	(void) child, (void) report, (void) firstp;
	return (nosup("ct_spawn_first"));
}

int
ct_spawn_signal(pid_t child, int sig)
{
	(void) child, (void) sig;
	return (nosup("ct_spawn_signal"));
}

int
ct_spawn_release(pid_t child)
{
	(void) child;
	return (nosup("ct_spawn_release"));
}

/* ------------------------------------------------------------------ */
/* Backend: contracts (none can be opened, so no handle ever exists) */

struct ct_contract {
	ct_id_t ctid;
};

int
ct_contract_open(ct_id_t id, ct_open_t how, ct_contract_t **cp)
{
	(void) id, (void) how;
	*cp = NULL;
	return (nosup("open"));
}

void
ct_contract_close(ct_contract_t *c)
{
	free(c);
}

ct_id_t
ct_contract_id(const ct_contract_t *c)
{
	return (c != NULL ? c->ctid : 0);
}

ct_type_t
ct_contract_type(const ct_contract_t *c)
{
	(void) c;
	return (CT_TYPE_PROCESS);
}

bool
ct_contract_owned(const ct_contract_t *c)
{
	(void) c;
	return (false);
}

uint64_t
ct_contract_gen(const ct_contract_t *c)
{
	(void) c;
	return (0);
}

int
ct_contract_status(ct_contract_t *c, ct_cstatus_t *st)
{
	(void) c;
	(void) memset(st, 0, sizeof (*st));
	st->frozen = -1;
	return (nosup("ct_status_read"));
}

int
ct_contract_abandon(ct_contract_t *c)
{
	(void) c;
	return (nosup("ct_ctl_abandon"));
}

int
ct_contract_ack(ct_contract_t *c, ct_evid_t evid)
{
	(void) c, (void) evid;
	return (nosup("ct_ctl_ack"));
}

int
ct_contract_nack(ct_contract_t *c, ct_evid_t evid)
{
	(void) c, (void) evid;
	return (nosup("ct_ctl_nack"));
}

int
ct_contract_qack(ct_contract_t *c, ct_evid_t evid)
{
	(void) c, (void) evid;
	return (nosup("ct_ctl_qack"));
}

int
ct_contract_sigsend(ct_contract_t *c, int sig)
{
	(void) c, (void) sig;
	return (nosup("sigsend"));
}

int
ct_contract_freeze(ct_contract_t *c, bool freeze)
{
	(void) c, (void) freeze;
	return (nosup("ct_contract_freeze"));
}

int
ct_contract_usage(ct_contract_t *c, ct_usage_t *u)
{
	(void) c;
	(void) memset(u, 0, sizeof (*u));
	return (nosup("ct_contract_usage"));
}

int
ct_contract_members(ct_contract_t *c, ct_member_t **mp, size_t *np)
{
	(void) c;
	*mp = NULL;
	*np = 0;
	return (nosup("ct_contract_members"));
}

int
ct_contract_list(ct_type_t type, ct_id_t **idsp, size_t *np)
{
	(void) type;
	*idsp = NULL;
	*np = 0;
	return (nosup("opendir"));
}

/* ------------------------------------------------------------------ */
/* Backend: events (there are none; the binding never gets a fd to poll) */

int
ct_evq_fd(int *fdp)
{
	*fdp = -1;
	return (nosup("ct_evq_fd"));
}

int
ct_evq_dispatch(void)
{
	return (nosup("ct_evq_dispatch"));
}

/* ct.h: ENOENT means "no event queued", which is always the case here. */
int
ct_evq_next(ct_evrec_t *ev)
{
	(void) memset(ev, 0, sizeof (*ev));
	return (ENOENT);
}

/* ------------------------------------------------------------------ */
/* Backend: what this host delivers: nothing, and why */

int
ct_features_get(ct_features_t *f)
{
	const char *os = sysname();
	size_t len = sizeof (WHY_FMT) + strlen(os);

	(void) memset(f, 0, sizeof (*f));
	f->backend = "none";
	f->spawn = CT_SPAWN_KERNEL;
	f->root_errno = ENOTSUP;
	if ((f->root_error = malloc(len)) == NULL)
		return (ENOMEM);
	(void) snprintf(f->root_error, len, WHY_FMT, os);
	return (0);
}

int
ct_spawn_argv(const char *argv0, int dirfd, int report, int word,
    const char *file, char *const argv[], char ***avp)
{
	(void) argv0, (void) dirfd, (void) report, (void) word, (void) file;
	(void) argv;
	*avp = NULL;
	return (nosup("ct_spawn_argv"));
}

void
ct_spawn_argv_free(char **av)
{
	(void) av;
}

int
ct_spawn_dirfd(void)
{
	return (-1);
}

int
ct_spawn_wordfd(void)
{
	return (-1);
}

int
ct_trace_arm(bool on)
{
	return (on ? nosup("ct_trace_arm") : 0);
}

int
ct_contract_trace(ct_contract_t *c, ct_trace_t *t)
{
	(void) c;
	(void) memset(t, 0, sizeof (*t));
	return (nosup("ct_contract_trace"));
}

/* No pid namespace here: never on. */
int
ct_reap_start(bool *onp)
{
	*onp = false;
	return (0);
}

/* No anchors here: never a subreaper. */
int
ct_reap_subreaper(bool *onp)
{
	*onp = false;
	return (0);
}

int
ct_reap_guard(pid_t pid, bool on)
{
	(void) pid, (void) on;
	return (0);
}

int
ct_reap(void)
{
	return (0);
}

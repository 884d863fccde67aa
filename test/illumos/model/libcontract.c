/*
 * libcontract.c -- the model's libcontract: the calls of <libcontract.h>
 * the backend makes, with libcontract's return conventions (0 or an errno
 * value; getters of an event answer EINVAL for an event of another type
 * and ENOENT for a field it lacks), over the model's descriptors instead
 * of ioctl(2).  Written from illumos's usr/src/lib/libcontract.  Not
 * illumos.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libcontract.h>
#include <sys/contract/process.h>

#include "mint.h"

/* ---- failures on demand ---- */

static const char *fail_name;
static int fail_err;

void
model_fail_next(const char *name, int err)
{
	fail_name = name;
	fail_err = err;
}

/* The error the test asked name to fail with, once; else 0. */
static int
failing(const char *name)
{
	int err = fail_err;

	if (fail_name == NULL || strcmp(fail_name, name) != 0)
		return (0);
	fail_name = NULL;
	return (err);
}

/* ---- templates ---- */

#define	TMPL(fd, t)	mtmpl_t *t = model_fd_tmpl(fd); \
	if (t == NULL) return (errno); \
	if (failing(__func__) != 0) return (fail_err)

int ct_tmpl_activate(int fd) { return (model_tmpl_activate(fd)); }
int ct_tmpl_clear(int fd) { return (model_tmpl_clear(fd)); }

int
ct_tmpl_create(int fd, ctid_t *idp)
{
	(void) fd, (void) idp;
	return (EINVAL);	/* device contracts are not modelled */
}

int ct_tmpl_set_cookie(int fd, uint64_t v) { TMPL(fd, t); t->cookie = v;
	return (0); }
int ct_tmpl_get_critical(int fd, uint_t *v) { TMPL(fd, t);
	*v = t->critical; return (0); }
int ct_tmpl_get_informative(int fd, uint_t *v) { TMPL(fd, t);
	*v = t->informative; return (0); }
int ct_tmpl_set_informative(int fd, uint_t v) { TMPL(fd, t);
	t->informative = v; return (0); }

/* process.c:203, EXCESS: a critical set that needs contract_event. */
static bool
excess(const mtmpl_t *t, uint_t v)
{
	return ((v & ~(t->fatal | CT_PR_EV_EMPTY)) != 0 ||
	    ((v & ~CT_PR_EV_EMPTY) && (t->params & CT_PR_PGRPONLY)));
}

/*
 * contract.c:1567-1586: a pure reduction of the critical set is taken
 * as it is; anything else goes to the type, where beyond the safe set
 * it is EPERM without contract_event (process.c:316-326).
 */
int
ct_tmpl_set_critical(int fd, uint_t v)
{
	TMPL(fd, t);
	if (t->type == CTT_PROCESS && (v & ~CT_PR_ALLEVENT))
		return (EINVAL);
	if ((~t->critical & v) == 0) {
		t->critical = v;
		return (0);
	}
	if (t->type == CTT_PROCESS && excess(t, v) && !m_priv_event)
		return (EPERM);
	t->critical = v;
	return (0);
}

/*
 * process.c:328-341: for an unprivileged caller, critical events the new
 * fatal set no longer covers move to the informative set; the kernel's
 * "SAFE_EV | (...) ? 0 : fatal" parses as "(SAFE_EV | ...) ? 0 : fatal",
 * so every critical event moves, pr_empty too (the slip tmpl.c undoes).
 */
int
ct_pr_tmpl_set_fatal(int fd, uint_t v)
{
	TMPL(fd, t);
	if (v & ~CT_PR_ALLFATAL)
		return (EINVAL);
	t->fatal = v;
	if (excess(t, t->critical) && !m_priv_event) {
		uint_t allowed = (CT_PR_EV_EMPTY | (t->params &
		    CT_PR_PGRPONLY)) ? 0 : t->fatal;

		t->informative |= t->critical & ~allowed;
		t->critical &= allowed;
	}
	return (0);
}

/*
 * process.c:252-277 (CTPP_SUBSUME): 0, or a process contract that
 * exists (ESRCH), that we hold (EACCES) and that is empty (ENOTEMPTY).
 */
int
ct_pr_tmpl_set_transfer(int fd, ctid_t v)
{
	mcontract_t *ct = m_ct(v);

	TMPL(fd, t);
	if (v != 0 && (ct == NULL || !ct->exists || ct->type != CTT_PROCESS))
		return (ESRCH);
	if (v != 0 && ct->owner != MODEL_US)
		return (EACCES);
	if (v != 0 && ct->nmembers != 0)
		return (ENOTEMPTY);
	t->transfer = v;
	return (0);
}
/*
 * process.c:278-293: pgrponly set by an unprivileged caller moves every
 * critical event but pr_empty to the informative set.
 */
int
ct_pr_tmpl_set_param(int fd, uint_t v)
{
	TMPL(fd, t);
	if (v & ~CT_PR_ALLPARAM)
		return (EINVAL);
	t->params = v;
	if ((v & CT_PR_PGRPONLY) && excess(t, t->critical) && !m_priv_event) {
		t->informative |= t->critical & ~CT_PR_EV_EMPTY;
		t->critical &= CT_PR_EV_EMPTY;
	}
	return (0);
}
int ct_pr_tmpl_set_svc_fmri(int fd, const char *s) { TMPL(fd, t);
	(void) s; return (0); }
int ct_pr_tmpl_set_svc_aux(int fd, const char *s) { TMPL(fd, t);
	(void) s; return (0); }
int ct_dev_tmpl_set_minor(int fd, char *s) { (void) fd, (void) s;
	return (EINVAL); }
int ct_dev_tmpl_set_aset(int fd, uint_t v) { (void) fd, (void) v;
	return (EINVAL); }
int ct_dev_tmpl_set_noneg(int fd) { (void) fd; return (EINVAL); }
int ct_dev_tmpl_clear_noneg(int fd) { (void) fd; return (EINVAL); }

/* ---- control ---- */

int ct_ctl_adopt(int fd) { return (model_ctl(fd, MODEL_CTL_ADOPT, 0)); }
int ct_ctl_abandon(int fd) { return (model_ctl(fd, MODEL_CTL_ABANDON, 0)); }
int ct_ctl_ack(int fd, ctevid_t e) { return (model_ctl(fd, MODEL_CTL_ACK, e)); }
int ct_ctl_nack(int fd, ctevid_t e) { return (model_ctl(fd, MODEL_CTL_NACK,
	e)); }
int ct_ctl_qack(int fd, ctevid_t e) { return (model_ctl(fd, MODEL_CTL_QACK,
	e)); }

/* ---- status ---- */

int
ct_status_read(int fd, int detail, ct_stathdl_t *hp)
{
	mstatus_t *st = malloc(sizeof (*st));
	int err;

	(void) detail;
	if (st == NULL)
		return (ENOMEM);
	if ((err = model_status(fd, st)) != 0) {
		free(st);
		return (err);
	}
	*hp = st;
	return (0);
}

void
ct_status_free(ct_stathdl_t h)
{
	mstatus_t *st = h;

	free(st->members);
	free(st);
}

#define	ST(h)	((mstatus_t *)(h))
ctid_t ct_status_get_id(ct_stathdl_t h) { return (ST(h)->id); }
zoneid_t ct_status_get_zoneid(ct_stathdl_t h) { (void) h; return (0); }
id_t ct_status_get_holder(ct_stathdl_t h) { return (ST(h)->holder); }
ctstate_t ct_status_get_state(ct_stathdl_t h) { return (ST(h)->state); }
int ct_status_get_nevents(ct_stathdl_t h) { return (ST(h)->nevents); }
int ct_status_get_ntime(ct_stathdl_t h) { (void) h; return (-1); }
int ct_status_get_qtime(ct_stathdl_t h) { (void) h; return (-1); }
ctevid_t ct_status_get_nevid(ct_stathdl_t h) { return (ST(h)->nevid); }
uint_t ct_status_get_informative(ct_stathdl_t h)
	{ return (ST(h)->informative); }
uint_t ct_status_get_critical(ct_stathdl_t h) { return (ST(h)->critical); }
uint64_t ct_status_get_cookie(ct_stathdl_t h) { return (ST(h)->cookie); }

int ct_pr_status_get_param(ct_stathdl_t h, uint_t *v)
	{ *v = ST(h)->params; return (0); }
int ct_pr_status_get_fatal(ct_stathdl_t h, uint_t *v)
	{ *v = ST(h)->fatal; return (0); }

int
ct_pr_status_get_members(ct_stathdl_t h, pid_t **pp, uint_t *np)
{
	*pp = ST(h)->members;
	*np = ST(h)->nmembers;
	return (0);
}

int
ct_pr_status_get_contracts(ct_stathdl_t h, ctid_t **pp, uint_t *np)
{
	(void) h;
	*pp = NULL;
	*np = 0;
	return (0);
}

int ct_pr_status_get_svc_fmri(ct_stathdl_t h, char **s)
	{ (void) h; *s = NULL; return (ENOENT); }
int ct_pr_status_get_svc_aux(ct_stathdl_t h, char **s)
	{ (void) h; *s = NULL; return (ENOENT); }
int ct_pr_status_get_svc_ctid(ct_stathdl_t h, ctid_t *v)
	{ (void) h; *v = 0; return (ENOENT); }
int ct_pr_status_get_svc_creator(ct_stathdl_t h, char **s)
	{ (void) h; *s = NULL; return (ENOENT); }
int ct_dev_status_get_aset(ct_stathdl_t h, uint_t *v)
	{ (void) h, (void) v; return (EINVAL); }
int ct_dev_status_get_noneg(ct_stathdl_t h, uint_t *v)
	{ (void) h, (void) v; return (EINVAL); }
int ct_dev_status_get_dev_state(ct_stathdl_t h, uint_t *v)
	{ (void) h, (void) v; return (EINVAL); }
int ct_dev_status_get_minor(ct_stathdl_t h, char **s)
	{ (void) h, (void) s; return (EINVAL); }

/* ---- events ---- */

int
ct_event_read(int fd, ct_evthdl_t *hp)
{
	mevinfo_t *ev = malloc(sizeof (*ev));
	int err;

	if (ev == NULL)
		return (ENOMEM);
	if ((err = model_event_read(fd, ev)) != 0) {
		free(ev);
		return (err);
	}
	*hp = ev;
	return (0);
}

int ct_event_reset(int fd) { return (model_event_reset(fd)); }
/* contract.c:2679: reliable delivery needs contract_event. */
int
ct_event_reliable(int fd)
{
	if (!m_priv_event && model_is_fd(fd))
		return (EPERM);
	return (model_event_reliable(fd));
}
void ct_event_free(ct_evthdl_t h) { free(h); }

#define	EV(h)	((mevinfo_t *)(h))
uint_t ct_event_get_flags(ct_evthdl_t h) { return (EV(h)->flags); }
ctid_t ct_event_get_ctid(ct_evthdl_t h) { return (EV(h)->ctid); }
ctevid_t ct_event_get_evid(ct_evthdl_t h) { return (EV(h)->evid); }
uint_t ct_event_get_type(ct_evthdl_t h) { return (EV(h)->type); }
int ct_event_get_nevid(ct_evthdl_t h, ctevid_t *v)
	{ (void) h, (void) v; return (EINVAL); }
int ct_event_get_newct(ct_evthdl_t h, ctid_t *v)
	{ (void) h, (void) v; return (EINVAL); }

/* libcontract's process event getters: which event types carry what. */
static int
pr_field(ct_evthdl_t h, uint_t type, bool have)
{
	if (EV(h)->cttype != CTT_PROCESS)
		return (EINVAL);
	if (type != 0 && EV(h)->type != type)
		return (EINVAL);
	return (have ? 0 : ENOENT);
}

int
ct_pr_event_get_pid(ct_evthdl_t h, pid_t *v)
{
	int err = pr_field(h, 0, EV(h)->has_pid);

	if (err == 0)
		*v = EV(h)->pid;
	return (err);
}

int
ct_pr_event_get_ppid(ct_evthdl_t h, pid_t *v)
{
	int err = pr_field(h, CT_PR_EV_FORK, EV(h)->has_ppid);

	if (err == 0)
		*v = EV(h)->ppid;
	return (err);
}

int
ct_pr_event_get_exitstatus(ct_evthdl_t h, int *v)
{
	int err = pr_field(h, CT_PR_EV_EXIT, EV(h)->has_exit);

	if (err == 0)
		*v = EV(h)->exitstatus;
	return (err);
}

int ct_pr_event_get_signal(ct_evthdl_t h, int *v)
	{ (void) v; return (pr_field(h, CT_PR_EV_SIGNAL, false)); }
int ct_pr_event_get_sender(ct_evthdl_t h, pid_t *v)
	{ (void) v; return (pr_field(h, CT_PR_EV_SIGNAL, false)); }
int ct_pr_event_get_senderct(ct_evthdl_t h, ctid_t *v)
	{ (void) v; return (pr_field(h, CT_PR_EV_SIGNAL, false)); }
int ct_pr_event_get_pcorefile(ct_evthdl_t h, const char **v)
	{ (void) v; return (pr_field(h, CT_PR_EV_CORE, false)); }
int ct_pr_event_get_gcorefile(ct_evthdl_t h, const char **v)
	{ (void) v; return (pr_field(h, CT_PR_EV_CORE, false)); }
int ct_pr_event_get_zcorefile(ct_evthdl_t h, const char **v)
	{ (void) v; return (pr_field(h, CT_PR_EV_CORE, false)); }

/* ---- template getters (libcontract's ct_tmpl_get_cookie, ...) ---- */

int ct_tmpl_get_cookie(int fd, uint64_t *v) { TMPL(fd, t);
	*v = t->cookie; return (0); }
int ct_pr_tmpl_get_fatal(int fd, uint_t *v) { TMPL(fd, t);
	*v = t->fatal; return (0); }
int ct_pr_tmpl_get_param(int fd, uint_t *v) { TMPL(fd, t);
	*v = t->params; return (0); }

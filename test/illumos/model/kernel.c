/*
 * kernel.c -- the model's contracts and event queues, written from
 * illumos's usr/src/uts/common/os/contract.c and contract/process.c (see
 * model.h).  Kept: who gets which event (the contract's queue, the type's
 * bundle, the holder's pbundle; informative events only while a queue has
 * listeners), acknowledgement, orphaning and destruction, the trimming of
 * read informative and acknowledged events, abandon trimming the
 * contract's events from the pbundle, adopt copying them to it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/contract/process.h>

#include "mint.h"

mcontract_t *m_cts[MAX_CT];
mqueue_t m_bundle[2], m_pbundle[2];
mtmpl_t m_active[2];
bool m_has_active[2];
ctid_t m_latest[2];
static ctid_t next_id;
static ctevid_t next_evid[2];
static unsigned max_live;
static int swap_state;		/* model_swap_evids: 1 armed, 2 one owed */
static ctevid_t swap_owed;
/* model_real: members that are real processes (signals go to them). */
#define	MAX_REAL	64
static pid_t real_pids[MAX_REAL];
static unsigned nreal;
mstats_t m_stats;
bool m_priv_event = true, m_priv_observer = true;
static bool def_event = true, def_observer = true;
uint_t m_self_params;

mcontract_t *
m_ct(ctid_t id)
{
	return (id > 0 && id < MAX_CT ? m_cts[id] : NULL);
}

/*
 * contract_owned (contract.c:1060-1086), what a reader's credentials
 * allow without contract_observer: we hold it, or our uid is its
 * author's (ct_cuid, :1081-1082) or, while it has a holder, the holder's
 * (contract_checkcred, :1041-1043).  An orphan or inherited contract has
 * no holder: its author's uid alone decides.
 */
bool
m_owned(const mcontract_t *ct)
{
	return (ct->owner == MODEL_US || ct->author_ours ||
	    (ct->owner != MODEL_NONE && ct->holder_ours));
}

static void
q_free(mqueue_t *q)
{
	free(q->ev);
	free(q->gone);
	memset(q, 0, sizeof (*q));
}

void
k_reset(void)
{
	for (int i = 0; i < MAX_CT; i++) {
		if (m_cts[i] != NULL) {
			q_free(&m_cts[i]->q);
			free(m_cts[i]->members);
			free(m_cts[i]);
			m_cts[i] = NULL;
		}
	}
	for (int t = 0; t < 2; t++) {
		q_free(&m_bundle[t]);
		q_free(&m_pbundle[t]);
		m_has_active[t] = false;
		m_latest[t] = 0;
		next_evid[t] = 0;
	}
	for (size_t i = 0; i < m_stats.nevents; i++)
		free(m_stats.events[i]);
	free(m_stats.events);
	memset(&m_stats, 0, sizeof (m_stats));
	next_id = 0;
	max_live = 0;
	p_reset();
	swap_state = 0;
	nreal = 0;
	m_priv_event = def_event;
	m_priv_observer = def_observer;
	m_self_params = 0;
}

void
model_self_params(uint_t params)
{
	m_self_params = params;
}

void
model_privileges(bool event, bool observer)
{
	m_priv_event = event;
	m_priv_observer = observer;
}

void
model_default_privileges(bool event, bool observer)
{
	def_event = m_priv_event = event;
	def_observer = m_priv_observer = observer;
}

void
model_swap_evids(void)
{
	swap_state = 1;
}

/* The next event id of type: in order, or swapped (model_swap_evids). */
static ctevid_t
evid_take(int type)
{
	if (swap_state == 1) {
		swap_state = 2;
		swap_owed = ++next_evid[type];
		return (++next_evid[type]);
	}
	if (swap_state == 2) {
		swap_state = 0;
		return (swap_owed);
	}
	return (++next_evid[type]);
}

/*
 * cte_trim: informative and acknowledged events before the first one a
 * listener still has to read go; unacknowledged critical ones stay (a
 * rewound listener reads them again).
 */
void
q_trim(mqueue_t *q)
{
	size_t min = q->n;

	for (size_t i = 0; i < MAX_LISTENERS; i++) {
		if (q->listeners[i] != NULL && q->listeners[i]->pos < min)
			min = q->listeners[i]->pos;
	}
	for (size_t i = 0; i < min; i++) {
		if (!q->gone[i] && (q->ev[i]->flags & (CTE_INFO | CTE_ACK)))
			q->gone[i] = true;
	}
}

/* cte_publish: informative events only where someone listens. */
static void
q_publish(mqueue_t *q, mevent_t *e)
{
	if (q->nlisteners == 0 && (e->flags & (CTE_INFO | CTE_ACK)))
		return;
	if (q->n == q->cap) {
		q->cap = q->cap == 0 ? 16 : q->cap * 2;
		q->ev = realloc(q->ev, q->cap * sizeof (*q->ev));
		q->gone = realloc(q->gone, q->cap * sizeof (*q->gone));
		if (q->ev == NULL || q->gone == NULL)
			abort();
	}
	q->ev[q->n] = e;
	q->gone[q->n++] = false;
	q_trim(q);
}

/* Every event of ct in q goes (abandon from the pbundle, destroy). */
static void
q_trim_ct(mqueue_t *q, const mcontract_t *ct)
{
	for (size_t i = 0; i < q->n; i++) {
		if (q->ev[i]->ctid == ct->id)
			q->gone[i] = true;
	}
}

static mevent_t *
ev_new(mcontract_t *ct, uint_t type)
{
	mevent_t *e = calloc(1, sizeof (*e));

	if (e == NULL)
		abort();
	m_stats.events = realloc(m_stats.events,
	    (m_stats.nevents + 1) * sizeof (*m_stats.events));
	m_stats.events[m_stats.nevents++] = e;
	e->ctid = ct->id;
	e->cttype = ct->type;
	e->type = type;
	e->evid = evid_take(ct->type);
	if ((ct->critical & type) == 0 && type != CT_EV_NEGEND)
		e->flags |= CTE_INFO;
	return (e);
}

/* cte_publish_all: the contract's queue, the bundle, the holder's. */
void
k_publish(mcontract_t *ct, mevent_t *e)
{
	if ((e->flags & CTE_INFO) == 0) {
		if (ct->state >= CTS_ORPHAN)
			e->flags |= CTE_ACK;
		else
			ct->nevents++;
	}
	q_publish(&ct->q, e);
	q_publish(&m_bundle[ct->type], e);
	if (ct->owner == MODEL_US)
		q_publish(&m_pbundle[ct->type], e);
	port_kick_all();
}

/* EVSENDP: a process event goes out when either set has it. */
static mevent_t *
pr_event(mcontract_t *ct, uint_t type, pid_t pid)
{
	mevent_t *e;

	if (((ct->critical | ct->informative) & type) == 0)
		return (NULL);
	e = ev_new(ct, type);
	e->pid = pid;
	e->has_pid = true;
	return (e);
}

static mcontract_t *
ct_new(int type, int owner)
{
	mcontract_t *ct;
	unsigned live = model_live();

	if (max_live != 0 && live >= max_live)
		return (NULL);
	if ((ct = calloc(1, sizeof (*ct))) == NULL || next_id + 1 >= MAX_CT)
		abort();
	ct->id = ++next_id;
	ct->type = type;
	ct->owner = owner;
	ct->state = CTS_OWNED;
	ct->exists = true;
	ct->author_ours = ct->holder_ours = owner == MODEL_US;
	/* contract.c:314: ct_regent is the author's process contract. */
	ct->regent = ct->holder_in = owner;
	m_cts[ct->id] = ct;
	return (ct);
}

static void
add_member(mcontract_t *ct, pid_t pid)
{
	ct->members = realloc(ct->members,
	    (ct->nmembers + 1) * sizeof (pid_t));
	if (ct->members == NULL)
		abort();
	ct->members[ct->nmembers++] = pid;
}

/*
 * cte_trim of the type's bundle for a destroyed contract
 * (contract.c:2128-2162): its events go, read or not, up to the first
 * one a reliable listener is positioned at (a "stopper", :2139-2140),
 * past which nothing is freed.  So only ctwatch -r (contract_event) sees
 * the events of a contract destroyed before it read them.
 */
static void
q_trim_destroyed(mqueue_t *q, const mcontract_t *ct)
{
	size_t stop = q->n;

	for (size_t i = 0; i < MAX_LISTENERS; i++) {
		if (q->listeners[i] != NULL && q->listeners[i]->reliable &&
		    q->listeners[i]->pos < stop)
			stop = q->listeners[i]->pos;
	}
	for (size_t i = 0; i < stop; i++) {
		if (q->ev[i]->ctid == ct->id)
			q->gone[i] = true;
	}
}

/* contract_destroy: dead, its critical events acked, gone from ctfs. */
static void
destroy(mcontract_t *ct)
{
	for (size_t i = 0; i < ct->q.n; i++)
		ct->q.ev[i]->flags |= CTE_ACK;
	ct->nevents = 0;
	ct->state = CTS_DEAD;
	ct->exists = false;
	q_trim_destroyed(&m_bundle[ct->type], ct);
	q_trim_ct(&m_pbundle[ct->type], ct);
}

/*
 * contract_orphan: every unacknowledged critical event is acked.  Its
 * regent was cleared first (contract.c:564): nobody can open its ctl.
 */
static void
orphan(mcontract_t *ct)
{
	ct->regent = MODEL_NONE;
	ct->state = CTS_ORPHAN;
	for (size_t i = 0; i < ct->q.n; i++) {
		if ((ct->q.ev[i]->flags & (CTE_INFO | CTE_ACK)) == 0)
			ct->q.ev[i]->flags |= CTE_ACK;
	}
	ct->nevents = 0;
}

ctid_t
model_fork(pid_t pid)
{
	mcontract_t *ct, *sub;
	mevent_t *e;
	const mtmpl_t *t = &m_active[CTT_PROCESS];

	if (!m_has_active[CTT_PROCESS])
		return (0);
	if ((ct = ct_new(CTT_PROCESS, MODEL_US)) == NULL)
		return (-EAGAIN);
	ct->critical = t->critical;
	ct->informative = t->informative;
	ct->fatal = t->fatal;
	ct->params = t->params;
	ct->cookie = t->cookie;
	add_member(ct, pid);
	p_fork(getpid(), pid, ct->id);
	m_latest[CTT_PROCESS] = ct->id;
	/* contract_process_fork (process.c:1049): its first pr_fork. */
	if ((e = pr_event(ct, CT_PR_EV_FORK, pid)) != NULL) {
		e->ppid = getpid();
		e->has_ppid = true;
		k_publish(ct, e);
	}
	/* process.c:906: the template's transfer contract is abandoned. */
	if (t->transfer != 0 && (sub = m_ct(t->transfer)) != NULL &&
	    sub->exists && sub->owner == MODEL_US)
		(void) k_abandon(sub);
	return (ct->id);
}

static mcontract_t *
ct_of(pid_t pid, size_t *ip)
{
	for (int id = 1; id < MAX_CT; id++) {
		mcontract_t *ct = m_cts[id];
		for (size_t i = 0; ct != NULL && i < ct->nmembers; i++) {
			if (ct->members[i] == pid) {
				*ip = i;
				return (ct);
			}
		}
	}
	return (NULL);
}

int
model_member_fork(pid_t ppid, pid_t pid)
{
	size_t i;
	mcontract_t *ct = ct_of(ppid, &i);
	mevent_t *e;

	if (ct == NULL)
		return (ESRCH);
	add_member(ct, pid);
	p_fork(ppid, pid, ct->id);
	if ((e = pr_event(ct, CT_PR_EV_FORK, pid)) != NULL) {
		e->ppid = ppid;
		e->has_ppid = true;
		k_publish(ct, e);
	}
	return (0);
}

/* contract_process_exit: pr_exit, then pr_empty for the last member. */
int
model_exit(pid_t pid, int status)
{
	size_t i;
	mcontract_t *ct = ct_of(pid, &i);
	mevent_t *e;

	if (ct == NULL)
		return (ESRCH);
	ct->members[i] = ct->members[--ct->nmembers];
	/* exit.c: the zombie's usage is final before contract_exit. */
	p_exit(pid, status);
	if ((e = pr_event(ct, CT_PR_EV_EXIT, pid)) != NULL) {
		e->exitstatus = status;
		e->has_exit = true;
		k_publish(ct, e);
	}
	if (ct->nmembers != 0)
		return (0);
	if ((e = pr_event(ct, CT_PR_EV_EMPTY, pid)) != NULL)
		k_publish(ct, e);
	if (ct->state == CTS_ORPHAN)
		destroy(ct);
	return (0);
}

ctid_t
model_foreign(pid_t pid, uint_t critical, uint_t informative,
    bool may_observe)
{
	mcontract_t *ct = ct_new(CTT_PROCESS, MODEL_OTHER);

	if (ct == NULL)
		return (-EAGAIN);
	ct->critical = critical;
	ct->informative = informative;
	/* may_observe: made and held by a process of our own uid. */
	ct->author_ours = ct->holder_ours = may_observe;
	add_member(ct, pid);
	p_fork(1, pid, ct->id);
	return (ct->id);
}

ctid_t
model_foreign_same_user(pid_t pid, uint_t critical, uint_t informative,
    uint_t params)
{
	ctid_t id = model_foreign(pid, critical, informative, true);

	if (id > 0)
		m_cts[id]->params = params;
	return (id);
}

int
model_holder_in(ctid_t id, int where, uint_t params)
{
	mcontract_t *ct = m_ct(id);

	if (ct == NULL || !ct->exists || ct->owner != MODEL_OTHER ||
	    (where != MODEL_US && where != MODEL_OTHER))
		return (ESRCH);
	ct->holder_in = ct->regent = where;
	ct->holder_in_params = params;
	return (0);
}

int
model_holder_exit(ctid_t id)
{
	mcontract_t *ct = m_ct(id);
	uint_t parent;

	if (ct == NULL || !ct->exists || ct->owner != MODEL_OTHER)
		return (ESRCH);
	parent = ct->holder_in == MODEL_US ? m_self_params :
	    ct->holder_in_params;
	ct->owner = MODEL_NONE;
	/*
	 * contract.c:512-513: inherit (CTF_INHERIT, from CT_PR_INHERIT at
	 * process.c:838) and contract_process_accept of the holder's own
	 * contract (process.c:554); checked before the type's abandon, so
	 * noorphan kills nothing then (:553-555).  Its events stay unacked.
	 */
	if ((ct->params & CT_PR_INHERIT) && (parent & CT_PR_REGENT)) {
		ct->state = CTS_INHERITED;
		ct->regent = ct->holder_in;
		return (0);
	}
	/* contract.c:564, then contract_process_abandon (process.c:606-628). */
	ct->regent = MODEL_NONE;
	if (ct->nmembers == 0) {
		destroy(ct);
		return (0);
	}
	orphan(ct);
	if (ct->params & CT_PR_NOORPHAN) {
		while (ct->nmembers > 0)
			(void) model_exit(ct->members[0], SIGKILL);
	}
	return (0);
}

void
model_max_contracts(unsigned n)
{
	max_live = n;
}

/* contract_abandon + contract_process_abandon. */
int
k_abandon(mcontract_t *ct)
{
	if (ct->owner != MODEL_US)
		return (EINVAL);
	ct->owner = MODEL_NONE;
	ct->regent = MODEL_NONE;	/* explicit: never inherited, :564 */
	q_trim_ct(&m_pbundle[ct->type], ct);
	if (ct->type != CTT_PROCESS || ct->nmembers == 0) {
		destroy(ct);
		return (0);
	}
	orphan(ct);
	if (ct->params & CT_PR_NOORPHAN) {
		while (ct->nmembers > 0)
			(void) model_exit(ct->members[0], SIGKILL);
	}
	return (0);
}

/*
 * contract_adopt (contract.c:614-618): only an inherited contract, and
 * only by a member of the regent (here: our process contract); EINVAL
 * otherwise.  Through a ctl descriptor, which opens only for the holder
 * or the regent's members (ctfs_ctl.c:96-99), EINVAL is what a holder
 * adopting its own contract gets.  Its unacknowledged critical events,
 * and only those, are appended to our pbundle (contract.c:2079, "For
 * now, only copy critical events").
 */
int
k_adopt(mcontract_t *ct)
{
	if (ct->state != CTS_INHERITED || ct->regent != MODEL_US)
		return (EINVAL);
	ct->state = CTS_OWNED;
	ct->owner = MODEL_US;
	for (size_t i = 0; i < ct->q.n; i++) {
		if (!ct->q.gone[i] &&
		    (ct->q.ev[i]->flags & (CTE_INFO | CTE_ACK)) == 0)
			q_publish(&m_pbundle[ct->type], ct->q.ev[i]);
	}
	return (0);
}

/* contract_ack: critical, unacknowledged, of this contract; else ESRCH. */
int
k_ack(mcontract_t *ct, ctevid_t evid, bool nack)
{
	for (size_t i = 0; i < ct->q.n; i++) {
		mevent_t *e = ct->q.ev[i];
		if (e->evid != evid)
			continue;
		if ((e->flags & CTE_NEG) == 0 && nack)
			return (ESRCH);
		if ((e->flags & (CTE_INFO | CTE_ACK)) != 0)
			return (ESRCH);
		e->flags |= CTE_ACK;
		ct->nevents--;
		m_stats.acks++;
		return (0);
	}
	return (ESRCH);
}

int
model_real(pid_t pid)
{
	if (nreal == MAX_REAL)
		return (ENOSPC);
	real_pids[nreal++] = pid;
	return (0);
}

static bool
is_real(pid_t pid)
{
	for (unsigned i = 0; i < nreal; i++) {
		if (real_pids[i] == pid)
			return (true);
	}
	return (false);
}

/*
 * sigsend(P_CTID) (sig.c:1902-1911, procset.c:248): recorded; a real
 * member gets the signal with kill(2) (its exit is the test's to
 * report, model_exit); a modelled one dies of SIGKILL and ignores the
 * rest.
 */
int
sigsend(int idtype, id_t id, int sig)
{
	mcontract_t *ct = m_ct((ctid_t)id);
	size_t i = 0;

	if (idtype != P_CTID || sig < 0 || sig >= 74) {
		errno = EINVAL;
		return (-1);
	}
	if (ct == NULL || !ct->exists || ct->nmembers == 0) {
		errno = ESRCH;
		return (-1);
	}
	ct->last_signal = sig;
	while (i < ct->nmembers) {
		if (is_real(ct->members[i]))
			(void) kill(ct->members[i++], sig);
		else if (sig == SIGKILL)
			(void) model_exit(ct->members[i], SIGKILL);
		else
			i++;
	}
	return (0);
}

/* ---- inspection ---- */

int
model_state(ctid_t id)
{
	mcontract_t *ct = m_ct(id);

	return (ct == NULL ? -1 : (int)ct->state);
}

bool
model_exists(ctid_t id)
{
	mcontract_t *ct = m_ct(id);

	return (ct != NULL && ct->exists);
}

int
model_owner(ctid_t id)
{
	mcontract_t *ct = m_ct(id);

	return (ct == NULL ? -1 : ct->owner);
}

int
model_nevents(ctid_t id)
{
	mcontract_t *ct = m_ct(id);

	return (ct == NULL ? -1 : ct->nevents);
}

uint_t
model_critical(ctid_t id)
{
	mcontract_t *ct = m_ct(id);

	return (ct == NULL ? 0 : ct->critical);
}

uint_t
model_informative(ctid_t id)
{
	mcontract_t *ct = m_ct(id);

	return (ct == NULL ? 0 : ct->informative);
}

unsigned
model_live(void)
{
	unsigned n = 0;

	for (int id = 1; id < MAX_CT; id++)
		n += m_cts[id] != NULL && m_cts[id]->exists;
	return (n);
}

bool
model_acked(ctevid_t evid)
{
	for (size_t i = 0; i < m_stats.nevents; i++) {
		if (m_stats.events[i]->evid == evid &&
		    m_stats.events[i]->cttype == CTT_PROCESS)
			return ((m_stats.events[i]->flags & CTE_ACK) != 0);
	}
	return (false);
}

unsigned
model_acks_by_us(void)
{
	return (m_stats.acks);
}

int
model_last_signal(ctid_t id)
{
	mcontract_t *ct = m_ct(id);

	return (ct == NULL ? 0 : ct->last_signal);
}

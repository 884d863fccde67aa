/*
 * test_backend.c -- the illumos backend (src/illumos/) run against the
 * model of the kernel (test/illumos/model/, see test/illumos/README.md),
 * through ct.h as the binding and the tools use it.  Each test runs in a
 * child process of its own (the backend keeps process-wide state) and
 * scripts the model: forks, exits, contracts of other users.
 * Prints failures as file:line, then "N passed, N failed".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "tools.h"
#include "model.h"

#include "../c/check.h"

/* ---- helpers ---- */

/*
 * The run's privileges (main: --unprivileged): both contract_event and
 * contract_observer, as root has them, or neither, as an ordinary user.
 * Tests that need one mode set it with model_privileges; the others
 * assert what the kernel does in the mode of the run.
 */
static bool priv = true;

#define	MAXEV	64
static ct_evrec_t evs[MAXEV];
static size_t nevs;

/* Dispatch, and pop everything the layers above would get. */
static size_t
collect(void)
{
	ct_evrec_t ev;

	for (size_t i = 0; i < nevs; i++)
		ct_evrec_fini(&evs[i]);
	nevs = 0;
	(void) ct_evq_dispatch();
	while (ct_evq_pop(ct_evq_next, &ev) == 0) {
		if (nevs < MAXEV)
			evs[nevs++] = ev;
		else
			ct_evrec_fini(&ev);
	}
	return (nevs);
}

/* How many collected events of ctid have type; *ip: the first one. */
static size_t
count(ct_id_t ctid, uint32_t type, size_t *ip)
{
	size_t n = 0;

	for (size_t i = nevs; i-- > 0; ) {
		if (evs[i].ctid == ctid && evs[i].type == type) {
			n++;
			if (ip != NULL)
				*ip = i;
		}
	}
	return (n);
}

/* A process template with these sets (given explicitly), active. */
static void
activate(uint32_t critical, uint32_t informative, uint32_t params)
{
	ct_template_t t;

	ct_template_init(&t, CT_TYPE_PROCESS);
	t.given = CT_T_CRITICAL | CT_T_INFO | (params != 0 ? CT_T_PARAM : 0);
	t.critical = critical;
	t.informative = informative;
	t.params = params;
	CHECK(ct_tmpl_active_set(&t) == 0);
}

/*
 * A template whose critical set may go beyond pr_empty and the fatal set
 * (process.c:203-205, EXCESS).  Privileged, it is active.  Unprivileged,
 * the kernel refuses the critical term with EPERM (process.c:322-323)
 * and set_template() throws; the template an unprivileged user would set
 * instead is made active: the same events, those beyond pr_empty
 * informative.  Whether the critical set was granted.
 */
static bool
activate_critical(uint32_t critical, uint32_t informative, uint32_t params)
{
	ct_template_t t;
	uint32_t excess = critical & ~NC_PR_EV_EMPTY;

	if (priv || excess == 0) {
		activate(critical, informative, params);
		return (true);
	}
	ct_template_init(&t, CT_TYPE_PROCESS);
	t.given = CT_T_CRITICAL | CT_T_INFO | (params != 0 ? CT_T_PARAM : 0);
	t.critical = critical;
	t.informative = informative;
	t.params = params;
	CHECK(ct_tmpl_active_set(&t) == EPERM);
	CHECK(ct_err_syscall() != NULL &&
	    strcmp(ct_err_syscall(), "ct_tmpl_set_critical") == 0);
	CHECK(ct_err_message() != NULL &&
	    strstr(ct_err_message(), "contract_event") != NULL);
	ct_err_clear();
	activate(critical & NC_PR_EV_EMPTY, informative | excess, params);
	return (false);
}

/* What the JS layer's spawn does around a fork that succeeds. */
static ct_id_t
spawned(pid_t pid)
{
	ct_id_t id;

	CHECK(ct_spawn_ready(true) == 0);
	id = model_fork(pid);
	CHECK(id > 0);
	CHECK(ct_spawn_commit(0, pid) == 0);
	return (id);
}

static ct_contract_t *
open_ct(ct_id_t id, ct_open_t how)
{
	ct_contract_t *c = NULL;

	CHECK(ct_contract_open(id, how, &c) == 0);
	return (c);
}

/* ---- 1: the emptied record, whatever the sets ---- */

/* Terms without pr_empty: the core still says it emptied, and only so. */
static void
t_emptied_hidden(void)
{
	ct_cstatus_t st;
	size_t i = 0;

	bool crit = activate_critical(NC_PR_EV_EXIT, 0, 0);
	ct_id_t id = spawned(100);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK((model_informative(id) & NC_PR_EV_EMPTY) != 0);
	CHECK(ct_contract_status(c, &st) == 0);
	CHECK((st.informative & NC_PR_EV_EMPTY) == 0);	/* not the user's */
	ct_cstatus_fini(&st);
	CHECK(model_exit(100, 0) == 0);
	collect();
	CHECK(count(id, NC_EVX_EMPTIED, NULL) == 1);
	CHECK(count(id, NC_PR_EV_EMPTY, NULL) == 0);	/* hidden */
	CHECK(count(id, NC_PR_EV_EXIT, &i) == 1 &&
	    evs[i].flags == (crit ? 0 : NC_EVF_INFO));
	ct_contract_close(c);
}

/* The user's pr_empty: the notice first, then the event, once each. */
static void
t_emptied_before_pr_empty(void)
{
	size_t ie = 0, ip = 0;

	activate(NC_PR_EV_EMPTY, 0, 0);
	ct_id_t id = spawned(101);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK(model_exit(101, 0) == 0);
	collect();
	CHECK(count(id, NC_EVX_EMPTIED, &ie) == 1);
	CHECK(count(id, NC_PR_EV_EMPTY, &ip) == 1);
	CHECK(ie < ip && (evs[ip].flags & NC_EVF_INTERNAL) == 0);
	ct_contract_close(c);
}

/* The template set before spawn and cleared before latest() (1.0.3). */
static void
t_emptied_cleared_template(void)
{
	activate(0, NC_PR_EV_FORK, 0);
	ct_id_t id = spawned(102);
	CHECK(ct_tmpl_active_clear(CT_TYPE_PROCESS) == 0);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK(model_exit(102, 0) == 0);
	collect();
	CHECK(count(id, NC_EVX_EMPTIED, NULL) == 1);
	CHECK(count(id, NC_PR_EV_EMPTY, NULL) == 0);
	ct_contract_close(c);
}

/* ---- 3: owned empty contracts are abandoned ---- */

/* An exec that fails after the fork: its contract is not left behind. */
static void
t_abandon_spawn_failure(void)
{
	activate(NC_PR_EV_EMPTY, 0, 0);
	model_max_contracts(3);
	for (pid_t pid = 200; pid < 210; pid++) {
		CHECK(ct_spawn_ready(true) == 0);
		ct_id_t id = model_fork(pid);
		CHECK(id > 0);		/* -EAGAIN: they piled up */
		CHECK(model_exit(pid, 127 << 8) == 0);
		CHECK(ct_spawn_abort(0) == 0);
		CHECK(!model_exists(id));
	}
	collect();
	CHECK(nevs == 0);	/* nobody opened them: nothing to deliver */
}

/* A spawn that failed before any fork abandons nothing. */
static void
t_abandon_spawn_nofork(void)
{
	activate(NC_PR_EV_EMPTY, 0, 0);
	ct_id_t id = spawned(210);
	CHECK(ct_spawn_ready(true) == 0);
	CHECK(ct_spawn_abort(0) == 0);
	CHECK(model_owner(id) == MODEL_US && model_exists(id));
}

/* dispose of an empty owned contract abandons it: the kernel destroys it. */
static void
t_abandon_close_empty(void)
{
	activate(NC_PR_EV_EMPTY, 0, 0);
	ct_id_t id = spawned(220);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK(model_exit(220, 0) == 0);
	collect();
	CHECK(model_exists(id));
	ct_contract_close(c);
	CHECK(!model_exists(id));
}

/* ... and of a running one, once it empties; nothing is delivered. */
static void
t_abandon_close_running(void)
{
	bool crit = activate_critical(NC_PR_EV_EXIT, 0, 0); /* pr_empty ours */
	ct_id_t id = spawned(230);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	ct_contract_close(c);
	CHECK(model_owner(id) == MODEL_US);	/* members keep running */
	CHECK(model_exit(230, 0) == 0);
	collect();
	CHECK(!model_exists(id));
	CHECK(nevs == 0);
	CHECK(model_nevents(id) == 0);	/* its critical pr_exit was acked */
	CHECK(model_acks_by_us() == (crit ? 1u : 0u));
}

/* Opened again before it empties: the handle gets it, nothing is reaped. */
static void
t_abandon_reopened(void)
{
	activate(NC_PR_EV_EMPTY, 0, 0);
	ct_id_t id = spawned(240);
	ct_contract_close(open_ct(id, CT_OPEN_LATEST));
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK(model_exit(240, 0) == 0);
	collect();
	CHECK(count(id, NC_PR_EV_EMPTY, NULL) == 1);
	CHECK(model_exists(id) && model_owner(id) == MODEL_US);
	ct_contract_close(c);
	CHECK(!model_exists(id));
}

/* ---- 6: ownership is the contract's ---- */

static void
t_ownership_after_abandon(void)
{
	activate(NC_PR_EV_EMPTY, NC_PR_EV_FORK | NC_PR_EV_EXIT, 0);
	ct_id_t id = spawned(300);
	ct_contract_t *a = open_ct(id, CT_OPEN_LATEST);
	ct_contract_t *b = open_ct(id, CT_OPEN_LATEST);
	ct_contract_t *o = open_ct(id, CT_OPEN_OBSERVE);
	CHECK(model_member_fork(300, 301) == 0);
	collect();
	/* 300's own (process.c:1049) and 301's: once each, not twice. */
	CHECK(count(id, NC_PR_EV_FORK, NULL) == 2);
	CHECK(model_member_fork(300, 302) == 0);	/* unread at abandon */
	CHECK(ct_contract_abandon(a) == 0);
	CHECK(!ct_contract_owned(a) && !ct_contract_owned(b));
	CHECK(model_owner(id) == MODEL_NONE);
	CHECK(model_exit(301, 0) == 0);
	collect();
	CHECK(count(id, NC_PR_EV_FORK, NULL) == 1);	/* 302, not lost */
	CHECK(count(id, NC_PR_EV_EXIT, NULL) == 1);	/* after the abandon */
	ct_contract_close(a);
	ct_contract_close(b);
	ct_contract_close(o);
}

/* ---- 7: no stray acknowledgement of what an observer here sees ---- */

/*
 * A held contract seen only through an observer handle: its critical
 * events reach the observer unacknowledged, and nothing acks them.
 * Unprivileged, pr_empty is the one critical event there can be.
 */
static void
t_no_stray_ack_observed(void)
{
	size_t i = 0;

	bool crit = activate_critical(NC_PR_EV_EMPTY | NC_PR_EV_EXIT, 0, 0);
	ct_id_t id = spawned(400);
	CHECK(model_member_fork(400, 401) == 0);
	ct_contract_t *o = open_ct(id, CT_OPEN_OBSERVE);
	CHECK(model_exit(401, 0) == 0);
	collect();
	CHECK(count(id, NC_PR_EV_EXIT, &i) == 1);
	CHECK(evs[i].flags == (crit ? 0 : NC_EVF_INFO));
	CHECK(!model_acked(evs[i].evid) && model_nevents(id) == (crit ? 1 : 0));
	CHECK(model_exit(400, 0) == 0);
	collect();
	CHECK(count(id, NC_PR_EV_EMPTY, &i) == 1);
	CHECK(evs[i].flags == 0);			/* critical, not acked */
	CHECK(!model_acked(evs[i].evid) && model_nevents(id) == (crit ? 3 : 1));
	CHECK(model_acks_by_us() == 0);
	ct_contract_close(o);
}

/* With no handle here at all, a held contract's critical events are. */
static void
t_stray_ack_unopened(void)
{
	bool crit = activate_critical(NC_PR_EV_EMPTY | NC_PR_EV_EXIT, 0, 0);
	ct_id_t id = spawned(410);
	CHECK(model_exit(410, 0) == 0);
	collect();
	CHECK(nevs == 0 && model_nevents(id) == 0);
	CHECK(model_acks_by_us() == (crit ? 2u : 1u));	/* + pr_empty */
}

/* ---- 8: no replay of the pbundle ---- */

/*
 * An unacknowledged critical event is not delivered again to a handle
 * opened later (the pbundle is read once: a new pbundle descriptor would
 * start at its head).  Privileged with pr_exit; pr_empty in both modes.
 */
static void
t_no_replay(void)
{
	size_t i = 0;

	bool crit = activate_critical(NC_PR_EV_EMPTY | NC_PR_EV_EXIT, 0, 0);
	ct_id_t id = spawned(500);
	CHECK(model_member_fork(500, 501) == 0);
	CHECK(ct_tmpl_active_clear(CT_TYPE_PROCESS) == 0);
	ct_contract_t *a = open_ct(id, CT_OPEN_LATEST);
	CHECK(model_exit(501, 0) == 0);
	collect();
	CHECK(count(id, NC_PR_EV_EXIT, &i) == 1);	/* left unacked */
	CHECK(evs[i].flags == (crit ? 0 : NC_EVF_INFO));
	ct_contract_close(a);
	ct_contract_t *b = open_ct(id, CT_OPEN_LATEST);
	collect();
	CHECK(count(id, NC_PR_EV_EXIT, NULL) == 0);	/* not again */
	CHECK(model_exit(500, 0) == 0);
	collect();
	CHECK(count(id, NC_PR_EV_EXIT, NULL) == 1);
	CHECK(count(id, NC_PR_EV_EMPTY, &i) == 1 && evs[i].flags == 0);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);	/* unacked */
	collect();
	CHECK(nevs == 0);				/* not again */
	CHECK(model_nevents(id) == (crit ? 3 : 1));
	ct_contract_close(c);
	ct_contract_close(b);
}

/* ---- 10 and the descriptors ---- */

static void
t_descriptors(void)
{
	ct_id_t *ids = NULL;
	size_t n = 0;
	ct_features_t f;

	activate(NC_PR_EV_EMPTY, 0, 0);
	ct_id_t id = spawned(600);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	ct_contract_t *o = open_ct(id, CT_OPEN_OBSERVE);
	CHECK(ct_contract_list(CT_TYPE_PROCESS, &ids, &n) == 0);
	CHECK(n == 1 && ids[0] == id);
	free(ids);
	CHECK(model_all_cloexec());
	CHECK(ct_contract_freeze(c, true) == ENOTSUP);
	CHECK(ct_features_get(&f) == 0);
	CHECK(!f.freeze && !f.usage && f.spawn == CT_SPAWN_KERNEL);
	ct_features_fini(&f);
	ct_contract_close(o);
	ct_contract_close(c);
}

/* ---- 4, 5: what the tools need ---- */

/* ctstat: a contract we may not observe still has a readable status. */
static void
t_tools_status(void)
{
	ct_cstatus_t st;
	ct_contract_t *c;
	ct_id_t id = model_foreign(700, NC_PR_EV_EMPTY, 0, false);

	model_privileges(false, false);
	/* ctfs_event.c:227: secpolicy_contract_observer gives EPERM. */
	CHECK(ct_contract_open(id, CT_OPEN_OBSERVE, &c) == EPERM);
	ct_err_clear();
	CHECK(il_status_id(id, &st) == 0);
	CHECK(st.ctid == id && st.nmembers == 1 && st.members[0] == 700);
	ct_cstatus_fini(&st);
	CHECK(model_opens("/events") == 1);	/* the observe, not ctstat */
}

/*
 * ctwatch: a type's bundle, with -r and -f, sees contracts not ours.
 * Privileged: reliable, and another user's contract too.  Unprivileged:
 * -r refused (contract.c:2679), -f still rewinds (cte_reset_listener
 * asks for nothing), another user's contract left out (contract.c:1977).
 */
static void
t_tools_bundle(void)
{
	bool reliable = false, reset = false, found = false;
	ct_id_t id = model_foreign(710, NC_PR_EV_EMPTY | NC_PR_EV_FORK,
	    NC_PR_EV_EXIT, false);
	ct_id_t mine = model_foreign_same_user(720, NC_PR_EV_EMPTY |
	    NC_PR_EV_FORK, NC_PR_EV_EXIT, 0);

	CHECK(model_member_fork(710, 711) == 0);	/* before we listen */
	CHECK(model_member_fork(720, 721) == 0);
	CHECK(il_bundle_watch(CT_TYPE_PROCESS, true, true) == 0);
	CHECK(il_reliable_was_refused() == !priv);
	for (int fd = 0; fd < 4096 && !found; fd++)
		found = model_listener(fd, &reliable, &reset);
	CHECK(found && reliable == priv && reset);
	CHECK(model_exit(711, 0) == 0);
	CHECK(model_exit(710, 0) == 0);
	CHECK(model_exit(721, 0) == 0);
	CHECK(model_exit(720, 0) == 0);
	collect();
	CHECK(count(mine, NC_PR_EV_FORK, NULL) == 1);	/* rewound: -f */
	CHECK(count(mine, NC_PR_EV_EXIT, NULL) == 2);
	CHECK(count(mine, NC_PR_EV_EMPTY, NULL) == 1);
	CHECK(count(id, NC_PR_EV_FORK, NULL) == (priv ? 1u : 0u));
	CHECK(count(id, NC_PR_EV_EXIT, NULL) == (priv ? 2u : 0u));
	CHECK(count(id, NC_PR_EV_EMPTY, NULL) == (priv ? 1u : 0u));
	CHECK(model_opens("/bundle") == 1 && model_opens("/events") == 0);
}

/* A failed read of the informative set says so (finding 10). */
static void
t_fatal_read_label(void)
{
	ct_template_t t;

	ct_template_init(&t, CT_TYPE_PROCESS);
	t.given = CT_T_FATAL;
	t.fatal = NC_PR_EV_CORE;
	model_fail_next("ct_tmpl_get_informative", EIO);
	CHECK(ct_tmpl_active_set(&t) == EIO);
	CHECK(ct_err_syscall() != NULL &&
	    strcmp(ct_err_syscall(), "ct_tmpl_get_informative") == 0);
	ct_err_clear();
	CHECK(ct_tmpl_active_set(&t) == 0);	/* the next one works */
}

/* ---- adoption, transfer, regents, privileges, event order ---- */

/* Unprivileged terms: EPERM beyond the safe set; the slip undone. */
static void
t_unpriv_terms(void)
{
	ct_template_t t;

	model_privileges(false, false);
	ct_template_init(&t, CT_TYPE_PROCESS);
	t.given = CT_T_CRITICAL;
	t.critical = NC_PR_EV_EXIT;
	CHECK(ct_tmpl_active_set(&t) == EPERM);	/* process.c:322-323 */
	ct_err_clear();
	/* Default critical {empty, hwerr}, fatal {core}: hwerr moves. */
	ct_template_init(&t, CT_TYPE_PROCESS);
	t.given = CT_T_FATAL;
	t.fatal = NC_PR_EV_CORE;
	CHECK(ct_tmpl_active_set(&t) == 0);
	ct_id_t id = model_fork(800);
	CHECK(id > 0);
	CHECK(model_critical(id) == NC_PR_EV_EMPTY);	/* not {} */
	CHECK((model_informative(id) & NC_PR_EV_HWERR) != 0);
	/* pgrponly: every critical event but pr_empty moves (:288-293). */
	ct_template_init(&t, CT_TYPE_PROCESS);
	t.given = CT_T_PARAM;
	t.params = NC_PR_PGRPONLY;
	CHECK(ct_tmpl_active_set(&t) == 0);
	id = model_fork(801);
	CHECK(id > 0 && model_critical(id) == NC_PR_EV_EMPTY);
	CHECK((model_informative(id) & NC_PR_EV_HWERR) != 0);
	/* ... and a critical set beyond pr_empty is then refused. */
	t.given = CT_T_PARAM | CT_T_CRITICAL;
	t.critical = NC_PR_EV_EMPTY | NC_PR_EV_HWERR;
	CHECK(ct_tmpl_active_set(&t) == EPERM);
	ct_err_clear();
}

/*
 * ctwatch -r without contract_event: warned, the bundle still read.
 * Without contract_observer a bundle reader sees the contracts it "owns"
 * (contract.c:1977, contract_owned :1060-1086): ours, and those our uid
 * made, orphans and inherited ones included (ct_cuid, :1081-1082);
 * another user's orphan is skipped (:1987-1988), as is a contract another
 * user holds.  A contract destroyed before its events were read loses
 * them: no reliable listener stops the trim (contract.c:2128-2162).
 */
static void
t_bundle_unprivileged(void)
{
	model_privileges(false, false);
	activate(NC_PR_EV_EMPTY, NC_PR_EV_EXIT, 0);
	ct_id_t ours = spawned(810);
	ct_id_t other = model_foreign(820, NC_PR_EV_EMPTY, NC_PR_EV_EXIT,
	    false);
	ct_id_t orph = model_foreign_same_user(830, NC_PR_EV_EMPTY,
	    NC_PR_EV_EXIT, 0);
	ct_id_t inh = model_foreign_same_user(840, NC_PR_EV_EMPTY,
	    NC_PR_EV_EXIT, NC_PR_INHERIT);
	ct_id_t theirs = model_foreign(850, NC_PR_EV_EMPTY, NC_PR_EV_EXIT,
	    false);
	CHECK(model_member_fork(830, 831) == 0);
	CHECK(model_member_fork(850, 851) == 0);
	model_self_params(NC_PR_REGENT);
	CHECK(model_holder_in(inh, MODEL_US, 0) == 0);
	CHECK(model_holder_exit(orph) == 0);
	CHECK(model_holder_exit(inh) == 0);
	CHECK(model_holder_exit(theirs) == 0);
	CHECK(model_state(orph) == CTS_ORPHAN &&
	    model_state(inh) == CTS_INHERITED &&
	    model_state(theirs) == CTS_ORPHAN);
	CHECK(il_bundle_watch(CT_TYPE_PROCESS, true, false) == 0);
	CHECK(il_reliable_was_refused());
	CHECK(model_exit(810, 0) == 0);
	CHECK(model_exit(820, 0) == 0);
	CHECK(model_exit(831, 0) == 0);
	CHECK(model_exit(840, 0) == 0);
	CHECK(model_exit(851, 0) == 0);
	collect();
	CHECK(count(ours, NC_PR_EV_EXIT, NULL) == 1);
	CHECK(count(other, NC_PR_EV_EXIT, NULL) == 0);	/* contract.c:1977 */
	CHECK(count(orph, NC_PR_EV_EXIT, NULL) == 1);	/* our uid made it */
	CHECK(count(inh, NC_PR_EV_EXIT, NULL) == 1);	/* likewise */
	CHECK(count(theirs, NC_PR_EV_EXIT, NULL) == 0);	/* :1987-1988 */
	/* The orphan's last exit destroys it before we read: trimmed. */
	CHECK(model_exit(830, 0) == 0);
	CHECK(!model_exists(orph));
	collect();
	CHECK(count(orph, NC_PR_EV_EXIT, NULL) == 0);
}

/*
 * Privileged, -r is granted and every contract's events come, even those
 * of a contract destroyed before they were read: a reliable listener
 * stops the trim (contract.c:2139-2140).
 */
static void
t_bundle_privileged(void)
{
	ct_id_t other = model_foreign(840, NC_PR_EV_EMPTY, NC_PR_EV_EXIT,
	    false);
	ct_id_t theirs = model_foreign(850, NC_PR_EV_EMPTY, NC_PR_EV_EXIT,
	    false);

	model_privileges(true, true);	/* bundle_unprivileged: the other */
	CHECK(model_holder_exit(theirs) == 0);	/* orphan */
	CHECK(il_bundle_watch(CT_TYPE_PROCESS, true, false) == 0);
	CHECK(!il_reliable_was_refused());
	CHECK(model_exit(840, 0) == 0);
	CHECK(model_exit(850, 0) == 0);
	CHECK(!model_exists(theirs));		/* destroyed, not yet read */
	collect();
	CHECK(count(other, NC_PR_EV_EXIT, NULL) == 1);
	CHECK(count(theirs, NC_PR_EV_EXIT, NULL) == 1);
	CHECK(count(theirs, NC_PR_EV_EMPTY, NULL) == 1);
}

/*
 * Inherit, and the holder a member of our process contract, a regent:
 * adopt holds it, with only its unacknowledged critical events.
 */
static void
t_adopt_inherited(void)
{
	ct_id_t id = model_foreign_same_user(900, NC_PR_EV_EMPTY |
	    NC_PR_EV_EXIT, NC_PR_EV_FORK, NC_PR_INHERIT);

	model_self_params(NC_PR_REGENT);
	CHECK(model_holder_in(id, MODEL_US, 0) == 0);

	ct_contract_t *o = open_ct(id, CT_OPEN_OBSERVE);  /* a listener */
	CHECK(model_member_fork(900, 901) == 0);	/* informative */
	CHECK(model_exit(901, 0) == 0);			/* critical */
	collect();
	CHECK(count(id, NC_PR_EV_FORK, NULL) == 1 &&
	    count(id, NC_PR_EV_EXIT, NULL) == 1);
	ct_contract_close(o);
	CHECK(model_holder_exit(id) == 0);
	CHECK(model_state(id) == CTS_INHERITED && model_nevents(id) == 1);
	ct_contract_t *a = open_ct(id, CT_OPEN_ADOPT);
	CHECK(ct_contract_owned(a) && model_owner(id) == MODEL_US);
	collect();
	CHECK(count(id, NC_PR_EV_EXIT, NULL) == 1);	/* contract.c:2079 */
	CHECK(count(id, NC_PR_EV_FORK, NULL) == 0);	/* not copied */
	CHECK(nevs == 1 && ct_contract_ack(a, evs[0].evid) == 0);
	CHECK(model_nevents(id) == 0);
	CHECK(ct_contract_abandon(a) == 0);
	CHECK(model_state(id) == CTS_ORPHAN);
	ct_contract_close(a);
}

/*
 * The kernel adopts only inherited contracts of our regent: the ctl file
 * opens for nothing else (ctfs_ctl.c:96-99, EACCES), and contract_adopt
 * refuses a contract we hold already (contract.c:614-618, EINVAL).
 */
static void
t_adopt_refused(void)
{
	ct_contract_t *c = NULL;
	ct_id_t other = model_foreign_same_user(910, NC_PR_EV_EMPTY, 0,
	    NC_PR_INHERIT);
	ct_id_t orph = model_foreign_same_user(920, NC_PR_EV_EMPTY, 0, 0);
	ct_id_t held = model_foreign_same_user(930, NC_PR_EV_EMPTY, 0, 0);

	model_self_params(NC_PR_REGENT);
	/* The holder of other is a member of another regent contract. */
	CHECK(model_holder_in(other, MODEL_OTHER, NC_PR_REGENT) == 0);
	CHECK(model_holder_exit(other) == 0);
	CHECK(model_state(other) == CTS_INHERITED);
	CHECK(ct_contract_open(other, CT_OPEN_ADOPT, &c) == EACCES);
	CHECK(ct_err_syscall() != NULL &&
	    strcmp(ct_err_syscall(), "open") == 0);
	ct_err_clear();
	CHECK(model_holder_in(orph, MODEL_US, 0) == 0);
	CHECK(model_holder_exit(orph) == 0);	/* no inherit */
	CHECK(model_state(orph) == CTS_ORPHAN);
	CHECK(ct_contract_open(orph, CT_OPEN_ADOPT, &c) == EACCES);
	ct_err_clear();
	CHECK(ct_contract_open(held, CT_OPEN_ADOPT, &c) == EACCES);
	ct_err_clear();
	CHECK(model_open_fds() == 0);	/* refused at ctl: nothing left */

	/* Ours already: ctl opens, contract_adopt says EINVAL. */
	activate(NC_PR_EV_EMPTY, 0, 0);
	ct_id_t ours = spawned(931);
	ct_contract_t *h = open_ct(ours, CT_OPEN_LATEST);
	CHECK(ct_contract_open(ours, CT_OPEN_ADOPT, &c) == EINVAL);
	CHECK(ct_err_syscall() != NULL &&
	    strcmp(ct_err_syscall(), "ct_ctl_adopt") == 0);
	ct_err_clear();
	CHECK(ct_contract_owned(h) && model_owner(ours) == MODEL_US);
	CHECK(model_exit(931, 0) == 0);
	collect();
	ct_contract_close(h);
	CHECK(!model_exists(ours));
}

/*
 * noorphan: the holder's exit kills the members, unless the contract is
 * inherited: inherit and the holder's contract a regent are checked
 * first (contract.c:512-513), and only the type's abandon kills
 * (process.c:623-624).
 */
static void
t_holder_noorphan(void)
{
	ct_id_t id = model_foreign_same_user(940, NC_PR_EV_EMPTY, 0,
	    NC_PR_NOORPHAN | NC_PR_INHERIT);
	ct_id_t inh = model_foreign_same_user(942, NC_PR_EV_EMPTY, 0,
	    NC_PR_NOORPHAN | NC_PR_INHERIT);

	CHECK(model_member_fork(940, 941) == 0);
	CHECK(model_holder_in(id, MODEL_US, 0) == 0);	/* ours: no regent */
	CHECK(model_holder_exit(id) == 0);
	CHECK(!model_exists(id));	/* killed, emptied, orphan destroyed */

	model_self_params(NC_PR_REGENT);
	CHECK(model_holder_in(inh, MODEL_US, 0) == 0);
	CHECK(model_holder_exit(inh) == 0);
	CHECK(model_state(inh) == CTS_INHERITED);
	CHECK(model_member_fork(942, 943) == 0);	/* not killed */
	ct_contract_t *a = open_ct(inh, CT_OPEN_ADOPT);
	CHECK(ct_contract_owned(a));
	CHECK(ct_contract_abandon(a) == 0);	/* explicit: noorphan now */
	CHECK(!model_exists(inh));
	ct_contract_close(a);
}

/*
 * inherit with no regent to take it: the holder's own contract lacks
 * CT_PR_REGENT (process.c:554), so the contract becomes an orphan
 * (contract.c:563-565): its critical events acknowledged, no ctl for
 * anyone (EACCES on adopt, ctfs_ctl.c:96-99), destroyed when it empties.
 */
static void
t_holder_inherit_no_regent(void)
{
	ct_contract_t *c = NULL;
	ct_id_t id = model_foreign_same_user(960, NC_PR_EV_EMPTY |
	    NC_PR_EV_EXIT, 0, NC_PR_INHERIT);
	ct_id_t id2 = model_foreign_same_user(965, NC_PR_EV_EMPTY, 0,
	    NC_PR_INHERIT);

	CHECK(model_member_fork(960, 961) == 0);
	CHECK(model_exit(961, 0) == 0);			/* critical, unacked */
	CHECK(model_nevents(id) == 1);
	CHECK(model_holder_in(id, MODEL_US, 0) == 0);	/* in ours */
	CHECK(model_holder_exit(id) == 0);		/* ours is no regent */
	CHECK(model_state(id) == CTS_ORPHAN && model_owner(id) == MODEL_NONE);
	CHECK(model_nevents(id) == 0);
	CHECK(ct_contract_open(id, CT_OPEN_ADOPT, &c) == EACCES);
	ct_err_clear();
	CHECK(model_exists(id));			/* 960 runs on */
	CHECK(model_exit(960, 0) == 0);
	CHECK(!model_exists(id));

	/* Nor another contract without regent (the default). */
	CHECK(model_holder_exit(id2) == 0);
	CHECK(model_state(id2) == CTS_ORPHAN);
	CHECK(model_open_fds() == 0);
}

/* transfer: the next fork abandons the contract given (process.c:906). */
static void
t_transfer(void)
{
	ct_template_t t;

	activate(NC_PR_EV_EMPTY, 0, 0);
	ct_id_t old = spawned(950);
	ct_contract_t *c = open_ct(old, CT_OPEN_LATEST);
	CHECK(model_exit(950, 0) == 0);
	collect();
	ct_template_init(&t, CT_TYPE_PROCESS);
	t.given = CT_T_CRITICAL | CT_T_TRANSFER;
	t.critical = NC_PR_EV_EMPTY;
	/* process.c:252-277: ours, and empty, or the term is refused. */
	ct_id_t running = spawned(952);
	ct_id_t theirs = model_foreign_same_user(953, NC_PR_EV_EMPTY, 0, 0);
	t.transfer = running;
	CHECK(ct_tmpl_active_set(&t) == ENOTEMPTY);
	t.transfer = theirs;
	CHECK(ct_tmpl_active_set(&t) == EACCES);
	t.transfer = 4000;
	CHECK(ct_tmpl_active_set(&t) == ESRCH);
	CHECK(ct_err_syscall() != NULL &&
	    strcmp(ct_err_syscall(), "ct_pr_tmpl_set_transfer") == 0);
	ct_err_clear();
	t.transfer = old;
	CHECK(ct_tmpl_active_set(&t) == 0);
	ct_id_t id = spawned(951);
	CHECK(id != old && model_owner(old) != MODEL_US);
	CHECK(!ct_contract_owned(c));	/* given away: not held */
	CHECK(ct_contract_abandon(c) == 0);	/* nothing to do, no EINVAL */
	ct_contract_close(c);
	CHECK(model_owner(running) == MODEL_US);	/* not given away */
}

/* Ids queued out of order (contract.c:2311 vs :2333): none lost. */
static void
t_dedup_swapped(void)
{
	activate(NC_PR_EV_EMPTY, NC_PR_EV_FORK, 0);
	ct_id_t id = spawned(960);
	ct_contract_t *a = open_ct(id, CT_OPEN_LATEST);
	ct_contract_t *o = open_ct(id, CT_OPEN_OBSERVE);
	collect();
	model_swap_evids();
	CHECK(model_member_fork(960, 961) == 0);	/* takes id n+1 */
	collect();
	CHECK(count(id, NC_PR_EV_FORK, NULL) == 1);
	CHECK(ct_contract_abandon(a) == 0);
	CHECK(model_member_fork(960, 962) == 0);	/* takes id n, later */
	collect();
	CHECK(count(id, NC_PR_EV_FORK, NULL) == 1);	/* not dropped */
	model_swap_evids();
	CHECK(model_member_fork(960, 963) == 0);
	CHECK(model_member_fork(960, 964) == 0);
	collect();
	CHECK(count(id, NC_PR_EV_FORK, NULL) == 2);	/* once each */
	ct_contract_close(a);
	ct_contract_close(o);
}

/* The hidden pr_empty follows the template that made the contract. */
static void
t_hidden_by_maker(void)
{
	ct_cstatus_t st;

	(void) activate_critical(NC_PR_EV_EXIT, 0, 0);	/* pr_empty ours */
	CHECK(ct_spawn_ready(true) == 0);
	ct_id_t id = model_fork(970);		/* no commit: libuv's fork */
	activate(0, NC_PR_EV_EMPTY, 0);		/* the user's pr_empty */
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK(ct_contract_status(c, &st) == 0);
	CHECK((st.informative & NC_PR_EV_EMPTY) == 0);
	ct_cstatus_fini(&st);
	CHECK(model_exit(970, 0) == 0);
	collect();
	CHECK(count(id, NC_EVX_EMPTIED, NULL) == 1);
	CHECK(count(id, NC_PR_EV_EMPTY, NULL) == 0);
	ct_contract_close(c);
}

/* Made and never opened: abandoned once a later fork makes another. */
static void
t_stray_reaped(void)
{
	activate(NC_PR_EV_EMPTY, 0, 0);
	CHECK(ct_spawn_ready(true) == 0);
	ct_id_t a = model_fork(980);
	ct_id_t b = model_fork(981);
	CHECK(model_exit(980, 0) == 0);
	collect();
	CHECK(!model_exists(a));	/* not the latest: abandoned at once */
	CHECK(model_exit(981, 0) == 0);
	collect();
	CHECK(model_exists(b));		/* the latest: latest() may want it */
	ct_id_t c = spawned(982);
	CHECK(!model_exists(b) && model_exists(c));
	CHECK(nevs == 0);
}

/* latest keeps its reference to a destroyed contract (ctfs). */
static void
t_latest_kept(void)
{
	ct_id_t got = 0;

	activate(NC_PR_EV_EMPTY, 0, 0);
	ct_id_t id = spawned(990);
	CHECK(model_exit(990, 0) == 0);
	ct_contract_close(open_ct(id, CT_OPEN_LATEST));	/* abandons */
	CHECK(!model_exists(id));
	CHECK(ct_latest_get(CT_TYPE_PROCESS, &got) == 0 && got == id);
}

/* ---- traces (docs/trace.md, "illumos") ---- */

static uint64_t
wall_us(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

static const ct_proc_t *
proc_of(const ct_trace_t *t, pid_t pid)
{
	for (size_t i = 0; i < t->nprocs; i++)
		if (t->procs[i].pid == pid)
			return (&t->procs[i]);
	return (NULL);
}

static bool
argv_is(const ct_proc_t *p, const char *words, size_t len)
{
	return (p != NULL && p->argvlen == len &&
	    memcmp(p->argv, words, len) == 0);
}

/*
 * A traced spawn: pr_fork and pr_exit subscribed for the trace and kept
 * from the user; a record per process with its arguments (psinfo), its
 * CPU and end (the zombie's usage), and what was missed when a parent
 * reaped before the pr_exit was read.
 */
static void
t_trace_records(void)
{
	ct_cstatus_t st;
	ct_trace_t t;
	const ct_proc_t *p;
	uint64_t before = wall_us();

	CHECK(ct_trace_arm(true) == 0);
	activate(0, 0, 0);
	ct_id_t id = spawned(300);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK(ct_tmpl_active_clear(CT_TYPE_PROCESS) == 0);
	CHECK(ct_trace_arm(false) == 0);
	CHECK((model_informative(id) & (NC_PR_EV_FORK | NC_PR_EV_EXIT)) ==
	    (NC_PR_EV_FORK | NC_PR_EV_EXIT));
	CHECK(ct_contract_status(c, &st) == 0);
	CHECK((st.informative & (NC_PR_EV_FORK | NC_PR_EV_EXIT)) == 0);
	ct_cstatus_fini(&st);

	CHECK(model_exec(300, "/bin/sh -c make  all") == 0);
	CHECK(model_member_fork(300, 301) == 0);
	CHECK(model_exec(301, "cc -c a.c") == 0);
	collect();
	CHECK(model_cpu(301, 30000000, 10000000, 2000000) == 0);
	CHECK(model_exit(301, 0) == 0);		/* a zombie, not reaped */
	/* A zombie by the time its pr_fork is read: CPU, no arguments. */
	CHECK(model_member_fork(300, 303) == 0);
	CHECK(model_exec(303, "true") == 0);
	CHECK(model_cpu(303, 1000000, 0, 0) == 0);
	CHECK(model_exit(303, 0) == 0);
	CHECK(model_member_fork(300, 302) == 0);
	CHECK(model_exit(302, SIGKILL) == 0);
	CHECK(model_reap(302) == 0);		/* before we read a thing */
	collect();
	CHECK(count(id, NC_PR_EV_FORK, NULL) == 0);	/* not the user's */
	CHECK(count(id, NC_PR_EV_EXIT, NULL) == 0);
	CHECK(model_reap(301) == 0);
	CHECK(model_reap(303) == 0);
	CHECK(model_cpu(300, 5000000, 1000000, 0) == 0);
	CHECK(model_exit(300, 2 << 8) == 0);
	collect();
	CHECK(count(id, NC_EVX_EMPTIED, NULL) == 1);

	CHECK(ct_contract_trace(c, &t) == 0);
	CHECK(t.nprocs == 4 && t.lost == 0);
	p = proc_of(&t, 300);
	CHECK(p != NULL && p->ppid == getpid() && p->exited &&
	    p->exitstatus == (2 << 8) && p->missed == 0);
	CHECK(argv_is(p, "/bin/sh\0-c\0make\0all", 20));
	CHECK(p != NULL && p->user_usec == 5000 && p->system_usec == 1000);
	CHECK(p != NULL && p->start_us + 1000 >= before &&
	    p->end_us >= p->start_us && p->end_us <= wall_us() + 1000);
	p = proc_of(&t, 301);
	CHECK(p != NULL && p->ppid == 300 && p->exited &&
	    p->exitstatus == 0 && p->missed == 0);
	CHECK(argv_is(p, "cc\0-c\0a.c", 10));
	/* pr_stime + pr_ttime, as ptime(1) counts system time. */
	CHECK(p != NULL && p->user_usec == 30000 && p->system_usec == 12000);
	p = proc_of(&t, 303);
	CHECK(p != NULL && p->exited && p->argvlen == 0 &&
	    p->missed == CT_PM_ARGV && p->user_usec == 1000);
	p = proc_of(&t, 302);
	CHECK(p != NULL && p->ppid == 300 && p->exited &&
	    p->exitstatus == SIGKILL && p->argvlen == 0);
	CHECK(p != NULL && p->missed == (CT_PM_ARGV | CT_PM_CPU));
	ct_trace_fini(&t);
	ct_contract_close(c);
}

/*
 * No exec event: arguments read at the pr_fork are those before the
 * exec; read again when the process forks and when the trace is copied.
 */
static void
t_trace_argv_later(void)
{
	ct_trace_t t;

	CHECK(ct_trace_arm(true) == 0);
	activate(0, 0, 0);
	ct_id_t id = spawned(310);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK(ct_trace_arm(false) == 0);
	collect();				/* pr_fork read before exec */
	CHECK(ct_contract_trace(c, &t) == 0);
	CHECK(t.nprocs == 1 && argv_is(&t.procs[0], "test_backend", 13));
	ct_trace_fini(&t);
	CHECK(model_exec(310, "make -j4") == 0);
	CHECK(model_member_fork(310, 311) == 0);
	CHECK(model_member_fork(310, 312) == 0);
	collect();
	CHECK(model_exec(312, "ld -o x") == 0);
	CHECK(ct_contract_trace(c, &t) == 0);
	CHECK(t.nprocs == 3);
	CHECK(argv_is(proc_of(&t, 310), "make\0-j4", 9));	/* at its fork */
	CHECK(argv_is(proc_of(&t, 311), "make\0-j4", 9));	/* a copy */
	CHECK(argv_is(proc_of(&t, 312), "ld\0-o\0x", 8));	/* at the copy */
	CHECK(proc_of(&t, 312) != NULL && !proc_of(&t, 312)->exited &&
	    proc_of(&t, 312)->end_us == 0);
	ct_trace_fini(&t);
	CHECK(sigsend(P_CTID, (id_t)id, SIGKILL) == 0);
	collect();
	ct_contract_close(c);
}

/*
 * The user's own pr_fork is still theirs; untraced contracts have no
 * trace and none of the trace's terms; arming after the template is set
 * gives it the events, disarming takes them away again.
 */
static void
t_trace_terms(void)
{
	ct_trace_t t;
	size_t i = 0;

	activate(0, NC_PR_EV_FORK, 0);
	ct_id_t plain = spawned(320);
	ct_contract_t *c0 = open_ct(plain, CT_OPEN_LATEST);
	CHECK((model_informative(plain) & NC_PR_EV_EXIT) == 0);
	CHECK(ct_contract_trace(c0, &t) == ENOENT);

	CHECK(ct_trace_arm(true) == 0);		/* template active already */
	ct_id_t id = spawned(321);
	ct_contract_t *c = open_ct(id, CT_OPEN_LATEST);
	CHECK((model_informative(id) & NC_PR_EV_EXIT) != 0);
	CHECK(ct_trace_arm(false) == 0);
	ct_id_t after = spawned(322);
	ct_contract_t *c2 = open_ct(after, CT_OPEN_LATEST);
	CHECK((model_informative(after) & NC_PR_EV_EXIT) == 0);
	CHECK(ct_contract_trace(c2, &t) == ENOENT);

	CHECK(model_member_fork(321, 323) == 0);
	CHECK(model_exit(323, 0) == 0);
	collect();
	CHECK(count(id, NC_PR_EV_FORK, &i) == 2);	/* the user's term */
	CHECK(count(id, NC_PR_EV_EXIT, NULL) == 0);	/* ours */
	CHECK(ct_contract_trace(c, &t) == 0);
	CHECK(t.nprocs == 2 && proc_of(&t, 323) != NULL &&
	    proc_of(&t, 323)->exited && proc_of(&t, 323)->ppid == 321);
	ct_trace_fini(&t);
	CHECK(sigsend(P_CTID, (id_t)id, SIGKILL) == 0);
	CHECK(sigsend(P_CTID, (id_t)plain, SIGKILL) == 0);
	CHECK(sigsend(P_CTID, (id_t)after, SIGKILL) == 0);
	collect();
	ct_contract_close(c);
	ct_contract_close(c0);
	ct_contract_close(c2);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "trace_records", t_trace_records },
	{ "trace_argv_later", t_trace_argv_later },
	{ "trace_terms", t_trace_terms },
	{ "latest_kept", t_latest_kept },
	{ "unpriv_terms", t_unpriv_terms },
	{ "bundle_unprivileged", t_bundle_unprivileged },
	{ "bundle_privileged", t_bundle_privileged },
	{ "adopt_inherited", t_adopt_inherited },
	{ "adopt_refused", t_adopt_refused },
	{ "holder_noorphan", t_holder_noorphan },
	{ "holder_inherit_no_regent", t_holder_inherit_no_regent },
	{ "transfer", t_transfer },
	{ "dedup_swapped", t_dedup_swapped },
	{ "hidden_by_maker", t_hidden_by_maker },
	{ "stray_reaped", t_stray_reaped },
	{ "emptied_hidden", t_emptied_hidden },
	{ "emptied_before_pr_empty", t_emptied_before_pr_empty },
	{ "emptied_cleared_template", t_emptied_cleared_template },
	{ "abandon_spawn_failure", t_abandon_spawn_failure },
	{ "abandon_spawn_nofork", t_abandon_spawn_nofork },
	{ "abandon_close_empty", t_abandon_close_empty },
	{ "abandon_close_running", t_abandon_close_running },
	{ "abandon_reopened", t_abandon_reopened },
	{ "ownership_after_abandon", t_ownership_after_abandon },
	{ "no_stray_ack_observed", t_no_stray_ack_observed },
	{ "stray_ack_unopened", t_stray_ack_unopened },
	{ "no_replay", t_no_replay },
	{ "descriptors", t_descriptors },
	{ "fatal_read_label", t_fatal_read_label },
	{ "tools_status", t_tools_status },
	{ "tools_bundle", t_tools_bundle },
};

/* Run one test in a child; its counts come back through a pipe. */
static void
run(size_t i)
{
	int p[2], st = 0, counts[2] = { 0, 0 };
	pid_t pid;

	if (pipe(p) != 0 || (pid = fork()) < 0) {
		perror("test_backend");
		exit(2);
	}
	if (pid == 0) {
		(void) close(p[0]);
		check_npass = check_nfail = 0;
		model_reset();
		tests[i].fn();
		counts[0] = check_npass;
		counts[1] = check_nfail;
		(void) fflush(stdout);
		if (write(p[1], counts, sizeof (counts)) != sizeof (counts))
			_exit(3);
		_exit(0);
	}
	(void) close(p[1]);
	if (read(p[0], counts, sizeof (counts)) != sizeof (counts)) {
		printf("%s: FAIL: crashed\n", tests[i].name);
		counts[1] = 1;
	}
	(void) close(p[0]);
	(void) waitpid(pid, &st, 0);
	printf("%-28s %d passed, %d failed\n", tests[i].name, counts[0],
	    counts[1]);
	check_npass += counts[0];
	check_nfail += counts[1];
}

/* test_backend [--privileged | --unprivileged] [test-name] */
int
main(int argc, char **argv)
{
	const char *only = NULL;

	(void) setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--unprivileged") == 0)
			priv = false;
		else if (strcmp(argv[i], "--privileged") == 0)
			priv = true;
		else
			only = argv[i];
	}
	model_default_privileges(priv, priv);
	for (size_t i = 0; i < sizeof (tests) / sizeof (tests[0]); i++) {
		if (only == NULL || strcmp(only, tests[i].name) == 0)
			run(i);
	}
	return (check_report());
}

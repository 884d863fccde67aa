/*
 * tmpl.c -- active templates, per thread as on illumos (where they are
 * per LWP): set, clear, latest, and create for device contracts.  Process
 * contracts are made by forking; spawn.c does that part.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lx.h"

static _Thread_local ct_template_t *active[CT_TYPE_COUNT];
static _Thread_local ct_id_t latest_dev;
static _Thread_local pid_t latest_dev_pid;	/* a forked child has none */

static void
tmpl_free(ct_template_t *t)
{
	if (t != NULL) {
		ct_template_fini(t);
		free(t);
	}
}

/* Refuse up front what Linux cannot deliver for a process template. */
static int
process_check(const ct_template_t *t)
{
	const lx_root_t *r;
	int err;

	if ((err = lx_root_get(&r)) != 0)
		return (err);
	/*
	 * Open the proc connector before the first fork, so the first
	 * child's own events are not missed.  Critical or fatal member
	 * events cannot be had without it.
	 */
	uint32_t need = (t->critical | t->fatal) & (NC_PR_EV_FORK |
	    NC_PR_EV_EXIT | NC_PR_EV_CORE | NC_PR_EV_SIGNAL);
	if ((err = lx_members_listen()) != 0 && need != 0)
		return (ct_err_set(ENOTSUP, "socket", "this template needs "
		    "per-member events (fork, exit, core, signal) as critical "
		    "or fatal, but the proc connector is not open to this "
		    "process (%s); only pr_empty and sigsend work here",
		    lx_cn_why(err)));
	return (0);
}

int
ct_tmpl_active_set(const ct_template_t *t)
{
	ct_template_t *copy;
	int err;

	if (t->type == CT_TYPE_PROCESS)
		err = process_check(t);
	else
		err = lx_dev_check(t);
	if (err != 0)
		return (err);
	if ((copy = malloc(sizeof (*copy))) == NULL)
		return (ENOMEM);
	if ((err = ct_template_copy(copy, t)) != 0) {
		free(copy);
		return (err);
	}
	/* On failure the template that was active stays so. */
	if (t->type == CT_TYPE_PROCESS && (err = lx_spawn_use(copy)) != 0) {
		tmpl_free(copy);
		return (err);
	}
	tmpl_free(active[t->type]);
	active[t->type] = copy;
	return (0);
}

int
ct_tmpl_active_clear(ct_type_t type)
{
	for (int i = 0; i < CT_TYPE_COUNT; i++) {
		if (type != CT_TYPE_COUNT && (int)type != i)
			continue;
		if (i == CT_TYPE_PROCESS)
			(void) lx_spawn_use(NULL);
		tmpl_free(active[i]);
		active[i] = NULL;
	}
	return (0);
}

int
ct_latest_get(ct_type_t type, ct_id_t *idp)
{
	int err = ESRCH;

	if (type >= CT_TYPE_COUNT)
		return (EINVAL);
	if (type == CT_TYPE_PROCESS)
		err = lx_spawn_latest(idp);
	else if (latest_dev != 0 && latest_dev_pid == getpid())
		*idp = latest_dev, err = 0;
	if (err != ESRCH)
		return (err);
	return (ct_err_set(ESRCH, "open", "this thread has not created a %s "
	    "contract", type == CT_TYPE_PROCESS ? "process" : "device"));
}

int
ct_tmpl_create_now(ct_type_t type, ct_id_t *idp)
{
	const ct_template_t *t = active[CT_TYPE_DEVICE];
	lx_terms_t terms;
	ct_id_t id;
	int err;

	if (type == CT_TYPE_PROCESS)
		return (ct_err_set(EINVAL, "ct_tmpl_create", "process contracts"
		    " are created by fork, not by create()"));
	if (t == NULL)
		return (ct_err_set(EINVAL, "ct_tmpl_create", "no device template"
		    " is active on this thread"));
	if (t->dev_minor == NULL)
		return (ct_err_set(EINVAL, "ct_tmpl_create", "the device "
		    "template has no dev_minor"));
	(void) lx_terms_from_template(t, &terms);
	err = lx_dev_create(&terms, &id);
	lx_terms_fini(&terms);
	if (err != 0)
		return (err);
	latest_dev = id;
	latest_dev_pid = getpid();
	*idp = id;
	return (lx_contract_hold(id, -1, NULL, 0));
}

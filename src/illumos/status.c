/*
 * status.c -- contract status from ctfs for the illumos backend: the
 * <type>/<id>/status file, which anyone who can see the contract may read
 * (no observer rights needed, unlike its events).
 */
#include "il.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

/* A string of the status handle, copied; absent is no error. */
static int
status_str(int (*get)(ct_stathdl_t, char **), ct_stathdl_t h, char **dstp)
{
	char *s = NULL;

	if (get(h, &s) != 0 || s == NULL)
		return (0);
	return ((*dstp = strdup(s)) == NULL ? ENOMEM : 0);
}

static int
status_process(ct_stathdl_t h, ct_cstatus_t *st)
{
	pid_t *pids;
	ctid_t *ids, svc;
	uint_t u, n;
	int err;

	if (ct_pr_status_get_param(h, &u) == 0)
		st->params = u;
	if (ct_pr_status_get_fatal(h, &u) == 0)
		st->fatal = u;
	if (ct_pr_status_get_svc_ctid(h, &svc) == 0)
		st->svc_ctid = (ct_id_t)svc;
	if (ct_pr_status_get_members(h, &pids, &n) == 0 && n > 0) {
		if ((st->members = malloc(n * sizeof (pid_t))) == NULL)
			return (ENOMEM);
		(void) memcpy(st->members, pids, n * sizeof (pid_t));
		st->nmembers = n;
	}
	if (ct_pr_status_get_contracts(h, &ids, &n) == 0 && n > 0) {
		if ((st->contracts = malloc(n * sizeof (ct_id_t))) == NULL)
			return (ENOMEM);
		for (uint_t i = 0; i < n; i++)
			st->contracts[i] = (ct_id_t)ids[i];
		st->ncontracts = n;
	}
	if ((err = status_str(ct_pr_status_get_svc_fmri, h,
	    &st->svc_fmri)) != 0 ||
	    (err = status_str(ct_pr_status_get_svc_aux, h, &st->svc_aux)) != 0)
		return (err);
	return (status_str(ct_pr_status_get_svc_creator, h,
	    &st->svc_creator));
}

static int
status_device(ct_stathdl_t h, ct_cstatus_t *st)
{
	uint_t u;

	if (ct_dev_status_get_dev_state(h, &u) == 0)
		st->dev_state = u;
	if (ct_dev_status_get_aset(h, &u) == 0)
		st->dev_aset = u;
	if (ct_dev_status_get_noneg(h, &u) == 0)
		st->dev_noneg = u != 0;
	return (status_str(ct_dev_status_get_minor, h, &st->dev_minor));
}

int
il_status_read(ct_type_t type, ct_id_t id, ct_cstatus_t *st)
{
	char path[IL_PATH_MAX];
	ct_stathdl_t h;
	int fd, err;

	(void) memset(st, 0, sizeof (*st));
	st->frozen = -1;
	/* The status file, not the contract's directory (1.0.3's EINVAL). */
	fd = il_open(il_path(path, il_type_dirs[type], id, "status"),
	    O_RDONLY);
	if (fd < 0)
		return (ct_err_set(errno, "open", "cannot open %s", path));
	err = ct_status_read(fd, CTD_ALL, &h);
	(void) close(fd);
	if (err != 0)
		return (ct_err_set(err, "ct_status_read", "cannot read %s",
		    path));
	st->ctid = (ct_id_t)ct_status_get_id(h);
	st->zoneid = (int32_t)ct_status_get_zoneid(h);
	st->type = type;
	st->state = (int)ct_status_get_state(h);
	st->holder = (int32_t)ct_status_get_holder(h);
	st->nevents = (uint32_t)ct_status_get_nevents(h);
	st->ntime = ct_status_get_ntime(h);
	st->qtime = ct_status_get_qtime(h);
	st->nevid = ct_status_get_nevid(h);
	st->cookie = ct_status_get_cookie(h);
	st->critical = ct_status_get_critical(h);
	st->informative = ct_status_get_informative(h);
	err = type == CT_TYPE_PROCESS ? status_process(h, st) :
	    status_device(h, st);
	ct_status_free(h);
	if (err != 0) {
		ct_cstatus_fini(st);
		return (ct_err_set(err, NULL, "out of memory"));
	}
	return (0);
}

int
il_status_id(ct_id_t id, ct_cstatus_t *st)
{
	ct_type_t type;
	int err;

	if ((err = il_ctid_type(id, &type)) != 0)
		return (err);
	return (il_status_read(type, id, st));
}

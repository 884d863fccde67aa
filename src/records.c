/*
 * records.c -- freeing what the backends hand out in the records of ct.h
 * (status, event, features): the same for every backend, so it lives in
 * the core.  Each leaves its record safe to finish again.
 */
#include <stdlib.h>
#include <string.h>

#include "ct.h"

void
ct_cstatus_fini(ct_cstatus_t *st)
{
	free(st->members);
	free(st->contracts);
	free(st->svc_fmri);
	free(st->svc_aux);
	free(st->svc_creator);
	free(st->dev_minor);
	(void) memset(st, 0, sizeof (*st));
}

void
ct_evrec_fini(ct_evrec_t *ev)
{
	free(ev->pcorefile);
	free(ev->gcorefile);
	free(ev->zcorefile);
	ev->pcorefile = ev->gcorefile = ev->zcorefile = NULL;
}

void
ct_features_fini(ct_features_t *f)
{
	free(f->root);
	free(f->root_error);
	f->root = f->root_error = NULL;
}

void
ct_trace_fini(ct_trace_t *t)
{
	for (size_t i = 0; i < t->nprocs; i++) {
		free(t->procs[i].argv);
		free(t->procs[i].exec_us);
	}
	free(t->procs);
	(void) memset(t, 0, sizeof (*t));
}

void
ct_members_free_one(ct_member_t *m)
{
	free(m->comm);
	for (size_t j = 0; j < m->argc; j++)
		free(m->argv[j]);
	free(m->argv);
	(void) memset(m, 0, sizeof (*m));
}

void
ct_members_free(ct_member_t *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ct_members_free_one(&m[i]);
	free(m);
}

/*
 * features.c -- what this host delivers (ct_features_get), and which
 * contracts the caller can see (ct_contract_list, as ctstat -a).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lx.h"

typedef struct idlist {
	ct_type_t type;
	ct_id_t *ids;
	size_t n, cap;
} idlist_t;

static int
list_one(ct_id_t id, const char *name, int fd, void *arg)
{
	idlist_t *l = arg;
	lx_terms_t t;
	lx_hstate_t hs;

	(void) name;
	bool keep = lx_state_read(fd, &hs) == 0 && hs.state != LX_SPARE &&
	    lx_terms_read(fd, &t) == 0;
	if (keep) {
		keep = l->type == CT_TYPE_COUNT || t.type == l->type;
		lx_terms_fini(&t);
	}
	if (!keep)
		return (0);
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 16 : l->cap * 2;
		ct_id_t *ids = realloc(l->ids, cap * sizeof (*ids));
		if (ids == NULL)
			return (ENOMEM);
		l->ids = ids;
		l->cap = cap;
	}
	l->ids[l->n++] = id;
	return (0);
}

static int
cmp_id(const void *a, const void *b)
{
	ct_id_t x = *(const ct_id_t *)a, y = *(const ct_id_t *)b;

	return ((x > y) - (x < y));
}

int
ct_contract_list(ct_type_t type, ct_id_t **idsp, size_t *np)
{
	idlist_t l = { .type = type };
	const lx_root_t *r;
	int err;

	if ((err = lx_root_get(&r)) != 0)
		return (err);
	if ((err = lx_root_each(list_one, &l)) != 0) {
		free(l.ids);
		return (err);
	}
	if (l.n > 1)
		qsort(l.ids, l.n, sizeof (*l.ids), cmp_id);
	*idsp = l.ids;
	*np = l.n;
	return (0);
}

int
ct_features_get(ct_features_t *f)
{
	const lx_root_t *r;
	int err;

	memset(f, 0, sizeof (*f));
	f->backend = "linux";
	(void) ct_spawn_mode_get(&f->spawn);
	if ((err = lx_root_get(&r)) != 0) {
		f->root_errno = err;
		f->root_error = strdup(ct_err_message() != NULL ?
		    ct_err_message() : strerror(err));
		ct_err_clear();
		return (0);
	}
	if ((f->root = strdup(r->path)) == NULL)
		return (ENOMEM);
	f->delegated = r->delegated;
	f->membership = lx_ms()->name;
	lx_ms()->features(r->fd, f);
	f->pr_events = NC_PR_EV_EMPTY;
	if (lx_members_listen() == 0)
		f->pr_events |= NC_PR_EV_FORK | NC_PR_EV_EXIT |
		    NC_PR_EV_CORE | NC_PR_EV_SIGNAL;
	/* Traces: every fork, exec and exit, from the connector alone. */
	f->trace = lx_members_listen() == 0;
	f->devices = true;
	f->holder_death = lx_keeper_available();
	return (0);
}

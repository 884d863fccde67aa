/*
 * map.c -- an open-addressing hash table of int32 keys (pids, ctids) to
 * pointers, so that an event finds its contract in O(1) however many
 * contracts are live.  Linear probing; deleted slots become tombstones and
 * the table is rebuilt when live + tombstones pass 3/4 of it.  And the
 * growing pid vector the listings of children fill.
 */
#include <errno.h>
#include <stdlib.h>

#include "lx.h"

#define	EMPTY_KEY	INT32_MIN
#define	TOMB_KEY	(INT32_MIN + 1)

static size_t
slot_of(int32_t key, size_t cap)
{
	uint32_t h = (uint32_t)key * 2654435761u;	/* Knuth's multiplier */

	return ((size_t)(h ^ (h >> 16)) & (cap - 1));
}

void *
lx_map_get(const lx_map_t *m, int32_t key)
{
	if (m->cap == 0)
		return (NULL);
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return (m->vals[i]);
		if (m->keys[i] == EMPTY_KEY)
			return (NULL);
	}
}

static int
rehash(lx_map_t *m, size_t cap)
{
	int32_t *keys = malloc(cap * sizeof (*keys));
	void **vals = malloc(cap * sizeof (*vals));

	if (keys == NULL || vals == NULL) {
		free(keys);
		free(vals);
		return (ENOMEM);
	}
	for (size_t i = 0; i < cap; i++)
		keys[i] = EMPTY_KEY;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == EMPTY_KEY || m->keys[i] == TOMB_KEY)
			continue;
		size_t j = slot_of(m->keys[i], cap);
		while (keys[j] != EMPTY_KEY)
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	m->used = m->n;
	return (0);
}

int
lx_map_put(lx_map_t *m, int32_t key, void *val)
{
	size_t i, tomb = SIZE_MAX;
	int err;

	if ((m->used + 1) * 4 > m->cap * 3) {
		size_t cap = m->cap == 0 ? 16 : m->cap;
		while ((m->n + 1) * 2 > cap)
			cap *= 2;
		if ((err = rehash(m, cap)) != 0)
			return (err);
	}
	for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return (0);
		}
		if (m->keys[i] == TOMB_KEY && tomb == SIZE_MAX)
			tomb = i;
		if (m->keys[i] == EMPTY_KEY)
			break;
	}
	if (tomb != SIZE_MAX) {
		i = tomb;
	} else {
		m->used++;
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return (0);
}

void *
lx_map_del(lx_map_t *m, int32_t key)
{
	if (m->cap == 0)
		return (NULL);
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			void *v = m->vals[i];
			m->keys[i] = TOMB_KEY;
			m->n--;
			return (v);
		}
		if (m->keys[i] == EMPTY_KEY)
			return (NULL);
	}
}

void
lx_map_keep_only(lx_map_t *m, const int32_t *keys, size_t n)
{
	size_t it = 0;
	int32_t key;
	void *val;

	while (m->n > 0 && lx_map_next(m, &it, &key, &val)) {
		bool still = false;

		for (size_t i = 0; i < n && !still; i++)
			still = keys[i] == key;
		if (!still)
			(void) lx_map_del(m, key);
	}
}

bool
lx_map_next(const lx_map_t *m, size_t *ip, int32_t *keyp, void **valp)
{
	for (; *ip < m->cap; (*ip)++) {
		if (m->keys[*ip] != EMPTY_KEY && m->keys[*ip] != TOMB_KEY) {
			*keyp = m->keys[*ip];
			*valp = m->vals[*ip];
			(*ip)++;
			return (true);
		}
	}
	return (false);
}

void
lx_map_fini(lx_map_t *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->n = m->used = 0;
}

/* Append pid to a growing vector of pids (*np of them, room for *capp). */
int
lx_pids_push(pid_t **vp, size_t *np, size_t *capp, pid_t pid)
{
	if (*np == *capp) {
		size_t cap = *capp == 0 ? 16 : *capp * 2;
		pid_t *v = realloc(*vp, cap * sizeof (*v));

		if (v == NULL)
			return (ENOMEM);
		*vp = v;
		*capp = cap;
	}
	(*vp)[(*np)++] = pid;
	return (0);
}

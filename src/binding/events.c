/*
 * events.c -- the binding's per-env state, and how the backend's events
 * reach JS.  The backend gives one fd that is readable whenever it has
 * work (ct_evq_fd); every env (the main thread, each worker) polls it.
 * The env that wakes lets the backend read its sources (ct_evq_dispatch)
 * and takes every queued record, under the backend's lock, into the
 * pending list of each env that holds a handle on its contract or made
 * it (with one env, all are its own); each env hands its list to its JS
 * dispatch function in order, outside the lock, woken by a uv_async when
 * another env filled it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bnd.h"

struct bnd_pending {
	bnd_pending_t *next;
	ct_evrec_t ev;
};

/* Who wants which contract's records: (env, ctid). */
typedef struct interest {
	struct interest *next;
	bnd_inst_t *in;
	ct_id_t id;
	int n;			/* open handles */
	bool created;		/* made here, not yet opened here */
} interest_t;

#define	NBUCKETS	256

static bnd_inst_t *insts;		/* every live env (the lock) */
static size_t ninsts;
static interest_t *buckets[NBUCKETS];

static interest_t **
bucket(ct_id_t id)
{
	return (&buckets[(uint32_t)id % NBUCKETS]);
}

/*
 * Interest of env in in contract id: +1/-1 open handle, or, with
 * created, the contract it just made, whose first events come before it
 * opens a handle (latest() follows the spawn); its first open takes the
 * creation's place.
 */
static void
interest(bnd_inst_t *in, ct_id_t id, int delta, bool created)
{
	interest_t **pp = bucket(id), *i;

	ct_lock();
	for (; (i = *pp) != NULL; pp = &i->next) {
		if (i->in == in && i->id == id)
			break;
	}
	if (i == NULL && delta >= 0 && (i = calloc(1, sizeof (*i))) != NULL) {
		i->in = in;
		i->id = id;
		i->next = *bucket(id);
		*bucket(id) = i;
	}
	if (i != NULL) {
		i->n += delta;
		i->created = created || (i->created && delta <= 0);
		if (i->n <= 0 && !i->created) {
			for (pp = bucket(id); *pp != i; pp = &(*pp)->next)
				;
			*pp = i->next;
			free(i);
		}
	}
	ct_unlock();
}

void
bnd_interest(bnd_inst_t *in, ct_id_t id, bool on)
{
	interest(in, id, on ? 1 : -1, false);
}

void
bnd_created(bnd_inst_t *in, ct_id_t id)
{
	interest(in, id, 0, true);
}

bnd_inst_t *
bnd_inst(napi_env env)
{
	bnd_inst_t *in = NULL;

	napi_get_instance_data(env, (void **)&in);
	return (in);
}

/* A copy of ev for one more env (its strings its own). */
static bnd_pending_t *
pending_copy(const ct_evrec_t *ev)
{
	bnd_pending_t *p = calloc(1, sizeof (*p));

	if (p == NULL)
		return (NULL);
	p->ev = *ev;
	p->ev.pcorefile = ev->pcorefile != NULL ? strdup(ev->pcorefile) : NULL;
	p->ev.gcorefile = ev->gcorefile != NULL ? strdup(ev->gcorefile) : NULL;
	p->ev.zcorefile = ev->zcorefile != NULL ? strdup(ev->zcorefile) : NULL;
	return (p);
}

static void
pending_push(bnd_inst_t *in, bnd_pending_t *p)
{
	if (in->pending_tail != NULL)
		in->pending_tail->next = p;
	else
		in->pending = p;
	in->pending_tail = p;
}

static void
pending_free(bnd_pending_t *p)
{
	while (p != NULL) {
		bnd_pending_t *nx = p->next;
		ct_evrec_fini(&p->ev);
		free(p);
		p = nx;
	}
}

/* One record (consumed) to the pending list of every env that wants it. */
static void
route(bnd_inst_t *self, ct_evrec_t *ev)
{
	bnd_pending_t *p;

	if (ninsts <= 1) {
		if ((p = calloc(1, sizeof (*p))) == NULL) {
			ct_evrec_fini(ev);
			return;
		}
		p->ev = *ev;
		pending_push(self, p);
		return;
	}
	for (interest_t *i = *bucket(ev->ctid); i != NULL; i = i->next) {
		if (i->id != ev->ctid || (p = pending_copy(ev)) == NULL)
			continue;
		pending_push(i->in, p);
		if (i->in != self)
			(void) uv_async_send(i->in->async);
	}
	ct_evrec_fini(ev);
}

/* Call JS dispatch(ctid, type, event, gen) for one event. */
static void
dispatch_one(bnd_inst_t *in, const ct_evrec_t *ev)
{
	napi_env env = in->env;
	napi_value fn, recv, argv[4], res, exc;
	napi_handle_scope scope;
	const char *name = ct_names_event(ev->cttype, ev->type);

	if (in->dispatch == NULL ||
	    napi_open_handle_scope(env, &scope) != napi_ok)
		return;
	if (napi_get_reference_value(env, in->dispatch, &fn) == napi_ok &&
	    fn != NULL) {
		argv[0] = bnd_num(env, ev->ctid);
		argv[1] = bnd_str(env, name != NULL ? name : "unknown");
		argv[2] = bnd_event_object(env, ev);
		argv[3] = bnd_u64str(env, ev->gen);
		napi_get_global(env, &recv);
		if (napi_make_callback(env, in->actx, recv, fn, 4, argv,
		    &res) == napi_pending_exception) {
			/* As any other callback's: an uncaught exception. */
			napi_get_and_clear_last_exception(env, &exc);
			napi_fatal_exception(env, exc);
		}
	}
	napi_close_handle_scope(env, scope);
}

/* Take this env's pending list and hand it to JS, in order. */
static void
take(bnd_inst_t *in)
{
	bnd_pending_t *list;

	ct_lock();
	list = in->pending;
	in->pending = in->pending_tail = NULL;
	ct_unlock();
	for (bnd_pending_t *p = list; p != NULL; p = p->next)
		dispatch_one(in, &p->ev);
	pending_free(list);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	bnd_inst_t *in = h->data;
	ct_evrec_t ev;

	(void) status;
	(void) events;
	ct_lock();
	(void) ct_evq_dispatch();
	while (ct_evq_pop(ct_evq_next, &ev) == 0)
		route(in, &ev);
	ct_unlock();
	take(in);
}

static void
on_async(uv_async_t *a)
{
	take(a->data);
}

void
bnd_box_link(bnd_box_t *b, bool on)
{
	bnd_inst_t *in = b->in;

	if (in == NULL)
		return;
	if (on) {
		b->prev = NULL;
		if ((b->next = in->boxes) != NULL)
			in->boxes->prev = b;
		in->boxes = b;
		return;
	}
	if (b->prev != NULL)
		b->prev->next = b->next;
	else if (in->boxes == b)
		in->boxes = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	b->prev = b->next = NULL;
}

/*
 * A worker ends (its env is torn down while other envs live on): the
 * contracts it holds are given up per their terms, as at a thread's
 * exit (noorphan kills the tree; else an orphan), before their handles'
 * finalizers run.  The process's last env leaves them to holder death.
 */
static void
on_env_end(void *arg)
{
	bnd_inst_t *in = arg;

	ct_lock();
	for (bnd_box_t *b = in->boxes, *nx; b != NULL; b = nx) {
		nx = b->next;
		if (b->c != NULL && ninsts > 1 && ct_contract_owned(b->c))
			(void) ct_contract_abandon(b->c);
		if (b->c != NULL) {
			ct_contract_close(b->c);
			b->c = NULL;
		}
		b->in = NULL;
		b->prev = b->next = NULL;
	}
	in->boxes = NULL;
	/*
	 * Its guards: the children of a worker's ChildProcesses are waited
	 * for by nobody once its loop is gone, and a spawn cut off by its
	 * termination would hold every reap off for good.
	 */
	for (size_t i = 0; i < in->nguards; i++)
		(void) ct_reap_guard(in->guards[i], false);
	for (; in->inflight > 0; in->inflight--)
		(void) ct_reap_guard(0, false);
	free(in->guards);
	in->guards = NULL;
	in->nguards = in->capguards = 0;
	ct_unlock();
}

static void
handle_free(uv_handle_t *h)
{
	free(h);
}

static void
poll_closed(uv_handle_t *h)
{
	free(h->data);	/* the instance, freed with its handle */
}

/*
 * The env is going away (a worker ends; the process exits): it leaves the
 * routing first, so that no other env hands it anything more.  Its
 * contract handles are closed by their own finalizers.
 */
static void
inst_finalize(napi_env env, void *data, void *hint)
{
	bnd_inst_t *in = data;

	(void) hint;
	ct_lock();
	for (bnd_inst_t **pp = &insts; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == in) {
			*pp = in->next;
			ninsts--;
			break;
		}
	}
	for (size_t b = 0; b < NBUCKETS; b++) {
		for (interest_t **pp = &buckets[b], *i; (i = *pp) != NULL; ) {
			if (i->in == in) {
				*pp = i->next;
				free(i);
			} else {
				pp = &i->next;
			}
		}
	}
	pending_free(in->pending);
	in->pending = in->pending_tail = NULL;
	ct_unlock();
	if (in->dispatch != NULL)
		napi_delete_reference(env, in->dispatch);
	if (in->actx != NULL)
		napi_async_destroy(env, in->actx);
	uv_close((uv_handle_t *)in->async, handle_free);
	if (in->sigchld != NULL) {
		uv_signal_stop(in->sigchld);
		uv_close((uv_handle_t *)in->sigchld, handle_free);
	}
	if (in->polling) {
		/* The instance is freed with the handle, once libuv lets go. */
		uv_poll_stop(&in->poll);
		uv_close((uv_handle_t *)&in->poll, poll_closed);
	} else {
		free(in);
	}
}

bool
bnd_inst_init(napi_env env)
{
	bnd_inst_t *in = calloc(1, sizeof (*in));
	napi_value name, resource;
	uv_loop_t *loop;

	if (in == NULL)
		return (false);
	in->env = env;
	if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
	    (in->async = calloc(1, sizeof (*in->async))) == NULL ||
	    uv_async_init(loop, in->async, on_async) != 0) {
		free(in->async);
		free(in);
		return (false);
	}
	in->async->data = in;
	uv_unref((uv_handle_t *)in->async);	/* it wakes; it holds nothing */
	napi_create_string_utf8(env, "illumos_contract", NAPI_AUTO_LENGTH,
	    &name);
	napi_create_object(env, &resource);
	napi_async_init(env, resource, name, &in->actx);
	if (napi_set_instance_data(env, in, inst_finalize, NULL) != napi_ok) {
		uv_close((uv_handle_t *)in->async, handle_free);
		free(in);
		return (false);
	}
	(void) napi_add_env_cleanup_hook(env, on_env_end, in);
	ct_lock();
	in->next = insts;
	insts = in;
	ninsts++;
	ct_unlock();
	return (true);
}

bool
bnd_poll_ensure(napi_env env)
{
	bnd_inst_t *in = bnd_inst(env);
	uv_loop_t *loop;
	int fd, err;

	if (in->polling)
		return (true);
	if ((err = ct_evq_fd(&fd)) != 0) {
		bnd_throw_sys(env, err, "epoll_create1",
		    "cannot set up contract events");
		return (false);
	}
	if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
	    uv_poll_init(loop, &in->poll, fd) != 0) {
		bnd_throw_sys(env, EIO, "uv_poll_init",
		    "cannot poll contract events");
		return (false);
	}
	in->poll.data = in;
	uv_poll_start(&in->poll, UV_READABLE, on_poll);
	if (in->refs == 0)
		uv_unref((uv_handle_t *)&in->poll);
	in->polling = true;
	return (true);
}

/*
 * SIGCHLD: a child of ours changed state; as PID 1 it may be an orphan's
 * zombie only we will wait for.  libuv calls every loop's watchers of a
 * signal, so each env that loaded us runs the reaper (a worker's as well:
 * the main thread may be inside spawnSync); the backend serialises them
 * under its lock, and reaps only what no spawn of any thread waits for.
 */
static void
on_sigchld(uv_signal_t *s, int signum)
{
	(void) s;
	(void) signum;
	ct_lock();
	(void) ct_reap();	/* a failed look is retried at the next one */
	ct_unlock();
}

bool
bnd_reap_watch(napi_env env)
{
	bnd_inst_t *in = bnd_inst(env);
	uv_loop_t *loop;

	if (in->sigchld != NULL)
		return (true);
	if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
	    (in->sigchld = calloc(1, sizeof (*in->sigchld))) == NULL)
		return (false);
	if (uv_signal_init(loop, in->sigchld) != 0) {
		free(in->sigchld);
		in->sigchld = NULL;
		return (false);
	}
	/* A watcher, not a reason to keep the process alive. */
	if (uv_signal_start(in->sigchld, on_sigchld, SIGCHLD) != 0) {
		uv_close((uv_handle_t *)in->sigchld, handle_free);
		in->sigchld = NULL;
		return (false);
	}
	uv_unref((uv_handle_t *)in->sigchld);
	return (true);
}

int
bnd_reap_guard(napi_env env, pid_t pid, bool on)
{
	bnd_inst_t *in = bnd_inst(env);
	int err;

	if (pid == 0 && !on && in->inflight == 0)
		return (0);	/* not ours to end */
	if (pid > 0 && on && in->nguards == in->capguards) {
		size_t cap = in->capguards == 0 ? 8 : in->capguards * 2;
		pid_t *g = realloc(in->guards, cap * sizeof (*g));

		if (g == NULL)
			return (ENOMEM);
		in->guards = g;
		in->capguards = cap;
	}
	if (pid > 0 && !on) {
		size_t i;

		for (i = 0; i < in->nguards && in->guards[i] != pid; i++)
			;
		if (i == in->nguards)
			return (0);	/* not ours to drop */
		in->guards[i] = in->guards[--in->nguards];
	}
	if ((err = ct_reap_guard(pid, on)) != 0)
		return (err);
	if (pid == 0)
		in->inflight += on ? 1 : -1;
	else if (on)
		in->guards[in->nguards++] = pid;
	return (0);
}

bool
bnd_dispatch_set(napi_env env, napi_value fn)
{
	bnd_inst_t *in = bnd_inst(env);

	if (in->dispatch != NULL)
		napi_delete_reference(env, in->dispatch);
	return (napi_create_reference(env, fn, 1, &in->dispatch) == napi_ok);
}

void
bnd_poll_ref(napi_env env, bool on)
{
	bnd_inst_t *in = bnd_inst(env);

	in->refs = on;
	if (in->polling) {
		if (on)
			uv_ref((uv_handle_t *)&in->poll);
		else
			uv_unref((uv_handle_t *)&in->poll);
	}
}

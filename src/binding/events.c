/*
 * events.c -- the binding's state, and the one uv_poll that brings the
 * backend's events to JS.  The backend gives one fd that is readable
 * whenever it has work (ct_evq_fd); on each wakeup the binding lets it
 * read its sources (ct_evq_dispatch) and hands every queued event to the
 * JS dispatch function that lib/ registered.
 */
#include <errno.h>
#include <stdlib.h>

#include "bnd.h"

static bnd_state_t state;

bnd_state_t *
bnd_state(void)
{
	return (&state);
}

bnd_inst_t *
bnd_inst(napi_env env)
{
	bnd_inst_t *in = NULL;

	napi_get_instance_data(env, (void **)&in);
	return (in);
}

static void
poll_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
inst_finalize(napi_env env, void *data, void *hint)
{
	bnd_inst_t *in = data;

	(void) hint;
	if (in->dispatch != NULL)
		napi_delete_reference(env, in->dispatch);
	if (in->actx != NULL)
		napi_async_destroy(env, in->actx);
	if (in->main)
		bnd_state()->owner = NULL;
	if (in->polling) {
		/* The handle is freed with in once libuv lets go of it. */
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

	if (in == NULL)
		return (false);
	in->env = env;
	if (bnd_state()->owner == NULL) {
		bnd_state()->owner = env;
		in->main = true;
	}
	napi_create_string_utf8(env, "illumos_contract", NAPI_AUTO_LENGTH,
	    &name);
	napi_create_object(env, &resource);
	napi_async_init(env, resource, name, &in->actx);
	if (napi_set_instance_data(env, in, inst_finalize, NULL) != napi_ok) {
		free(in);
		return (false);
	}
	return (true);
}

/* Call JS dispatch(ctid, type, event, gen) for one event. */
static void
dispatch_one(bnd_inst_t *in, const ct_evrec_t *ev)
{
	napi_env env = in->env;
	napi_value fn, recv, argv[4], res, exc;
	const char *name = ct_names_event(ev->cttype, ev->type);

	if (napi_get_reference_value(env, in->dispatch, &fn) != napi_ok ||
	    fn == NULL)
		return;
	argv[0] = bnd_num(env, ev->ctid);
	argv[1] = bnd_str(env, name != NULL ? name : "unknown");
	argv[2] = bnd_event_object(env, ev);
	argv[3] = bnd_u64str(env, ev->gen);
	napi_get_global(env, &recv);
	if (napi_make_callback(env, in->actx, recv, fn, 4, argv, &res) ==
	    napi_pending_exception) {
		/* As any other callback's: an uncaught exception. */
		napi_get_and_clear_last_exception(env, &exc);
		napi_fatal_exception(env, exc);
	}
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	bnd_inst_t *in = h->data;
	napi_handle_scope scope;
	ct_evrec_t ev;

	(void) status;
	(void) events;
	(void) ct_evq_dispatch();
	while (ct_evq_pop(ct_evq_next, &ev) == 0) {
		if (in->dispatch == NULL ||
		    napi_open_handle_scope(in->env, &scope) != napi_ok) {
			ct_evrec_fini(&ev);
			continue;
		}
		dispatch_one(in, &ev);
		ct_evrec_fini(&ev);
		napi_close_handle_scope(in->env, scope);
	}
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

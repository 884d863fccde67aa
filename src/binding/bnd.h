/*
 * bnd.h -- the binding's internal interface.  src/binding.c is the
 * module's entry (the exports table and one short wrapper per export);
 * the files under src/binding/ do the rest:
 *
 *   errors.c   JS errors: argument errors, template parse errors, and
 *              errno values from the backend (code, errno, syscall)
 *   args.c     arguments: counts, numbers, strings, type names, evids,
 *              and contract handles
 *   convert.c  a JS template object -> ct_value_t -> ct_template_t
 *   objects.c  C records (status, event, usage, features) -> JS objects
 *   events.c   the binding's state (process-wide and per env), the
 *              uv_poll on the backend's event fd, and dispatch of
 *              events to JS
 *
 * When an argument helper (or bnd_get_template, bnd_poll_ensure) says
 * no, a JS exception is pending (or Node-API itself failed) and the
 * wrapper returns NULL at once.  Nothing here calls the OS for contracts:
 * that is the backend's job, through ct.h.
 */
#ifndef BND_H
#define BND_H

#include <stdbool.h>
#include <stdint.h>

#include <node_api.h>
#include <uv.h>

#include "ct.h"

/* ---- state (events.c) ---- */

/*
 * What the binding keeps per env (its instance data).  Every env of the
 * process (the main thread, each worker) loads the addon and polls the
 * backend's one event fd; whichever wakes first reads the backend's
 * queue and hands each record to the envs that hold a handle on its
 * contract (or made it), in order, through their pending lists and a
 * uv_async wakeup.  All of it is under the backend's lock (ct_lock).
 */
typedef struct bnd_pending bnd_pending_t;

typedef struct bnd_inst {
	napi_env env;
	uv_poll_t poll;
	bool polling;
	uv_async_t *async;	/* wakes this env for records from others */
	bnd_pending_t *pending, *pending_tail;
	napi_ref dispatch;	/* the JS function events go to */
	napi_async_context actx;
	int refs;		/* hold the event loop open */
	uv_signal_t *sigchld;	/* PID 1 only: the reaper's wake (reap.c) */
	pid_t *guards;		/* PID 1: the pids this env guarded, */
	size_t nguards, capguards;
	unsigned inflight;	/* and its spawns in flight (reap.c) */
	struct bnd_inst *next;	/* every live env */
	struct bnd_box *boxes;	/* its open contract handles */
} bnd_inst_t;

/* A contract handle was opened (true) or closed in env. */
void bnd_interest(bnd_inst_t *in, ct_id_t id, bool on);
/* env made contract id: its events are env's until env opens it. */
void bnd_created(bnd_inst_t *in, ct_id_t id);

/* Make and register the instance data of env: false (nothing thrown). */
bool bnd_inst_init(napi_env env);
bnd_inst_t *bnd_inst(napi_env env);
/* Start polling the backend's event fd (on first need). */
bool bnd_poll_ensure(napi_env env);
/* PID 1: run the backend's reaper at every SIGCHLD of env's loop. */
bool bnd_reap_watch(napi_env env);
/* PID 1: ct_reap_guard for env, undone if env ends first (a worker). */
int bnd_reap_guard(napi_env env, pid_t pid, bool on);
/* Replace the JS dispatch function. */
bool bnd_dispatch_set(napi_env env, napi_value fn);
/* Hold the event loop open (or not) while JS says a contract needs it. */
void bnd_poll_ref(napi_env env, bool on);

/* ---- errors (errors.c) ---- */

/* Throw ctor ("TypeError", "RangeError", "Error") with code; NULL. */
napi_value bnd_throw_arg(napi_env env, const char *ctor, const char *code,
    const char *msg);
/* Throw an errno from the backend: Error with code, errno, syscall; NULL. */
napi_value bnd_throw_sys(napi_env env, int err, const char *syscall,
    const char *what);
/* NULL either way: err 0 is success, anything else is thrown as above. */
napi_value bnd_result(napi_env env, int err, const char *syscall,
    const char *what);
/* Throw the error the template parser described. */
void bnd_throw_parse(napi_env env, const ct_perr_t *pe);

/* ---- arguments (args.c) ---- */

/* A contract handle as JS holds it (an external); c is NULL once closed. */
typedef struct bnd_box {
	ct_contract_t *c;
	bnd_inst_t *in;		/* the env that opened it; NULL once it ended */
	ct_id_t id;
	struct bnd_box *prev, *next;	/* in's boxes */
} bnd_box_t;

/* A box joins (true) or leaves its env's list (the lock held). */
void bnd_box_link(bnd_box_t *b, bool on);

/*
 * Every wrapper's first step: fetch want arguments into argv (missing
 * ones are undefined) and clear the thread's error detail.
 */
bool bnd_args(napi_env env, napi_callback_info info, size_t want,
    napi_value *argv);
/* bnd_args, then argv[0] as a contract handle that is not disposed. */
ct_contract_t *bnd_contract_args(napi_env env, napi_callback_info info,
    size_t want, napi_value *argv);
bool bnd_get_int(napi_env env, napi_value v, const char *name, int64_t lo,
    int64_t hi, int64_t *out);
/* A string argument without NUL bytes, heap-allocated; NULL if thrown. */
char *bnd_get_str(napi_env env, napi_value v, const char *name);
/* An optional contract type name: undefined -> CT_TYPE_COUNT. */
bool bnd_get_type(napi_env env, napi_value v, ct_type_t *tp);
/* An event id string (decimal or 0x hex). */
bool bnd_get_evid(napi_env env, napi_value v, ct_evid_t *out);

/* ---- JS -> C (convert.c) ---- */

/* Parse a JS template object into *t (ct_template_fini it after). */
bool bnd_get_template(napi_env env, napi_value v, ct_template_t *t);

/* ---- C -> JS (objects.c) ---- */

/* Values; they return NULL only when Node-API fails. */
napi_value bnd_str(napi_env env, const char *s);
napi_value bnd_u64str(napi_env env, uint64_t x);
napi_value bnd_num(napi_env env, double d);
napi_value bnd_bool(napi_env env, bool b);
/* obj[key] = v, unless v is NULL. */
void bnd_set(napi_env env, napi_value obj, const char *key, napi_value v);
napi_value bnd_int_array(napi_env env, const int32_t *v, size_t n);

/* Spawn mechanisms by ct_spawn_mode_t, as JS names them. */
#define	BND_NSPAWN	4	/* the last, "reaper", is never asked for */
extern const char *const bnd_spawn_modes[BND_NSPAWN];

/* Records of ct.h as the JS layer reads them. */
napi_value bnd_event_object(napi_env env, const ct_evrec_t *ev);
napi_value bnd_status_object(napi_env env, const ct_cstatus_t *st);
napi_value bnd_usage_object(napi_env env, const ct_usage_t *u);
napi_value bnd_members_array(napi_env env, const ct_member_t *m, size_t n);
napi_value bnd_features_object(napi_env env, const ct_features_t *f);

/* ---- traces (trace.c): exports ---- */
napi_value bnd_trace(napi_env env, napi_callback_info info);
napi_value bnd_trace_arm(napi_env env, napi_callback_info info);

#endif /* BND_H */

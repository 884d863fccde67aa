/*
 * objects.c -- the records of ct.h (status, event, usage, features) as
 * the JS objects lib/ reads.  64-bit ids (evid, nevid, cookie, gen) go
 * out as decimal strings, since a double cannot hold them; name tables
 * become { name: bool } objects.
 */
#include <inttypes.h>
#include <stdio.h>

#include "bnd.h"

const char *const bnd_spawn_modes[BND_NSPAWN] = { "kernel", "atfork", "shim",
    "reaper" };

napi_value
bnd_str(napi_env env, const char *s)
{
	napi_value v;

	napi_create_string_utf8(env, s != NULL ? s : "", NAPI_AUTO_LENGTH, &v);
	return (v);
}

napi_value
bnd_u64str(napi_env env, uint64_t x)
{
	char buf[24];

	(void) snprintf(buf, sizeof (buf), "%" PRIu64, x);
	return (bnd_str(env, buf));
}

napi_value
bnd_num(napi_env env, double d)
{
	napi_value v;

	napi_create_double(env, d, &v);
	return (v);
}

napi_value
bnd_bool(napi_env env, bool b)
{
	napi_value v;

	napi_get_boolean(env, b, &v);
	return (v);
}

void
bnd_set(napi_env env, napi_value obj, const char *key, napi_value v)
{
	if (v != NULL)
		napi_set_named_property(env, obj, key, v);
}

napi_value
bnd_int_array(napi_env env, const int32_t *v, size_t n)
{
	napi_value a;

	napi_create_array_with_length(env, n, &a);
	for (size_t i = 0; i < n; i++)
		napi_set_element(env, a, (uint32_t)i, bnd_num(env, v[i]));
	return (a);
}

/* { name: bool } for every name of a table. */
static napi_value
bits(napi_env env, const ct_name_t *tab, uint32_t mask)
{
	napi_value o;

	napi_create_object(env, &o);
	for (; tab->name != NULL; tab++)
		bnd_set(env, o, tab->name, bnd_bool(env, tab->value != 0 &&
		    (mask & tab->value) == tab->value));
	return (o);
}

static napi_value
name_or_unknown(napi_env env, const char *name)
{
	return (bnd_str(env, name != NULL ? name : "unknown"));
}

/* ---- events ---- */

/* The payload fields an event has (ct_evrec_t.have). */
static void
event_payload(napi_env env, napi_value o, const ct_evrec_t *ev)
{
	if (ev->have & CT_EVP_PID)
		bnd_set(env, o, "pid", bnd_num(env, ev->pid));
	if (ev->have & CT_EVP_PPID)
		bnd_set(env, o, "ppid", bnd_num(env, ev->ppid));
	if (ev->have & CT_EVP_EXITSTATUS)
		bnd_set(env, o, "exitstatus", bnd_num(env, ev->exitstatus));
	if (ev->have & CT_EVP_SIGNAL)
		bnd_set(env, o, "signal", bnd_num(env, ev->signal));
	if (ev->have & CT_EVP_SENDER)
		bnd_set(env, o, "sender", bnd_num(env, ev->sender));
	if (ev->have & CT_EVP_SENDCT)
		bnd_set(env, o, "sender_ctid", bnd_num(env, ev->sender_ctid));
	if (ev->pcorefile != NULL)
		bnd_set(env, o, "pcorefile", bnd_str(env, ev->pcorefile));
	if (ev->gcorefile != NULL)
		bnd_set(env, o, "gcorefile", bnd_str(env, ev->gcorefile));
	if (ev->zcorefile != NULL)
		bnd_set(env, o, "zcorefile", bnd_str(env, ev->zcorefile));
	if (ev->have & CT_EVP_NEVID)
		bnd_set(env, o, "nevid", bnd_u64str(env, ev->nevid));
	if (ev->have & CT_EVP_NEWCT)
		bnd_set(env, o, "newct", bnd_num(env, ev->newct));
	if (ev->have & CT_EVP_LOST) {
		bnd_set(env, o, "forks", bnd_num(env, (double)ev->lost_forks));
		bnd_set(env, o, "exits", bnd_num(env, (double)ev->lost_exits));
	}
	if (ev->have & CT_EVP_ERROR)
		bnd_set(env, o, "error", name_or_unknown(env,
		    ct_names_errno(ev->error)));
}

napi_value
bnd_event_object(napi_env env, const ct_evrec_t *ev)
{
	napi_value o, f;

	napi_create_object(env, &o);
	bnd_set(env, o, "ctid", bnd_num(env, ev->ctid));
	bnd_set(env, o, "evid", bnd_u64str(env, ev->evid));
	bnd_set(env, o, "type", name_or_unknown(env,
	    ct_names_event(ev->cttype, ev->type)));
	napi_create_object(env, &f);
	bnd_set(env, f, "info", bnd_bool(env, ev->flags & NC_EVF_INFO));
	bnd_set(env, f, "ack", bnd_bool(env, ev->flags & NC_EVF_ACK));
	bnd_set(env, f, "neg", bnd_bool(env, ev->flags & NC_EVF_NEG));
	bnd_set(env, o, "flags", f);
	event_payload(env, o, ev);
	return (o);
}

/* ---- status ---- */

static void
status_process(napi_env env, napi_value o, const ct_cstatus_t *st)
{
	const ct_name_t *evs = ct_names_events(st->type);

	bnd_set(env, o, "pr_param", bits(env, ct_names_params, st->params));
	bnd_set(env, o, "pr_fatal", bits(env, evs, st->fatal));
	bnd_set(env, o, "pr_members", bnd_int_array(env, st->members,
	    st->nmembers));
	bnd_set(env, o, "pr_contracts", bnd_int_array(env, st->contracts,
	    st->ncontracts));
	bnd_set(env, o, "pr_svc_fmri", bnd_str(env, st->svc_fmri));
	bnd_set(env, o, "pr_svc_aux", bnd_str(env, st->svc_aux));
	bnd_set(env, o, "pr_svc_ctid", bnd_num(env, st->svc_ctid));
	bnd_set(env, o, "pr_svc_creator", bnd_str(env, st->svc_creator));
}

static void
status_device(napi_env env, napi_value o, const ct_cstatus_t *st)
{
	bnd_set(env, o, "dev_state", name_or_unknown(env,
	    ct_names_name(ct_names_devstates, st->dev_state)));
	bnd_set(env, o, "dev_aset", bits(env, ct_names_devstates,
	    st->dev_aset));
	bnd_set(env, o, "dev_minor", bnd_str(env, st->dev_minor));
	bnd_set(env, o, "dev_noneg", bnd_bool(env, st->dev_noneg));
}

napi_value
bnd_status_object(napi_env env, const ct_cstatus_t *st)
{
	const ct_name_t *evs = ct_names_events(st->type);
	napi_value o;

	napi_create_object(env, &o);
	bnd_set(env, o, "ctid", bnd_num(env, st->ctid));
	bnd_set(env, o, "zoneid", bnd_num(env, st->zoneid));
	bnd_set(env, o, "type", bnd_str(env, st->type == CT_TYPE_DEVICE ?
	    "device" : "process"));
	bnd_set(env, o, "state", name_or_unknown(env,
	    ct_names_name(ct_names_states, (uint32_t)st->state)));
	bnd_set(env, o, "holder", bnd_num(env, st->holder));
	bnd_set(env, o, "nevents", bnd_num(env, st->nevents));
	bnd_set(env, o, "ntime", bnd_num(env, st->ntime));
	bnd_set(env, o, "qtime", bnd_num(env, st->qtime));
	bnd_set(env, o, "nevid", bnd_u64str(env, st->nevid));
	bnd_set(env, o, "cookie", bnd_u64str(env, st->cookie));
	bnd_set(env, o, "critical", bits(env, evs, st->critical));
	bnd_set(env, o, "informative", bits(env, evs, st->informative));
	if (st->type == CT_TYPE_PROCESS)
		status_process(env, o, st);
	else
		status_device(env, o, st);
	if (st->frozen >= 0)
		bnd_set(env, o, "frozen", bnd_bool(env, st->frozen == 1));
	bnd_set(env, o, "lost", bnd_num(env, (double)st->lost));
	return (o);
}

/* ---- usage and features ---- */

napi_value
bnd_usage_object(napi_env env, const ct_usage_t *u)
{
	napi_value o;

	napi_create_object(env, &o);
	bnd_set(env, o, "userCPUTime", bnd_num(env, (double)u->user_usec));
	bnd_set(env, o, "systemCPUTime", bnd_num(env, (double)u->system_usec));
	if (u->have_memory) {
		bnd_set(env, o, "memoryCurrent", bnd_num(env,
		    (double)u->memory_current));
		bnd_set(env, o, "memoryPeak", bnd_num(env,
		    (double)u->memory_peak));
	}
	return (o);
}

napi_value
bnd_members_array(napi_env env, const ct_member_t *m, size_t n)
{
	napi_value arr, o, argv;
	char state[2] = { 0, 0 };

	napi_create_array_with_length(env, n, &arr);
	for (size_t i = 0; i < n; i++) {
		napi_create_object(env, &o);
		bnd_set(env, o, "pid", bnd_num(env, (double)m[i].pid));
		bnd_set(env, o, "ppid", bnd_num(env, (double)m[i].ppid));
		bnd_set(env, o, "comm", bnd_str(env, m[i].comm != NULL ?
		    m[i].comm : ""));
		napi_create_array_with_length(env, m[i].argc, &argv);
		for (size_t j = 0; j < m[i].argc; j++)
			napi_set_element(env, argv, (uint32_t)j,
			    bnd_str(env, m[i].argv[j]));
		bnd_set(env, o, "argv", argv);
		state[0] = m[i].state;
		bnd_set(env, o, "state", bnd_str(env, state));
		bnd_set(env, o, "startTime", bnd_num(env,
		    (double)m[i].start_ms));
		napi_set_element(env, arr, (uint32_t)i, o);
	}
	return (arr);
}

napi_value
bnd_features_object(napi_env env, const ct_features_t *f)
{
	napi_value o, nul;

	napi_create_object(env, &o);
	napi_get_null(env, &nul);
	bnd_set(env, o, "backend", bnd_str(env, f->backend));
	bnd_set(env, o, "root", f->root != NULL ? bnd_str(env, f->root) : nul);
	if (f->root_error != NULL) {
		bnd_set(env, o, "rootError", bnd_str(env, f->root_error));
		bnd_set(env, o, "rootErrno", bnd_num(env, f->root_errno));
	}
	bnd_set(env, o, "delegated", bnd_bool(env, f->delegated));
	bnd_set(env, o, "freeze", bnd_bool(env, f->freeze));
	bnd_set(env, o, "usage", bnd_bool(env, f->usage));
	bnd_set(env, o, "memory", bnd_bool(env, f->memory));
	bnd_set(env, o, "events", bits(env, ct_names_events(CT_TYPE_PROCESS),
	    f->pr_events));
	bnd_set(env, o, "devices", bnd_bool(env, f->devices));
	bnd_set(env, o, "holderDeath", bnd_bool(env, f->holder_death));
	bnd_set(env, o, "trace", bnd_bool(env, f->trace));
	bnd_set(env, o, "spawn", bnd_str(env, bnd_spawn_modes[f->spawn]));
	bnd_set(env, o, "membership", f->membership != NULL ?
	    bnd_str(env, f->membership) : nul);
	return (o);
}

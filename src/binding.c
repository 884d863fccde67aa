/*
 * binding.c -- the module's entry: what JS can call (the table at the
 * end) and one short wrapper per export.  Node-API glue only: a wrapper
 * checks its arguments, calls one function of ct.h, and turns the result
 * into a JS value or a thrown error.  It calls no OS API for contracts
 * itself; the backend (src/linux/ or src/illumos/) is picked at build
 * time.  The helpers the wrappers share are in src/binding/ (bnd.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "binding/bnd.h"

/* ---- templates ---- */

static napi_value
b_set_template(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_template_t t;
	int err;

	if (!bnd_args(env, info, 1, argv) ||
	    !bnd_get_template(env, argv[0], &t))
		return (NULL);
	err = ct_tmpl_active_set(&t);
	ct_template_fini(&t);
	return (bnd_result(env, err, "ct_tmpl_activate",
	    "cannot activate the template"));
}

static napi_value
b_clear_template(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_type_t type;

	if (!bnd_args(env, info, 1, argv) ||
	    !bnd_get_type(env, argv[0], &type))
		return (NULL);
	return (bnd_result(env, ct_tmpl_active_clear(type), "ct_tmpl_clear",
	    "cannot clear the template"));
}

static napi_value
b_latest(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_type_t type;
	ct_id_t id;
	int err;

	if (!bnd_args(env, info, 1, argv) ||
	    !bnd_get_type(env, argv[0], &type))
		return (NULL);
	if (type == CT_TYPE_COUNT)
		type = CT_TYPE_PROCESS;
	if ((err = ct_latest_get(type, &id)) != 0)
		return (bnd_throw_sys(env, err, "open", "no latest contract"));
	return (bnd_num(env, id));
}

static napi_value
b_create(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_type_t type;
	ct_id_t id;
	int err;

	if (!bnd_args(env, info, 1, argv) ||
	    !bnd_get_type(env, argv[0], &type))
		return (NULL);
	if (type == CT_TYPE_COUNT)
		type = CT_TYPE_DEVICE;
	if ((err = ct_tmpl_create_now(type, &id)) == 0)
		bnd_created(bnd_inst(env), id);
	if (err != 0)
		return (bnd_throw_sys(env, err, "ct_tmpl_create",
		    "cannot create a contract"));
	return (bnd_num(env, id));
}

/* ---- events ---- */

static napi_value
b_set_dispatch(napi_env env, napi_callback_info info)
{
	napi_value argv[1];

	if (bnd_args(env, info, 1, argv))
		(void) bnd_dispatch_set(env, argv[0]);
	return (NULL);
}

/* Hold the event loop open while JS says a contract needs it. */
static napi_value
b_ref(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	bool on = false;

	if (!bnd_args(env, info, 1, argv))
		return (NULL);
	napi_get_value_bool(env, argv[0], &on);
	bnd_poll_ref(env, on);
	return (NULL);
}

/* ---- contracts ---- */

/* Close a handle: the backend's, and this env's interest in its events. */
static void
box_close(bnd_box_t *b)
{
	ct_lock();
	if (b->c != NULL) {
		ct_contract_close(b->c);
		b->c = NULL;
		if (b->in != NULL)
			bnd_interest(b->in, b->id, false);
	}
	bnd_box_link(b, false);
	ct_unlock();
}

static void
box_finalize(napi_env env, void *data, void *hint)
{
	(void) env;
	(void) hint;
	box_close(data);
	free(data);
}

static napi_value
b_open(napi_env env, napi_callback_info info)
{
	napi_value argv[2], ext;
	int64_t id, how;
	ct_contract_t *c;
	bnd_box_t *b;
	int err;

	if (!bnd_args(env, info, 2, argv) ||
	    !bnd_get_int(env, argv[0], "ctid", 1, INT32_MAX, &id) ||
	    !bnd_get_int(env, argv[1], "how", 0, 2, &how) ||
	    !bnd_poll_ensure(env))
		return (NULL);
	if ((err = ct_contract_open((ct_id_t)id, (ct_open_t)how, &c)) != 0)
		return (bnd_throw_sys(env, err, "open",
		    "cannot open the contract"));
	if ((b = malloc(sizeof (*b))) == NULL) {
		ct_contract_close(c);
		return (bnd_throw_sys(env, ENOMEM, "malloc", "out of memory"));
	}
	b->c = c;
	b->in = bnd_inst(env);
	b->id = (ct_id_t)id;
	b->prev = b->next = NULL;
	bnd_interest(b->in, b->id, true);
	bnd_box_link(b, true);
	if (napi_create_external(env, b, box_finalize, NULL, &ext) != napi_ok) {
		box_close(b);
		free(b);
		return (NULL);
	}
	return (ext);
}

/* dispose(): close now; a closed handle is left for the GC. */
static napi_value
b_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	bnd_box_t *b;

	if (!bnd_args(env, info, 1, argv))
		return (NULL);
	if (napi_get_value_external(env, argv[0], (void **)&b) == napi_ok &&
	    b != NULL)
		box_close(b);
	return (NULL);
}

/* Which contract of its id the handle is on (its events carry the same). */
static napi_value
b_gen(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_contract_t *c;

	if ((c = bnd_contract_args(env, info, 1, argv)) == NULL)
		return (NULL);
	return (bnd_u64str(env, ct_contract_gen(c)));
}

static napi_value
b_status(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o;
	ct_contract_t *c;
	ct_cstatus_t st;
	int err;

	if ((c = bnd_contract_args(env, info, 1, argv)) == NULL)
		return (NULL);
	if ((err = ct_contract_status(c, &st)) != 0)
		return (bnd_throw_sys(env, err, "ct_status_read",
		    "cannot read the contract status"));
	o = bnd_status_object(env, &st);
	ct_cstatus_fini(&st);
	return (o);
}

static napi_value
b_abandon(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_contract_t *c;

	if ((c = bnd_contract_args(env, info, 1, argv)) == NULL)
		return (NULL);
	return (bnd_result(env, ct_contract_abandon(c), "ct_ctl_abandon",
	    "cannot abandon the contract"));
}

typedef int (*ackfn_t)(ct_contract_t *, ct_evid_t);

static napi_value
ack_common(napi_env env, napi_callback_info info, ackfn_t fn,
    const char *syscall)
{
	napi_value argv[2];
	ct_contract_t *c;
	ct_evid_t evid;

	if ((c = bnd_contract_args(env, info, 2, argv)) == NULL ||
	    !bnd_get_evid(env, argv[1], &evid))
		return (NULL);
	return (bnd_result(env, fn(c, evid), syscall, "cannot acknowledge"));
}

static napi_value
b_ack(napi_env env, napi_callback_info info)
{
	return (ack_common(env, info, ct_contract_ack, "ct_ctl_ack"));
}

static napi_value
b_nack(napi_env env, napi_callback_info info)
{
	return (ack_common(env, info, ct_contract_nack, "ct_ctl_nack"));
}

static napi_value
b_qack(napi_env env, napi_callback_info info)
{
	return (ack_common(env, info, ct_contract_qack, "ct_ctl_qack"));
}

static napi_value
b_sigsend(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	ct_contract_t *c;
	int64_t sig;

	if ((c = bnd_contract_args(env, info, 2, argv)) == NULL ||
	    !bnd_get_int(env, argv[1], "signal", 0, ct_sig_max(), &sig))
		return (NULL);
	return (bnd_result(env, ct_contract_sigsend(c, (int)sig), "sigsend",
	    "cannot signal the contract"));
}

static napi_value
b_freeze(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	ct_contract_t *c;
	bool on = false;

	if ((c = bnd_contract_args(env, info, 2, argv)) == NULL)
		return (NULL);
	napi_get_value_bool(env, argv[1], &on);
	return (bnd_result(env, ct_contract_freeze(c, on), "write",
	    on ? "cannot freeze" : "cannot thaw"));
}

static napi_value
b_usage(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_contract_t *c;
	ct_usage_t u;
	int err;

	if ((c = bnd_contract_args(env, info, 1, argv)) == NULL)
		return (NULL);
	if ((err = ct_contract_usage(c, &u)) != 0)
		return (bnd_throw_sys(env, err, "read",
		    "cannot read CPU usage"));
	return (bnd_usage_object(env, &u));
}

static napi_value
b_members(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	ct_contract_t *c;
	ct_member_t *m;
	size_t n;
	int err;

	if ((c = bnd_contract_args(env, info, 1, argv)) == NULL)
		return (NULL);
	if ((err = ct_contract_members(c, &m, &n)) != 0)
		return (bnd_throw_sys(env, err, "read",
		    "cannot read the members"));
	napi_value arr = bnd_members_array(env, m, n);
	ct_members_free(m, n);
	return (arr);
}

/* The highest signal number (lib/spawn.js checks killSignal with it). */
static napi_value
b_sig_max(napi_env env, napi_callback_info info)
{
	napi_value argv[1];

	if (!bnd_args(env, info, 0, argv))
		return (NULL);
	return (bnd_num(env, ct_sig_max()));
}

/*
 * The directory of the loaded addon, where its helpers are (lib/binding.js).
 * Not through bnd_args(): a worker loading the module sets the same one.
 */
static napi_value
b_set_helper_dir(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	size_t argc = 1;
	char *s;
	int err;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return (NULL);
	if (argc < 1)
		napi_get_undefined(env, &argv[0]);
	if ((s = bnd_get_str(env, argv[0], "dir")) == NULL)
		return (NULL);
	err = ct_helper_dir_set(s);
	free(s);
	if (err != 0)
		return (bnd_throw_sys(env, err, "strdup",
		    "cannot record the helper directory"));
	return (NULL);
}

static napi_value
b_list(napi_env env, napi_callback_info info)
{
	napi_value argv[1], a;
	ct_type_t type;
	ct_id_t *ids;
	size_t n;
	int err;

	if (!bnd_args(env, info, 1, argv) ||
	    !bnd_get_type(env, argv[0], &type))
		return (NULL);
	if ((err = ct_contract_list(type, &ids, &n)) != 0)
		return (bnd_throw_sys(env, err, "opendir",
		    "cannot list contracts"));
	a = bnd_int_array(env, ids, n);
	free(ids);
	return (a);
}

static napi_value
b_features(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o;
	ct_features_t f;
	int err;

	if (!bnd_args(env, info, 0, argv))
		return (NULL);
	if ((err = ct_features_get(&f)) != 0)
		return (bnd_throw_sys(env, err, "open",
		    "cannot read features"));
	o = bnd_features_object(env, &f);
	ct_features_fini(&f);
	return (o);
}

/* ---- spawn plumbing (lib/spawn.js) ---- */

/* Set the mechanism when given one; the one in use either way. */
static napi_value
b_spawn_mode(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	napi_valuetype t;
	ct_spawn_mode_t mode;

	if (!bnd_args(env, info, 1, argv))
		return (NULL);
	napi_typeof(env, argv[0], &t);
	if (t == napi_string) {
		char *s = bnd_get_str(env, argv[0], "mode");
		int err = ENOTSUP;
		for (int i = 0; s != NULL && i < BND_NSPAWN - 1; i++) {
			if (strcmp(s, bnd_spawn_modes[i]) == 0)
				err = ct_spawn_mode_set((ct_spawn_mode_t)i);
		}
		free(s);
		if (err != 0)
			return (bnd_throw_sys(env, err, "ct_spawn_mode_set",
			    "unsupported spawn mechanism"));
	}
	(void) ct_spawn_mode_get(&mode);
	return (bnd_str(env, bnd_spawn_modes[mode]));
}

static napi_value
b_fork_count(napi_env env, napi_callback_info info)
{
	napi_value argv[1];

	if (!bnd_args(env, info, 0, argv))
		return (NULL);
	return (bnd_num(env, (double)ct_spawn_forks()));
}

static napi_value
b_spawn_prepare(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o;
	ct_id_t id;
	char *procs;
	int err;

	if (!bnd_args(env, info, 0, argv))
		return (NULL);
	if ((err = ct_spawn_prepare(&id, &procs)) != 0)
		return (bnd_throw_sys(env, err, "mkdir",
		    "cannot prepare a contract"));
	napi_create_object(env, &o);
	bnd_set(env, o, "ctid", bnd_num(env, id));
	bnd_set(env, o, "procs", bnd_str(env, procs));
	bnd_set(env, o, "dirfd", bnd_num(env, ct_spawn_dirfd()));
	bnd_set(env, o, "word", bnd_num(env, ct_spawn_wordfd()));
	free(procs);
	return (o);
}

static napi_value
b_spawn_commit(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int64_t id, pid;

	if (!bnd_args(env, info, 2, argv) ||
	    !bnd_get_int(env, argv[0], "ctid", 0, INT32_MAX, &id) ||
	    !bnd_get_int(env, argv[1], "pid", 1, INT32_MAX, &pid) ||
	    !bnd_poll_ensure(env))
		return (NULL);
	int err = ct_spawn_commit((ct_id_t)id, (pid_t)pid);
	ct_id_t made;
	/* Its first events (the child's pr_fork) are this thread's. */
	if (err == 0 && ct_latest_get(CT_TYPE_PROCESS, &made) == 0)
		bnd_created(bnd_inst(env), made);
	if (err == 0)
		ct_err_clear();
	return (bnd_result(env, err, "write",
	    "cannot put the child into its contract"));
}

static napi_value
b_spawn_abort(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int64_t id;

	if (!bnd_args(env, info, 1, argv) ||
	    !bnd_get_int(env, argv[0], "ctid", 0, INT32_MAX, &id))
		return (NULL);
	(void) ct_spawn_abort((ct_id_t)id);
	return (NULL);
}

/*
 * (argv0, dirfd, report, word, file, args) -> the helper's command line, as
 * ct_spawn_argv builds it for the spawn reserved (an array of strings).
 */
static napi_value
b_spawn_argv(napi_env env, napi_callback_info info)
{
	napi_value argv[6], out = NULL;
	int64_t dirfd, report, word;
	char *argv0 = NULL, *file = NULL, **args = NULL, **av = NULL;
	uint32_t n = 0;
	bool isarr = false;
	int err;

	if (!bnd_args(env, info, 6, argv) ||
	    (argv0 = bnd_get_str(env, argv[0], "argv0")) == NULL ||
	    !bnd_get_int(env, argv[1], "dirfd", -1, INT32_MAX, &dirfd) ||
	    !bnd_get_int(env, argv[2], "report", -1, INT32_MAX, &report) ||
	    !bnd_get_int(env, argv[3], "word", -1, INT32_MAX, &word) ||
	    (file = bnd_get_str(env, argv[4], "file")) == NULL)
		goto out;
	if (napi_is_array(env, argv[5], &isarr) != napi_ok || !isarr ||
	    napi_get_array_length(env, argv[5], &n) != napi_ok) {
		bnd_throw_arg(env, "TypeError", "ERR_INVALID_ARG_TYPE",
		    "The \"args\" argument must be an array of strings");
		goto out;
	}
	if ((args = calloc((size_t)n + 1, sizeof (*args))) == NULL) {
		(void) bnd_throw_sys(env, ENOMEM, "malloc", "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		napi_value e;
		if (napi_get_element(env, argv[5], i, &e) != napi_ok ||
		    (args[i] = bnd_get_str(env, e, "args")) == NULL)
			goto out;
	}
	if ((err = ct_spawn_argv(argv0, (int)dirfd, (int)report, (int)word,
	    file, args, &av)) != 0) {
		(void) bnd_throw_sys(env, err, "spawn",
		    "cannot build the helper's command line");
		goto out;
	}
	napi_create_array(env, &out);
	for (uint32_t i = 0; av[i] != NULL; i++)
		napi_set_element(env, out, i, bnd_str(env, av[i]));
out:
	ct_spawn_argv_free(av);
	for (uint32_t i = 0; args != NULL && i < n; i++)
		free(args[i]);
	free(args);
	free(argv0);
	free(file);
	return (out);
}

/* (child, report fd) -> the pid presented as the child: the program's. */
static napi_value
b_spawn_first(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int64_t pid, fd;
	pid_t first;
	int err;

	if (!bnd_args(env, info, 2, argv) ||
	    !bnd_get_int(env, argv[0], "pid", 1, INT32_MAX, &pid) ||
	    !bnd_get_int(env, argv[1], "fd", -1, INT32_MAX, &fd))
		return (NULL);
	if ((err = ct_spawn_first((pid_t)pid, (int)fd, &first)) != 0)
		return (bnd_result(env, err, "read", "cannot find the program"));
	return (bnd_num(env, (double)first));
}

/* (child, signal number) -> 0 or an errno (as process.kill reports). */
static napi_value
b_spawn_signal(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int64_t pid, sig;

	if (!bnd_args(env, info, 2, argv) ||
	    !bnd_get_int(env, argv[0], "pid", 1, INT32_MAX, &pid) ||
	    !bnd_get_int(env, argv[1], "signal", 0, 64, &sig))
		return (NULL);
	return (bnd_num(env, (double)ct_spawn_signal((pid_t)pid, (int)sig)));
}

static napi_value
b_spawn_release(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int64_t pid;

	if (!bnd_args(env, info, 1, argv) ||
	    !bnd_get_int(env, argv[0], "pid", 1, INT32_MAX, &pid) ||
	    !bnd_poll_ensure(env))
		return (NULL);
	return (bnd_result(env, ct_spawn_release((pid_t)pid), "pidfd_open",
	    "cannot follow the child"));
}

/* spawnReady(spawning): ct_spawn_ready; true right before a spawn. */
static napi_value
b_spawn_ready(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	bool spawning = false;

	if (!bnd_args(env, info, 1, argv))
		return (NULL);
	/* Anything but true (undefined: the refill after a spawn) is false. */
	if (napi_get_value_bool(env, argv[0], &spawning) != napi_ok)
		spawning = false;
	return (bnd_result(env, ct_spawn_ready(spawning), "mkdir",
	    "cannot prepare the next contract"));
}

/* ---- PID 1 (docs/containers.md, "Node as PID 1") ---- */

/* Whether we reap; if so, at this env's SIGCHLD (its watch made now). */
static napi_value
reaping(napi_env env, bool on)
{
	napi_value r;

	if (on && !bnd_reap_watch(env))
		return (bnd_throw_sys(env, EIO, "uv_signal_start",
		    "cannot watch SIGCHLD"));
	napi_get_boolean(env, on, &r);
	return (r);
}

/* () -> whether this process reaps (PID 1); if so, at this env's SIGCHLD. */
static napi_value
b_reap_start(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	bool on = false;
	int err;

	if (!bnd_args(env, info, 0, argv))
		return (NULL);
	if ((err = ct_reap_start(&on)) != 0)
		return (bnd_throw_sys(env, err, "open",
		    "cannot list this process's children"));
	return (reaping(env, on));
}

/* () -> true: a child subreaper that reaps, at this env's SIGCHLD. */
static napi_value
b_reap_subreaper(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	bool on = false;
	int err;

	if (!bnd_args(env, info, 0, argv))
		return (NULL);
	if ((err = ct_reap_subreaper(&on)) != 0)
		return (bnd_throw_sys(env, err, "prctl",
		    "cannot become the subreaper of our anchors"));
	return (reaping(env, on));
}

/* (pid, on): pid 0 is a spawn in flight; else a pid someone waits for. */
static napi_value
b_reap_guard(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int64_t pid;
	bool on = false;

	if (!bnd_args(env, info, 2, argv) ||
	    !bnd_get_int(env, argv[0], "pid", 0, INT32_MAX, &pid))
		return (NULL);
	napi_get_value_bool(env, argv[1], &on);
	return (bnd_result(env, bnd_reap_guard(env, (pid_t)pid, on), "waitpid",
	    "cannot keep track of the child"));
}

/* ---- module ---- */

static const struct export {
	const char *name;
	napi_callback fn;
} exports_table[] = {
	{ "setTemplate", b_set_template },
	{ "clearTemplate", b_clear_template },
	{ "latest", b_latest },
	{ "create", b_create },
	{ "open", b_open },
	{ "close", b_close },
	{ "gen", b_gen },
	{ "status", b_status },
	{ "abandon", b_abandon },
	{ "ack", b_ack },
	{ "nack", b_nack },
	{ "qack", b_qack },
	{ "sigsend", b_sigsend },
	{ "freeze", b_freeze },
	{ "usage", b_usage },
	{ "members", b_members },
	{ "list", b_list },
	{ "sigMax", b_sig_max },
	{ "features", b_features },
	{ "setDispatch", b_set_dispatch },
	{ "ref", b_ref },
	{ "spawnMode", b_spawn_mode },
	{ "forkCount", b_fork_count },
	{ "spawnPrepare", b_spawn_prepare },
	{ "spawnCommit", b_spawn_commit },
	{ "spawnAbort", b_spawn_abort },
	{ "spawnReady", b_spawn_ready },
	{ "spawnArgv", b_spawn_argv },
	{ "spawnFirst", b_spawn_first },
	{ "spawnSignal", b_spawn_signal },
	{ "spawnRelease", b_spawn_release },
	{ "reapStart", b_reap_start },
	{ "reapSubreaper", b_reap_subreaper },
	{ "reapGuard", b_reap_guard },
	{ "setHelperDir", b_set_helper_dir },
	{ "trace", bnd_trace },
	{ "traceArm", bnd_trace_arm },
};

/*
 * Every export runs under the backend's lock: any number of threads
 * (worker_threads) may call in at once, and the backend serves one at a
 * time.  data is the export's row of the table.
 */
static napi_value
locked(napi_env env, napi_callback_info info)
{
	const struct export *row;
	napi_value r;

	if (napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&row) !=
	    napi_ok)
		return (NULL);
	ct_lock();
	r = row->fn(env, info);
	ct_unlock();
	return (r);
}

NAPI_MODULE_INIT()
{
	napi_value fn;

	if (!bnd_inst_init(env))
		return (NULL);
	for (size_t i = 0; i < sizeof (exports_table) /
	    sizeof (exports_table[0]); i++) {
		if (napi_create_function(env, exports_table[i].name,
		    NAPI_AUTO_LENGTH, locked, (void *)&exports_table[i], &fn) !=
		    napi_ok || napi_set_named_property(env, exports,
		    exports_table[i].name, fn) != napi_ok)
			return (NULL);
	}
	return (exports);
}

/*
 * ct.h -- the portable core of illumos_contract.
 *
 * Every OS backend (src/illumos/, src/linux/) implements the functions
 * declared in the "backend" sections below; src/names.c, src/template.c,
 * src/error.c, src/records.c and src/evpop.c are the core, shared by all
 * of them.
 * The Node-API glue (src/binding.c, src/binding/) and the tools (src/cli/) call nothing
 * else.
 *
 * Conventions (libcontract's): functions return 0 or an errno value and
 * never -1.  When a backend fails it may leave a human-readable detail of
 * what it attempted with ct_err_set(); the caller reads it with
 * ct_err_syscall()/ct_err_message() before the next call on that thread.
 *
 * Constants carry the illumos numbers but an NC_ prefix, so that this
 * header can be included next to <sys/contract.h> (src/illumos/ctfs.c
 * checks that the numbers agree at compile time).  Function names avoid libcontract's
 * own scopes (ct_tmpl_*, ct_ctl_*, ct_status_*, ct_event_*).
 */
#ifndef CT_H
#define CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t ct_id_t;	/* contract id: 1..INT32_MAX */
typedef uint64_t ct_evid_t;	/* event id, unique per type */

typedef enum {
	CT_TYPE_PROCESS = 0,
	CT_TYPE_DEVICE = 1,
	CT_TYPE_COUNT = 2	/* also "every type" where a type is optional */
} ct_type_t;

/* Common event type (contract(5)). */
#define	NC_EV_NEGEND		0x0

/* Process events (process(5)); also the bits of critical/informative/fatal. */
#define	NC_PR_EV_EMPTY		0x1
#define	NC_PR_EV_FORK		0x2
#define	NC_PR_EV_EXIT		0x4
#define	NC_PR_EV_CORE		0x8
#define	NC_PR_EV_SIGNAL		0x10
#define	NC_PR_EV_HWERR		0x20
#define	NC_PR_ALLEVENT		0x3f
#define	NC_PR_ALLFATAL		0x38	/* CORE|SIGNAL|HWERR */

/* Process parameters. */
#define	NC_PR_INHERIT		0x1
#define	NC_PR_NOORPHAN		0x2
#define	NC_PR_PGRPONLY		0x4
#define	NC_PR_REGENT		0x8
#define	NC_PR_ALLPARAM		0xf

/* Device events, states and A-set bits (device_contract(5)). */
#define	NC_DEV_EV_ONLINE	0x1
#define	NC_DEV_EV_DEGRADED	0x2
#define	NC_DEV_EV_OFFLINE	0x4
#define	NC_DEV_ALLEVENT		0x7

/*
 * Events that are not illumos events (extensions).  Their numbers are
 * above every real event bit of every type.
 */
#define	NC_EVX_LOST		0x10000	/* kernel dropped events; see payload */
#define	NC_EVX_FROZEN		0x20000	/* cgroup.events reports frozen 1 */
#define	NC_EVX_THAWED		0x40000	/* cgroup.events reports frozen 0 */
#define	NC_EVX_EMPTIED		0x80000	/* empty, whatever the sets say */
/*
 * Its membership can never be known now (a killed anchor, a record that
 * fails its proof): never empty.  Its error says which (CT_EVP_ERROR).
 */
#define	NC_EVX_BROKEN		0x100000

/* Event flags (ctev_flags). */
#define	NC_EVF_ACK		0x1	/* has been acknowledged */
#define	NC_EVF_INFO		0x2	/* informative */
#define	NC_EVF_NEG		0x4	/* negotiation */
/*
 * Not an illumos flag: a pr_empty the backend subscribed for the core,
 * not the user (see "Backend: events").  The core consumes it.
 */
#define	NC_EVF_INTERNAL		0x100

/* Contract states. */
#define	NC_ST_OWNED		0
#define	NC_ST_INHERITED		1
#define	NC_ST_ORPHAN		2
#define	NC_ST_DEAD		3

/* Defaults of a fresh template (docs/ARCHITECTURE.md, "Templates and defaults"). */
#define	NC_PR_DEF_CRITICAL	(NC_PR_EV_EMPTY | NC_PR_EV_HWERR)
#define	NC_PR_DEF_INFO		(NC_PR_EV_CORE | NC_PR_EV_SIGNAL)
#define	NC_PR_DEF_FATAL		NC_PR_EV_HWERR
#define	NC_DEV_DEF_CRITICAL	NC_DEV_EV_OFFLINE
#define	NC_DEV_DEF_INFO		NC_DEV_EV_DEGRADED
#define	NC_DEV_DEF_ASET		(NC_DEV_EV_ONLINE | NC_DEV_EV_DEGRADED)

#define	NC_PARAM_MAX_SIZE	8192	/* CT_PARAM_MAX_SIZE, incl. the NUL */

/* ------------------------------------------------------------------ */
/* Errors (src/error.c) */

/*
 * Record what was being attempted when a call fails, for the thread's
 * next error report.  fmt is printf-style; the text is heap-allocated, so
 * paths of any length fit.  Always returns err, so a backend can write
 * "return ct_err_set(errno, "open", "cannot open %s", path);".
 */
int ct_err_set(int err, const char *syscall, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void ct_err_clear(void);
const char *ct_err_syscall(void);	/* NULL when none recorded */
const char *ct_err_message(void);	/* NULL when none recorded */

/* ------------------------------------------------------------------ */
/* Names (src/names.c): name <-> bit tables */

typedef struct ct_name {
	const char *name;
	uint32_t value;
} ct_name_t;

/* Event names of a type, "negend" first; terminated by { NULL, 0 }. */
const ct_name_t *ct_names_events(ct_type_t type);
extern const ct_name_t ct_names_params[];	/* inherit noorphan ... */
extern const ct_name_t ct_names_devstates[];	/* online degraded offline */
extern const ct_name_t ct_names_states[];	/* owned inherited ... */
extern const ct_name_t ct_names_types[];	/* process device */

/* 0 and *valuep set, or ENOENT. */
int ct_names_lookup(const ct_name_t *tab, const char *name,
    uint32_t *valuep);
/* The name of value, or NULL. */
const char *ct_names_name(const ct_name_t *tab, uint32_t value);
/* Event name of an event type of a contract type (extensions included). */
const char *ct_names_event(ct_type_t type, uint32_t evtype);
/* "ENOENT" for ENOENT ...; NULL for numbers it does not know. */
const char *ct_names_errno(int err);
/* The highest signal number of this system (64 on Linux, 73 on illumos). */
int ct_sig_max(void);

/* ------------------------------------------------------------------ */
/* Templates (src/template.c) */

/* Which terms a template object gave explicitly. */
#define	CT_T_CRITICAL		0x001
#define	CT_T_INFO		0x002
#define	CT_T_COOKIE		0x004
#define	CT_T_FATAL		0x008
#define	CT_T_PARAM		0x010
#define	CT_T_TRANSFER		0x020
#define	CT_T_SVC_FMRI		0x040
#define	CT_T_SVC_AUX		0x080
#define	CT_T_DEV_MINOR		0x100
#define	CT_T_DEV_ASET		0x200
#define	CT_T_DEV_NONEG		0x400

typedef struct ct_template {
	ct_type_t type;
	uint32_t given;		/* CT_T_* */
	uint32_t critical;
	uint32_t informative;
	uint64_t cookie;
	/* process */
	uint32_t fatal;
	uint32_t params;
	ct_id_t transfer;
	char *svc_fmri;		/* NULL: inherit */
	char *svc_aux;		/* NULL: "" */
	/* device */
	char *dev_minor;	/* NULL: unset */
	uint32_t dev_aset;
	bool dev_noneg;
} ct_template_t;

/*
 * A JavaScript value as the binding hands it to the parser.  Objects are
 * one level of key/value pairs; anything the parser never accepts
 * (arrays, functions, symbols, null, undefined, nested objects inside a
 * set) arrives with a kind that says what it was, for the error message.
 */
typedef enum {
	CT_V_UNDEFINED, CT_V_NULL, CT_V_BOOL, CT_V_NUMBER, CT_V_BIGINT,
	CT_V_STRING, CT_V_OBJECT, CT_V_ARRAY, CT_V_FUNCTION, CT_V_SYMBOL,
	CT_V_OTHER
} ct_vkind_t;

typedef struct ct_value ct_value_t;
struct ct_value {
	ct_vkind_t kind;
	bool b;			/* BOOL */
	double num;		/* NUMBER */
	uint64_t big;		/* BIGINT: magnitude ... */
	bool big_neg;		/* ... sign ... */
	bool big_lossless;	/* ... and whether it fit in 64 bits */
	const char *str;	/* STRING (NUL-terminated) */
	size_t len;		/* STRING length in bytes */
	size_t nkeys;		/* OBJECT */
	const char *const *keys;
	const ct_value_t *vals;
};

/* Parse errors say which JS error to throw. */
typedef enum { CT_PE_TYPE, CT_PE_RANGE, CT_PE_ERROR } ct_pe_class_t;
typedef struct ct_perr {
	ct_pe_class_t cls;
	const char *code;	/* "ERR_INVALID_ARG_TYPE" ... (static) */
	char *message;		/* heap; free with ct_perr_fini */
} ct_perr_t;

void ct_perr_fini(ct_perr_t *e);

/* Fresh template of a type with the OS defaults (docs/ARCHITECTURE.md, "Templates and defaults"). */
void ct_template_init(ct_template_t *t, ct_type_t type);
/*
 * Parse a template object.  0 and *t filled (owning its strings), or
 * EINVAL/ERANGE/ENOMEM with *err describing the problem.
 */
int ct_template_parse(const ct_value_t *obj, ct_template_t *t,
    ct_perr_t *err);
int ct_template_copy(ct_template_t *dst, const ct_template_t *src);
void ct_template_fini(ct_template_t *t);
/* Parse a 64-bit cookie or event id string: decimal or 0x hex, nothing else. */
int ct_parse_u64(const char *s, uint64_t *vp);

/* ------------------------------------------------------------------ */
/* Backend: templates and creation (per thread, as on illumos) */

/* Activate a copy of t for the calling thread; replaces only its type. */
int ct_tmpl_active_set(const ct_template_t *t);
/* Clear the calling thread's active template of type (CT_TYPE_COUNT: all). */
int ct_tmpl_active_clear(ct_type_t type);
/* The newest contract of type created by the calling thread; ESRCH if none. */
int ct_latest_get(ct_type_t type, ct_id_t *idp);
/* Create a contract from the active template of type (device only). */
int ct_tmpl_create_now(ct_type_t type, ct_id_t *idp);

/*
 * How children get into a new contract on this system.
 *   CT_SPAWN_KERNEL  the kernel does it at fork (illumos)
 *   CT_SPAWN_ATFORK  pthread_atfork handlers join the child (Linux, fork())
 *   CT_SPAWN_SHIM    children are run through the exec shim (Linux)
 *   CT_SPAWN_REAPER  reaper membership (Linux): every child is run by its
 *                    contract's anchor (ct-exec --anchor, the first
 *                    process, a subreaper); one name with
 *                    features.membership: "reaper"
 */
typedef enum {
	CT_SPAWN_KERNEL = 0, CT_SPAWN_ATFORK = 1, CT_SPAWN_SHIM = 2,
	CT_SPAWN_REAPER = 3
} ct_spawn_mode_t;

int ct_spawn_mode_get(ct_spawn_mode_t *modep);
int ct_spawn_mode_set(ct_spawn_mode_t mode);
/* Forks seen by the atfork handlers on this thread (for the probe). */
uint64_t ct_spawn_forks(void);
/*
 * Shim and anchor modes: reserve the contract for the next spawn from the
 * calling thread's active process template.  *procsp (heap, caller frees)
 * is, for the shim, the file it writes "0" to before it execs the
 * program; for an anchor, the contract's directory.
 */
int ct_spawn_prepare(ct_id_t *idp, char **procsp);
/*
 * For an anchor: the open directory of the contract ct_spawn_prepare
 * reserved, for the child to inherit (it gets its directory as an fd, not
 * as a path anyone could redirect), else -1.  Ours: never closed by the
 * caller.
 */
int ct_spawn_dirfd(void);
/*
 * For the same spawn: the fd the anchor says "empty" on (its --word), to
 * be passed to it as ct_spawn_dirfd's is; -1 when the mechanism has none
 * or it cannot be made (the contract's end is then seen when the anchor
 * exits, later by one process exit).
 */
int ct_spawn_wordfd(void);
/*
 * The helper's command line (ct-exec, src/helpers/) that runs file with
 * argv (argv[0] included) for the spawn ct_spawn_prepare reserved, in the
 * mode in use: argv0, then the shim's join file (CT_SPAWN_SHIM) or the
 * anchor's --anchor [--report REPORT] [--word WORD ID] @DIRFD
 * (CT_SPAWN_REAPER; the fds as the child has them, -1: none), then file
 * and argv.  Built here
 * only, for the spawn hook and ctrun alike: NULL-terminated, every string
 * malloc'd (ct_spawn_argv_free).  EINVAL: no spawn reserved, or a mode
 * that runs no helper.
 */
int ct_spawn_argv(const char *argv0, int dirfd, int report, int word,
    const char *file, char *const argv[], char ***avp);
void ct_spawn_argv_free(char **av);
/*
 * After a successful spawn of pid (any mode): the contract made for it is
 * the thread's latest; in shim mode pid is moved in from the parent
 * before this returns, so the contract is never seen without its first
 * member.  id is the one ct_spawn_prepare gave, or 0 in atfork mode.
 */
int ct_spawn_commit(ct_id_t id, pid_t pid);
/* The spawn failed before a child existed: remove the reserved contract. */
int ct_spawn_abort(ct_id_t id);
/*
 * The child a spawn started, as its caller presents it (docs/ARCHITECTURE.md,
 * "Linux: membership"): under reaper membership the child is the
 * contract's anchor and the program is its first member; elsewhere the
 * child is the program.  ct_spawn_first: the program's pid, once it runs
 * (child itself where they are one); report is the caller's end of the
 * anchor's report pipe (ct-exec --anchor --report), whose first line,
 * the pid, it reads and leaves the rest (-1: none, child stands in).  ct_spawn_signal: send sig to that
 * program (through the anchor, which is the only one that may know it is
 * still the program).  ct_spawn_release: the caller stopped waiting for
 * child before it exited (it reported the program's exit instead): reap
 * it when it exits.
 */
int ct_spawn_first(pid_t child, int report, pid_t *firstp);
int ct_spawn_signal(pid_t child, int sig);
int ct_spawn_release(pid_t child);
/*
 * Make the next contract ahead of need, off the spawn's path (after a
 * spawn, while a process template stays active).  0 where nothing is due.
 * spawning: called right before a spawn that its caller ends with
 * ct_spawn_commit or ct_spawn_abort, whatever happens: the backend may
 * leave to the commit what it would record at a fork nobody commits.
 */
int ct_spawn_ready(bool spawning);

/*
 * PID 1 of a pid namespace (docs/containers.md, "Node as PID 1"): the
 * zombies handed to us that nobody else will wait for.  Off (nothing is
 * ever reaped, every call does nothing) unless ct_reap_start turned it
 * on, which it does only in PID 1 with a /proc of its own namespace.
 * ct_reap_start: *onp says whether it is on; the first call protects every
 * child we have then (its waiter is unknown) until it is gone.
 * ct_reap_guard: pid > 0, someone else (libuv, spawnSync) waits for pid:
 * never reap it (on), or it was waited for (off, counted: as often as on);
 * pid 0, a spawn is in flight whose pid is not known yet (on) or is now
 * guarded (off): no reap runs while one is.  An off never fails (ENOMEM
 * only from an on).  ct_reap: reap now what may be reaped (later, when a
 * spawn is in flight); the guard's off runs it too.
 */
int ct_reap_start(bool *onp);
/*
 * About to spawn an anchor (reaper membership): become a child subreaper
 * and reap, as PID 1 does, so that a killed anchor's tree comes back to
 * us (docs/security.md, "A killed anchor").  *onp: reaping now.
 */
int ct_reap_subreaper(bool *onp);
int ct_reap_guard(pid_t pid, bool on);
int ct_reap(void);

/* ------------------------------------------------------------------ */
/* Backend: contracts */

typedef struct ct_contract ct_contract_t;

typedef enum {
	CT_OPEN_LATEST = 0,	/* created by us: owned */
	CT_OPEN_ADOPT = 1,	/* take over an orphan/inherited contract */
	CT_OPEN_OBSERVE = 2	/* status and events, no control */
} ct_open_t;

int ct_contract_open(ct_id_t id, ct_open_t how, ct_contract_t **cp);
void ct_contract_close(ct_contract_t *c);
ct_id_t ct_contract_id(const ct_contract_t *c);
ct_type_t ct_contract_type(const ct_contract_t *c);
bool ct_contract_owned(const ct_contract_t *c);
/*
 * Which contract of its id the handle is on, as in ct_evrec_t.gen: ids
 * can be reused while an old handle is open.  0 where they cannot be.
 */
uint64_t ct_contract_gen(const ct_contract_t *c);

typedef struct ct_cstatus {
	ct_id_t ctid;
	int32_t zoneid;
	ct_type_t type;
	int state;		/* NC_ST_* */
	int32_t holder;		/* pid, regent ctid, or 0 */
	uint32_t nevents;	/* unacknowledged critical events */
	int32_t ntime, qtime;
	uint64_t nevid;
	uint64_t cookie;
	uint32_t critical, informative;
	/* process */
	uint32_t params, fatal;
	pid_t *members;
	size_t nmembers;
	ct_id_t *contracts;
	size_t ncontracts;
	char *svc_fmri, *svc_aux, *svc_creator;	/* NULL when absent */
	ct_id_t svc_ctid;
	/* device */
	uint32_t dev_state, dev_aset;
	bool dev_noneg;
	char *dev_minor;
	/* extensions; -1 / 0 where the backend has none */
	int frozen;		/* 1, 0, or -1 (no freezer) */
	uint64_t lost;		/* events the kernel dropped (NC_EVX_LOST) */
} ct_cstatus_t;

int ct_contract_status(ct_contract_t *c, ct_cstatus_t *st);
void ct_cstatus_fini(ct_cstatus_t *st);	/* core: src/records.c */

int ct_contract_abandon(ct_contract_t *c);
int ct_contract_ack(ct_contract_t *c, ct_evid_t evid);
int ct_contract_nack(ct_contract_t *c, ct_evid_t evid);
int ct_contract_qack(ct_contract_t *c, ct_evid_t evid);
/* Signal every member (sig 0: check only); ESRCH when there is none. */
int ct_contract_sigsend(ct_contract_t *c, int sig);

/*
 * Extensions; ENOTSUP where the OS has no such thing, and then
 * ct_features_t says so (freeze, usage): the layers above never call
 * what the features deny.
 */
int ct_contract_freeze(ct_contract_t *c, bool freeze);
typedef struct ct_usage {
	uint64_t user_usec, system_usec;
	bool have_memory;
	uint64_t memory_current, memory_peak;
} ct_usage_t;
int ct_contract_usage(ct_contract_t *c, ct_usage_t *u);

/*
 * The live members now, one record each (held and observed contracts):
 * comm and argv as the OS reports them (argv empty for a zombie, and cut
 * at CT_MEMBER_ARGMAX bytes, since a member writes its own), state the
 * one-letter process state, start_ms the start in ms since the epoch.  A
 * member that exits while it is read is left out.  Free with
 * ct_members_free (core: src/records.c).
 */
#define	CT_MEMBER_ARGMAX	(256 * 1024)
typedef struct ct_member {
	pid_t pid, ppid;
	char state;
	char *comm;
	char **argv;		/* argc strings */
	size_t argc;
	uint64_t start_ms;
	uint64_t user_usec, system_usec;	/* its own CPU so far */
} ct_member_t;
int ct_contract_members(ct_contract_t *c, ct_member_t **mp, size_t *np);
void ct_members_free(ct_member_t *m, size_t n);
void ct_members_free_one(ct_member_t *m);	/* and leave it zeroed */

/* Contract ids of a type (CT_TYPE_COUNT: all) visible to the caller. */
int ct_contract_list(ct_type_t type, ct_id_t **idsp, size_t *np);

/* ------------------------------------------------------------------ */
/* Backend: events */

/* Payload fields present in an event (ct_evrec_t.have). */
#define	CT_EVP_PID		0x001
#define	CT_EVP_PPID		0x002
#define	CT_EVP_EXITSTATUS	0x004
#define	CT_EVP_SIGNAL		0x008
#define	CT_EVP_SENDER		0x010
#define	CT_EVP_SENDCT		0x020
#define	CT_EVP_NEVID		0x040
#define	CT_EVP_NEWCT		0x080
#define	CT_EVP_LOST		0x100
#define	CT_EVP_ERROR		0x200

typedef struct ct_evrec {
	ct_id_t ctid;
	uint64_t gen;		/* which contract of that id; 0: any */
	ct_type_t cttype;
	ct_evid_t evid;
	uint32_t type;		/* event bit, NC_EV_NEGEND, or NC_EVX_* */
	uint32_t flags;		/* NC_EVF_* */
	uint32_t have;		/* CT_EVP_* */
	pid_t pid, ppid, sender;
	int exitstatus, signal;
	ct_id_t sender_ctid, newct;
	uint64_t nevid;
	uint64_t lost_forks, lost_exits;	/* NC_EVX_LOST lower bounds */
	int error;		/* NC_EVX_BROKEN: why, an errno value */
	char *pcorefile, *gcorefile, *zcorefile;	/* heap or NULL */
} ct_evrec_t;

/*
 * One file descriptor that becomes readable whenever ct_evq_dispatch()
 * has work, or ct_evq_next() has events queued; the binding polls it on
 * the event loop.
 */
int ct_evq_fd(int *fdp);
/* Read every ready source without blocking and queue the events. */
int ct_evq_dispatch(void);
/*
 * Backend: pop the oldest queued event: 0, or ENOENT when there is none.
 * Callers use ct_evq_pop() instead.
 *
 * The duty every backend meets here: the emptiness of a process contract
 * this process holds reaches this queue, whatever the contract's sets
 * say, as its pr_empty (the kernel's, or the backend's own), carrying
 * NC_EVF_INTERNAL when the user's terms did not ask for it (the backend
 * subscribed it: illumos sends pr_empty only when a set has it).  No
 * backend makes NC_EVX_EMPTIED: the core does (ct_evq_pop).
 * Held contracts are those opened CT_OPEN_LATEST or CT_OPEN_ADOPT whose
 * terms let the backend learn it (an adopted illumos contract whose sets
 * leave pr_empty out never says it emptied).
 */
int ct_evq_next(ct_evrec_t *ev);
/*
 * Core (src/evpop.c): the next event for the layers above, popped with
 * next (the backend's ct_evq_next: ct_evq_pop(ct_evq_next, &ev)).  It is
 * what next gives, except that every process pr_empty is preceded by
 * an NC_EVX_EMPTIED record for the same contract, and a pr_empty marked
 * NC_EVF_INTERNAL is replaced by that record.  The JS layer waits on NC_EVX_EMPTIED ("_emptied") in
 * stop() and run(), and releases the event loop with it.
 */
int ct_evq_pop(int (*next)(ct_evrec_t *), ct_evrec_t *ev);
void ct_evrec_fini(ct_evrec_t *ev);	/* core: src/records.c */

/* ------------------------------------------------------------------ */
/* Backend: traces (docs/trace.md) */

/* What a trace record could not learn (ct_proc_t.missed). */
#define	CT_PM_ARGV	0x1	/* no argv: argv is [comm] or empty */
#define	CT_PM_CPU	0x2	/* exited, CPU unknown (reaped too soon) */
#define	CT_PM_EXIT	0x4	/* its EXIT was lost: end time is a bound */
#define	CT_PM_FORK	0x8	/* its FORK was lost: start time is a bound */

/* One process that was a member of a traced contract. */
typedef struct ct_proc {
	pid_t pid, ppid;
	char *argv;		/* NUL-separated words, argvlen bytes */
	size_t argvlen;
	uint64_t start_us, end_us;	/* CLOCK_REALTIME µs; end 0: running */
	bool exited;
	int exitstatus;		/* raw wait status, once exited */
	uint64_t user_usec, system_usec;	/* valid once exited, !CPU */
	uint32_t missed;	/* CT_PM_* */
	uint64_t *exec_us;	/* when it exec'd (each exec) */
	size_t nexec;
} ct_proc_t;

typedef struct ct_trace {
	ct_proc_t *procs;	/* in order of first sight */
	size_t nprocs;
	uint64_t lost;		/* connector overflows while it was traced */
} ct_trace_t;

/*
 * Trace the contracts this thread creates from now on (true) until it
 * says false: every process that becomes a member gets a record.  Call
 * it around a spawn.  ENOTSUP where no per-process events can be had.
 */
int ct_trace_arm(bool on);
/* A copy of the records of a traced contract (ENOENT: not traced). */
int ct_contract_trace(ct_contract_t *c, ct_trace_t *t);
void ct_trace_fini(ct_trace_t *t);	/* core: src/records.c */

/* ------------------------------------------------------------------ */
/* Backend: what this host delivers */

typedef struct ct_features {
	const char *backend;	/* "linux", "illumos" (static) */
	char *root;		/* contract root in use, or NULL */
	char *root_error;	/* why there is none, or NULL */
	int root_errno;
	bool delegated;		/* root lives in a delegated cgroup */
	bool freeze, usage, memory;
	uint32_t pr_events;	/* process events that can be delivered */
	bool devices;		/* device contracts */
	bool holder_death;	/* noorphan/orphan applied when a holder dies */
	const char *membership;	/* "cgroup", "reaper" (static), or NULL */
	ct_spawn_mode_t spawn;
	bool trace;		/* ct_trace_arm can succeed */
} ct_features_t;

int ct_features_get(ct_features_t *f);
void ct_features_fini(ct_features_t *f);	/* core: src/records.c */

/*
 * Core (src/helperdir.c): the directory of the helper programs, set once
 * by whoever knows where the loaded addon is; NULL when nobody did (a
 * program then looks beside its own executable).
 */
/*
 * The backend serves one caller at a time (src/lock.c): the binding holds
 * this around every call, from any thread.  Recursive.
 */
void ct_lock(void);
void ct_unlock(void);

int ct_helper_dir_set(const char *dir);
const char *ct_helper_dir(void);

#ifdef __cplusplus
}
#endif

#endif /* CT_H */

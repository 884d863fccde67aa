/*
 * lx.h -- internals of the Linux backend.  docs/ARCHITECTURE.md draws the
 * files and who may call whom; in short, from the bottom up:
 *
 *   parse.c      pure parsers and encoders of kernel and metadata text
 *   map.c        integer-keyed hash tables
 *   safeio.c     bounded reads of files others may have planted
 *   trylock.c    flock with a bound on the wait
 *   proc.c       process identity from /proc (pid + start time)
 *   reap.c       PID 1, or a holder of anchors (a child subreaper):
 *                reaping the zombies handed to us that nobody else waits
 *                for (ct_reap_*; spawn.c guards what it reaps)
 *   procinfo.c   what members() shows of a process (argv, comm, state)
 *   core.c       where a dumping member's core file goes
 *   sigsend.c    signals to members only, through pidfds
 *   meta.c       a contract's records (terms, holder state, counters),
 *                kept by the membership mechanism; the mechanism in use
 *   cgroup.c     membership by cgroup v2 directory (lx_mship_cgroup)
 *   anchorproof.c  whether a process is a contract's anchor
 *   custody.c    a killed anchor's tree, handed back to us: whose it is
 *   reaper.c     membership by subreaper anchor (lx_mship_reaper)
 *   root.c       the contract root: finding it, ids, opening, scanning;
 *                lx_root_get runs holder.c's sweep once (its one call down)
 *   holder.c     the holder-death rules and the sweep
 *   evloop.c     the event loop's one fd: sources, notices, the records
 *   nlwalk.c     netlink datagrams, bounds-checked (fuzzed)
 *   connector.c  the netlink proc connector
 *   trace.c      the records of a traced contract's processes
 *   keep.c       the holder's side of the keeper process
 *   watch.c      watches: what is known of each contract we follow
 *   members.c    the member table (pid -> watch), member events from the
 *                connector (fork, exit, core); one layer with watch.c
 *                (watch.h)
 *   publish.c    records made of what watch.c and members.c learn (same
 *                layer, watch.h)
 *   device.c     device contracts from kernel uevents
 *   contract.c   ct_contract_* : open, status, control
 *   features.c   ct_features_get, ct_contract_list
 *   spawn.c      putting a new child into a new contract
 *   tmpl.c       ct_tmpl_* : active templates, latest, create
 *
 * Beside the list: glibc_floor.c, linked into the prebuilt addon only,
 * keeps its glibc symbol versions at 2.28 (no calls into the backend).
 *
 * A file calls only files above it in this list (and evloop.c's handlers and
 * the membership table call back only through pointers they were given).
 */
#ifndef LX_H
#define LX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ct.h"

/*
 * Test switches (ILLUMOS_CONTRACT_TEST_*): read only in a test build
 * (CT_TEST_BUILD, set by test/build.sh for npm test); a release build has
 * none, so no environment can make it misbehave (docs/security.md).
 */
#ifdef CT_TEST_BUILD
#define	LX_TEST_ENV(name)	secure_getenv(name)
#else
#define	LX_TEST_ENV(name)	((void)(name), (const char *)NULL)
#endif
/* root.c: a test switch's pause (none in a release build). */
void lx_test_stall(const char *env, long unit_us, long max, long *cachep);

/* ------------------------------------------------------------------ */
/* parse.c: text in, values out; no system calls */

/* cgroup.events: "populated" and "frozen" (-1 where a key is absent). */
int lx_parse_events(const char *buf, int *populatedp, int *frozenp);
/* Whitespace-separated decimal pids (cgroup.procs, .../children). */
int lx_parse_pids(const char *buf, pid_t **pidsp, size_t *np);
/* A contract directory's name: a decimal 1..INT32_MAX, nothing else. */
bool lx_parse_ctid(const char *name, ct_id_t *idp);
/* /proc/<pid>/stat: the start time (field 22); ESRCH if a zombie. */
int lx_parse_stat_start(const char *buf, uint64_t *startp);
/* /proc/<pid>/stat: the state letter (field 3; 'Z' a zombie). */
int lx_parse_stat_state(const char *buf, char *statep);
/* /proc/<pid>/stat: the parent's pid (field 4). */
int lx_parse_stat_ppid(const char *buf, pid_t *ppidp);
/* /proc/<pid>/stat: utime, stime, cutime, cstime (fields 14-17), ticks;
 * a zombie's too (what it ran until it exited). */
int lx_parse_stat_times(const char *buf, uint64_t t[4]);
/* The value of "key value" in a flat keyed file (cpu.stat), or 0. */
uint64_t lx_parse_keyed(const char *buf, const char *key);
/* Exactly n space-separated decimals (a record we wrote), else EINVAL. */
int lx_parse_u64s(const char *buf, uint64_t *v, size_t n);
/* Undo mountinfo's octal escapes ("\040" for a space), in place. */
void lx_parse_unescape(char *s);

/* The contract's fixed terms. */
typedef struct lx_terms {
	ct_type_t type;
	uint32_t critical, informative, fatal, params;
	uint64_t cookie;
	ct_id_t svc_ctid;
	ct_id_t regent;		/* the creator's own contract, or 0 */
	char *svc_fmri, *svc_aux, *creator, *dev_minor;	/* NULL: "" */
	char *dev_path;		/* device: its sysfs path, "/devices/..." */
	uint32_t dev_aset;
} lx_terms_t;

/* Terms <-> "v1;key=value;...", strings as "key=<len>:<bytes>;". */
int lx_terms_encode(const lx_terms_t *t, char **bufp, size_t *lenp);
int lx_terms_decode(const char *buf, size_t len, lx_terms_t *t);
int lx_terms_copy(lx_terms_t *dst, const lx_terms_t *src);
void lx_terms_fini(lx_terms_t *t);

/* Who holds a contract, or why nobody does. */
typedef enum {
	LX_SPARE = -1,	/* made ahead of need, not yet a contract */
	LX_OWNED = NC_ST_OWNED,
	LX_INHERITED = NC_ST_INHERITED,
	LX_ORPHAN = NC_ST_ORPHAN,
	LX_DEAD = NC_ST_DEAD
} lx_state_t;

typedef struct lx_hstate {
	lx_state_t state;
	pid_t holder;		/* OWNED/SPARE: the holder's pid */
	uint64_t start;		/* ... and its start time */
	uint64_t pidns;		/* ... and the pid namespace (inode) that pid */
				/* is in; 0: not recorded (older records) */
	ct_id_t regent;		/* INHERITED: the regent contract */
} lx_hstate_t;

/* State <-> "owned <pid> <start>", "inherited <ctid>", "orphan", ... */
int lx_state_encode(const lx_hstate_t *s, char *buf, size_t size);
int lx_state_decode(const char *buf, lx_hstate_t *s);

/* ------------------------------------------------------------------ */
/* map.c: open-addressing hash of int32 keys to pointers */

typedef struct lx_map {
	int32_t *keys;
	void **vals;
	size_t cap;		/* power of two, or 0 */
	size_t n;		/* live entries */
	size_t used;		/* live + tombstones */
} lx_map_t;

void *lx_map_get(const lx_map_t *m, int32_t key);
int lx_map_put(lx_map_t *m, int32_t key, void *val);
void *lx_map_del(lx_map_t *m, int32_t key);
void lx_map_fini(lx_map_t *m);
/* Append pid to a growing vector of pids (*np of them, room for *capp). */
int lx_pids_push(pid_t **vp, size_t *np, size_t *capp, pid_t pid);
/* Delete every key not among keys[0..n) (values are not freed). */
void lx_map_keep_only(lx_map_t *m, const int32_t *keys, size_t n);
/* Iterate: *ip starts at 0; returns false at the end. */
bool lx_map_next(const lx_map_t *m, size_t *ip, int32_t *keyp, void **valp);

/* ------------------------------------------------------------------ */
/* safeio.c: files someone else may have planted, read safely */

/* The cap of lx_read_file: a /proc or cgroupfs file, a tree's pid list. */
#define	LX_READ_CAP	(8u << 20)
/* The cap of a record: more than any we write. */
#define	LX_RECORD_CAP	(64u << 10)
/*
 * A whole regular file (at dirfd, or absolute), NUL-terminated: opened
 * O_NOFOLLOW|O_NONBLOCK, at most cap bytes; EBADMSG for a symlink, a
 * file of another type, or one longer than cap.
 */
int lx_read_bounded(int dirfd, const char *file, size_t cap, char **bufp,
    size_t *lenp);
int lx_read_file(int dirfd, const char *file, char **bufp);
/* A regular file (not a symlink to one) exists there. */
bool lx_is_regular(int dirfd, const char *file);

/* ------------------------------------------------------------------ */
/* trylock.c: flock that another user's lock cannot hold up for long */

#define	LX_LOCK_WAIT_MS	500
/* 0 once locked; EWOULDBLOCK after LX_LOCK_WAIT_MS held by another. */
int lx_trylock(int fd);
void lx_unlock(int fd);

/* ------------------------------------------------------------------ */
/* proc.c */

/* Start time of pid (clock ticks since boot), or ESRCH. */
int lx_proc_start(pid_t pid, uint64_t *startp);
/* CPU time of pid and of the children it reaped (lx_parse_stat_times). */
int lx_proc_times(pid_t pid, uint64_t t[4]);
/* Append the children of every thread of pid (only ENOMEM fails). */
int lx_proc_children(pid_t pid, pid_t **kidsp, size_t *np, size_t *capp);
/* The children of pid's leader thread (a one-thread process: all). */
int lx_proc_kids(pid_t pid, pid_t **kidsp, size_t *np);
/* The parent of pid now, or ESRCH. */
int lx_proc_ppid(pid_t pid, pid_t *ppidp);
/* The state letter of pid now ('Z': a zombie), or ESRCH. */
int lx_proc_state(pid_t pid, char *statep);
/* The start time of pid if it is our child (its parent is us), or ESRCH. */
int lx_proc_child_start(pid_t pid, uint64_t *startp);
/* pid is still the process started at start, and has not exited. */
bool lx_proc_alive(pid_t pid, uint64_t start);
/* Identity of this process (pid and start time) for holder records. */
void lx_self(pid_t *pidp, uint64_t *startp);
/* The same, and our pid namespace, into a holder record. */
void lx_self_holder(lx_hstate_t *s);
/* Inode of our pid namespace when /proc shows it, else 0. */
uint64_t lx_proc_pidns(void);


/* ------------------------------------------------------------------ */
/* core.c: where a dumping member's core file goes */

/* At COREDUMP: the core path with the signal still open, or NULL. */
char *lx_core_path(pid_t pid);
/* At EXIT: fill in the signal; the path if that file exists, else NULL. */
char *lx_core_finish(char *path, int sig);
/*
 * The expansion itself, for tests: pattern with the facts of the dumping
 * process (cwd for a relative pattern; NULL facts make it give up).
 */
typedef struct lx_core_facts {
	pid_t pid;
	long uid, gid, time;
	const char *cwd, *host, *comm;
	bool uses_pid;		/* core_uses_pid */
} lx_core_facts_t;
char *lx_core_expand(const char *pattern, const lx_core_facts_t *f);

/* ------------------------------------------------------------------ */
/* The membership seam: what makes a process a member of a contract. */

/*
 * A contract has a directory (dirfd below) that holds its records; how
 * members are kept, counted, signalled and watched is the mechanism's.
 * Everything above this line of the file list reaches membership only
 * through lx_ms(), so a second mechanism adds a table, not edits.
 */
typedef struct lx_mship {
	const char *name;	/* features.membership: "cgroup" */
	/*
	 * How a child gets in (spawn.c builds on it): mode is the one chosen
	 * for a child that joins by itself, at fork (atfork) or as ct-exec
	 * JOINFILE (the shim), JOINFILE the spare's joinfile; a mechanism
	 * that starts every contract with its own helper returns that mode
	 * instead (CT_SPAWN_REAPER: ct-exec --anchor, joinfile "").
	 */
	ct_spawn_mode_t (*spawn_mode)(ct_spawn_mode_t mode);
	const char *joinfile;
	/* Open what the parent joins a child through (-1: nothing). */
	int (*spare_open)(int dirfd, int *joinfdp);
	/*
	 * The parent's half of the join: child is the spawned process,
	 * joinfd what spare_open gave (-1: it joined at fork).  Also records
	 * what the mechanism keeps of it (its pid, for last_exit).
	 */
	int (*join)(int dirfd, int joinfd, pid_t child);
	/*
	 * The record join writes, when writing it is the commit: a spare
	 * that has it is its holder's contract (lx_state_read), so a spawn
	 * committed by it writes no state "owned" (one record per spawn, not
	 * two).  NULL: the commit writes the state record (reaper: a spare
	 * and a contract whose anchor record a member deleted must differ).
	 */
	const char *commit_key;
	/* What features may claim for this root. */
	void (*features)(int rootfd, ct_features_t *f);
	/* The keeper lives in a group of its own (k<pid>-<start>) in the root. */
	bool keeper_group;
	/*
	 * An fd of ours for the keeper to hold open until it has applied
	 * the rules, because its last close would hold our death back (-1:
	 * none; NULL: nothing to share).
	 */
	int (*keeper_share)(void);
	/* A record of the contract (meta.c names them). */
	int (*meta_get)(int dirfd, const char *key, char **bufp,
	    size_t *lenp);
	int (*meta_set)(int dirfd, const char *key, const char *val,
	    size_t len);
	/* The members now: thread-group ids, malloc'd. */
	int (*members)(int dirfd, pid_t **pidsp, size_t *np);
	/* 1 while it has members, else 0; frozen 1/0, or -1 (no freezer). */
	int (*populated)(int dirfd, int *populatedp, int *frozenp);
	/* SIGKILL every member, forks included (ENOTSUP: walk instead). */
	int (*kill)(int dirfd);
	/* Stop (true) or resume every member; ENOTSUP without a freezer. */
	int (*freeze)(int dirfd, bool on);
	/* Whether a freeze is asked for now (not whether it is reached). */
	int (*freezing)(int dirfd, bool *onp);
	/*
	 * Wait up to ms for an asked-for freeze to be reached (ETIMEDOUT);
	 * NULL without a freezer.
	 */
	int (*frozen_wait)(int dirfd, int ms);
	int (*usage)(int dirfd, ct_usage_t *u);
	/*
	 * Have contract id (directory dirfd in root rootfd/rootpath)
	 * reported with lx_evq_notice() whenever its populated or frozen
	 * state may have changed; *tokenp is for unfollow.
	 */
	int (*follow)(int rootfd, const char *rootpath, ct_id_t id,
	    int *tokenp);
	void (*unfollow)(int token);
	/* Remove contract directory name of the root (it must be empty). */
	int (*rmdir)(int rootfd, const char *name);
	/*
	 * The spawned child as its caller presents it: the program's pid
	 * once it runs (report: the parent's end of the helper's report
	 * pipe, or -1), and a signal for it.
	 */
	int (*first)(int report, pid_t child, pid_t *firstp);
	/*
	 * The spawned child when it is not a member but the first member's
	 * parent (an anchor: followed, never reported; its fork of the
	 * program is the first pr_fork), else 0.
	 */
	pid_t (*hidden)(pid_t child);
	/*
	 * The contract's hidden process now, as a reader of its members finds
	 * it (the anchor: the parent of the program and of every orphan it
	 * reaped), and the pid shown in its place, its own parent: the
	 * process that spawned it, which pr_fork and traces name as the
	 * program's parent, or, once that one is gone, whoever inherited the
	 * anchor, as it would have inherited the program without one.
	 * *hiddenp 0: none (cgroup), or none left.
	 */
	int (*hidden_now)(int dirfd, pid_t *hiddenp, pid_t *shownp);
	int (*signal_first)(pid_t child, int sig);
	/*
	 * The last member to exit, once empty, as far as the mechanism knows
	 * it (pr_empty's pid where the proc connector did not name one): the
	 * anchor's last reaped (reaper), the first member (cgroup).
	 */
	int (*last_exit)(int dirfd, pid_t *pidp);
	/*
	 * The write end of the pipe on which the mechanism's helpers say a
	 * contract is empty before they exit (reaper: the anchor's word),
	 * made on first use and polled by the event queue; -1 from a
	 * mechanism that has none (NULL).  A word is a hint: it makes
	 * populated look again, never more.
	 */
	int (*word_fd)(void);
} lx_mship_t;

/* sigsend.c: a signal to the members and nothing else (any table) */

#define	LX_SIG_FREEZE	0x1	/* freeze (and wait for it) meanwhile */

typedef struct lx_sig_result {
	size_t sent;		/* members signalled */
	size_t denied;		/* members we may not signal (EPERM) */
} lx_sig_result_t;

/* Which members (NULL: all); called for verified members only. */
typedef bool (*lx_sig_want_t)(pid_t pid, void *arg);

/*
 * Signal every member of contract dirfd, forks included, each through a
 * pidfd opened while it was listed as one; 0 or the listing's error.
 */
int lx_sigsend(const lx_mship_t *ms, int dirfd, int sig, int flags,
    lx_sig_want_t want, void *arg, lx_sig_result_t *r);

/* The tables. */
extern const lx_mship_t lx_mship_cgroup;	/* cgroup.c */
extern const lx_mship_t lx_mship_reaper;	/* reaper.c */

/*
 * custody.c: the tree of a killed anchor, handed back to us (a holder
 * that spawns anchors is a child subreaper: reap.c), kept as the
 * contract's (docs/security.md, "A killed anchor").
 */
typedef void lx_custody_note_fn_t(ct_id_t id, pid_t pid, uint64_t start);
/* This process is a child subreaper that reaps (look: a pass of it). */
void lx_custody_arm(void (*look)(void));
/* An anchor of dirfd is gone unrecorded: sort now; whether we hold it. */
bool lx_custody_look(int dirfd);
/* Anchor pid of contract id was just spawned by us. */
int lx_custody_anchor(ct_id_t id, pid_t anchor);
/* pid (a child of ours) was waited for: an anchor's end, a member's. */
void lx_custody_reaped(pid_t pid);
/*
 * Our unguarded children now (the keeper, not a member, among them):
 * attribute the new ones, stop their trees.
 */
void lx_custody_sort(const pid_t *kids, size_t n, pid_t keeper);
/* Contract dirfd is in custody here. */
bool lx_custody_has(int dirfd);
/* Its members (ENOENT: not in custody here). */
int lx_custody_members(int dirfd, pid_t **pidsp, size_t *np);
/* Let it go: its members continued and forgotten. */
void lx_custody_release(int dirfd);
/* pid (started at start) is a member of id in custody (the keeper). */
int lx_custody_put(ct_id_t id, pid_t pid, uint64_t start);
/* Tell fn of each member kept from now on, and of those kept already. */
void lx_custody_on_note(lx_custody_note_fn_t *fn);

/*
 * anchorproof.c: pid (started at start) is the anchor of contract
 * dirfd: ct-exec, holding that directory (ESRCH: gone; EBADMSG: not it,
 * and never will be: the watch takes that contract for broken).
 */
int lx_anchor_prove(int dirfd, pid_t pid, uint64_t start);
/* The anchor we spawned ourselves: proven without a look (rp_join). */
void lx_anchor_vouch(int dirfd, pid_t pid, uint64_t start);


/* ------------------------------------------------------------------ */
/* meta.c: a contract's records, through the mechanism in use */

const lx_mship_t *lx_ms(void);
void lx_ms_use(const lx_mship_t *ms);

/* The records' keys, each named once (the anchor writes some: keys.h). */
#include "keys.h"

int lx_terms_write(int dirfd, const lx_terms_t *t);
int lx_terms_read(int dirfd, lx_terms_t *t);
int lx_state_write(int dirfd, const lx_hstate_t *s);
int lx_state_read(int dirfd, lx_hstate_t *s);
/* OWNED/SPARE whose holder no longer runs. */
bool lx_state_holder_gone(const lx_hstate_t *s);
int lx_meta_set_u64(int dirfd, const char *key, uint64_t v);
int lx_meta_get_u64(int dirfd, const char *key, uint64_t *vp);

/* ------------------------------------------------------------------ */
/* cgroup.c: files of a cgroup v2 directory (the keeper uses these too) */

bool lx_cg_is_cgroup2(const char *path);
int lx_cg_write(int dirfd, const char *file, const char *val);

/* ------------------------------------------------------------------ */
/* root.c: where contracts live */

typedef struct lx_root {
	char *path;		/* absolute path of the contract root */
	int fd;			/* O_DIRECTORY fd of it */
	bool delegated;		/* found through our own delegated cgroup */
	bool untrusted;		/* another user may write it: observe only */
	uid_t owner;		/* ... that user */
	bool registry;		/* a reaper registry, not a cgroup directory */
} lx_root_t;

/* The root, discovered once (no sweep: see lx_root_get). */
int lx_root_find(const lx_root_t **rp);
/*
 * The root, with holder.c's rules applied once to whatever earlier
 * processes left (a holder and its keeper that died together).
 * Everything that works on contracts gets the root here.
 */
int lx_root_get(const lx_root_t **rp);
/*
 * Use dir, which must exist already, as the root (the keeper: it never
 * makes a root its holder may have removed on the way out).
 */
int lx_root_use(const char *dir);
/* Make a fresh contract directory: next-fit id, mkdir as the arbiter. */
int lx_root_mkdir(ct_id_t *idp);
/* Open <root>/<id> as an O_DIRECTORY fd; ESRCH if there is none. */
int lx_root_open(ct_id_t id, int *fdp);
/* Mark a contract dead and remove its directory (if it is ours still). */
void lx_root_bury(ct_id_t id, int dirfd);
/* Remove <root>/<id> if it is an empty directory. */
void lx_root_rmdir(ct_id_t id);
/* The contract this process is itself a member of, or ENOENT. */
int lx_root_own_ctid(ct_id_t *idp);
/* Call fn for every entry of the root but "." and ".."; stop on non-0. */
typedef int lx_scan_fn_t(int rootfd, const char *name, void *arg);
int lx_root_scan(lx_scan_fn_t *fn, void *arg);
/* Call fn for every contract directory, opened (fd closed after). */
typedef int lx_ct_fn_t(ct_id_t id, const char *name, int dirfd, void *arg);
int lx_root_each(lx_ct_fn_t *fn, void *arg);
/* Open a contract directory and read its records (ESRCH: not one). */
int lx_root_open_ct(ct_id_t id, int *fdp, lx_terms_t *terms,
    lx_hstate_t *st);

/* ------------------------------------------------------------------ */
/* holder.c: the holder-death rules, in one place */

/*
 * Apply the rules to contract <root>/<name> if its holder is gone:
 * noorphan -> kill the members; inherit with a live regent -> inherited;
 * else orphan.  Empty orphans and dead contracts are removed; spares of
 * a dead holder too.  Returns 0, with *gonep set if the directory is gone,
 * or the error that says an orphan's membership can never be known (a
 * record refused, a killed anchor: EBADMSG, EOWNERDEAD, ...): nobody will
 * see it empty, so nobody should wait for that.
 */
int lx_holder_apply(const char *name, bool *gonep);
/* The same for every contract of the root, and idle keeper cgroups. */
void lx_holder_sweep(void);
/* Nobody holds contract dirfd now: its critical events are auto-acked. */
bool lx_holder_absent(int dirfd);
/* It emptied: an orphan (or one whose holder died) dies with it. */
void lx_holder_emptied(ct_id_t id, int dirfd);

/* ------------------------------------------------------------------ */
/* evloop.c: one fd for the event loop; the queue of records */

typedef void lx_evq_fn_t(void *arg);

/* Call fn(arg) at dispatch whenever fd is readable. */
int lx_evq_add(int fd, lx_evq_fn_t *fn, void *arg);
void lx_evq_del(int fd);
/* Call fn(arg) at the start of every dispatch (once registered). */
int lx_evq_on_dispatch(lx_evq_fn_t *fn, void *arg);
/* Contract id may have changed state: the notice handler is told. */
void lx_evq_notice(ct_id_t id);
void lx_evq_on_notice(void (*fn)(ct_id_t id));
/* Make the event loop call ct_evq_dispatch() soon. */
void lx_evq_kick(void);
/* A new record at the tail of the queue (evid given for real events). */
ct_evrec_t *lx_evq_push(ct_id_t id, uint64_t gen, ct_type_t cttype,
    uint32_t type, uint32_t flags);

/* ------------------------------------------------------------------ */
/* nlwalk.c: received netlink datagrams, checked (pure: fuzzed) */

/*
 * Call fn with the payload (a struct proc_event, unaligned) of every well
 * formed proc connector message in the n bytes at buf; their count.
 */
size_t lx_nl_cn_walk(const void *buf, long n, void (*fn)(const void *data,
    size_t len, void *arg), void *arg);
/*
 * A uevent of n bytes in buf (cap bytes of room): its ACTION and DEVPATH
 * (pointers into buf, which is NUL-terminated at n), 0; -1 if it has not
 * both or filled buf (cut short).
 */
int lx_nl_uevent(char *buf, size_t n, size_t cap, const char **actionp,
    const char **devpathp);

/* ------------------------------------------------------------------ */
/* connector.c: the netlink proc connector */

typedef struct lx_cn_sink {
	void (*fork)(pid_t ppid, pid_t pid);
	void (*exit)(pid_t pid, int status);
	void (*coredump)(pid_t pid);
	void (*lost)(void);	/* messages were dropped: resynchronise */
	void (*exec)(pid_t pid);	/* only while lx_cn_exec is on */
} lx_cn_sink_t;

/* Open it (once) and deliver to sink: 0, or why it cannot be had. */
int lx_cn_open(const lx_cn_sink_t *sink);
/* 0 if it is open, else the reason it is not (ENOTCONN: not tried). */
int lx_cn_status(void);
/* Why the connector is not ours, for a message (err: lx_cn_status()). */
const char *lx_cn_why(int err);
/* Read whatever is waiting now (before deciding a contract is empty). */
void lx_cn_drain(void);
/* A spawn is between its fork and its commit (true), or no longer. */
void lx_cn_hold(bool on);
/* Whether reading waits for such a spawn now (no EXIT can arrive). */
bool lx_cn_held(void);
/* Deliver EXEC events too while any trace wants them (counted). */
int lx_cn_exec(bool on);
/* The kernel's timestamp (CLOCK_MONOTONIC ns) of the event in delivery. */
uint64_t lx_cn_event_ns(void);

/* ------------------------------------------------------------------ */
/* trace.c: one record per process that was a member (docs/trace.md) */

typedef struct lx_trace lx_trace_t;

/* hidden: the anchor (no record; its children get ppid creator), or 0. */
lx_trace_t *lx_trace_new(pid_t hidden, pid_t creator);
void lx_trace_free(lx_trace_t *t);
/* Events, at the kernel's time mono_ns (0: now). */
int lx_trace_fork(lx_trace_t *t, pid_t ppid, pid_t pid, uint64_t mono_ns);
void lx_trace_exec(lx_trace_t *t, pid_t pid, uint64_t mono_ns);
void lx_trace_exit(lx_trace_t *t, pid_t pid, int status, uint64_t mono_ns);
/* Messages were lost: the members now are pids[0..n). */
void lx_trace_resync(lx_trace_t *t, const pid_t *pids, size_t n);
int lx_trace_copy(const lx_trace_t *t, ct_trace_t *out);
/* Parsers, for tests. */
size_t lx_trace_argv_clean(char *buf, size_t len, bool cut);
int lx_trace_parse_stat(const char *buf, uint64_t *utp, uint64_t *stp,
    uint64_t *startp);

/* ------------------------------------------------------------------ */
/* keep.c: the keeper that applies holder-death rules (src/helpers/) */

/*
 * We start (true) or stop (false) holding something: a contract, a spare
 * (id: told to the keeper, which applies the rules to it first when we
 * die).
 */
void lx_keeper_hold(ct_id_t id, bool on);
/*
 * The next lx_keeper_hold(id, true) takes over a count held already (a
 * spare's, for the watch of the contract it became): nothing is told,
 * so the keeper hears "+ID" once and "-ID" once per contract.  Then
 * lx_keeper_pass_taken: whether it did (if not, the caller still holds
 * the count, and drops it).
 */
void lx_keeper_pass(ct_id_t id);
bool lx_keeper_pass_taken(void);
pid_t lx_keeper_pid(void);
/* Whether ct-keeper is installed next to us. */
bool lx_keeper_available(void);

/* ------------------------------------------------------------------ */
/* watch.c: what we know of each contract we follow */

typedef struct lx_watch lx_watch_t;

/*
 * Start (or share) watching contract id.  held: we are its holder, so
 * fatal sets apply and critical events count until acked.  born: the
 * first member when we just forked it (its pr_fork is published), or 0.
 */
int lx_watch_get(ct_id_t id, int dirfd, const lx_terms_t *terms,
    bool held, pid_t born, lx_watch_t **wp);
/* Drop a reference; the watch ends when nothing needs it. */
void lx_watch_put(lx_watch_t *w);
/* A handle was handed out to JS (dispose then means abandon-when-empty). */
void lx_watch_opened(lx_watch_t *w);
/* Share the watch of a contract we hold, if there is one (else ESRCH). */
int lx_watch_get_held(ct_id_t id, lx_watch_t **wp);
bool lx_watch_held(const lx_watch_t *w);
const lx_terms_t *lx_watch_terms(const lx_watch_t *w);
/*
 * Its directory, for this turn of the event queue (an idle watch holds no
 * fd: watch.c); -1 with errno set (ENOENT: gone) if it cannot be opened.
 */
int lx_watch_dirfd(lx_watch_t *w);
ct_id_t lx_watch_id(const lx_watch_t *w);
/* Which contract of its id: the directory's inode (ids are reused). */
uint64_t lx_watch_gen(const lx_watch_t *w);
/* Re-read its state now (after a write that changes it). */
void lx_watch_recheck(lx_watch_t *w);
/* The holder gave the contract up (abandon): no more fatal, no acks. */
void lx_watch_release(lx_watch_t *w, lx_state_t newstate);
/* Note a signal we are about to send to members (sender = us). */
void lx_watch_sending(lx_watch_t *w, int sig);
int lx_watch_sent(const lx_watch_t *w);
/* Members were SIGKILLed for a fatal event (their deaths are ours). */
bool lx_watch_fatal_killed(const lx_watch_t *w);
void lx_watch_set_fatal_killed(lx_watch_t *w);
int lx_watch_ack(lx_watch_t *w, ct_evid_t evid);
uint32_t lx_watch_nevents(const lx_watch_t *w);
uint64_t lx_watch_lost(const lx_watch_t *w);
void lx_watch_add_lost(lx_watch_t *w, uint64_t n);
/* freeze/thaw found the tree already in state frozen: report it now. */
void lx_watch_note_frozen(lx_watch_t *w, int frozen);
/* Publish an event of type if its sets ask for it (or critical). */
ct_evrec_t *lx_watch_publish(lx_watch_t *w, uint32_t type, pid_t pid);
ct_evrec_t *lx_watch_publish_as(lx_watch_t *w, uint32_t type, pid_t pid,
    bool critical);
/* An internal record (NC_EVX_*), whatever the sets say. */
ct_evrec_t *lx_watch_notify(lx_watch_t *w, uint32_t type);
/* Its trace, or NULL; set_trace gives it one (freed with the watch). */
lx_trace_t *lx_watch_trace(const lx_watch_t *w);
void lx_watch_set_trace(lx_watch_t *w, lx_trace_t *t);
/* Visit every watch, retired ones too if asked (fn may end w). */
void lx_watch_each(void (*fn)(lx_watch_t *, void *), void *arg,
    bool retired);

/* Device contracts: their state, kept with the watch. */
void lx_watch_devstate(lx_watch_t *w, uint32_t state);
uint32_t lx_watch_dev_state(const lx_watch_t *w);
const char *lx_watch_devpath(const lx_watch_t *w);

/* ------------------------------------------------------------------ */
/* procinfo.c: member records from /proc/<pid>/stat and cmdline */
int lx_members_info(const pid_t *pids, size_t n, ct_member_t **mp,
    size_t *np);

/* members.c: the member table and member events from the connector */

/* Members known from the connector (pid -> watch). */
typedef struct lx_member {
	lx_watch_t *w;
	bool hidden;		/* the anchor: followed, never reported */
	bool core;		/* COREDUMP seen */
	pid_t pgid;		/* pgrponly: its group when last seen, or 0 */
	char *corefile;		/* where its core goes (lx_core_path) */
} lx_member_t;

lx_member_t *lx_member_get(pid_t pid);
void lx_member_add(lx_watch_t *w, pid_t pid, bool hidden);
/* pid is gone: forget it; w hears of its EXIT (the last one it waits). */
void lx_member_exited(pid_t pid);
/* Forget every member of w; the number forgotten. */
size_t lx_member_drop_all(lx_watch_t *w);
size_t lx_member_count(const lx_watch_t *w);


/* Listen to the connector (once): 0, or why member events cannot be had. */
int lx_members_listen(void);

/* ------------------------------------------------------------------ */
/* device.c: device contracts from kernel uevents */

/* "/dev/x" or "/sys/..." -> "/devices/...", and its present state. */
int lx_dev_resolve(const char *minor, char **devpathp, uint32_t *statep);
/* What Linux cannot do for a device template, refused up front. */
int lx_dev_check(const ct_template_t *t);
/* Open the uevent socket into the event set (once). */
int lx_dev_listen(void);
/* Make a device contract with terms; its id. */
int lx_dev_create(lx_terms_t *terms, ct_id_t *idp);

/* ------------------------------------------------------------------ */
/* contract.c */

/*
 * Hold a contract we just created; pid is its first member.  dirfd and
 * terms are what its creator has at hand (-1 and NULL: read them).
 */
int lx_contract_hold(ct_id_t id, int dirfd, const lx_terms_t *terms,
    pid_t pid);

/* ------------------------------------------------------------------ */
/* spawn.c: a new child into a new contract (tmpl.c drives it) */

/* Build the terms a new contract gets from template t. */
int lx_terms_from_template(const ct_template_t *t, lx_terms_t *terms);
/*
 * The calling thread's active process template changed to t (NULL:
 * cleared); t stays valid until the next call.  Makes the next contract
 * directory ahead of need; on failure nothing changed.
 */
int lx_spawn_use(const ct_template_t *t);
/* The newest process contract of this thread, or why there is none. */
int lx_spawn_latest(ct_id_t *idp);

#endif /* LX_H */

/*
 * lx.h -- internals of the Linux backend (cgroup v2 + proc connector).
 *
 * A contract is a cgroup v2 directory <root>/<ctid>; its terms and state
 * live in user.* extended attributes on that directory, so that any
 * process may read any contract's status (DESIGN 4).
 *
 *   root.c      finding the contract root, allocating ids, the sweep
 *   cgroup.c    reading and writing cgroup files and our xattrs
 *   map.c       small integer-keyed hash tables
 *   tmpl.c      per-thread templates, spare directories, atfork, shim
 *   watch.c     epoll + inotify + proc connector: the event queue
 *   contract.c  the ct_contract_* calls
 */
#ifndef LX_H
#define LX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ct.h"

/* ------------------------------------------------------------------ */
/* root.c */

typedef struct lx_root {
	char *path;		/* absolute path of the contract root */
	int fd;			/* O_DIRECTORY fd of it */
	bool delegated;		/* found through our own delegated cgroup */
} lx_root_t;

/* The root, discovered once; the error (with detail) otherwise. */
int lx_root_get(const lx_root_t **rp);
/*
 * Use dir, which must exist already, as the root (the keeper: it never
 * makes a root its holder may have removed on the way out).
 */
int lx_root_use(const char *dir);
/* Make a fresh contract directory: next-fit id, mkdir as the arbiter. */
int lx_root_mkdir(ct_id_t *idp);
/* The contract this process is itself a member of, or ENOENT. */
int lx_root_own_ctid(ct_id_t *idp);
/* Identity of this process (pid and start time) for holder records. */
void lx_self(pid_t *pidp, uint64_t *startp);
/* Start time of pid (clock ticks since boot), or ESRCH. */
int lx_proc_start(pid_t pid, uint64_t *startp);
/*
 * Apply the holder-death rules (spec c.6) to every contract whose holder
 * is gone, and remove empty orphans, spares and idle keeper cgroups.
 */
void lx_root_sweep(void);
/* The same for one contract <root>/<name>: 1 if its directory is gone. */
int lx_root_sweep_one(const char *name);

/* ------------------------------------------------------------------ */
/* cgroup.c: files of <root>/<id> and our metadata */

/* Open <root>/<id> as an O_DIRECTORY fd. */
int lx_cg_open(ct_id_t id, int *fdp);
/* Read "populated" and "frozen" from cgroup.events (-1 if absent). */
int lx_cg_events(int dirfd, int *populatedp, int *frozenp);
/* Members (thread-group ids) from cgroup.procs, malloc'd. */
int lx_cg_procs(int dirfd, pid_t **pidsp, size_t *np);
/* Write a short string to a cgroup file of the directory. */
int lx_cg_write(int dirfd, const char *file, const char *val);
/* Read a whole small file of the directory, NUL-terminated, malloc'd. */
int lx_cg_read(int dirfd, const char *file, char **bufp);

/* The contract's fixed terms, one xattr (user.ct.terms). */
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

int lx_terms_write(int dirfd, const lx_terms_t *t);
int lx_terms_read(int dirfd, lx_terms_t *t);
int lx_terms_copy(lx_terms_t *dst, const lx_terms_t *src);
void lx_terms_fini(lx_terms_t *t);

/* The contract's mutable state (user.ct.state). */
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
	ct_id_t regent;		/* INHERITED: the regent contract */
} lx_hstate_t;

int lx_state_write(int dirfd, const lx_hstate_t *s);
int lx_state_read(int dirfd, lx_hstate_t *s);
/* OWNED/SPARE whose holder no longer runs. */
bool lx_state_holder_gone(const lx_hstate_t *s);
/* Mark a contract dead and remove its directory if it is empty. */
void lx_cg_bury(ct_id_t id, int dirfd);
int lx_xattr_set_u64(int dirfd, const char *name, uint64_t v);
int lx_xattr_get_u64(int dirfd, const char *name, uint64_t *vp);

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
/* Iterate: *ip starts at 0; returns false at the end. */
bool lx_map_next(const lx_map_t *m, size_t *ip, int32_t *keyp, void **valp);

/* ------------------------------------------------------------------ */
/* tmpl.c */

/* Terms of the calling thread's active template of type, or NULL. */
const ct_template_t *lx_tmpl_active(ct_type_t type);
/* Build the terms a new contract gets from template t. */
int lx_terms_from_template(const ct_template_t *t, lx_terms_t *terms);
/*
 * contract.c: hold a contract we just created; pid is its first member.
 * dirfd and terms are what its creator has at hand (-1 and NULL: read
 * them from the directory).
 */
int lx_contract_hold(ct_id_t id, int dirfd, const lx_terms_t *terms,
    pid_t pid);

/* ------------------------------------------------------------------ */
/* watch.c: the event machinery behind ct_evq_* */

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
bool lx_watch_held(const lx_watch_t *w);
/* Share the watch of a contract we hold, if there is one (else ESRCH). */
int lx_watch_get_held(ct_id_t id, lx_watch_t **wp);
/* The contract's terms, as they were when the watch began. */
const lx_terms_t *lx_watch_terms(const lx_watch_t *w);
/* The contract directory's fd, owned by the watch. */
int lx_watch_dirfd(const lx_watch_t *w);
/* Which contract of its id: the directory's inode (ids are reused). */
uint64_t lx_watch_gen(const lx_watch_t *w);
int lx_watch_refs(const lx_watch_t *w);
/* Re-read cgroup.events now (after a write that changes it). */
void lx_watch_recheck(lx_watch_t *w);
/* The holder gave the contract up (abandon): no more fatal, no acks. */
void lx_watch_release(lx_watch_t *w, lx_state_t newstate);
/* Note a signal we are about to send to members (sender = us). */
void lx_watch_sending(lx_watch_t *w, int sig);
int lx_watch_ack(lx_watch_t *w, ct_evid_t evid);
uint32_t lx_watch_nevents(const lx_watch_t *w);
uint64_t lx_watch_lost(const lx_watch_t *w);
bool lx_watch_emptied(const lx_watch_t *w);
/* freeze/thaw found the tree already in state frozen: report it now. */
void lx_watch_note_frozen(lx_watch_t *w, int frozen);
/* Whether the proc connector could be opened (0) or why not. */
int lx_watch_connector_status(void);
/* Poll one more fd in the event set (readable -> ct_evq_dispatch). */
int lx_evq_add(int fd);
void lx_evq_del(int fd);

/* A device's state changed (uevent): break or publish (spec d.3). */
void lx_watch_devstate(lx_watch_t *w, uint32_t state);
uint32_t lx_watch_dev_state(const lx_watch_t *w);
/* Visit every watched device contract (device.c matches uevents). */
void lx_watch_each_device(void (*fn)(lx_watch_t *, const char *devpath,
    void *), void *arg);

/* ------------------------------------------------------------------ */
/* core.c: where a dumping member's core file goes */

/* At COREDUMP: the core path with the signal still open, or NULL. */
char *lx_core_path(pid_t pid);
/* At EXIT: fill in the signal; the path if that file exists, else NULL. */
char *lx_core_finish(char *path, int sig);

/* ------------------------------------------------------------------ */
/* device.c: device contracts from kernel uevents */

/* "/dev/x" or "/sys/..." -> "/devices/...", and its present state. */
int lx_dev_resolve(const char *minor, char **devpathp, uint32_t *statep);
/* Open the uevent socket into the event set (once). */
int lx_dev_listen(void);
/* The uevent socket, or -1; and reading it. */
int lx_dev_fd(void);
void lx_dev_drain(void);

/* ------------------------------------------------------------------ */
/* keep.c: the keeper that applies holder-death rules (src/helpers/keeper.c) */

/* We start (true) or stop (false) holding something: a contract, a spare. */
void lx_keeper_hold(bool on);
/* Once per dispatch: tell an unneeded keeper it may leave. */
void lx_keeper_tick(void);
/* The keeper's pidfd (in the event set), or -1. */
int lx_keeper_fd(void);
/* It died: start another while we still hold anything. */
void lx_keeper_died(void);
pid_t lx_keeper_pid(void);
/* Whether ct-keeper is installed next to us. */
bool lx_keeper_available(void);

#endif /* LX_H */

/*
 * il.h -- what the files of the illumos backend share (src/illumos/):
 * paths and descriptors of ctfs, the process-wide event port, the
 * pbundles, and the "watch" each open contract has.  Nothing here is
 * seen outside the backend except through ct.h and tools.h.
 *
 *   ctfs.c      paths, descriptors, the event port, endpoints, watches
 *   tmpl.c      templates, latest, creation, spawn
 *   contract.c  handles, status, control, listing
 *   events.c    reading events into the queue; features; the tools' calls
 *   trace.c     the records of traced contracts (docs/trace.md)
 *
 * Descriptors.  ctfs checks the open flag word of some of its files exactly
 * (docs/ARCHITECTURE.md, "ctfs open flags"): template wants O_RDWR, ctl
 * O_WRONLY, latest O_RDONLY, the event endpoints O_RDONLY with at most
 * O_NONBLOCK.  The kernel hands O_CLOEXEC down to those checks, so these files
 * refuse it and are made close-on-exec right after the open (il_open_exact()).
 * The status files and the directories check only that they are not opened for
 * writing, and take O_CLOEXEC (il_open()).
 */
#ifndef IL_H
#define IL_H

#ifndef __EXTENSIONS__
#define	__EXTENSIONS__	1	/* asprintf, sigsend, fdopendir */
#endif

#include <sys/types.h>
#include <sys/ctfs.h>
#include <sys/contract.h>
#include <sys/contract/process.h>
#include <sys/contract/device.h>
#include <libcontract.h>
#include <stdbool.h>
#include <stdint.h>

#include "ct.h"

extern const char *const il_type_dirs[CT_TYPE_COUNT];

/*
 * The longest path built here: the root, a directory (process, device or
 * all), an id and a file (template is the longest).  All of it is bounded.
 */
#define	IL_PATH_MAX	sizeof (CTFS_ROOT "/process/-2147483648/template")

/* CTFS_ROOT/dir[/id][/file]; id 0 and file NULL leave them out. */
const char *il_path(char *buf, const char *dir, ct_id_t id, const char *file);
/* open() with exactly flags, then close-on-exec; -1 and errno. */
int il_open_exact(const char *path, int flags);
/* open() of a file that takes O_CLOEXEC (status, directories). */
int il_open(const char *path, int flags);
/* The type of contract id: which type directory has it.  ESRCH: none. */
int il_ctid_type(ct_id_t id, ct_type_t *typep);
/* This thread's newest contract of type (ESRCH: none).  No ct_err_set. */
int il_latest_read(ct_type_t type, ct_id_t *idp, char *path);
/* Status of contract id of type into st (CTD_ALL).  Sets ct_err. */
int il_status_read(ct_type_t type, ct_id_t id, ct_cstatus_t *st);
/* Abandon contract id by its ctl file (no handle needed).  No ct_err. */
int il_abandon_id(ct_type_t type, ct_id_t id);

/* ------------------------------------------------------------------ */
/* Process-wide state: event port, pbundles, watches, the event FIFO */

typedef struct watch watch_t;
typedef struct il_trace il_trace_t;

typedef enum {
	IL_EP_PBUNDLE,		/* <type>/pbundle: contracts we hold */
	IL_EP_EVENTS,		/* <type>/<id>/events: one contract */
	IL_EP_BUNDLE		/* <type>/bundle: every contract (ctwatch) */
} il_epkind_t;

typedef struct endpoint {	/* an event endpoint on the port */
	int fd;
	ct_type_t type;
	il_epkind_t kind;
	watch_t *w;		/* IL_EP_EVENTS: its contract's watch */
} endpoint_t;

/*
 * What this process has open of one contract.  Every handle of the
 * contract shares it, so each event is queued once however often the
 * contract is open, and ownership is the contract's, not a handle's.
 *
 * Events come from the pbundle while we hold the contract, and from its
 * events endpoint while an observer needs it or after an abandon (the
 * kernel stops sending to our pbundle then).  Where both are open, the
 * same event comes twice, in the same order on each (the kernel publishes
 * one contract's events to every queue under one lock): it is queued from
 * whichever brings it first, and dropped when the other does (events.c,
 * event_wanted()).  Ids do not rise in that order: the kernel takes an
 * event's id before the lock that orders delivery (contract.c:2311 vs
 * :2333), so 11 can be queued before 10.  So each source remembers the
 * ids it queued that the other has not brought yet (pend[], the newest
 * IL_PEND of them), and only an exact match is dropped.
 */
#define	IL_PEND	64
struct watch {
	watch_t *next;		/* hash chain */
	ct_id_t ctid;
	ct_type_t type;
	unsigned nhandles;	/* open handles; 0: kept only to reap */
	bool owned;		/* held by this process (pbundle brings it) */
	uint32_t hidden;	/* events in its terms that are ours, not the
				 * user's: pr_empty, a trace's pr_fork/exit */
	il_trace_t *trace;	/* traced (trace.c), or NULL */
	bool reap;		/* no handle left: abandon once it empties */
	/* By source (0 pbundle, 1 events endpoint): ids queued that the
	 * other has not brought yet, the newest IL_PEND, oldest first. */
	ct_evid_t pend[2][IL_PEND];
	unsigned npend[2];
	bool transferred;	/* given away by a template's transfer */
	endpoint_t ev;		/* <type>/<id>/events, or fd -1 */
};

struct ct_contract {
	ct_id_t ctid;
	ct_type_t type;
	int ctl;		/* <type>/<id>/ctl; -1 when observing */
	watch_t *w;
};

/* Guards everything below, and the event queue of events.c. */
void il_lock(void);
void il_unlock(void);

/* With the lock: the event port, made on first use. */
int il_port_ready(void);
extern int il_port;

/* With the lock: open path as an endpoint, optionally rewound; armed. */
int il_ep_open(endpoint_t *ep, const char *path, bool rewind,
    bool reliable);
int il_ep_arm(endpoint_t *ep);
/* A reliable endpoint was opened without reliable delivery (EPERM). */
extern bool il_reliable_refused;
void il_ep_close(endpoint_t *ep);
/*
 * With the lock: make sure this process listens on its pbundle of type. Opened
 * once and kept for the life of the process: a listener starts at the tail of
 * its queue, and rewinding one that was closed would read the unacknowledged
 * critical events a second time (docs/ARCHITECTURE.md, "The process bundle").
 * The first open is rewound, for what arrived before anyone here listened.
 */
int il_pbundle_ready(ct_type_t type);
/* With the lock: drain the pbundle of type now (before an abandon). */
int il_pbundle_drain(ct_type_t type);	/* events.c */
/* The process bundle endpoint of type (its fd -1 until it is opened). */
endpoint_t *il_pbundle(ct_type_t type);

/* With the lock: the watch of id, NULL if none. */
watch_t *il_watch_find(ct_id_t id);
/* With the lock: the watch of id, made if there is none; NULL: ENOMEM. */
watch_t *il_watch_get(ct_id_t id, ct_type_t type);
/*
 * With the lock: free w once no handle uses it and nothing is to reap;
 * while il_dispatching, only at il_watch_flush().
 */
void il_watch_put(watch_t *w);
void il_watch_flush(void);
extern bool il_dispatching;

/* events.c, with the lock: read ep until EAGAIN, queue, re-arm. */
int il_ep_drain(endpoint_t *ep);

/*
 * tmpl.c: the events of contract latest (status st) that are ours, not
 * the user's (pr_empty; pr_fork and pr_exit of a trace), and whether it
 * was made to be traced: matched to the template that made it by its
 * terms.
 */
uint32_t il_tmpl_hidden(ct_id_t latest, const ct_cstatus_t *st,
    bool *tracedp);
/* tmpl.c: ct_trace_arm: the active template (and later ones) traced. */
int il_tmpl_trace(bool on);

/* trace.c: the records of a traced contract (docs/trace.md). */
il_trace_t *il_trace_new(ct_id_t ctid);
void il_trace_free(il_trace_t *t);
/* With the lock: a pr_fork or pr_exit of its contract, as it is read. */
void il_trace_event(il_trace_t *t, ct_evthdl_t ev);
/*
 * contract.c, after this thread made latest (seen by a spawn's commit or
 * by latest()): transfer, the template's transfer term, was abandoned by
 * the kernel at that fork (process.c:906), and an earlier latest that
 * emptied unopened may be abandoned now.
 */
void il_after_fork(ct_id_t latest, ct_id_t transfer);
/* events.c: a contract we hold emptied with no handle: reap it later. */
void il_stray_empty(ct_id_t id);

#endif /* IL_H */

/*
 * watch.h -- what a watch holds, shared by the three files that make up
 * watches: watch.c (knowing: empty, lifetime), members.c (the member
 * table and the connector's member events) and publish.c (saying:
 * events, acknowledgements, accessors).  Nothing else sees it.
 */
#ifndef WATCH_H
#define	WATCH_H

#include "lx.h"

struct lx_watch {
	ct_id_t id;
	uint64_t gen;		/* the directory's inode: which contract */
	lx_watch_t *prev, *next;	/* every watch, retired ones too */
	int dirfd;		/* while it has members, or lent: else -1 */
	bool lent;		/* dirfd goes back at the next dispatch */
	bool gone;		/* its directory is gone (or a newer one's) */
	int token;		/* the mechanism's watch, or -1 */
	int refs;		/* ct_contract_t handles */
	bool held;		/* we are the holder */
	bool opened;		/* a handle was ever handed out */
	bool emptied;		/* pr_empty was published */
	bool kept;		/* counted in the keeper's holds */
	bool retired;		/* its id names a newer one: not in by_id */
	bool orphaned;		/* we abandoned it with members left */
	bool fatal_kill;	/* we SIGKILLed members for a fatal event */
	bool broken;		/* membership unknowable: no pr_empty, ever */
	int frozen;
	int sending;		/* signal we sent with sigsend, or 0 */
	size_t npids;		/* members in by_pid */
	size_t nhidden;		/* ... and the anchor (0 or 1), not a member */
	pid_t last_exit;
	uint64_t pending_since;	/* populated 0 seen, EXITs outstanding */
	ct_evid_t *unacked;
	size_t nunacked, capunacked;
	uint64_t lost;
	uint32_t dev_state;
	lx_terms_t terms;	/* fixed for the contract's life */
	lx_trace_t *trace;	/* trace: true asked for it, else NULL */
};

/*
 * publish.c: w emptied: its pr_empty, as the sets say, else one marked
 * NC_EVF_INTERNAL; either way the core precedes it with NC_EVX_EMPTIED.
 */
void lx_watch_publish_empty(lx_watch_t *w, pid_t pid);
/* watch.c: a member of w exited (members.c): is w empty now? */
void lx_watch_exit_seen(lx_watch_t *w);

#endif /* WATCH_H */

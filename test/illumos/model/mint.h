/* mint.h -- what the files of the model share (model.h: the model). */
#ifndef MINT_H
#define MINT_H

#include "model.h"

#define	MAX_CT		4096
#define	MAX_FD		4096
#define	MAX_LISTENERS	32

typedef struct mlistener mlistener_t;

struct mevent {
	ctid_t ctid;
	int cttype;
	ctevid_t evid;
	uint_t type, flags;
	pid_t pid, ppid;
	int exitstatus;
	bool has_pid, has_ppid, has_exit;
};

typedef struct mqueue {
	mevent_t **ev;
	bool *gone;		/* trimmed: no listener reads it again */
	size_t n, cap;
	unsigned nlisteners;
	mlistener_t *listeners[MAX_LISTENERS];
} mqueue_t;

struct mlistener {
	mqueue_t *q;
	size_t pos;		/* the next entry to read */
	bool reliable, was_reset;
};

typedef struct mcontract {
	ctid_t id;
	int type;
	ctstate_t state;
	int owner;
	bool exists;
	bool author_ours;	/* ct_cuid is our uid */
	bool holder_ours;	/* its holder, while it has one, runs as us */
	/*
	 * ct_regent: the process contract that inherits it (contract.c:314,
	 * its author's; cleared when orphaned, :564): MODEL_US (ours),
	 * MODEL_OTHER, or MODEL_NONE.
	 */
	int regent;
	/* The holder's own process contract (MODEL_US: ours) and its terms. */
	int holder_in;
	uint_t holder_in_params;
	uint_t critical, informative, fatal, params;
	uint64_t cookie;
	pid_t *members;
	size_t nmembers;
	int nevents;
	int last_signal;
	mqueue_t q;
} mcontract_t;

typedef struct mstats {
	mevent_t **events;	/* every event ever made, to free them */
	size_t nevents;
	unsigned acks;
} mstats_t;

extern mcontract_t *m_cts[MAX_CT];
extern mqueue_t m_bundle[2], m_pbundle[2];
extern mtmpl_t m_active[2];
extern bool m_has_active[2];
extern ctid_t m_latest[2];
extern mstats_t m_stats;
/* Our privileges (model_privileges): contract_event, contract_observer. */
extern bool m_priv_event, m_priv_observer;
/* The terms of our own process contract (model_self_params). */
extern uint_t m_self_params;

mcontract_t *m_ct(ctid_t id);
bool m_owned(const mcontract_t *ct);
void k_reset(void);
void q_trim(mqueue_t *q);
int k_abandon(mcontract_t *ct);
int k_adopt(mcontract_t *ct);
void k_publish(mcontract_t *ct, mevent_t *e);
int k_ack(mcontract_t *ct, ctevid_t evid, bool nack);
/* proc.c: the model's /proc (psinfo, usage) of its processes. */
#define	PROC_PSINFO	1
#define	PROC_USAGE	2
void p_reset(void);
void p_fork(pid_t ppid, pid_t pid, ctid_t ctid);
void p_exit(pid_t pid, int status);
bool p_parse(const char *path, pid_t *pidp, int *filep);
int p_read(pid_t pid, int file, void *buf, size_t *lenp);
void port_reset(void);
void port_forget(int fd);
void port_kick_all(void);
bool model_port_ready(int port);

#endif

/*
 * model.h -- a model of the parts of the illumos kernel the backend talks
 * to (contracts, their event queues, ctfs, event ports), for running the
 * backend's logic on Linux in npm test.  It is not illumos: see
 * test/illumos/README.md for what it models and what it does not.
 *
 * One process ("us", the process the backend runs in) and one LWP.  A
 * test scripts the kernel with the model_* calls below: forks under the
 * active template, forks and exits of members, contracts of other users;
 * and inspects what the backend did to it.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/contract.h>

#define	MODEL_NONE	0	/* owner: nobody (orphan, inherited) */
#define	MODEL_US	1	/* owner: the process under test */
#define	MODEL_OTHER	2	/* owner: another process (of another user) */

/* Forget everything (between tests); every model fd must be closed. */
void model_reset(void);

/*
 * Kernel side of a fork by us: a new process contract from the active
 * process template with pid as its member, our latest.  The contract id,
 * 0 when no template is active, or -EAGAIN when project.max-contracts is
 * reached.
 */
ctid_t model_fork(pid_t pid);
/* A member ppid of a contract forks pid (pr_fork). */
int model_member_fork(pid_t ppid, pid_t pid);
/* Member pid exits with wait status (pr_exit; pr_empty if the last). */
int model_exit(pid_t pid, int status);
/*
 * Member pid is a real process (a child the test forked for real, e.g.
 * through Node's spawn): sigsend sends it the signal with kill(2) rather
 * than modelling it; the test reports its exit with model_exit.
 */
int model_real(pid_t pid);
/* A contract of another process, with pid as its member. */
ctid_t model_foreign(pid_t pid, uint_t critical, uint_t informative,
    bool may_observe);
/*
 * The model's /proc (proc.c): member pid execs (its psinfo's pr_fname and
 * pr_psargs become psargs, cut as the kernel cuts them); its CPU so far
 * (usage: pr_utime, pr_stime, pr_ttime); its parent reaps the zombie
 * that model_exit left (both files ENOENT from then on).  ESRCH: none.
 */
int model_exec(pid_t pid, const char *psargs);
int model_cpu(pid_t pid, uint64_t user_ns, uint64_t sys_ns,
    uint64_t trap_ns);
int model_reap(pid_t pid);
/*
 * The terms (CT_PR_*) of the process contract our process is a member of
 * (0 after model_reset): CT_PR_REGENT makes it inherit the contracts of
 * its members that exit holding them with inherit set.
 */
void model_self_params(uint_t params);
/*
 * The holder of contract id (another process) is a member of our
 * process contract (where MODEL_US: its terms are model_self_params's)
 * or of another one (MODEL_OTHER) whose terms are params; the holder's
 * contract is the one that inherits it (contract.c:314, ct_regent).
 * Foreign contracts start with MODEL_OTHER, params 0 (no regent).
 */
int model_holder_in(ctid_t id, int where, uint_t params);
/*
 * The holder of contract id exits without abandoning it (contract_exit,
 * contract.c:929-930, contract_abandon with explicit 0): with inherit
 * set and the holder's own contract a regent (CT_PR_REGENT,
 * process.c:554), it is inherited by that contract (contract.c:512-513,
 * :553-555), noorphan or not; else noorphan kills the members and it is
 * orphaned (process.c:606-628), an empty one destroyed.
 */
int model_holder_exit(ctid_t id);
/* A contract of another process of our own user (observable). */
ctid_t model_foreign_same_user(pid_t pid, uint_t critical,
    uint_t informative, uint_t params);
/*
 * Our privileges: contract_event (critical terms beyond the safe set,
 * process.c:322-323; ct_event_reliable, contract.c:2679; the fatal set
 * and pgrponly leaving critical events in place, process.c:288-293,
 * :336-343), contract_observer (other users' events, policy.c:2398-2402,
 * contract.c:1977).  model_privileges sets them until the next
 * model_reset, which restores the default: both (root), or what
 * model_default_privileges chose (test_backend's --unprivileged run).
 */
void model_privileges(bool event, bool observer);
void model_default_privileges(bool event, bool observer);
/*
 * The next event takes the id after the next one, and the event after
 * it the one skipped: ids taken before the lock that orders delivery
 * (contract.c, cte_publish_all) reach the queues out of order.
 */
void model_swap_evids(void);
/* project.max-contracts: live contracts allowed (0: no limit). */
void model_max_contracts(unsigned n);
/* The next call of libcontract function name fails with err. */
void model_fail_next(const char *name, int err);

/* Inspection. */
int model_state(ctid_t id);		/* ctstate_t; -1: never existed */
bool model_exists(ctid_t id);		/* visible in ctfs (not destroyed) */
int model_owner(ctid_t id);		/* MODEL_* */
int model_nevents(ctid_t id);		/* unacknowledged critical events */
uint_t model_informative(ctid_t id);
uint_t model_critical(ctid_t id);
unsigned model_live(void);		/* contracts not destroyed */
bool model_acked(ctevid_t evid);	/* has the event been acknowledged */
unsigned model_acks_by_us(void);	/* ack calls the backend made */
int model_last_signal(ctid_t id);	/* last sigsend to it, or 0 */
/* Opens of paths containing s since the reset (e.g. "/events"). */
unsigned model_opens(const char *s);
/* Open model fds, and whether every one of them is close-on-exec. */
unsigned model_open_fds(void);
bool model_all_cloexec(void);
/* Flags of the listener on fd: reliable, reset (ever). */
bool model_listener(int fd, bool *reliable, bool *reset);

/* For libcontract.c and port.c: the kernel's entry points. */
typedef struct mevent mevent_t;
typedef struct mtmpl mtmpl_t;
struct mtmpl {
	int type;
	uint_t critical, informative, fatal, params;
	uint64_t cookie;
	ctid_t transfer;
};
typedef struct mstatus {
	ctid_t id;
	int type;
	ctstate_t state;
	id_t holder;
	int nevents;
	ctevid_t nevid;
	uint_t critical, informative, fatal, params;
	uint64_t cookie;
	pid_t *members;
	uint_t nmembers;
} mstatus_t;
typedef struct mevinfo {
	ctid_t ctid;
	ctevid_t evid;
	int cttype;
	uint_t type, flags;
	pid_t pid, ppid;
	int exitstatus;
	bool has_pid, has_ppid, has_exit;
} mevinfo_t;

mtmpl_t *model_fd_tmpl(int fd);		/* NULL and EBADF/EINVAL */
int model_tmpl_activate(int fd);
int model_tmpl_clear(int fd);
int model_ctl(int fd, int op, ctevid_t evid);	/* MODEL_CTL_* */
#define	MODEL_CTL_ABANDON	1
#define	MODEL_CTL_ADOPT		2
#define	MODEL_CTL_ACK		3
#define	MODEL_CTL_NACK		4
#define	MODEL_CTL_QACK		5
int model_status(int fd, mstatus_t *st);
int model_event_read(int fd, mevinfo_t *ev);	/* EAGAIN: none */
int model_event_reset(int fd);
int model_event_reliable(int fd);
bool model_readable(int fd);		/* an event is there to read */
bool model_is_fd(int fd);
int model_port_fd(void);		/* a real fd for port_create */

#endif /* MODEL_H */

/*
 * init.c -- ctrun as a container's init (ctrun(1), "INIT";
 * docs/containers.md, "PID 1"): PID 1 of its pid namespace, or with -s a
 * child subreaper, so that every orphan of its subtree is handed to it.
 *
 * It reaps every zombie it is handed as soon as SIGCHLD says one is there
 * (the program's own child, when we reap it, has its status recorded,
 * never lost), and passes signals on: SIGTERM and SIGINT stop the whole
 * contract -- the signal to every member, then after the grace period
 * SIGKILL to every member -- and the others go to the program alone, or
 * with -g to every member.  Whoever the contract holds is reached however
 * it daemonized, which is what tini and dumb-init, that know only their
 * child and its process group, cannot do.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const int cli_init_signals[] = {
	SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
	0
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

int
cli_init_start(cli_init_t *in)
{
	if (getpid() == 1 || !in->subreaper)
		return (0);
#if defined(PR_SET_CHILD_SUBREAPER)
	/* Orphans of our subtree come to us rather than to the real init. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		return (ct_err_set(errno, "prctl", "cannot become a child "
		    "subreaper"));
	return (0);
#else
	return (ct_err_set(ENOTSUP, "prctl", "this system has no child "
	    "subreaper: run ctrun as PID 1 instead of -s"));
#endif
}

/*
 * Every zombie now.  waitpid(-1) takes whatever is ready, the command's
 * child too: its status is kept in *ch_statusp for the caller (the
 * backend waits for no child of its own outside a call of ours: the
 * keeper's first fork is reaped before keeper_start returns).
 */
void
cli_init_reap(pid_t child, bool *ch_gonep, int *ch_statusp)
{
	int st;
	pid_t p;

	for (;;) {
		p = waitpid(-1, &st, WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return;
		if (p == child && !*ch_gonep) {
			*ch_statusp = st;
			*ch_gonep = true;
		}
	}
}

/* The signal to every member; a contract already empty is no error. */
static void
to_all(ct_contract_t *ct, int sig)
{
	int err = ct_contract_sigsend(ct, sig);

	if (err != 0 && err != ESRCH)
		cli_error(err, "cannot send %s to contract %d",
		    cli_signame(sig) != NULL ? cli_signame(sig) : "a signal",
		    (int)ct_contract_id(ct));
	ct_err_clear();
}

void
cli_init_stop(cli_init_t *in, ct_contract_t *ct, int sig)
{
	to_all(ct, sig);
	if (!in->stopping) {
		in->stopping = true;
		in->kill_at = now_ms() + in->grace_ms;
	}
}

void
cli_init_signal(cli_init_t *in, ct_contract_t *ct, pid_t child,
    bool program_ended, int sig)
{
	if (sig == SIGTERM || sig == SIGINT) {
		cli_init_stop(in, ct, sig);
	} else if (in->group) {
		to_all(ct, sig);
	} else if (!program_ended) {
		/* Our unreaped child: its pid is not reused under us. */
		(void) ct_spawn_signal(child, sig);
		ct_err_clear();
	}
}

int
cli_init_timeout(const cli_init_t *in)
{
	uint64_t now;

	if (!in->stopping || in->killed)
		return (-1);
	now = now_ms();
	if (now >= in->kill_at)
		return (0);
	return (in->kill_at - now > (uint64_t)INT32_MAX ? INT32_MAX :
	    (int)(in->kill_at - now));
}

void
cli_init_tick(cli_init_t *in, ct_contract_t *ct)
{
	if (in->stopping && !in->killed && now_ms() >= in->kill_at) {
		in->killed = true;
		to_all(ct, SIGKILL);
	}
}

/*
 * The contract has no member left, read now.  An init's exit must not
 * hang on an emptiness event that a heavily loaded host let slip past the
 * backend (seen under reaper membership: the anchor reaped, its end
 * recorded, no pr_empty), so once our own child is reaped the members are
 * counted as well.
 */
bool
cli_init_empty(ct_contract_t *ct)
{
	ct_cstatus_t st;
	bool empty = false;

	if (ct_contract_status(ct, &st) == 0) {
		empty = st.nmembers == 0;
		ct_cstatus_fini(&st);
	}
	ct_err_clear();
	return (empty);
}

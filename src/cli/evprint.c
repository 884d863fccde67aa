/*
 * evprint.c -- events in words, as ctwatch prints them and ctrun -v
 * repeats them (docs/ARCHITECTURE.md, "Tools"): a one-line summary and, verbose, the payload.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "cli.h"

/* What follows "process N" in a process event's summary. */
static const struct {
	uint32_t type;
	const char *text;
} pr_summary[] = {
	{ NC_PR_EV_FORK, "was created" },
	{ NC_PR_EV_EXIT, "exited" },
	{ NC_PR_EV_CORE, "dumped core" },
	{ NC_PR_EV_SIGNAL, "received a fatal signal" },
	{ NC_PR_EV_HWERR, "was killed by a hardware error" },
};

/* What a device is doing, by the event's state bit. */
static const ct_name_t dev_summary[] = {
	{ "online", NC_DEV_EV_ONLINE },
	{ "degrading", NC_DEV_EV_DEGRADED },
	{ "offlining", NC_DEV_EV_OFFLINE },
	{ NULL, 0 }
};

#define	SIG(s)	{ "SIG" #s, SIG##s }
static const struct {
	const char *name;
	int sig;
} signames[] = {
	SIG(HUP), SIG(INT), SIG(QUIT), SIG(ILL), SIG(TRAP), SIG(ABRT),
	SIG(FPE), SIG(KILL), SIG(BUS), SIG(SEGV), SIG(SYS), SIG(PIPE),
	SIG(ALRM), SIG(TERM), SIG(USR1), SIG(USR2), SIG(CHLD), SIG(URG),
	SIG(STOP), SIG(TSTP), SIG(CONT), SIG(TTIN), SIG(TTOU), SIG(VTALRM),
	SIG(PROF), SIG(XCPU), SIG(XFSZ),
#ifdef SIGWINCH
	SIG(WINCH),
#endif
#ifdef SIGPOLL
	SIG(POLL),
#endif
#ifdef SIGPWR
	SIG(PWR),
#endif
#ifdef SIGEMT
	SIG(EMT),
#endif
#ifdef SIGSTKFLT
	SIG(STKFLT),
#endif
#ifdef SIGLOST
	SIG(LOST),
#endif
};
#undef SIG

const char *
cli_signame(int sig)
{
	for (size_t i = 0; i < sizeof (signames) / sizeof (signames[0]); i++) {
		if (signames[i].sig == sig)
			return (signames[i].name);
	}
	return (NULL);
}

bool
cli_event_hidden(const ct_evrec_t *ev)
{
	return (ev->type == NC_EVX_FROZEN || ev->type == NC_EVX_THAWED ||
	    ev->type == NC_EVX_EMPTIED || ev->type == NC_EVX_BROKEN);
}

static void
summary_process(FILE *f, const ct_evrec_t *ev)
{
	if (ev->type == NC_PR_EV_EMPTY) {
		(void) fputs("contract empty", f);
		return;
	}
	for (size_t i = 0; i < sizeof (pr_summary) / sizeof (pr_summary[0]);
	    i++) {
		if (pr_summary[i].type == ev->type) {
			(void) fprintf(f, "process %d %s", (int)ev->pid,
			    pr_summary[i].text);
			return;
		}
	}
	(void) fprintf(f, "process %d sent an unknown event", (int)ev->pid);
}

void
cli_event_summary(FILE *f, const ct_evrec_t *ev, ct_id_t own,
    const char *minor)
{
	const char *what;

	if (ev->type == NC_EV_NEGEND) {
		(void) fprintf(f, "negotiation %" PRIu64 " %s", ev->nevid,
		    (ev->have & CT_EVP_NEWCT) && ev->newct != own ?
		    "succeeded" : "failed");
	} else if (ev->type == NC_EVX_LOST) {
		/* Linux: the proc connector dropped messages. */
		(void) fprintf(f, "events lost (at least %" PRIu64 " forks, %"
		    PRIu64 " exits)", ev->lost_forks, ev->lost_exits);
	} else if (ev->cttype == CT_TYPE_PROCESS) {
		summary_process(f, ev);
	} else if (minor == NULL) {
		/* device_dump.c:58-72: its status could not be read. */
		(void) fputs("[bad contract]", f);
	} else if ((what = ct_names_name(dev_summary, ev->type)) != NULL) {
		(void) fprintf(f, "device %s %s", minor, what);
	} else {
		(void) fprintf(f, "device %s sent an unknown event", minor);
	}
}

static void
detail_signal(FILE *f, const char *label, int sig)
{
	const char *name = cli_signame(sig);

	/* process_dump.c:139-144: the name only where there is one. */
	if (name != NULL)
		(void) fprintf(f, "\t%s: %d (%s)\n", label, sig, name);
	else
		(void) fprintf(f, "\t%s: %d\n", label, sig);
}

static void
detail_wait(FILE *f, int status)
{
	(void) fprintf(f, "\twait status: 0x%x", (unsigned)status);
	if (WIFEXITED(status)) {
		(void) fprintf(f, " (exited, code %d)\n", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		const char *name = cli_signame(WTERMSIG(status));
		/* process_dump.c:107-118: " (SIGNAME)" only if named. */
		(void) fprintf(f, " (signal %d", WTERMSIG(status));
		if (name != NULL)
			(void) fprintf(f, " (%s)", name);
		(void) fputs(WCOREDUMP(status) ? ", core dumped)\n" : ")\n",
		    f);
	} else {
		(void) fputc('\n', f);
	}
}

void
cli_event_details(FILE *f, const ct_evrec_t *ev)
{
	if (ev->cttype != CT_TYPE_PROCESS)
		return;
	switch (ev->type) {
	case NC_PR_EV_FORK:
		if (ev->have & CT_EVP_PPID)
			(void) fprintf(f, "\tparent pid: %d\n", (int)ev->ppid);
		break;
	case NC_PR_EV_EXIT:
		if (ev->have & CT_EVP_EXITSTATUS)
			detail_wait(f, ev->exitstatus);
		break;
	case NC_PR_EV_CORE: {
		const char *lab[3] = { "process core", "global core",
		    "global zone core" };
		const char *path[3] = { ev->pcorefile, ev->gcorefile,
		    ev->zcorefile };
		for (int i = 0; i < 3; i++) {
			if (path[i] == NULL)
				continue;
			(void) fprintf(f, "\t%s: ", lab[i]);
			cli_puts_safe(f, path[i]);
			(void) fputc('\n', f);
		}
		break;
	}
	case NC_PR_EV_SIGNAL:
		if (ev->have & CT_EVP_SIGNAL)
			detail_signal(f, "signal", ev->signal);
		if (ev->have & CT_EVP_SENDER)
			(void) fprintf(f, "\tsender pid: %d\n",
			    (int)ev->sender);
		if (ev->have & CT_EVP_SENDCT)
			(void) fprintf(f, "\tsender ctid: %d\n",
			    (int)ev->sender_ctid);
		break;
	default:
		break;
	}
}

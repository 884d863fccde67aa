/*
 * ctrun.c -- run a command in a new process contract (ctrun(1); docs/ARCHITECTURE.md, "Tools").
 *
 *   ctrun [--trace FILE] [-a ctid] [-i events] [-f events] [-c events]
 *         [-l contract|child|none]
 *         [-o params] [-r count [-t]] [-v] [-V] [-F fmri] [-A aux]
 *         [-s] [-g] [-k grace]
 *         [--] command [argument ...]
 *
 * Terms are set in the order param, informative, fatal, critical, fmri,
 * aux (the backend applies a template in that order).  Exit status: the
 * command's; 123 if it died by a signal (as init, PID 1 or -s: 128 + the
 * signal); 124 internal error; 125 usage; 126 found but not executable;
 * 127 not found.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define	EXIT_SIGNALED	123
#define	EXIT_INTERNAL	124
#define	EXIT_USAGE	125
#define	EXIT_NOEXEC	126
#define	EXIT_NOTFOUND	127

typedef enum { LIFE_NONE, LIFE_CHILD, LIFE_CONTRACT } life_t;

static const ct_name_t lifetimes[] = {
	{ "none", LIFE_NONE },
	{ "child", LIFE_CHILD },
	{ "contract", LIFE_CONTRACT },
	{ NULL, 0 }
};

typedef struct opts {
	uint32_t info, fatal, crit, params;
	life_t life;
	bool restart, transfer;
	bool graced;			/* -k given */
	unsigned long nrestarts;	/* 0: without limit */
	int verbose;			/* 1: -v, 2: -V */
	const char *fmri, *aux;
	const char *trace;		/* --trace FILE, or NULL */
	ct_id_t adopt;			/* -a ctid: first adopt it (0: no) */
	cli_init_t init;		/* PID 1 or -s: src/cli/init.c */
	char **argv;
} opts_t;

/* Kubernetes' default terminationGracePeriodSeconds. */
#define	GRACE_MS_DEFAULT	30000

static const int caught[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, 0 };

static void
usage(FILE *f)
{
	(void) fprintf(f,
	    "Usage: ctrun [--trace FILE] [-a ctid] [-i events] [-f events] "
	    "[-c events]\n"
	    "             [-l contract|child|none] [-o params] "
	    "[-r count [-t]] [-v] [-V]\n"
	    "             [-F fmri] [-A aux] [-s] [-g] [-k grace]\n"
	    "             [--] command [argument ...]\n");
	if (f != stdout)
		return;
	(void) fprintf(f,
	    "\nRun command in a new process contract and hold it.\n"
	    "  events: core signal hwerr empty fork exit, or none "
	    "(comma/blank separated;\n"
	    "          -f takes core signal hwerr only)\n"
	    "  params: noorphan pgrponly regent inherit, or none\n"
	    "  -l contract  wait until the contract is empty (default)\n"
	    "  -l child     wait for command only\n"
	    "  -l none      return once command has been exec'd\n"
	    "  -r count     run count times in all, restarting after a "
	    "fatal event (0: always)\n"
	    "  -t           transfer inherited contracts on restart\n"
	    "  -a ctid      adopt contract ctid and wait for it instead of "
	    "running\n"
	    "               command first (command runs on restarts)\n"
	    "  -v, -V       report contract events (-V: with details)\n"
	    "  --trace FILE write every process of the contract to FILE "
	    "(first option;\n"
	    "               .json: Chrome Trace Event Format, .html: a "
	    "timeline page)\n"
	    "  -s           be an init (as PID 1 always): a child subreaper "
	    "that reaps\n"
	    "               every orphan; SIGTERM/SIGINT stop every member, "
	    "SIGKILL after\n"
	    "               the grace period; other signals go to command\n"
	    "  -g           as init: every signal to every member\n"
	    "  -k grace     as init: seconds from SIGTERM to SIGKILL "
	    "(default 30)\n"
	    "Exit status: command's; 123 killed by a signal (as init: 128 + "
	    "the signal);\n"
	    "124 internal error; 125 usage; 126 not executable; 127 not "
	    "found.\n"
	    "Linux: contracts are cgroup v2 directories; see ctrun(1), "
	    "LINUX NOTES.\n");
}

static void
verbose(const char *fmt, ...) CLI_PRINTF(1, 2);

static void
verbose(const char *fmt, ...)
{
	va_list ap;

	/* On stdout, as illumos's v_printf (ctrun.c:220-228). */
	va_start(ap, fmt);
	(void) printf("%s(%d): ", cli_prog, (int)getpid());
	(void) vprintf(fmt, ap);
	(void) putchar('\n');
	(void) fflush(stdout);
	va_end(ap);
}

/*
 * The list arg with each name given by a prefix spelt out: illumos's
 * str2bit (ctrun.c:126-136) takes the first name of the table that the
 * word begins, so "ex" is exit and "c" core.  Words that begin no name
 * stay as they are (and are refused after).  NULL: out of memory.
 */
static char *
prefix_expand(const ct_name_t *tab, const char *arg)
{
	size_t longest = 1, n = 0;
	char *out;

	for (const ct_name_t *e = tab; e->name != NULL; e++)
		if (strlen(e->name) > longest)
			longest = strlen(e->name);
	/* At worst every character a word of its own, spelt out longest. */
	if ((out = malloc(strlen(arg) * (longest + 1) + 1)) == NULL)
		return (NULL);
	for (const char *p = arg; *p != '\0'; ) {
		size_t len = strcspn(p, ", \t");
		const char *word = p;

		for (const ct_name_t *e = tab; len > 0 && e->name != NULL;
		    e++) {
			if (strncmp(e->name, p, len) == 0 &&
			    strcmp(e->name, "none") != 0) {
				word = e->name;
				break;
			}
		}
		if (word == p) {
			(void) memcpy(out + n, p, len);
			n += len;
		} else {
			n += (size_t)sprintf(out + n, "%s", word);
		}
		p += len;
		if (*p != '\0')
			out[n++] = *p++;
	}
	out[n] = '\0';
	return (out);
}

/*
 * -i, -f, -c, -o (letter c): a list of names of tab.  Messages here, in
 * illumos's words (opt2bits, ctrun.c:166-195); EINVAL.
 */
static int
opt_set(const ct_name_t *tab, const char *arg0, const char *what,
    uint32_t *setp, int c)
{
	char *bad = NULL, *arg = prefix_expand(tab, arg0);
	int err = arg == NULL ? ENOMEM :
	    cli_set_parse(tab, arg, what, setp, &bad);

	if (err == EINVAL && strcmp(bad, "none") == 0) {
		(void) fprintf(stderr, "%s: option is incompatible with "
		    "others: 'none'\n", cli_prog);
	} else if (err == EINVAL) {
		(void) fprintf(stderr, "%s: unrecognized option '%s'\n",
		    cli_prog, bad);
		(void) fprintf(stderr, "%s: error parsing '-%c' option\n",
		    cli_prog, c);
	} else if (err != 0)
		cli_error(err, "cannot parse \"%s\"", arg0);
	free(bad);
	free(arg);
	return (err != 0 ? EINVAL : 0);
}

/* -k: seconds, with at most a fraction down to ms; EINVAL otherwise. */
static int
grace_parse(const char *s, uint64_t *msp)
{
	unsigned long whole = 0, frac = 0, scale = 1000;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return (EINVAL);
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (unsigned long)(*p - '0');
		if (whole > 86400UL * 365)
			return (EINVAL);
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale == 1)
				return (EINVAL);
			scale /= 10;
			frac += (unsigned long)(*p - '0') * scale;
		}
	}
	if (*p != '\0')
		return (EINVAL);
	*msp = (uint64_t)whole * 1000u + frac;
	return (0);
}

/* Options and their combinations; EINVAL after saying what is wrong. */
/* One option of ctrun's own; EINVAL (said on stderr) if it is bad. */
static int
parse_opt(int c, opts_t *o, uint32_t *extrap)
{
	unsigned long n;
	uint32_t v;

	switch (c) {
	case 'i':
		return (opt_set(cli_pr_events, optarg, "event", &o->info, c));
	case 'f':
		return (opt_set(cli_pr_fatal, optarg, "fatal event",
		    &o->fatal, c));
	case 'c':
		return (opt_set(cli_pr_events, optarg, "event", extrap, c));
	case 'o':
		return (opt_set(ct_names_params, optarg, "parameter",
		    &o->params, c));
	case 'l':
		if (ct_names_lookup(lifetimes, optarg, &v) != 0) {
			(void) fprintf(stderr, "%s: invalid lifetime '%s'\n",
			    cli_prog, optarg);
			return (EINVAL);
		}
		o->life = (life_t)v;
		return (0);
	case 'r':
		if (cli_uint_parse(optarg, UINT_MAX, &n) != 0) {
			(void) fprintf(stderr, "%s: invalid count '%s'\n",
			    cli_prog, optarg);
			return (EINVAL);
		}
		o->restart = true;
		o->nrestarts = n;
		return (0);
	case 'a':
		/* illumos: uu_strtoint(optarg, ..., 0, INT32_MAX). */
		if (cli_id_parse(optarg, &o->adopt) != 0) {
			(void) fprintf(stderr, "%s: invalid contract ID "
			    "'%s'\n", cli_prog, optarg);
			return (EINVAL);
		}
		return (0);
	case 't': o->transfer = true; return (0);
	case 'V': o->verbose = 2; return (0);
	case 'v':
		if (o->verbose == 0)
			o->verbose = 1;
		return (0);
	case 's': o->init.subreaper = true; return (0);
	case 'g': o->init.group = true; return (0);
	case 'k':
		if (grace_parse(optarg, &o->init.grace_ms) != 0) {
			(void) fprintf(stderr, "%s: invalid grace period \"%s\" "
			    "(seconds)\n", cli_prog, optarg);
			return (EINVAL);
		}
		o->graced = true;
		return (0);
	case 'F': o->fmri = optarg; return (0);
	case 'A': o->aux = optarg; return (0);
	default:
		cli_bad_option(c);
		return (EINVAL);
	}
}

/* Options that cannot go together, refused up front naming both. */
static int
refuse_conflicts(const opts_t *o)
{
	const char *why = NULL;

	/* The first four in illumos's words (ctrun.c:475-496). */
	if ((o->params & NC_PR_NOORPHAN) && o->life == LIFE_NONE)
		why = "cannot use option 'noorphan' with lifetime 'none'";
	else if (o->restart && o->life == LIFE_NONE)
		why = "cannot restart with lifetime 'none'";
	else if (o->restart && o->life == LIFE_CHILD)
		why = "cannot restart with lifetime 'child'";
	else if (o->restart && (o->params & NC_PR_PGRPONLY))
		why = "cannot restart with option 'pgrponly'";
	else if (o->transfer && !o->restart)
		why = "cannot transfer when not restarting";
	else if (o->adopt != 0 && o->life != LIFE_CONTRACT)
		why = "-a needs -l contract";
	else if ((o->init.group || o->graced) && !o->init.on)
		why = "-g and -k need -s (or ctrun as PID 1)";
	else if (o->init.on && o->life == LIFE_NONE)
		why = "-l none cannot be used as init (-s or PID 1)";
	if (why != NULL) {
		(void) fprintf(stderr, "%s: %s\n", cli_prog, why);
		return (EINVAL);
	}
	if ((o->fmri != NULL && strlen(o->fmri) >= NC_PARAM_MAX_SIZE) ||
	    (o->aux != NULL && strlen(o->aux) >= NC_PARAM_MAX_SIZE)) {
		(void) fprintf(stderr, "%s: -F and -A take at most %d "
		    "characters\n", cli_prog, NC_PARAM_MAX_SIZE - 1);
		return (EINVAL);
	}
	return (0);
}

static int
parse(int argc, char **argv, opts_t *o)
{
	uint32_t extra = 0;
	int c;

	memset(o, 0, sizeof (*o));
	o->info = NC_PR_EV_CORE;
	o->fatal = NC_PR_EV_HWERR;
	o->life = LIFE_CONTRACT;
	o->init.grace_ms = GRACE_MS_DEFAULT;
	opterr = 0;
	while ((c = getopt(argc, argv, CLI_OPTS "a:i:f:c:l:o:r:tvVF:A:sgk:")) !=
	    -1) {
		if (parse_opt(c, o, &extra) != 0)
			return (EINVAL);
	}
	o->init.on = o->init.subreaper || getpid() == 1;
	if (optind >= argc) {
		(void) fprintf(stderr, "%s: no command given\n", cli_prog);
		return (EINVAL);
	}
	o->argv = argv + optind;
	if (refuse_conflicts(o) != 0)
		return (EINVAL);
	o->crit = (o->params & NC_PR_PGRPONLY) ? NC_PR_EV_EMPTY :
	    (o->fatal | NC_PR_EV_EMPTY | extra);
	return (0);
}

static int
make_template(const opts_t *o, ct_template_t *t)
{
	ct_template_init(t, CT_TYPE_PROCESS);
	t->params = o->params;
	t->informative = o->info;
	t->fatal = o->fatal;
	t->critical = o->crit;
	t->given = CT_T_PARAM | CT_T_INFO | CT_T_FATAL | CT_T_CRITICAL;
	if (o->fmri != NULL) {
		if ((t->svc_fmri = strdup(o->fmri)) == NULL)
			return (ENOMEM);
		t->given |= CT_T_SVC_FMRI;
	}
	if (o->aux != NULL) {
		if ((t->svc_aux = strdup(o->aux)) == NULL)
			return (ENOMEM);
		t->given |= CT_T_SVC_AUX;
	}
	return (0);
}

/* Abandon the contract if we still hold it, and close it. */
static void
release(ct_contract_t *ct)
{
	if (ct == NULL)
		return;
	if (ct_contract_owned(ct))
		(void) ct_contract_abandon(ct);
	ct_err_clear();
	ct_contract_close(ct);
}

/*
 * Leave a contract that may still have members, as our exit would: the
 * kernel abandons it, or with inherit lets a regent contract of ours take
 * it.  The first we do now; the second is left to the holder-death rules
 * (the Linux keeper applies them when we are gone).
 */
static void
leave(const opts_t *o, ct_contract_t *ct)
{
	if (o->params & NC_PR_INHERIT)
		ct_contract_close(ct);
	else
		release(ct);
}

/* As init, a signal's death is 128 + its number, as shells report it. */
static int
exit_code(const opts_t *o, int status)
{
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	if (o->init.on && WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (EXIT_SIGNALED);
}

typedef struct waitst {
	bool empty, fatal, reaped;
	int status;
	/* As init: our child reaped by the reaping of every zombie. */
	bool child_gone;
	int child_status;
} waitst_t;

static void
on_event(const opts_t *o, const cli_child_t *ch, const ct_evrec_t *ev,
    waitst_t *w)
{
	if (ev->ctid != ch->ctid)
		return;		/* an earlier attempt's, abandoned */
	if (ev->type == NC_EVX_EMPTIED)
		w->empty = true;
	if (ev->type == NC_EVX_BROKEN) {
		/* Never empty now: say so and stop waiting for it. */
		if ((ev->have & CT_EVP_ERROR) && ev->error == EBADMSG)
			(void) fprintf(stderr, "%s: contract %d: its anchor "
			    "record was refused (forged or spoiled by a "
			    "member): its members cannot be known\n", cli_prog,
			    (int)ev->ctid);
		else
			(void) fprintf(stderr, "%s: contract %d lost its anchor "
			    "(killed by a member): the members handed back to "
			    "us are killed if it is noorphan, else left to "
			    "run\n", cli_prog, (int)ev->ctid);
		w->empty = true;
	}
	if (cli_event_hidden(ev))
		return;
	if (o->verbose > 0) {
		(void) printf("%s(%d): event from contract %d: ",
		    cli_prog, (int)getpid(), (int)ev->ctid);
		cli_event_summary(stdout, ev, ch->ctid, NULL);
		(void) putchar('\n');
		if (o->verbose > 1)
			cli_event_details(stdout, ev);
		(void) fflush(stdout);
	}
	if (!(ev->flags & (NC_EVF_INFO | NC_EVF_ACK)) && ev->evid != 0) {
		(void) ct_contract_ack(ch->ct, ev->evid);
		ct_err_clear();
	}
	if (ev->type != NC_EV_NEGEND && (ev->type & o->fatal) != 0) {
		if (o->verbose > 0)
			verbose("fatal \"%s\" event from contract %d",
			    ct_names_name(cli_pr_events, ev->type),
			    (int)ev->ctid);
		w->fatal = true;
	}
	if (ev->type == NC_PR_EV_EMPTY)
		w->empty = true;
}

/* A signal that ends us: give the contract up first, then die of it. */
static void
terminate(const opts_t *o, cli_child_t *ch, int sig)
{
	leave(o, ch->ct);
	ch->ct = NULL;
	cli_sigpipe_close();
	(void) fflush(NULL);
	(void) raise(sig);
	_exit(128 + sig);
}

/*
 * Reaper membership: the program's end comes from the anchor's report
 * (the anchor itself lives until the tree is empty).  true once decided:
 * a status, or the report closed without one (then the anchor's own).
 */
static bool
read_report(cli_child_t *ch, waitst_t *w)
{
	char buf[32];
	ssize_t n;
	struct pollfd pf = { ch->report, POLLIN, 0 };

	if (poll(&pf, 1, 0) <= 0)
		return (false);
	while ((n = read(ch->report, buf, sizeof (buf) - 1)) < 0 &&
	    errno == EINTR)
		;
	(void) close(ch->report);
	ch->report = -1;
	if (n <= 0)
		return (false);	/* no word: the anchor's exit tells */
	buf[n] = '\0';
	w->status = atoi(buf);
	w->reaped = true;
	return (true);
}

/* The orphans handed to us as a subreaper (cli_spawn): none is our child. */
static void
reap_handed(void)
{
	ct_lock();
	(void) ct_reap();
	ct_unlock();
}

static void
try_reap(cli_child_t *ch, waitst_t *w)
{
	pid_t p;

	if (w->reaped)
		return;
	if (ch->report >= 0 && read_report(ch, w))
		return;
	if (ch->report >= 0)
		return;	/* the program still runs */
	if (w->child_gone) {
		w->status = w->child_status;
		w->reaped = true;
		return;
	}
	while ((p = waitpid(ch->pid, &w->status, WNOHANG)) < 0 &&
	    errno == EINTR)
		;
	if (p == ch->pid || (p < 0 && errno == ECHILD))
		w->reaped = true;
}

/*
 * As init, our child is reaped and the contract has no member: its
 * pr_empty is due (the backend may still wait for members' EXIT events
 * from the proc connector), so wait for it up to SETTLE_MS; if it still
 * has not come, the count is the end (cli_init_empty).
 */
#define	SETTLE_MS	1000

static void
settle(const opts_t *o, cli_child_t *ch, int evfd, waitst_t *w)
{
	struct pollfd pf = { evfd, POLLIN, 0 };
	ct_evrec_t ev;

	for (int i = 0; i < SETTLE_MS / 10 && !w->empty; i++) {
		if (poll(&pf, 1, 10) < 0 && errno != EINTR)
			break;
		if (ct_evq_dispatch() != 0)
			break;
		while (ct_evq_pop(ct_evq_next, &ev) == 0) {
			on_event(o, ch, &ev, w);
			ct_evrec_fini(&ev);
		}
	}
	ct_err_clear();
	w->empty = true;
}

/*
 * Wait for the end of this attempt: the contract empty (-l contract) or
 * the child gone (-l child), handling events meanwhile.
 */
static int
wait_end(opts_t *o, cli_child_t *ch, int evfd, int sigfd, waitst_t *w)
{
	cli_init_t *in = &o->init;
	struct pollfd pf[3] = { { evfd, POLLIN, 0 }, { sigfd, POLLIN, 0 },
	    { ch->report, POLLIN, 0 } };
	ct_evrec_t ev;
	int sig, err;

	memset(w, 0, sizeof (*w));
	for (;;) {
		try_reap(ch, w);
		/* As init, -l child: the program's end stops the rest. */
		if (in->on && o->life == LIFE_CHILD && w->reaped &&
		    !in->stopping)
			cli_init_stop(in, ch->ct, SIGTERM);
		if (o->life == LIFE_CHILD && !in->on ? w->reaped : w->empty)
			break;
		pf[2].fd = ch->report;
		if (poll(pf, ch->report >= 0 ? 3 : 2, in->on ?
		    cli_init_timeout(in) : -1) < 0 && errno != EINTR)
			return (ct_err_set(errno, "poll", "cannot wait"));
		while ((sig = cli_sigpipe_next()) != 0) {
			if (sig == SIGCHLD && in->on)
				cli_init_reap(ch->pid, &w->child_gone,
				    &w->child_status);
			else if (in->on)
				cli_init_signal(in, ch->ct, ch->pid,
				    w->reaped, sig);
			else if (sig != SIGCHLD)
				terminate(o, ch, sig);
			else
				reap_handed();
		}
		if (in->on)
			cli_init_tick(in, ch->ct);
		if ((err = ct_evq_dispatch()) != 0)
			return (err);
		while (ct_evq_pop(ct_evq_next, &ev) == 0) {
			on_event(o, ch, &ev, w);
			ct_evrec_fini(&ev);
		}
		if (in->on && w->reaped && !w->empty && cli_init_empty(ch->ct))
			settle(o, ch, evfd, w);
	}
	while (!w->reaped && ch->report >= 0) {
		(void) poll(&pf[2], 1, -1);
		(void) read_report(ch, w);
	}
	if (!w->reaped && w->child_gone) {
		w->status = w->child_status;
		w->reaped = true;
	}
	while (!w->reaped) {
		if (waitpid(ch->pid, &w->status, 0) == ch->pid ||
		    errno == ECHILD)
			w->reaped = true;
	}
	return (0);
}

/* -t: after the next fork the failed contract must be gone too. */
static void
transfer_done(ct_contract_t *prev)
{
	ct_cstatus_t st;

	if (ct_contract_status(prev, &st) == 0) {
		/* Where the backend did not abandon it at fork, we do. */
		if (st.state == NC_ST_OWNED && st.holder == getpid())
			(void) ct_contract_abandon(prev);
		ct_cstatus_fini(&st);
	}
	ct_err_clear();
	ct_contract_close(prev);
}

static int
exec_failed(cli_child_t *ch)
{
	if (ch->join_failed)
		cli_error(ch->exec_err, "cannot join contract %d",
		    (int)ch->ctid);
	else
		cli_error(ch->exec_err, "exec failed");	/* ctrun.c:630 */
	while (ch->pid > 0 && waitpid(ch->pid, NULL, 0) < 0 && errno == EINTR)
		;
	release(ch->ct);
	if (ch->join_failed)
		return (EXIT_INTERNAL);
	return (ch->exec_err == ENOENT || ch->exec_err == ENOTDIR ?
	    EXIT_NOTFOUND : EXIT_NOEXEC);
}

/* --trace: the contract made for this spawn records every process. */
static int
trace_spawn(const opts_t *o, const ct_template_t *t, cli_child_t *ch)
{
	int err;

	if (o->trace == NULL)
		return (cli_spawn(t, o->argv, ch));
	if ((err = ct_trace_arm(true)) != 0)
		return (err);
	err = cli_spawn(t, o->argv, ch);
	(void) ct_trace_arm(false);
	return (err);
}

static int
trace_write(const opts_t *o, ct_contract_t *ct)
{
	struct timespec ts;
	int err;

	(void) clock_gettime(CLOCK_REALTIME, &ts);
	err = cli_trace_write(ct, o->trace, (uint64_t)ts.tv_sec * 1000000u +
	    (uint64_t)ts.tv_nsec / 1000u);
	if (err != 0)
		cli_error(err, "cannot write the trace to %s", o->trace);
	return (err);
}

/*
 * -r count: count runs in all, so count - 1 restarts (illumos's
 * "opt_count-- > 1", ctrun.c:679); 0: without limit.
 */
static bool
may_restart(const opts_t *o, unsigned long restarts)
{
	return (o->nrestarts == 0 || restarts + 1 < o->nrestarts);
}

/* prev: a failed contract the template's transfer term names, or NULL. */
static int
run(opts_t *o, ct_template_t *t, ct_contract_t *prev)
{
	unsigned long restarts = 0;
	cli_child_t ch;
	waitst_t w;
	int evfd = -1, sigfd, err;

	if ((err = cli_init_start(&o->init)) != 0 ||
	    (err = cli_sigpipe_open(o->init.on ? cli_init_signals : caught,
	    &sigfd)) != 0 ||
	    (err = ct_evq_fd(&evfd)) != 0) {
		cli_error(err, "cannot set up");
		return (EXIT_INTERNAL);
	}
	for (;;) {
		if ((err = trace_spawn(o, t, &ch)) != 0) {
			cli_error(err, "cannot run %s in a new contract",
			    o->argv[0]);
			if (prev != NULL)
				transfer_done(prev);
			return (EXIT_INTERNAL);
		}
		if (o->verbose > 0)
			verbose("created contract id %d", (int)ch.ctid);
		if (prev != NULL) {
			transfer_done(prev);
			prev = NULL;
			t->transfer = 0;
			t->given &= ~CT_T_TRANSFER;
		}
		if (ch.exec_err != 0)
			return (exec_failed(&ch));
		if (o->life == LIFE_NONE) {
			leave(o, ch.ct);
			return (0);
		}
		if ((err = wait_end(o, &ch, evfd, sigfd, &w)) != 0) {
			cli_error(err, "cannot wait for contract %d",
			    (int)ch.ctid);
			release(ch.ct);
			return (EXIT_INTERNAL);
		}
		if (o->restart && w.fatal && w.empty && !o->init.stopping &&
		    may_restart(o, restarts)) {
			if (o->verbose > 0)
				verbose("failure in contract %d, restarting "
				    "command", (int)ch.ctid);
			restarts++;
			if (o->transfer) {
				t->transfer = ch.ctid;
				t->given |= CT_T_TRANSFER;
				prev = ch.ct;
			} else {
				release(ch.ct);
			}
			continue;
		}
		if (o->trace != NULL && trace_write(o, ch.ct) != 0) {
			release(ch.ct);
			return (EXIT_INTERNAL);
		}
		if (o->life == LIFE_CHILD)
			leave(o, ch.ct);
		else
			release(ch.ct);	/* empty: it dies */
		return (exit_code(o, w.status));
	}
}

/*
 * -a ctid: wait for an adopted contract until it is empty; its own terms
 * say what is fatal (illumos reads them from its status, ctrun.c:563-572).
 * A contract whose terms leave out pr_empty never says it emptied, so its
 * status is read every 50 ms instead (as lib/contract.js does).
 */
static int
adopt_wait(const opts_t *ao, cli_child_t *ch, bool blind, waitst_t *w)
{
	int evfd = -1, sigfd, sig, err;
	ct_evrec_t ev;

	if ((err = cli_sigpipe_open(caught, &sigfd)) != 0 ||
	    (err = ct_evq_fd(&evfd)) != 0)
		return (err);
	struct pollfd pf[2] = { { evfd, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
	memset(w, 0, sizeof (*w));
	while (!w->empty) {
		if (poll(pf, 2, blind ? 50 : -1) < 0 && errno != EINTR) {
			err = ct_err_set(errno, "poll", "cannot wait");
			break;
		}
		while ((sig = cli_sigpipe_next()) != 0) {
			if (sig != SIGCHLD)
				terminate(ao, ch, sig);
		}
		if ((err = ct_evq_dispatch()) != 0)
			break;
		while (ct_evq_pop(ct_evq_next, &ev) == 0) {
			on_event(ao, ch, &ev, w);
			ct_evrec_fini(&ev);
		}
		if (blind && !w->empty) {
			ct_cstatus_t st;

			if ((err = ct_contract_status(ch->ct, &st)) == 0) {
				w->empty = st.nmembers == 0;
				ct_cstatus_fini(&st);
			}
			ct_err_clear();
			w->empty |= err == ENOENT || err == ESRCH;
			err = 0;
		}
	}
	cli_sigpipe_close();	/* run() opens it again for a restart */
	return (err);
}

/*
 * -a ctid (illumos ctrun.c:548-580, 663-696): adopt the contract instead
 * of forking the command first, and wait until it is empty.  A fatal
 * event in it (unless its terms say pgrponly) restarts: the command runs
 * in a new contract, counted as the second of -r's runs, with -t the
 * adopted contract transferred to it.  Otherwise 0 (illumos's ctrun goes
 * on to wait for a child it never forked, and dies of it).
 */
static int
adopt_run(const opts_t *o, ct_template_t *t)
{
	opts_t ao = *o, rest = *o;
	cli_child_t ch;
	ct_cstatus_t st;
	waitst_t w;
	bool blind;
	int err;

	if (o->trace != NULL) {
		(void) fprintf(stderr, "%s: --trace cannot be used with -a: "
		    "an adopted contract is not traced\n", cli_prog);
		usage(stderr);
		return (EXIT_USAGE);
	}
	memset(&ch, 0, sizeof (ch));
	ch.ctid = o->adopt;
	ch.report = -1;
	if ((err = ct_contract_open(o->adopt, CT_OPEN_ADOPT, &ch.ct)) != 0) {
		/* ctrun.c:555-558 (no such contract) and :574-576. */
		cli_error(err, err == ENOENT || err == ESRCH ?
		    "could not open contract %d" : "could not adopt contract %d",
		    (int)o->adopt);
		return (EXIT_INTERNAL);
	}
	if ((err = ct_contract_status(ch.ct, &st)) != 0) {
		cli_error(err, "could not stat contract %d", (int)o->adopt);
		release(ch.ct);
		return (EXIT_INTERNAL);
	}
	ao.fatal = st.fatal;
	ao.params = st.params;
	blind = ((st.critical | st.informative) & NC_PR_EV_EMPTY) == 0;
	ct_cstatus_fini(&st);
	if (o->verbose > 0)
		verbose("adopted contract id %d", (int)o->adopt);
	if ((err = adopt_wait(&ao, &ch, blind, &w)) != 0) {
		cli_error(err, "cannot wait for contract %d", (int)o->adopt);
		release(ch.ct);
		return (EXIT_INTERNAL);
	}
	if (!o->restart || !w.fatal || (ao.params & NC_PR_PGRPONLY) ||
	    !may_restart(o, 0)) {
		release(ch.ct);	/* empty: it dies */
		return (0);
	}
	if (o->verbose > 0)
		verbose("failure in contract %d, restarting command",
		    (int)o->adopt);
	if (rest.nrestarts != 0)
		rest.nrestarts--;	/* the adopted contract was a run */
	if (!o->transfer) {
		release(ch.ct);
		return (run(&rest, t, NULL));
	}
	t->transfer = o->adopt;
	t->given |= CT_T_TRANSFER;
	return (run(&rest, t, ch.ct));
}

int
main(int argc, char **argv)
{
	ct_template_t t;
	opts_t o;
	int rc;

	cli_prog = "ctrun";
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return (0);
	}
	const char *trace;
	if (cli_trace_option(&argc, argv, &trace) != 0 ||
	    parse(argc, argv, &o) != 0) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	o.trace = trace;
	/* Whole lines: ours and the command's output may interleave. */
	(void) setvbuf(stderr, NULL, _IOLBF, 0);
	if (make_template(&o, &t) != 0) {
		cli_error(ENOMEM, "cannot make the template");
		ct_template_fini(&t);
		return (EXIT_INTERNAL);
	}
	rc = o.adopt != 0 ? adopt_run(&o, &t) : run(&o, &t, NULL);
	ct_template_fini(&t);
	cli_sigpipe_close();
	return (rc);
}

/*
 * cli.h -- what ctrun, ctstat and ctwatch share (docs/ARCHITECTURE.md, "Tools"): messages, lists
 * of names driven by name <-> bit tables, event summaries, and a
 * self-pipe that turns signals into something poll() can wait for.
 *
 * The tools use the core and the OS backend through ct.h only, never the
 * Node-API binding.  Functions return 0 or an errno value.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ct.h"

#if defined(__GNUC__)
#define	CLI_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#else
#define	CLI_PRINTF(f, a)
#endif

/* ------------------------------------------------------------------ */
/* cli.c: messages */

extern const char *cli_prog;	/* "ctrun" ...: the prefix of messages */

/* "prog: warning: msg" on stderr. */
void cli_warn(const char *fmt, ...) CLI_PRINTF(1, 2);
/*
 * "prog: msg: strerror(err) (what the backend was doing)" on stderr; the
 * detail is the thread's ct_err_message(), which is then cleared.  err 0
 * leaves out the strerror part.
 */
void cli_error(int err, const char *fmt, ...) CLI_PRINTF(2, 3);

/*
 * Leads every option string: no messages from getopt itself (':'), and
 * with glibc no permutation ('+'), so options end at the first operand
 * as POSIX (and illumos) have it.
 */
#if defined(__GLIBC__)
#define	CLI_OPTS	"+:"
#else
#define	CLI_OPTS	":"
#endif

/*
 * getopt() returned c ('?' or ':', with opterr 0 and a ':' leading the
 * option string): "prog: unknown option -x" or "option -x needs an
 * argument".
 */
void cli_bad_option(int c);

/* ------------------------------------------------------------------ */
/* cli.c: lists and numbers */

/* The event names of the tools, in the order they are printed. */
extern const ct_name_t cli_pr_events[];	/* core signal hwerr empty ... */
extern const ct_name_t cli_pr_fatal[];	/* core signal hwerr */

/*
 * Split a comma- or blank-separated list into *itemsp (a NULL-terminated
 * heap array of heap strings; cli_list_free).  Blanks around commas do
 * not count; an item that is empty (",,", a comma at either end) is
 * dropped with illumos ctrun's warning ("empty option", ctrun.c:166;
 * what is unused).
 */
int cli_list_split(const char *list, const char *what, char ***itemsp,
    size_t *np);
void cli_list_free(char **items);

/*
 * Parse a list of names of tab into a set of bits.  The word "none" alone
 * is the empty set.  Repeated names are warned about.  EINVAL with *badp
 * (heap, caller frees) naming the bad item, or "none" when it was mixed
 * with others.
 */
int cli_set_parse(const ct_name_t *tab, const char *list, const char *what,
    uint32_t *setp, char **badp);
/* The names of the bits of set, blank-separated, in table order, or "none". */
void cli_set_print(FILE *f, const ct_name_t *tab, uint32_t set);

/* A contract id: decimal, 1..INT32_MAX, nothing else.  EINVAL otherwise. */
int cli_id_parse(const char *s, ct_id_t *idp);
/* A decimal number 0..max, nothing else.  EINVAL otherwise. */
int cli_uint_parse(const char *s, unsigned long max, unsigned long *vp);

/* ------------------------------------------------------------------ */
/* cli.c: signals through a pipe */

/*
 * Catch each signal of sigs (0-terminated): the handler writes the signal
 * number into a close-on-exec, non-blocking pipe whose read end is *fdp.
 */
int cli_sigpipe_open(const int *sigs, int *fdp);
/* The next caught signal, or 0 when none is pending. */
int cli_sigpipe_next(void);
/* Restore the default actions and close the pipe. */
void cli_sigpipe_close(void);

/* ------------------------------------------------------------------ */
/* evprint.c: events as ctwatch prints them */

/* Extension events only the library uses (freeze, stop): never shown. */
bool cli_event_hidden(const ct_evrec_t *ev);
/*
 * The one-line summary of an event, without a newline: "contract empty",
 * "process 12 was created" ...  minor is the device's minor path (device
 * contracts) or NULL.
 */
void cli_event_summary(FILE *f, const ct_evrec_t *ev, ct_id_t own,
    const char *minor);
/* The verbose details, one tab-indented line each. */
void cli_event_details(FILE *f, const ct_evrec_t *ev);
/* "SIGTERM" ... or NULL. */
const char *cli_signame(int sig);
/* s as text that cannot drive a terminal: control bytes as \ooo. */
void cli_puts_safe(FILE *f, const char *s);

/* ------------------------------------------------------------------ */
/* spawn.c: ctrun's fork into a new contract */

typedef struct cli_child {
	pid_t pid;
	ct_id_t ctid;
	ct_contract_t *ct;	/* opened CT_OPEN_LATEST */
	int exec_err;		/* 0: the program runs; else why not */
	bool join_failed;	/* exec_err is from joining, not exec */
	pid_t program;		/* the program: pid, or the anchor's first */
	/*
	 * Reaper membership: pid is the contract's anchor, which writes the
	 * program's pid here once it forked it, then its wait status once it
	 * reaped it ("N\n" each; cli_spawn reads the first), then closes it
	 * (docs/ARCHITECTURE.md, "Linux: membership"); else -1.
	 */
	int report;
} cli_child_t;

/*
 * Fork argv (found on PATH) in a new process contract made from t, hold
 * it, and wait until the child has exec'd it or failed to (reported
 * back over a close-on-exec pipe).  The caller's signal handlers are
 * reset in the child.  Errors before the child exists return an errno
 * with nothing left behind.
 */
int cli_spawn(const ct_template_t *t, char *const argv[], cli_child_t *cp);

/* ------------------------------------------------------------------ */
/* init.c: ctrun as a container's init (PID 1, or -s a subreaper) */

typedef struct cli_init {
	bool on;		/* PID 1, or -s */
	bool subreaper;		/* -s: make us a child subreaper */
	bool group;		/* -g: every signal to every member */
	uint64_t grace_ms;	/* -k: from SIGTERM to SIGKILL */
	bool stopping;		/* the tree was told to stop */
	bool killed;		/* ... and the grace period is over */
	uint64_t kill_at;	/* CLOCK_MONOTONIC ms */
} cli_init_t;

/* SIGCHLD and the signals an init passes on; 0-terminated. */
extern const int cli_init_signals[];
/* -s when not PID 1: become a child subreaper. */
int cli_init_start(cli_init_t *in);
/* Reap every zombie; child's status goes to *statusp (once, *gonep). */
void cli_init_reap(pid_t child, bool *gonep, int *statusp);
/*
 * A caught signal: SIGTERM and SIGINT stop the whole contract (the
 * signal to every member now, SIGKILL after the grace period); others go
 * to the program (child as cli_spawn gave it) until it ended, or with -g
 * to every member.
 */
void cli_init_signal(cli_init_t *in, ct_contract_t *ct, pid_t child,
    bool program_ended, int sig);
/* Stop the tree with sig, as SIGTERM does. */
void cli_init_stop(cli_init_t *in, ct_contract_t *ct, int sig);
/* poll()'s timeout until the grace period ends: ms, or -1. */
int cli_init_timeout(const cli_init_t *in);
/* The contract has no member now (read, not waited for). */
bool cli_init_empty(ct_contract_t *ct);
/* Once the grace period is over: SIGKILL every member (once). */
void cli_init_tick(cli_init_t *in, ct_contract_t *ct);

/* ------------------------------------------------------------------ */
/* trace_out.c, trace_page.c: ctrun --trace FILE (docs/trace.md) */

/* Take a leading "--trace FILE" / "--trace=FILE" out of argv. */
int cli_trace_option(int *argcp, char **argv, const char **filep);
/* The contract's trace as FILE.json (Chrome Trace Event Format) or .html. */
int cli_trace_write(ct_contract_t *ct, const char *file, uint64_t now_us);

#endif /* CLI_H */

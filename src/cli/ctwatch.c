/*
 * ctwatch.c -- print contract events as they happen (ctwatch(1); docs/ARCHITECTURE.md, "Tools").
 *
 *   ctwatch [-f] [-r] [-v] [-a] type|ctid ...
 *
 * An id operand observes that contract.  A type operand (process,
 * device) and -a (every type): on illumos, as illumos's ctwatch, read the
 * type's bundle, which has every event of every contract of the type, new
 * ones included; -r asks for reliable delivery and -f starts from the
 * oldest event the kernel keeps (both apply to id operands too).
 * Elsewhere every contract of the type that can be observed is observed,
 * re-listing them every RELIST_MS to pick up new ones, and -r and -f have
 * no effect.  One line per event, until SIGINT or SIGTERM (exit 0).
 * Exit: 0, 1 on errors, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#if defined(__sun)
#include "illumos/tools.h"
#endif

#define	EXIT_ERROR	1
#define	EXIT_USAGE	2
#define	RELIST_MS	250

typedef struct watched {
	ct_id_t id;
	ct_contract_t *c;
	bool named;		/* an id operand: kept whatever lists say */
	char *minor;		/* a device contract's minor, or NULL */
} watched_t;

typedef struct state {
	watched_t *w;		/* sorted by id */
	size_t n, cap;
	uint32_t types;		/* 1 << type of each type operand, relisted */
	uint32_t bundled;	/* 1 << type of each bundle read (illumos) */
	bool verbose, reliable, reset;
} state_t;

static const int caught[] = { SIGINT, SIGTERM, 0 };

static void
usage(FILE *f)
{
	/* ctwatch.c:71-73, with -a. */
	(void) fprintf(f, "Usage: ctwatch [-f] [-r] [-v] [-a] "
	    "contract-id | contract-type ...\n");
	if (f != stdout)
		return;
	(void) fprintf(f,
	    "\nPrint the events of contracts (by id) or of every contract of "
	    "a type\n(process, device; -a: every type) until interrupted.\n"
	    "  -v  print event details\n"
	    "  -f  from the oldest event kept    -r  reliable delivery\n"
	    "      (illumos; no effect on Linux, see ctwatch(1))\n"
	    "Exit status: 0 ok (also on SIGINT/SIGTERM), 1 error, 2 usage.\n");
}

static watched_t *
find(state_t *s, ct_id_t id, size_t *posp)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->w[mid].id == id)
			return (&s->w[mid]);
		if (s->w[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*posp = lo;
	return (NULL);
}

/* The device minor, for summaries; NULL where there is none. */
static char *
minor_of(ct_contract_t *c)
{
	ct_cstatus_t st;
	char *m = NULL;

	if (ct_contract_type(c) != CT_TYPE_DEVICE ||
	    ct_contract_status(c, &st) != 0)
		return (NULL);
	if (st.dev_minor != NULL)
		m = strdup(st.dev_minor);
	ct_cstatus_fini(&st);
	return (m);
}

/*
 * Observe id.  A contract that is gone or may not be observed is skipped:
 * with a warning for an id operand (and an error for anything else).
 */
static int
watch(state_t *s, ct_id_t id, bool named)
{
	ct_contract_t *c;
	watched_t *w;
	size_t pos = 0;
	int err;

	if ((w = find(s, id, &pos)) != NULL) {
		w->named |= named;
		return (0);
	}
	if ((err = ct_contract_open(id, CT_OPEN_OBSERVE, &c)) == 0 &&
	    (s->bundled & (1u << ct_contract_type(c))) != 0) {
		ct_contract_close(c);	/* its type's bundle has its events */
		return (0);
	}
	if (err != 0) {
		/* illumos's words, ctwatch.c:321-323 (sopen). */
		if (named && (err == EPERM || err == EACCES)) {
			(void) fprintf(stderr, "%s: could not access contract "
			    "id %d\n", cli_prog, (int)id);
			err = 0;
		} else if (named) {
			(void) fprintf(stderr, "%s: invalid contract id: %d\n",
			    cli_prog, (int)id);
		} else {
			err = 0;	/* gone, or not ours to see */
		}
		ct_err_clear();
		return (err);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 16 : s->cap * 2;
		watched_t *nw = realloc(s->w, cap * sizeof (*nw));
		if (nw == NULL) {
			ct_contract_close(c);
			return (ENOMEM);
		}
		s->w = nw;
		s->cap = cap;
	}
	memmove(&s->w[pos + 1], &s->w[pos], (s->n - pos) * sizeof (*s->w));
	s->w[pos].id = id;
	s->w[pos].c = c;
	s->w[pos].named = named;
	s->w[pos].minor = minor_of(c);
	s->n++;
	return (0);
}

static void
unwatch(state_t *s, size_t i)
{
	ct_contract_close(s->w[i].c);
	free(s->w[i].minor);
	memmove(&s->w[i], &s->w[i + 1], (s->n - i - 1) * sizeof (*s->w));
	s->n--;
}

/*
 * Type operands: observe what is new, stop observing what is gone (so a
 * dead contract is not kept referenced).
 */
static int
relist(state_t *s)
{
	ct_type_t type = s->types == (1u << CT_TYPE_PROCESS) ?
	    CT_TYPE_PROCESS : s->types == (1u << CT_TYPE_DEVICE) ?
	    CT_TYPE_DEVICE : CT_TYPE_COUNT;
	ct_id_t *ids;
	size_t n, j = 0;
	int err;

	if (s->types == 0)
		return (0);
	if ((err = ct_contract_list(type, &ids, &n)) != 0) {
		cli_error(err, "cannot list contracts");
		return (err);
	}
	/* Both sorted: drop the watched ones no list has any more. */
	for (size_t i = 0; i < s->n; ) {
		while (j < n && ids[j] < s->w[i].id)
			j++;
		if (!s->w[i].named && (j == n || ids[j] != s->w[i].id))
			unwatch(s, i);
		else
			i++;
	}
	for (size_t i = 0; i < n && err == 0; i++)
		err = watch(s, ids[i], false);
	free(ids);
	return (err);
}

/*
 * The minor of a device contract not watched by id (a bundle's event):
 * from its status, as libcontract's event dump does on illumos.  NULL:
 * not a device event, or gone.
 */
static char *
device_minor(const ct_evrec_t *ev)
{
#if defined(__sun)
	ct_cstatus_t st;
	char *m = NULL;

	if (ev->cttype != CT_TYPE_DEVICE || il_status_id(ev->ctid, &st) != 0) {
		ct_err_clear();
		return (NULL);
	}
	if (st.dev_minor != NULL)
		m = strdup(st.dev_minor);
	ct_cstatus_fini(&st);
	return (m);
#else
	(void) ev;
	return (NULL);
#endif
}

static void
print_event(state_t *s, const ct_evrec_t *ev)
{
	const char *type = ct_names_name(ct_names_types, ev->cttype);
	const char *crit = (ev->flags & NC_EVF_INFO) ? "info" :
	    (ev->flags & NC_EVF_NEG) ? "neg" : "crit";
	const watched_t *w;
	char evid[24] = "-";
	size_t pos;

	if (ev->evid != 0)
		(void) snprintf(evid, sizeof (evid), "%" PRIu64, ev->evid);
	/* illumos's widths, without a separator (ctwatch.c:145). */
	(void) printf("%-8d%-8s%-5s%-4s%-9s", (int)ev->ctid, evid, crit,
	    (ev->flags & NC_EVF_ACK) ? "yes" : "no", type != NULL ? type : "?");
	w = find(s, ev->ctid, &pos);
	if (w != NULL && w->minor != NULL) {
		cli_event_summary(stdout, ev, ev->ctid, w->minor);
	} else {
		char *minor = device_minor(ev);

		cli_event_summary(stdout, ev, ev->ctid, minor);
		free(minor);
	}
	(void) putchar('\n');
	if (s->verbose)
		cli_event_details(stdout, ev);
}

static int
parse(int argc, char **argv, state_t *s)
{
	bool all = false;
	uint32_t v;
	ct_id_t id;
	int c;

	opterr = 0;
	while ((c = getopt(argc, argv, CLI_OPTS "frva")) != -1) {
		switch (c) {
		case 'f':
			s->reset = true;
			break;
		case 'r':
			s->reliable = true;
			break;
		case 'v':
			s->verbose = true;
			break;
		case 'a':
			all = true;
			break;
		default:
			cli_bad_option(c);
			return (EINVAL);
		}
	}
	if (optind >= argc && !all) {
		(void) fprintf(stderr, "%s: no contract type or id given\n",
		    cli_prog);
		return (EINVAL);
	}
	for (int i = optind; i < argc; i++) {
		if (ct_names_lookup(ct_names_types, argv[i], &v) == 0)
			s->types |= 1u << v;
		else if (cli_id_parse(argv[i], &id) != 0) {
			/* ctwatch.c:176/279: not a usage error. */
			(void) fprintf(stderr, "%s: invalid contract type: "
			    "%s\n", cli_prog, argv[i]);
			return (ENOENT);
		}
	}
	if (all)
		s->types = (1u << CT_TYPE_COUNT) - 1;
	return (0);
}

/*
 * illumos: read the bundle of each type operand instead of relisting, as
 * illumos's ctwatch does; -r and -f apply to every endpoint opened.
 */
static int
watch_bundles(state_t *s)
{
#if defined(__sun)
	int err;

	il_observe_options(s->reliable, s->reset);
	for (int t = 0; t < CT_TYPE_COUNT; t++) {
		if ((s->types & (1u << t)) == 0)
			continue;
		if ((err = il_bundle_watch((ct_type_t)t, s->reliable,
		    s->reset)) != 0) {
			cli_error(err, "cannot read the %s bundle",
			    ct_names_name(ct_names_types, (uint32_t)t));
			return (err);
		}
		s->bundled |= 1u << t;
	}
	s->types = 0;
#else
	(void) s;
#endif
	return (0);
}

/*
 * -r without the contract_event privilege: illumos's ctwatch warns and
 * reads the events all the same (ctwatch.c:348-353); so do we.
 */
static void
warn_unreliable(const state_t *s)
{
#if defined(__sun)
	if (s->reliable && il_reliable_was_refused())
		(void) fprintf(stderr, "%s: could not request reliable "
		    "events: %s\n", cli_prog, strerror(EPERM));
#else
	(void) s;
#endif
}

/* The id operands (after parse); a type's contract is watched once. */
static int
watch_ids(int argc, char **argv, state_t *s)
{
	ct_id_t id;
	int err;

	for (int i = optind; i < argc; i++) {
		if (cli_id_parse(argv[i], &id) == 0 &&
		    (err = watch(s, id, true)) != 0)
			return (err);
	}
	return (0);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Print every event until a signal; 0, or an errno. */
static int
loop(state_t *s, int evfd, int sigfd)
{
	struct pollfd pf[2] = { { evfd, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
	uint64_t last = now_ms();
	ct_evrec_t ev;
	int err;

	for (;;) {
		int wait = -1;
		if (s->types != 0) {
			uint64_t since = now_ms() - last;
			wait = since >= RELIST_MS ? 0 : (int)(RELIST_MS - since);
		}
		if (poll(pf, 2, wait) < 0 && errno != EINTR)
			return (errno);
		if (cli_sigpipe_next() != 0)
			return (0);
		if ((err = ct_evq_dispatch()) != 0)
			return (err);
		while (ct_evq_pop(ct_evq_next, &ev) == 0) {
			if (!cli_event_hidden(&ev))
				print_event(s, &ev);
			ct_evrec_fini(&ev);
		}
		(void) fflush(stdout);
		if (s->types != 0 && now_ms() - last >= RELIST_MS) {
			if ((err = relist(s)) != 0)
				return (err);
			last = now_ms();
		}
	}
}

static void
cleanup(state_t *s)
{
	ct_evrec_t ev;

	while (s->n > 0)
		unwatch(s, s->n - 1);
	free(s->w);
	while (ct_evq_pop(ct_evq_next, &ev) == 0)
		ct_evrec_fini(&ev);
	cli_sigpipe_close();
}

int
main(int argc, char **argv)
{
	state_t s;
	int evfd, sigfd, err;

	cli_prog = "ctwatch";
	memset(&s, 0, sizeof (s));
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return (0);
	}
	if ((err = cli_sigpipe_open(caught, &sigfd)) != 0 ||
	    (err = ct_evq_fd(&evfd)) != 0) {
		cli_error(err, "cannot set up");
		return (EXIT_ERROR);
	}
	if ((err = parse(argc, argv, &s)) != 0) {
		if (err == EINVAL)
			usage(stderr);
		cleanup(&s);
		return (err == EINVAL ? EXIT_USAGE : EXIT_ERROR);
	}
	if ((err = watch_bundles(&s)) != 0 ||
	    (err = watch_ids(argc, argv, &s)) != 0 ||
	    (err = relist(&s)) != 0 ||
	    (s.n == 0 && s.types == 0 && s.bundled == 0)) {
		if (err == 0)
			(void) fprintf(stderr, "%s: no contracts to watch\n",
			    cli_prog);
		cleanup(&s);
		return (EXIT_ERROR);
	}
	warn_unreliable(&s);
	(void) printf("%-8s%-8s%-5s%-4s%-9s%s\n", "CTID", "EVID", "CRIT",
	    "ACK", "CTTYPE", "SUMMARY");
	(void) fflush(stdout);
	err = loop(&s, evfd, sigfd);
	if (err != 0)
		cli_error(err, "cannot read events");
	cleanup(&s);
	return (err != 0 ? EXIT_ERROR : 0);
}

/*
 * ctstat.c -- list contracts (ctstat(1); docs/ARCHITECTURE.md, "Tools").
 *
 *   ctstat [-a] [-i ctid,...] [-t type,...] [-T u|d] [-v] [interval [count]]
 *
 * One table per round: the header, then a row per contract (dead ones
 * only with -a), each followed by its terms with -v.  With an interval,
 * rounds repeat every interval seconds, count times (forever without a
 * count; a count of 0 prints nothing).  Exit: 0, 1 on errors, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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

/* -t: a bit per type. */
static const ct_name_t type_bits[] = {
	{ "process", 1u << CT_TYPE_PROCESS },
	{ "device", 1u << CT_TYPE_DEVICE },
	{ NULL, 0 }
};

/* The STATE column (ctstat's words, not the library's). */
static const ct_name_t state_words[] = {
	{ "owned", NC_ST_OWNED },
	{ "inherit", NC_ST_INHERITED },
	{ "orphan", NC_ST_ORPHAN },
	{ "dead", NC_ST_DEAD },
	{ NULL, 0 }
};

typedef struct opts {
	bool all, verbose;
	uint32_t types;		/* type_bits; 0: every type */
	ct_id_t *ids;		/* -i, or NULL */
	size_t nids;
	char stamp;		/* 'u', 'd' or 0 */
	unsigned long interval;	/* 0: one round */
	long count;		/* -1: forever */
} opts_t;

static void
usage(FILE *f)
{
	/* ctstat.c:59-60. */
	(void) fprintf(f, "Usage: ctstat [-a] [-i ctidlist] [-t typelist] "
	    "[-T d|u] [-v] [interval [count]]\n");
	if (f != stdout)
		return;
	(void) fprintf(f,
	    "\nList contracts (types: process, device).\n"
	    "  -a  include dead contracts    -v  print every term\n"
	    "  -i  only these ids            -t  only these types\n"
	    "  -T  timestamp each round: u (seconds since 1970) or d (date)\n"
	    "Exit status: 0 ok, 1 error, 2 usage.  Linux: see ctstat(1), "
	    "LINUX NOTES.\n");
}

/* ---- -v: the terms, one aligned line each ---- */

typedef void field_fn(FILE *, const ct_cstatus_t *);

static void
f_cookie(FILE *f, const ct_cstatus_t *st)
{
	(void) fprintf(f, "%#llx", (unsigned long long)st->cookie);
}

static void
f_info(FILE *f, const ct_cstatus_t *st)
{
	cli_set_print(f, st->type == CT_TYPE_PROCESS ? cli_pr_events :
	    ct_names_devstates, st->informative);
}

static void
f_crit(FILE *f, const ct_cstatus_t *st)
{
	cli_set_print(f, st->type == CT_TYPE_PROCESS ? cli_pr_events :
	    ct_names_devstates, st->critical);
}

static void
f_fatal(FILE *f, const ct_cstatus_t *st)
{
	cli_set_print(f, cli_pr_events, st->fatal);
}

static void
f_params(FILE *f, const ct_cstatus_t *st)
{
	cli_set_print(f, ct_names_params, st->params);
}

static int
cmp_int32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return ((x > y) - (x < y));
}

/* Sorted ids, or "none"; pid_t and ct_id_t are both 32 bits here. */
static void
print_ids(FILE *f, const int32_t *ids, size_t n)
{
	int32_t *s;

	if (n == 0) {
		(void) fputs("none", f);
		return;
	}
	if ((s = malloc(n * sizeof (*s))) == NULL) {
		(void) fprintf(f, "(error: %s)", strerror(ENOMEM));
		return;
	}
	memcpy(s, ids, n * sizeof (*s));
	qsort(s, n, sizeof (*s), cmp_int32);
	for (size_t i = 0; i < n; i++)
		(void) fprintf(f, "%s%" PRId32, i == 0 ? "" : " ", s[i]);
	free(s);
}

_Static_assert(sizeof (pid_t) == sizeof (int32_t), "pid_t is 32 bits");

static void
f_members(FILE *f, const ct_cstatus_t *st)
{
	print_ids(f, (const int32_t *)st->members, st->nmembers);
}

static void
f_contracts(FILE *f, const ct_cstatus_t *st)
{
	print_ids(f, st->contracts, st->ncontracts);
}

static void
f_str(FILE *f, const char *s)
{
	if (s == NULL)
		(void) fprintf(f, "(error: %s)", strerror(ENOENT));
	else
		cli_puts_safe(f, s);
}

static void
f_fmri(FILE *f, const ct_cstatus_t *st)
{
	f_str(f, st->svc_fmri);
}

static void
f_fmri_ctid(FILE *f, const ct_cstatus_t *st)
{
	(void) fprintf(f, "%d", (int)st->svc_ctid);
}

static void
f_creator(FILE *f, const ct_cstatus_t *st)
{
	f_str(f, st->svc_creator);
}

static void
f_aux(FILE *f, const ct_cstatus_t *st)
{
	f_str(f, st->svc_aux);
}

static void
f_device(FILE *f, const ct_cstatus_t *st)
{
	f_str(f, st->dev_minor);
}

static void
f_devstate(FILE *f, const ct_cstatus_t *st)
{
	f_str(f, ct_names_name(ct_names_devstates, st->dev_state));
}

typedef struct field {
	const char *label;
	field_fn *print;
} field_t;

static const field_t pr_fields[] = {
	{ "cookie", f_cookie },
	{ "informative event set", f_info },
	{ "critical event set", f_crit },
	{ "fatal event set", f_fatal },
	{ "parameter set", f_params },
	{ "member processes", f_members },
	{ "inherited contracts", f_contracts },
	{ "service fmri", f_fmri },
	{ "service fmri ctid", f_fmri_ctid },
	{ "creator", f_creator },
	{ "aux", f_aux },
	{ NULL, NULL }
};

/* illumos's vcommon + vdevice (ctstat.c:404-433): no event sets. */
static const field_t dev_fields[] = {
	{ "cookie", f_cookie },
	{ "device", f_device },
	{ "dev_state", f_devstate },
	{ NULL, NULL }
};

static int
cmp_member(const void *a, const void *b)
{
	pid_t x = ((const ct_member_t *)a)->pid;
	pid_t y = ((const ct_member_t *)b)->pid;

	return ((x > y) - (x < y));
}

/*
 * Beyond illumos's ctstat, which lists pids only: under "member
 * processes", one line per member, "PID: ARGV" in the value column
 * ("[comm]" for a zombie, whose argv is gone), so that who leaked what is
 * in view.  Nothing if the members cannot be read (the pid list says it).
 */
static void
print_commands(ct_id_t id, int width)
{
	ct_contract_t *c;
	ct_member_t *m;
	size_t n;

	if (ct_contract_open(id, CT_OPEN_OBSERVE, &c) != 0) {
		ct_err_clear();
		return;
	}
	if (ct_contract_members(c, &m, &n) != 0) {
		ct_err_clear();
		ct_contract_close(c);
		return;
	}
	ct_contract_close(c);
	qsort(m, n, sizeof (*m), cmp_member);
	for (size_t i = 0; i < n; i++) {
		(void) printf("\t%*s%d:", width, "", (int)m[i].pid);
		if (m[i].argc == 0) {
			(void) fputs(" [", stdout);
			cli_puts_safe(stdout, m[i].comm != NULL ? m[i].comm :
			    "?");
			(void) putchar(']');
		}
		for (size_t k = 0; k < m[i].argc; k++) {
			(void) putchar(' ');
			cli_puts_safe(stdout, m[i].argv[k]);
		}
		(void) putchar('\n');
	}
	ct_members_free(m, n);
}

static void
print_fields(ct_id_t id, const ct_cstatus_t *st)
{
	const field_t *tab = st->type == CT_TYPE_DEVICE ? dev_fields :
	    pr_fields;
	int width = 0;

	for (const field_t *fl = tab; fl->label != NULL; fl++) {
		if ((int)strlen(fl->label) > width)
			width = (int)strlen(fl->label);
	}
	/*
	 * illumos's print_verbose (ctstat.c:448-473): the colon right after
	 * the label, then spaces up to the longest label plus two.
	 */
	width += 2;
	for (const field_t *fl = tab; fl->label != NULL; fl++) {
		(void) printf("\t%s%-*s", fl->label,
		    width - (int)strlen(fl->label), ":");
		fl->print(stdout, st);
		(void) putchar('\n');
		if (fl->print == f_members && st->nmembers > 0)
			print_commands(id, width);
	}
}

/* ---- the table ---- */

static void
print_header(void)
{
	(void) printf("%-8s%-8s%-8s%-8s%-8s%-8s%-8s%-8s\n", "CTID", "ZONEID",
	    "TYPE", "STATE", "HOLDER", "EVENTS", "QTIME", "NTIME");
}

static void
print_row(const ct_cstatus_t *st)
{
	const char *type = ct_names_name(ct_names_types, st->type);
	const char *state = ct_names_name(state_words, (uint32_t)st->state);
	char holder[16] = "-", qtime[16] = "-", ntime[16] = "-";

	if (st->state == NC_ST_OWNED || st->state == NC_ST_INHERITED)
		(void) snprintf(holder, sizeof (holder), "%d", (int)st->holder);
	if (st->qtime != -1) {
		(void) snprintf(qtime, sizeof (qtime), "%d", (int)st->qtime);
		(void) snprintf(ntime, sizeof (ntime), "%d", (int)st->ntime);
	}
	(void) printf("%-7d %-7d %-7s %-7s %-7s %-7d %-7s %-8s\n",
	    (int)st->ctid, (int)st->zoneid, type != NULL ? type : "?",
	    state != NULL ? state : "?", holder, (int)st->nevents, qtime,
	    ntime);
}

static bool
in_ids(const opts_t *o, ct_id_t id)
{
	for (size_t i = 0; i < o->nids; i++) {
		if (o->ids[i] == id)
			return (true);
	}
	return (false);
}

/*
 * -i and -t select a union, as illumos's ctstat: a contract is shown if
 * its id is listed, or else if its type is (scan_all, ctstat.c:665-694);
 * with neither, every contract.  Before its status is read, only an id
 * list without a type list can rule one out.
 */
static bool
wanted(const opts_t *o, ct_id_t id)
{
	return (o->ids == NULL || o->types != 0 || in_ids(o, id));
}

static bool
selected(const opts_t *o, ct_id_t id, ct_type_t type)
{
	if (o->ids == NULL && o->types == 0)
		return (true);
	return ((o->ids != NULL && in_ids(o, id)) ||
	    (o->types & (1u << type)) != 0);
}

/*
 * The status of contract id.  On illumos, as illumos's ctstat does, from
 * its status file alone, which anyone who sees the contract may read;
 * observing it would need the rights of its holder's user.  Elsewhere
 * the status comes with a handle.
 */
static int
status_of(ct_id_t id, ct_cstatus_t *st)
{
#if defined(__sun)
	return (il_status_id(id, st));
#else
	ct_contract_t *c;
	int err;

	if ((err = ct_contract_open(id, CT_OPEN_OBSERVE, &c)) == 0) {
		err = ct_contract_status(c, st);
		ct_contract_close(c);
	}
	return (err);
#endif
}

/* One contract's row (and terms); 0, or 1 after saying what failed. */
static int
show(const opts_t *o, ct_id_t id)
{
	ct_cstatus_t st;
	int err = status_of(id, &st);

	/* Gone between the listing and the open: not an error. */
	if (err == ENOENT || err == ESRCH) {
		ct_err_clear();
		return (0);
	}
	if (err != 0) {
		cli_error(err, "cannot read the status of contract %d",
		    (int)id);
		return (1);
	}
	if (selected(o, id, st.type) && (o->all || st.state != NC_ST_DEAD)) {
		print_row(&st);
		if (o->verbose)
			print_fields(id, &st);
	}
	ct_cstatus_fini(&st);
	return (0);
}

static void
print_stamp(char how)
{
	time_t now = time(NULL);
	char buf[64];
	struct tm tm;

	if (how == 'u') {
		(void) printf("%lld\n", (long long)now);
	} else if (localtime_r(&now, &tm) != NULL &&
	    strftime(buf, sizeof (buf), "%a %b %e %H:%M:%S %Z %Y", &tm) > 0) {
		(void) printf("%s\n", buf);
	}
}

/* Opening contracts queues events nobody here reads: drop them. */
static void
drop_events(void)
{
	ct_evrec_t ev;

	while (ct_evq_pop(ct_evq_next, &ev) == 0)
		ct_evrec_fini(&ev);
}

static int
round_(const opts_t *o)
{
	ct_id_t *ids;
	size_t n;
	int err, rc = 0;

	if ((err = ct_contract_list(CT_TYPE_COUNT, &ids, &n)) != 0) {
		cli_error(err, "cannot list contracts");
		return (1);
	}
	if (o->stamp != 0)
		print_stamp(o->stamp);
	print_header();
	for (size_t i = 0; i < n; i++) {
		if (wanted(o, ids[i]))
			rc |= show(o, ids[i]);
	}
	free(ids);
	drop_events();
	(void) fflush(stdout);
	return (rc);
}

static int
parse_ids(const char *arg, opts_t *o)
{
	ct_id_t *more;
	char **items;
	size_t n;
	int err;

	if ((err = cli_list_split(arg, "contract id", &items, &n)) != 0)
		return (err);
	/* Repeated -i accumulate, as illumos's walk_args appends. */
	if ((more = realloc(o->ids, (o->nids + n + 1) *
	    sizeof (ct_id_t))) == NULL) {
		cli_list_free(items);
		return (ENOMEM);
	}
	o->ids = more;
	for (size_t i = 0; i < n && err == 0; i++) {
		if (cli_id_parse(items[i], &o->ids[o->nids++]) != 0) {
			(void) fprintf(stderr, "%s: invalid numerical "
			    "argument \"%s\"\n", cli_prog, items[i]);
			err = EINVAL;
		}
	}
	cli_list_free(items);
	return (err);
}

static int
parse(int argc, char **argv, opts_t *o)
{
	unsigned long v;
	uint32_t tset;
	char *bad;
	int c, err;

	memset(o, 0, sizeof (*o));
	o->count = -1;
	opterr = 0;
	while ((c = getopt(argc, argv, CLI_OPTS "ai:t:T:v")) != -1) {
		switch (c) {
		case 'a':
			o->all = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'i':
			if (parse_ids(optarg, o) != 0)
				return (EINVAL);
			break;
		case 't':	/* repeated -t accumulate */
			err = cli_set_parse(type_bits, optarg, "type",
			    &tset, &bad);
			o->types |= err == 0 ? tset : 0;
			if (err != 0) {
				/* ctstat.c:497: fatal, not usage. */
				(void) fprintf(stderr, "%s: invalid contract "
				    "type: %s\n", cli_prog, bad != NULL ? bad :
				    optarg);
				free(bad);
				return (ENOENT);
			}
			if (o->types == 0)	/* "none": nothing to show */
				o->types = 1u << CT_TYPE_COUNT;
			break;
		case 'T':
			if (strcmp(optarg, "u") != 0 &&
			    strcmp(optarg, "d") != 0) {
				(void) fprintf(stderr, "%s: -T takes u or d\n",
				    cli_prog);
				return (EINVAL);
			}
			o->stamp = optarg[0];
			break;
		default:
			cli_bad_option(c);
			return (EINVAL);
		}
	}
	if (argc - optind > 2) {
		(void) fprintf(stderr, "%s: too many operands\n", cli_prog);
		return (EINVAL);
	}
	if (optind < argc) {
		if (cli_uint_parse(argv[optind], INT_MAX, &v) != 0 || v == 0) {
			(void) fprintf(stderr, "%s: invalid numerical "
			    "argument \"%s\"\n", cli_prog, argv[optind]);
			return (EINVAL);
		}
		o->interval = v;
	}
	if (optind + 1 < argc) {
		if (cli_uint_parse(argv[optind + 1], LONG_MAX, &v) != 0) {
			(void) fprintf(stderr, "%s: invalid numerical "
			    "argument \"%s\"\n", cli_prog, argv[optind + 1]);
			return (EINVAL);
		}
		o->count = (long)v;
	}
	if (o->interval == 0)
		o->count = 1;
	return (0);
}

static void
pause_for(unsigned long secs)
{
	struct timespec ts = { (time_t)secs, 0 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	opts_t o;
	int rc = 0;

	cli_prog = "ctstat";
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return (0);
	}
	if ((rc = parse(argc, argv, &o)) != 0) {
		free(o.ids);
		if (rc == EINVAL)
			usage(stderr);
		return (rc == EINVAL ? EXIT_USAGE : EXIT_ERROR);
	}
	for (long i = 0; o.count < 0 || i < o.count; i++) {
		if (i > 0)
			pause_for(o.interval);
		rc |= round_(&o);
	}
	free(o.ids);
	return (rc != 0 ? EXIT_ERROR : 0);
}

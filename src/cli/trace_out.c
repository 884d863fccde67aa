/*
 * trace_out.c -- ctrun --trace FILE (docs/trace.md): the records of the
 * contract's processes, written once it is empty, as the Chrome Trace
 * Event Format (FILE.json: Perfetto, chrome://tracing) or as one
 * self-contained page that draws the timeline (FILE.html, trace_page.c).
 *
 * JSON strings escape <, > and & as \u00XX: the same text is then safe
 * inside the page's <script> element, whatever a command line holds.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "cli.h"

extern const char cli_trace_page_head[], cli_trace_page_tail[];

int
cli_trace_option(int *argcp, char **argv, const char **filep)
{
	int argc = *argcp, take;

	*filep = NULL;
	if (argc < 2)
		return (0);
	if (strcmp(argv[1], "--trace") == 0) {
		if (argc < 3 || argv[2][0] == '\0')
			return (EINVAL);
		*filep = argv[2];
		take = 2;
	} else if (strncmp(argv[1], "--trace=", 8) == 0) {
		if (argv[1][8] == '\0')
			return (EINVAL);
		*filep = argv[1] + 8;
		take = 1;
	} else {
		return (0);
	}
	memmove(argv + 1, argv + 1 + take, (size_t)(argc - take) *
	    sizeof (*argv));	/* the NULL at argv[argc] too */
	*argcp = argc - take;
	return (0);
}

static void
jstr(FILE *f, const char *s, size_t n)
{
	(void) fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			(void) fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&' ||
		    c == 0x7f)
			(void) fprintf(f, "\\u%04x", c);
		else
			(void) fputc(c, f);
	}
	(void) fputc('"', f);
}

/* The basename of argv[0], or the pid where argv is unknown. */
static void
name_of(FILE *f, const ct_proc_t *p)
{
	char buf[32];

	if (p->argvlen == 0 || p->argv[0] == '\0') {
		(void) snprintf(buf, sizeof (buf), "pid %d", (int)p->pid);
		jstr(f, buf, strlen(buf));
		return;
	}
	const char *a0 = p->argv, *sl = strrchr(a0, '/');
	const char *b = sl != NULL && sl[1] != '\0' ? sl + 1 : a0;
	jstr(f, b, strlen(b));
}

static void
argv_of(FILE *f, const ct_proc_t *p)
{
	(void) fputc('[', f);
	for (size_t i = 0; i < p->argvlen; ) {
		size_t n = strnlen(p->argv + i, p->argvlen - i);
		if (i > 0)
			(void) fputc(',', f);
		jstr(f, p->argv + i, n);
		i += n + 1;
	}
	(void) fputc(']', f);
}

static const char *
sig_name(int sig, char *buf, size_t size)
{
	const char *d = cli_signame(sig);

	if (d != NULL)
		(void) snprintf(buf, size, "%s", d);
	else
		(void) snprintf(buf, size, "signal %d", sig);
	return (buf);
}

/* "exit 0", "SIGKILL", "SIGSEGV (core)", or "unknown". */
static void
exit_of(FILE *f, const ct_proc_t *p)
{
	char buf[64], sb[32];

	if (!p->exited)
		(void) snprintf(buf, sizeof (buf), "%s", p->end_us != 0 ?
		    "unknown" : "running");
	else if (WIFSIGNALED(p->exitstatus))
		(void) snprintf(buf, sizeof (buf), "%s%s",
		    sig_name(WTERMSIG(p->exitstatus), sb, sizeof (sb)),
		    WCOREDUMP(p->exitstatus) ? " (core)" : "");
	else
		(void) snprintf(buf, sizeof (buf), "exit %d",
		    WEXITSTATUS(p->exitstatus));
	jstr(f, buf, strlen(buf));
}

/*
 * Perfetto and chrome://tracing show one track per pid, sorted by
 * process_sort_index: depth-first from the roots, so that each process
 * sits under its parent.  A record's parent is the latest record of its
 * ppid that started no later than it did (pids are reused); n log n,
 * and no recursion (a chain of forks may be deep).
 */
typedef struct key {
	pid_t pid;
	uint64_t start;
	size_t idx;
} key_t_;

static int
key_cmp(const void *a, const void *b)
{
	const key_t_ *x = a, *y = b;

	if (x->pid != y->pid)
		return (x->pid < y->pid ? -1 : 1);
	if (x->start != y->start)
		return (x->start < y->start ? -1 : 1);
	return (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static size_t
parent_of(const key_t_ *keys, size_t n, const ct_proc_t *p, size_t self)
{
	size_t lo = 0, hi = n, best = SIZE_MAX;

	while (lo < hi) {	/* last key <= (ppid, start) */
		size_t mid = lo + (hi - lo) / 2;
		if (keys[mid].pid < p->ppid || (keys[mid].pid == p->ppid &&
		    keys[mid].start <= p->start_us)) {
			if (keys[mid].pid == p->ppid)
				best = mid;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return (best == SIZE_MAX || keys[best].idx == self ? SIZE_MAX :
	    keys[best].idx);
}

static int
tree_order(const ct_trace_t *t, size_t **orderp, int **depthp)
{
	size_t n = t->nprocs, next = 0, top = 0;
	key_t_ *keys = calloc(n + 1, sizeof (*keys));
	size_t *par = calloc(n + 1, sizeof (*par));
	size_t *first = calloc(n + 1, sizeof (*first));
	size_t *sib = calloc(n + 1, sizeof (*sib));
	size_t *stack = calloc(n + 1, sizeof (*stack));
	size_t *order = calloc(n + 1, sizeof (*order));
	int *depth = calloc(n + 1, sizeof (*depth));
	int err = 0;

	if (keys == NULL || par == NULL || first == NULL || sib == NULL ||
	    stack == NULL || order == NULL || depth == NULL) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = (key_t_){ t->procs[i].pid, t->procs[i].start_us, i };
	qsort(keys, n, sizeof (*keys), key_cmp);
	for (size_t i = 0; i < n; i++) {
		par[i] = parent_of(keys, n, &t->procs[i], i);
		first[i] = sib[i] = SIZE_MAX;
	}
	/* Children lists in record order (pushed in reverse below). */
	for (size_t i = n; i-- > 0; ) {
		if (par[i] != SIZE_MAX) {
			sib[i] = first[par[i]];
			first[par[i]] = i;
		}
	}
	for (size_t r = 0; r < n; r++) {
		if (par[r] != SIZE_MAX)
			continue;
		stack[top++] = r;
		depth[r] = 0;
		while (top > 0) {
			size_t i = stack[--top], k, cnt = 0;
			order[next++] = i;
			/* Push children so that the first comes out first. */
			for (k = first[i]; k != SIZE_MAX; k = sib[k])
				cnt++;
			size_t base = top;
			top += cnt;
			for (k = first[i]; k != SIZE_MAX; k = sib[k]) {
				stack[base + --cnt] = k;
				depth[k] = depth[i] + 1;
			}
		}
	}
	/* A cycle of reused pids has no root: put what is left at the end. */
	if (next < n) {
		bool *in = calloc(n, sizeof (*in));
		if (in == NULL) {
			err = ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < next; i++)
			in[order[i]] = true;
		for (size_t i = 0; i < n; i++)
			if (!in[i])
				order[next++] = i;
		free(in);
	}
out:
	free(keys);
	free(par);
	free(first);
	free(sib);
	free(stack);
	if (err != 0) {
		free(order);
		free(depth);
		return (err);
	}
	*orderp = order;
	*depthp = depth;
	return (0);
}

static void
write_events(FILE *f, const ct_trace_t *t, uint64_t now_us)
{
	size_t *order;
	int *depth;
	bool first = true;

	if (tree_order(t, &order, &depth) != 0)
		return;
	(void) fprintf(f, "{\"traceEvents\":[");
	for (size_t j = 0; j < t->nprocs; j++) {
		const ct_proc_t *p = &t->procs[order[j]];
		uint64_t end = p->end_us != 0 ? p->end_us : now_us;
		char sb[32];

		(void) fprintf(f, "%s\n{\"ph\":\"X\",\"cat\":\"process\","
		    "\"name\":", first ? "" : ",");
		first = false;
		name_of(f, p);
		(void) fprintf(f, ",\"pid\":%d,\"tid\":%d,\"ts\":%llu,"
		    "\"dur\":%llu,\"args\":{\"argv\":", (int)p->pid,
		    (int)p->pid, (unsigned long long)p->start_us,
		    (unsigned long long)(end > p->start_us ?
		    end - p->start_us : 0));
		argv_of(f, p);
		(void) fprintf(f, ",\"ppid\":%d,\"exit\":", (int)p->ppid);
		exit_of(f, p);
		(void) fprintf(f, ",\"depth\":%d", depth[order[j]]);
		if (p->exited && !(p->missed & CT_PM_CPU))
			(void) fprintf(f, ",\"userCPUTime\":%llu,"
			    "\"systemCPUTime\":%llu",
			    (unsigned long long)p->user_usec,
			    (unsigned long long)p->system_usec);
		else
			(void) fprintf(f, ",\"userCPUTime\":null,"
			    "\"systemCPUTime\":null");
		(void) fprintf(f, ",\"missed\":%u}}", (unsigned)p->missed);
		for (size_t e = 0; e < p->nexec; e++)
			(void) fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\","
			    "\"cat\":\"exec\",\"name\":\"exec\",\"pid\":%d,"
			    "\"tid\":%d,\"ts\":%llu}", (int)p->pid, (int)p->pid,
			    (unsigned long long)p->exec_us[e]);
		if (p->exited && WIFSIGNALED(p->exitstatus))
			(void) fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\","
			    "\"cat\":\"signal\",\"name\":\"%s\",\"pid\":%d,"
			    "\"tid\":%d,\"ts\":%llu}",
			    sig_name(WTERMSIG(p->exitstatus), sb, sizeof (sb)),
			    (int)p->pid, (int)p->pid,
			    (unsigned long long)end);
		(void) fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"process_name\","
		    "\"pid\":%d,\"args\":{\"name\":", (int)p->pid);
		name_of(f, p);
		(void) fprintf(f, "}},\n{\"ph\":\"M\",\"name\":"
		    "\"process_sort_index\",\"pid\":%d,\"args\":"
		    "{\"sort_index\":%zu}}", (int)p->pid, j);
	}
	(void) fprintf(f, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":"
	    "{\"processes\":%zu,\"lost\":%llu}}", t->nprocs,
	    (unsigned long long)t->lost);
	free(order);
	free(depth);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return (n >= k && strcasecmp(s + n - k, suffix) == 0);
}

int
cli_trace_write(ct_contract_t *ct, const char *file, uint64_t now_us)
{
	ct_trace_t t;
	FILE *f;
	int err;
	bool html = ends_with(file, ".html") || ends_with(file, ".htm");

	if ((err = ct_contract_trace(ct, &t)) != 0)
		return (err);
	if ((f = fopen(file, "we")) == NULL) {
		err = errno;
		ct_trace_fini(&t);
		return (ct_err_set(err, "open", "cannot write %s", file));
	}
	if (html)
		(void) fputs(cli_trace_page_head, f);
	write_events(f, &t, now_us);
	if (html)
		(void) fputs(cli_trace_page_tail, f);
	ct_trace_fini(&t);
	if (ferror(f) != 0 || fclose(f) != 0)
		return (ct_err_set(EIO, "write", "cannot write %s", file));
	return (0);
}

/*
 * cli.c -- messages, name lists, numbers and the signal pipe shared by
 * ctrun, ctstat and ctwatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char *cli_prog = "ct";

/* The names of ctrun -i/-f/-c and ctstat -v, in illumos's print order. */
const ct_name_t cli_pr_events[] = {
	{ "core", NC_PR_EV_CORE },
	{ "signal", NC_PR_EV_SIGNAL },
	{ "hwerr", NC_PR_EV_HWERR },
	{ "empty", NC_PR_EV_EMPTY },
	{ "fork", NC_PR_EV_FORK },
	{ "exit", NC_PR_EV_EXIT },
	{ NULL, 0 }
};

/* Only these may be fatal (CT_PR_ALLFATAL; docs/ARCHITECTURE.md, "Templates and defaults"). */
const ct_name_t cli_pr_fatal[] = {
	{ "core", NC_PR_EV_CORE },
	{ "signal", NC_PR_EV_SIGNAL },
	{ "hwerr", NC_PR_EV_HWERR },
	{ NULL, 0 }
};

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) fprintf(stderr, "%s: warning: ", cli_prog);
	(void) vfprintf(stderr, fmt, ap);
	(void) fputc('\n', stderr);
	va_end(ap);
}

void
cli_error(int err, const char *fmt, ...)
{
	const char *detail = ct_err_message();
	va_list ap;

	va_start(ap, fmt);
	(void) fprintf(stderr, "%s: ", cli_prog);
	(void) vfprintf(stderr, fmt, ap);
	if (err != 0)
		(void) fprintf(stderr, ": %s", strerror(err));
	if (err != 0 && detail != NULL)
		(void) fprintf(stderr, " (%s)", detail);
	(void) fputc('\n', stderr);
	va_end(ap);
	ct_err_clear();
}

void
cli_bad_option(int c)
{
	if (c == ':')
		(void) fprintf(stderr, "%s: option -%c needs an argument\n",
		    cli_prog, optopt);
	else
		(void) fprintf(stderr, "%s: unknown option -%c\n", cli_prog,
		    optopt);
}

static bool
is_blank(char c)
{
	return (c == ' ' || c == '\t' || c == '\n');
}

void
cli_list_free(char **items)
{
	if (items == NULL)
		return;
	for (char **p = items; *p != NULL; p++)
		free(*p);
	free(items);
}

/* Append s[0..len) to *itemsp. */
static int
list_add(char ***itemsp, size_t *np, const char *s, size_t len)
{
	char **items = realloc(*itemsp, (*np + 2) * sizeof (char *));
	char *dup;

	if (items == NULL)
		return (ENOMEM);
	*itemsp = items;
	if ((dup = malloc(len + 1)) == NULL)
		return (ENOMEM);
	memcpy(dup, s, len);
	dup[len] = '\0';
	items[(*np)++] = dup;
	items[*np] = NULL;
	return (0);
}

int
cli_list_split(const char *list, const char *what, char ***itemsp,
    size_t *np)
{
	char **items = NULL;
	size_t n = 0;
	const char *p = list;
	bool empty = false;
	int err = 0;

	(void) what;	/* the warning is illumos ctrun's, which names none */
	/* Fields between commas; blanks separate items inside a field. */
	for (;;) {
		bool any = false;
		while (err == 0 && *p != '\0' && *p != ',') {
			const char *start = p;
			while (*p != '\0' && *p != ',' && !is_blank(*p))
				p++;
			if (p > start) {
				err = list_add(&items, &n, start,
				    (size_t)(p - start));
				any = true;
			}
			while (is_blank(*p))
				p++;
		}
		empty |= !any;
		if (err != 0 || *p == '\0')
			break;
		p++;	/* the comma */
	}
	if (err == 0 && items == NULL && (items = calloc(1,
	    sizeof (char *))) == NULL)
		err = ENOMEM;
	if (err != 0) {
		cli_list_free(items);
		return (err);
	}
	if (empty)
		/* illumos's ctrun, ctrun.c:166. */
		(void) fprintf(stderr, "%s: empty option\n", cli_prog);
	*itemsp = items;
	*np = n;
	return (0);
}

int
cli_set_parse(const ct_name_t *tab, const char *list, const char *what,
    uint32_t *setp, char **badp)
{
	char **items;
	size_t n;
	uint32_t set = 0, bit;
	int err;

	*badp = NULL;
	if ((err = cli_list_split(list, what, &items, &n)) != 0)
		return (err);
	for (size_t i = 0; i < n && err == 0; i++) {
		if (strcmp(items[i], "none") == 0) {
			if (n > 1) {
				*badp = strdup("none");
				err = EINVAL;
			}
		} else if (ct_names_lookup(tab, items[i], &bit) != 0) {
			*badp = strdup(items[i]);
			err = EINVAL;
		} else {
			if (set & bit)
				(void) fprintf(stderr, "%s: option '%s' "
				    "specified twice\n", cli_prog, items[i]);
			set |= bit;
		}
	}
	cli_list_free(items);
	if (err == EINVAL && *badp == NULL)
		return (ENOMEM);
	if (err == 0)
		*setp = set;
	return (err);
}

void
cli_set_print(FILE *f, const ct_name_t *tab, uint32_t set)
{
	const char *sep = "";

	for (; tab->name != NULL; tab++) {
		if (set & tab->value) {
			(void) fprintf(f, "%s%s", sep, tab->name);
			sep = " ";
		}
	}
	if (*sep == '\0')
		(void) fputs("none", f);
}

int
cli_uint_parse(const char *s, unsigned long max, unsigned long *vp)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return (EINVAL);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return (EINVAL);
	*vp = v;
	return (0);
}

int
cli_id_parse(const char *s, ct_id_t *idp)
{
	unsigned long v;

	if (cli_uint_parse(s, INT32_MAX, &v) != 0 || v == 0)
		return (EINVAL);
	*idp = (ct_id_t)v;
	return (0);
}

/* ---- signals ---- */

static int sig_rfd = -1, sig_wfd = -1;
static const int *sig_list;

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	(void) !write(sig_wfd, &c, 1);
	errno = saved;
}

static int
set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return (errno);
	return (0);
}

int
cli_sigpipe_open(const int *sigs, int *fdp)
{
	struct sigaction sa;
	int p[2], err;

	if (sig_rfd >= 0)
		return (EBUSY);
	if (pipe(p) != 0)
		return (errno);
	if ((err = set_flags(p[0])) != 0 || (err = set_flags(p[1])) != 0) {
		(void) close(p[0]);
		(void) close(p[1]);
		return (err);
	}
	sig_rfd = p[0];
	sig_wfd = p[1];
	sig_list = sigs;
	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	(void) sigemptyset(&sa.sa_mask);
	for (const int *s = sigs; *s != 0; s++) {
		if (sigaction(*s, &sa, NULL) != 0) {
			err = errno;
			cli_sigpipe_close();
			return (err);
		}
	}
	*fdp = sig_rfd;
	return (0);
}

int
cli_sigpipe_next(void)
{
	unsigned char c;

	if (sig_rfd >= 0 && read(sig_rfd, &c, 1) == 1)
		return (c);
	return (0);
}

void
cli_sigpipe_close(void)
{
	if (sig_list != NULL) {
		for (const int *s = sig_list; *s != 0; s++)
			(void) signal(*s, SIG_DFL);
	}
	sig_list = NULL;
	if (sig_rfd >= 0)
		(void) close(sig_rfd);
	if (sig_wfd >= 0)
		(void) close(sig_wfd);
	sig_rfd = sig_wfd = -1;
}

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629: no
 * overlong form, no surrogate, nothing past U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return (0);
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return (0);
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	return (n);
}

void
cli_puts_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	/*
	 * Strings of the contract's creator or members (fmri, aux, creator,
	 * core paths) go to a terminal: no control character -- C0, DEL, or
	 * C1, as UTF-8 (both of its bytes) or as a byte on its own, which an
	 * 8-bit terminal takes for one -- passes raw, so none can move the
	 * cursor, retitle the window or hide a line (docs/security.md).  Only
	 * well-formed UTF-8 passes as it is; any other byte is escaped.
	 * Octal, as ls -b does.
	 */
	while (*p != '\0') {
		size_t n = *p < 0x80 ? 1 : utf8_len(p);
		bool c1 = n == 2 && p[0] == 0xc2 && p[1] <= 0x9f;

		if (n == 0 || c1 || *p < 0x20 || *p == 0x7f || *p == '\\') {
			for (size_t i = 0; i < (c1 ? 2 : 1); i++)
				(void) fprintf(f, "\\%03o", p[i]);
			p += c1 ? 2 : 1;
		} else {
			(void) fwrite(p, 1, n, f);
			p += n;
		}
	}
}

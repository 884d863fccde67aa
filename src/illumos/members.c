/*
 * members.c -- ct_contract_members() for the illumos backend: the live
 * members from the contract's status, and what /proc/<pid>/psinfo says of
 * each (docs/illumos.md).  psinfo keeps only the first PRARGSZ (80) bytes
 * of the argument list, joined by spaces: argv is that string split at
 * spaces, so an argument with a space in it, or past 80 bytes, is not
 * what the process was given.  A member gone meanwhile is left out.
 */
#include "il.h"

#include <errno.h>
#include <fcntl.h>
#include <procfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* psinfo of pid; ESRCH if it is gone. */
static int
psinfo_read(pid_t pid, psinfo_t *ps)
{
	char path[64];
	ssize_t n;
	int fd;

	(void) snprintf(path, sizeof (path), "/proc/%d/psinfo", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno == ENOENT ? ESRCH : errno);
	n = pread(fd, ps, sizeof (*ps), 0);
	(void) close(fd);
	return (n == (ssize_t)sizeof (*ps) ? 0 : ESRCH);
}

/* "a b  c" -> {"a", "b", "c"}; the string is bounded by len. */
static int
split_args(const char *s, size_t len, char ***argvp, size_t *argcp)
{
	char **argv = NULL;
	size_t argc = 0, i = 0;

	while (i < len && s[i] != '\0') {
		size_t j = i;
		char **grown;

		while (j < len && s[j] != '\0' && s[j] != ' ')
			j++;
		if (j > i) {
			if ((grown = realloc(argv, (argc + 1) *
			    sizeof (*argv))) == NULL ||
			    (grown[argc] = strndup(s + i, j - i)) == NULL) {
				argv = grown != NULL ? grown : argv;
				while (argc > 0)
					free(argv[--argc]);
				free(argv);
				return (ENOMEM);
			}
			argv = grown;
			argc++;
		}
		i = j < len && s[j] == ' ' ? j + 1 : j;
	}
	*argvp = argv;
	*argcp = argc;
	return (0);
}

static int
member_fill(pid_t pid, ct_member_t *m)
{
	psinfo_t ps;
	int err;

	(void) memset(m, 0, sizeof (*m));
	if ((err = psinfo_read(pid, &ps)) != 0)
		return (err);
	m->pid = pid;
	m->ppid = ps.pr_ppid;
	m->state = ps.pr_lwp.pr_sname;
	m->start_ms = (uint64_t)ps.pr_start.tv_sec * 1000u +
	    (uint64_t)ps.pr_start.tv_nsec / 1000000u;
	if ((m->comm = strndup(ps.pr_fname, sizeof (ps.pr_fname))) == NULL)
		return (ENOMEM);
	if (m->state == 'Z')	/* a zombie has no arguments left */
		return (0);
	return (split_args(ps.pr_psargs, sizeof (ps.pr_psargs), &m->argv,
	    &m->argc));
}

int
ct_contract_members(ct_contract_t *c, ct_member_t **mp, size_t *np)
{
	ct_cstatus_t st;
	ct_member_t *m = NULL;
	size_t k = 0;
	int err;

	*mp = NULL;
	*np = 0;
	(void) memset(&st, 0, sizeof (st));
	if ((err = ct_contract_status(c, &st)) != 0)
		return (err);
	if (st.nmembers > 0 &&
	    (m = calloc(st.nmembers, sizeof (*m))) == NULL) {
		ct_cstatus_fini(&st);
		return (ENOMEM);
	}
	for (size_t i = 0; i < st.nmembers; i++) {
		if ((err = member_fill(st.members[i], &m[k])) == 0) {
			k++;
		} else {
			ct_members_free_one(&m[k]);
			if (err != ESRCH)
				break;
			err = 0;
		}
	}
	ct_cstatus_fini(&st);
	if (err != 0) {
		ct_members_free(m, k);
		return (err);
	}
	*mp = m;
	*np = k;
	return (0);
}

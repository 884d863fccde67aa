/*
 * core.c -- where a member's core file goes (pr_core's pcorefile), worked
 * out from /proc/sys/kernel/core_pattern while the member is dumping (the
 * proc connector's COREDUMP event comes before its EXIT, while /proc/<pid>
 * still has its cwd and identity).  Piped patterns write no file; unknown
 * specifiers give no path rather than a wrong one.  The signal (%s) is only
 * known at EXIT: it is left as a marker and filled in by lx_core_finish().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

#define	SIGMARK	'\001'

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		return (NULL);
	if ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	(void) fclose(f);
	if (n <= 0) {
		free(line);
		return (NULL);
	}
	return (line);
}

/* "Uid:\t1000\t..." from /proc/<pid>/status: the first (real) id. */
static long
status_id(pid_t pid, const char *key)
{
	char path[32], *line = NULL;
	size_t cap = 0, kl = strlen(key);
	long v = -1;
	FILE *f;

	(void) snprintf(path, sizeof (path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, key, kl) == 0) {
			v = strtol(line + kl, NULL, 10);
			break;
		}
	}
	free(line);
	(void) fclose(f);
	return (v);
}

char *
lx_core_path(pid_t pid)
{
	char *pat = slurp("/proc/sys/kernel/core_pattern"), *out = NULL;
	char *uses = slurp("/proc/sys/kernel/core_uses_pid");
	char path[64], host[256];
	size_t len = 0;
	bool has_pid = false, ok = true;
	FILE *f;

	if (pat == NULL || pat[0] == '|' || pat[0] == '\0' ||
	    (f = open_memstream(&out, &len)) == NULL) {
		free(pat);
		free(uses);
		return (NULL);
	}
	if (pat[0] != '/') {	/* relative to the dumping process's cwd */
		char cwd[4096];
		ssize_t n;
		(void) snprintf(path, sizeof (path), "/proc/%d/cwd", (int)pid);
		if ((n = readlink(path, cwd, sizeof (cwd) - 1)) <= 0)
			ok = false;
		else
			(void) fprintf(f, "%.*s/", (int)n, cwd);
	}
	for (const char *p = pat; ok && *p != '\0'; p++) {
		if (*p != '%') {
			(void) fputc(*p, f);
			continue;
		}
		switch (*++p) {
		case '%': (void) fputc('%', f); break;
		case 'p': case 'P': case 'i': case 'I':
			has_pid = true;
			(void) fprintf(f, "%d", (int)pid);
			break;
		case 's': (void) fputc(SIGMARK, f); break;
		case 'u': (void) fprintf(f, "%ld", status_id(pid, "Uid:")); break;
		case 'g': (void) fprintf(f, "%ld", status_id(pid, "Gid:")); break;
		case 't': (void) fprintf(f, "%ld", (long)time(NULL)); break;
		case 'h':
			if (gethostname(host, sizeof (host)) != 0)
				ok = false;
			else
				(void) fputs(host, f);
			break;
		case 'e': {
			char *comm;
			(void) snprintf(path, sizeof (path), "/proc/%d/comm",
			    (int)pid);
			if ((comm = slurp(path)) == NULL)
				ok = false;
			else
				(void) fputs(comm, f);
			free(comm);
			break;
		}
		default:
			ok = false;	/* %c %d %E %f ...: not worked out */
			break;
		}
		if (*p == '\0')
			break;
	}
	if (ok && !has_pid && uses != NULL && uses[0] == '1')
		(void) fprintf(f, ".%d", (int)pid);
	(void) fclose(f);
	free(pat);
	free(uses);
	if (!ok) {
		free(out);
		return (NULL);
	}
	return (out);
}

char *
lx_core_finish(char *path, int sig)
{
	char *out = NULL, *mark;
	size_t len = 0;
	FILE *f;

	if (path == NULL)
		return (NULL);
	if ((f = open_memstream(&out, &len)) == NULL) {
		free(path);
		return (NULL);
	}
	for (char *p = path; (mark = strchr(p, SIGMARK)) != NULL ||
	    *p != '\0'; ) {
		if (mark == NULL) {
			(void) fputs(p, f);
			break;
		}
		(void) fprintf(f, "%.*s%d", (int)(mark - p), p, sig);
		p = mark + 1;
	}
	(void) fclose(f);
	free(path);
	/* Only a core that was written is reported. */
	if (out != NULL && access(out, F_OK) != 0) {
		free(out);
		return (NULL);
	}
	return (out);
}

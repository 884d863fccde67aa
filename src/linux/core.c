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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

#define	SIGMARK	'\001'

/* The first line of a file, without its newline, or NULL. */
static char *
first_line(const char *path)
{
	char *buf, *nl;

	if (lx_read_file(AT_FDCWD, path, &buf) != 0)
		return (NULL);
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	return (buf);
}

/* "Uid:\t1000\t..." from /proc/<pid>/status: the first (real) id. */
static long
status_id(const char *status, const char *key)
{
	const char *p = status != NULL ? strstr(status, key) : NULL;

	return (p != NULL ? strtol(p + strlen(key), NULL, 10) : -1);
}

char *
lx_core_expand(const char *pat, const lx_core_facts_t *fx)
{
	char *out = NULL;
	size_t len = 0;
	bool has_pid = false, ok = true;
	FILE *f;

	if (pat == NULL || pat[0] == '|' || pat[0] == '\0' ||
	    (f = open_memstream(&out, &len)) == NULL)
		return (NULL);
	if (pat[0] != '/') {	/* relative to the dumping process's cwd */
		if (fx->cwd == NULL)
			ok = false;
		else
			(void) fprintf(f, "%s/", fx->cwd);
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
			(void) fprintf(f, "%d", (int)fx->pid);
			break;
		case 's': (void) fputc(SIGMARK, f); break;
		case 'u': (void) fprintf(f, "%ld", fx->uid); break;
		case 'g': (void) fprintf(f, "%ld", fx->gid); break;
		case 't': (void) fprintf(f, "%ld", fx->time); break;
		case 'h': ok = fx->host != NULL && fputs(fx->host, f) >= 0;
			break;
		case 'e': ok = fx->comm != NULL && fputs(fx->comm, f) >= 0;
			break;
		default:
			ok = false;	/* %c %d %E %f ...: not worked out */
			break;
		}
		if (*p == '\0')
			break;
	}
	if (ok && !has_pid && fx->uses_pid)
		(void) fprintf(f, ".%d", (int)fx->pid);
	(void) fclose(f);
	if (!ok) {
		free(out);
		return (NULL);
	}
	return (out);
}

char *
lx_core_path(pid_t pid)
{
	char *pat = first_line("/proc/sys/kernel/core_pattern");
	char *uses = first_line("/proc/sys/kernel/core_uses_pid");
	char path[64], host[HOST_NAME_MAX + 1], *status, *comm, *out;
	char *cwd = NULL;
	lx_core_facts_t fx = { .pid = pid, .time = (long)time(NULL) };

	(void) snprintf(path, sizeof (path), "/proc/%d/status", (int)pid);
	if (lx_read_file(AT_FDCWD, path, &status) != 0)
		status = NULL;
	fx.uid = status_id(status, "Uid:");
	fx.gid = status_id(status, "Gid:");
	(void) snprintf(path, sizeof (path), "/proc/%d/comm", (int)pid);
	fx.comm = comm = first_line(path);
	if (gethostname(host, sizeof (host)) == 0) {
		host[sizeof (host) - 1] = '\0';
		fx.host = host;
	}
	(void) snprintf(path, sizeof (path), "/proc/%d/cwd", (int)pid);
	fx.cwd = cwd = realpath(path, NULL);
	fx.uses_pid = uses != NULL && uses[0] == '1';
	out = lx_core_expand(pat, &fx);
	free(pat);
	free(uses);
	free(status);
	free(comm);
	free(cwd);
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

/*
 * execvp.c -- what both roles of ct-exec (the exec shim, exec.c, and the
 * anchor, anchor.c) share: execvp's search, messages on stderr, and the
 * names of the errors they report.  No libc (exec_sys.h).
 */
#include "exec_sys.h"

size_t
shim_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return (n);
}

/* One line on stderr: "ct-exec: " a b c d. */
void
shim_say(const char *a, const char *b, const char *c, const char *d)
{
	const char *parts[] = { "ct-exec: ", a, b, c, d, "\n" };

	for (unsigned i = 0; i < sizeof (parts) / sizeof (parts[0]); i++)
		(void) shim_write(2, parts[i], shim_len(parts[i]));
}

const char *
shim_errname(long err)
{
	switch (err) {
	case SHIM_ENOENT: return ("no such file or directory");
	case SHIM_EACCES: return ("permission denied");
	case SHIM_ENOTDIR: return ("not a directory");
	case SHIM_ENOEXEC: return ("exec format error");
	case SHIM_E2BIG: return ("argument list too long");
	case SHIM_ENOMEM: return ("out of memory");
	case SHIM_ESRCH: return ("no such process");
	case SHIM_EBUSY: return ("device or resource busy");
	case SHIM_EAGAIN: return ("resource temporarily unavailable");
	case SHIM_EPERM: return ("operation not permitted");
	case SHIM_EIO: return ("input/output error");
	default: return ("error");
	}
}

static const char *
shim_env(char **envp, const char *name)
{
	size_t n = shim_len(name);

	for (; *envp != NULL; envp++) {
		size_t i = 0;
		while (i < n && (*envp)[i] == name[i])
			i++;
		if (i == n && (*envp)[n] == '=')
			return (*envp + n + 1);
	}
	return (NULL);
}

/*
 * execve, and for a file the kernel cannot run, /bin/sh as execvp does.
 * Returns only on failure, with the errno value.
 */
static long
shim_try(const char *path, char **argv, char **envp)
{
	long err = -shim_execve(path, argv, envp);
	size_t argc = 0;

	if (err != SHIM_ENOEXEC)
		return (err);
	while (argv[argc] != NULL)
		argc++;
	{
		char *shargv[argc + 2];

		shargv[0] = (char *)"sh";
		shargv[1] = (char *)path;
		for (size_t i = 1; i <= argc; i++)
			shargv[i + 1] = argv[i];
		(void) shim_execve("/bin/sh", shargv, envp);
	}
	return (SHIM_ENOEXEC);
}

/* execvp: returns only on failure, with the error to report. */
long
shim_execvp(const char *file, char **argv, char **envp)
{
	const char *p, *path;
	size_t flen = shim_len(file);
	long err = SHIM_ENOENT;
	int denied = 0;

	if (flen == 0)
		return (SHIM_ENOENT);
	for (p = file; *p != '\0'; p++) {
		if (*p == '/')
			return (shim_try(file, argv, envp));
	}
	if ((path = shim_env(envp, "PATH")) == NULL)
		path = "/bin:/usr/bin";
	for (p = path; ; ) {
		const char *end = p;
		while (*end != '\0' && *end != ':')
			end++;
		size_t dlen = (size_t)(end - p);
		{
			char full[dlen + flen + 3];
			size_t k = 0;

			if (dlen == 0) {
				full[k++] = '.';
			} else {
				for (size_t i = 0; i < dlen; i++)
					full[k++] = p[i];
			}
			full[k++] = '/';
			for (size_t i = 0; i <= flen; i++)
				full[k++] = file[i];
			err = shim_try(full, argv, envp);
		}
		switch (err) {
		case SHIM_EACCES:
			denied = 1;
			break;
		case SHIM_ENOENT:
		case SHIM_ENOTDIR:
		case SHIM_ESTALE:
		case SHIM_ENODEV:
		case SHIM_ETIMEDOUT:
			break;
		default:
			return (err);
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return (denied ? SHIM_EACCES : err);
}

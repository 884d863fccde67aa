/*
 * ct-exec -- the exec shim (docs/ARCHITECTURE.md, "Linux: creation").
 *
 *   ct-exec CGROUP_PROCS FILE ARGV0 [ARG...]
 *
 * Joins the contract by writing "0" to CGROUP_PROCS, then execs FILE
 * (searched in PATH like execvp) with ARGV0 ARG... .  It never runs the
 * program outside the contract: when the join fails it exits 127.
 * "ct-exec --probe" exits 0 at once (the spawn-mechanism probe).
 * "ct-exec --anchor ..." is the anchor of reaper membership (anchor.c).
 *
 * It runs on every spawn in shim mode, between Node's exec and the
 * program's, so it is built without libc where exec_sys.h knows the
 * architecture: a static glibc program spends most of its ~0.5 ms in
 * start-up, a libc-free one ~0.1 ms in all (bench/ measures it).  So:
 * no stdio, no malloc, nothing that needs libc start-up.
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

static int
shim_eq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (*a == *b);
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

int
shim_main(int argc, char **argv, char **envp)
{
	long fd, err;

	if (argc == 2 && shim_eq(argv[1], "--probe"))
		return (0);
	if (argc >= 2 && shim_eq(argv[1], "--anchor"))
		return (anchor_main(argc, argv, envp));
	if (argc < 4) {
		shim_say("usage: ct-exec CGROUP_PROCS FILE ARGV0 [ARG...]",
		    "", "", "");
		return (125);
	}
	if ((fd = shim_open_wronly(argv[1])) < 0 ||
	    (err = shim_write((int)fd, "0", 1)) != 1) {
		err = fd < 0 ? -fd : err < 0 ? -err : SHIM_EIO;
		shim_say("cannot join the contract (", argv[1], "): ",
		    shim_errname(err));
		return (127);
	}
	(void) shim_close((int)fd);
	err = shim_execvp(argv[2], argv + 3, envp);
	shim_say("cannot run ", argv[2], ": ", shim_errname(err));
	return (err == SHIM_ENOENT ? 127 : 126);
}

#ifdef SHIM_NOLIBC
/*
 * The compiler may emit calls to memcpy and memset even here (copies and
 * loop idioms; -fno-tree-loop-distribute-patterns keeps these two loops
 * themselves from becoming such calls).  With no libc linked, this
 * program provides them, under those names, for itself only.
 */
void *shim_memcpy(void *, const void *, size_t);
void *shim_memset(void *, int, size_t);

void *
shim_memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n-- > 0)
		*d++ = *s++;
	return (dst);
}

void *
shim_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n-- > 0)
		*d++ = (unsigned char)c;
	return (dst);
}

__asm__(".globl memcpy\n.set memcpy, shim_memcpy\n"
    ".globl memset\n.set memset, shim_memset\n");

void shim_start(long *);

SHIM_ENTRY;

void
shim_start(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);

	shim_exit(shim_main(argc, argv, argv + argc + 1));
}
#else
int
main(int argc, char **argv)
{
	extern char **environ;

	return (shim_main(argc, argv, environ));
}
#endif

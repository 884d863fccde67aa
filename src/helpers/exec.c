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

static int
shim_eq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (*a == *b);
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

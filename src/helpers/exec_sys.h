/*
 * exec_sys.h -- the few system calls ct-exec makes, and its entry point.
 *
 * With SHIM_NOLIBC (set by binding.gyp for x86_64 and aarch64 when
 * ct-exec is linked statically) they are raw system calls and the program
 * starts at _start without libc; otherwise they go through libc's
 * syscall() (a sanitizer build, another architecture).  Either way every
 * call returns what the kernel returns: a count or fd, or -errno.
 */
#ifndef SHIM_SYS_H
#define SHIM_SYS_H

#include <stddef.h>
#include <linux/errno.h>

#define	SHIM_ENOENT	ENOENT
#define	SHIM_EACCES	EACCES
#define	SHIM_ENOTDIR	ENOTDIR
#define	SHIM_ENOEXEC	ENOEXEC
#define	SHIM_E2BIG	E2BIG
#define	SHIM_ENOMEM	ENOMEM
#define	SHIM_ESRCH	ESRCH
#define	SHIM_EBUSY	EBUSY
#define	SHIM_EAGAIN	EAGAIN
#define	SHIM_EPERM	EPERM
#define	SHIM_EIO	EIO
#define	SHIM_ESTALE	ESTALE
#define	SHIM_ENODEV	ENODEV
#define	SHIM_ETIMEDOUT	ETIMEDOUT

int shim_main(int, char **, char **);

/*
 * execvp.c, for exec.c and anchor.c: execvp (returns the error), messages,
 * lengths.
 */
long shim_execvp(const char *file, char **argv, char **envp);
void shim_say(const char *a, const char *b, const char *c, const char *d);
const char *shim_errname(long err);
size_t shim_len(const char *s);
int anchor_main(int argc, char **argv, char **envp);

#ifdef SHIM_NOLIBC

#include <asm/unistd.h>
#include <linux/fcntl.h>

#if defined(__x86_64__)

static inline long
shim_sys5(long n, long a, long b, long c, long d, long e)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long r;

	__asm__ volatile ("syscall" : "=a" (r)
	    : "a" (n), "D" (a), "S" (b), "d" (c), "r" (r10), "r" (r8)
	    : "rcx", "r11", "memory");
	return (r);
}

/* The kernel's initial stack: argc, argv..., NULL, envp..., NULL. */
#define	SHIM_ENTRY \
	__asm__(".text\n.global _start\n_start:\n" \
	    "\txor %ebp, %ebp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n" \
	    "\tcall shim_start\n\thlt\n")

#elif defined(__aarch64__)

static inline long
shim_sys5(long n, long a, long b, long c, long d, long e)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;

	__asm__ volatile ("svc 0" : "+r" (x0)
	    : "r" (x8), "r" (x1), "r" (x2), "r" (x3), "r" (x4)
	    : "memory");
	return (x0);
}

#define	SHIM_ENTRY \
	__asm__(".text\n.global _start\n_start:\n" \
	    "\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n" \
	    "\tbl shim_start\n\tbrk #0\n")

#else
#error "SHIM_NOLIBC: no system calls for this architecture"
#endif

#else	/* libc */

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The same raw calls, through libc's syscall(): -errno on failure. */
static inline long
shim_sys5(long n, long a, long b, long c, long d, long e)
{
	long r = syscall(n, a, b, c, d, e, 0L);

	return (r < 0 ? -errno : r);
}

#endif	/* SHIM_NOLIBC */

/* Fewer arguments go through the one primitive, the rest zero. */
static inline long
shim_sys4(long n, long a, long b, long c, long d)
{
	return (shim_sys5(n, a, b, c, d, 0));
}

static inline long
shim_sys3(long n, long a, long b, long c)
{
	return (shim_sys5(n, a, b, c, 0, 0));
}

static inline long
shim_open_wronly(const char *path)
{
	return (shim_sys4(__NR_openat, AT_FDCWD, (long)path,
	    O_WRONLY | O_CLOEXEC, 0));
}

static inline long
shim_write(int fd, const void *buf, size_t n)
{
	return (shim_sys3(__NR_write, fd, (long)buf, (long)n));
}

static inline long
shim_close(int fd)
{
	return (shim_sys3(__NR_close, fd, 0, 0));
}

static inline long
shim_execve(const char *path, char **argv, char **envp)
{
	return (shim_sys3(__NR_execve, (long)path, (long)argv, (long)envp));
}

static inline void
shim_exit(int status)
{
	for (;;)
		(void) shim_sys3(__NR_exit_group, status, 0, 0);
}



#endif	/* SHIM_SYS_H */

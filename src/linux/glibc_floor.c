/*
 * glibc_floor.c -- linked into the prebuilt addon only (binding.gyp
 * ct_glibc_floor=1, set by scripts/prebuild.js), so that an addon built
 * against this machine's glibc loads on glibc 2.28, the oldest that Node's
 * own linux builds need.  Each function below takes the place (ld --wrap)
 * of one whose default symbol version is newer than GLIBC_2.28, and calls
 * an entry point that glibc 2.28 already had:
 *
 *   stat64, fstat64, fstatat64 (GLIBC_2.33): before 2.33 these were inline
 *	in <sys/stat.h> around __xstat64 and friends, which take the layout
 *	version of struct stat and are still exported.
 *   pthread_once (GLIBC_2.34, when libpthread moved into libc): its first
 *	version, which libc keeps for old programs; on glibc before 2.34 the
 *	dynamic linker finds it in libpthread, which Node itself links.
 *
 * test/pack/prebuild.test.js reads the symbol versions of the prebuilt addon:
 * a new call to a function newer than 2.28 fails there and needs a line
 * here (and in the --wrap list of binding.gyp).
 */
#include <pthread.h>
#include <sys/stat.h>

#if defined(__x86_64__)
#define	STAT_VER	1		/* _STAT_VER_LINUX */
#define	PTHREAD_BASE	"GLIBC_2.2.5"
#elif defined(__aarch64__)
#define	STAT_VER	0		/* _STAT_VER_KERNEL, the only one */
#define	PTHREAD_BASE	"GLIBC_2.17"
#else
#error "glibc_floor.c: no symbol versions known for this architecture"
#endif

extern int __xstat64(int, const char *, struct stat64 *);
extern int __fxstat64(int, int, struct stat64 *);
extern int __fxstatat64(int, int, const char *, struct stat64 *, int);
extern int ct_pthread_once_base(pthread_once_t *, void (*)(void));
__asm__(".symver ct_pthread_once_base, pthread_once@" PTHREAD_BASE);

int __wrap_stat64(const char *path, struct stat64 *buf);
int __wrap_fstat64(int fd, struct stat64 *buf);
int __wrap_fstatat64(int dirfd, const char *path, struct stat64 *buf,
    int flags);
int __wrap_pthread_once(pthread_once_t *once, void (*fn)(void));

int
__wrap_stat64(const char *path, struct stat64 *buf)
{
	return (__xstat64(STAT_VER, path, buf));
}

int
__wrap_fstat64(int fd, struct stat64 *buf)
{
	return (__fxstat64(STAT_VER, fd, buf));
}

int
__wrap_fstatat64(int dirfd, const char *path, struct stat64 *buf, int flags)
{
	return (__fxstatat64(STAT_VER, dirfd, path, buf, flags));
}

int
__wrap_pthread_once(pthread_once_t *once, void (*fn)(void))
{
	return (ct_pthread_once_base(once, fn));
}

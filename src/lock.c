/*
 * lock.c -- one lock for the whole backend.  The backends keep their
 * state per process (templates and latest() per thread), and Node may
 * run the addon on several threads at once (worker_threads): every call
 * into a backend from the binding holds this lock, and so does a fork
 * from a thread with an active template (Linux's atfork handlers).  It is
 * recursive: a finalizer run by the garbage collector inside a call may
 * close a contract.
 */
#if !defined(_GNU_SOURCE) && !defined(__EXTENSIONS__)
#define	_POSIX_C_SOURCE	200809L	/* pthread_mutexattr_settype */
#endif
#include <pthread.h>

#include "ct.h"

#if defined(PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP)
/*
 * glibc: initialized statically, so no pthread_mutexattr_* call, whose
 * symbols moved into libc at GLIBC_2.34, raises the prebuilt addon's
 * glibc floor above Node's own (2.28).
 */
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

void
ct_lock(void)
{
	(void) pthread_mutex_lock(&lock);
}
#else
static pthread_mutex_t lock;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
lock_init(void)
{
	pthread_mutexattr_t a;

	(void) pthread_mutexattr_init(&a);
	(void) pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	(void) pthread_mutex_init(&lock, &a);
	(void) pthread_mutexattr_destroy(&a);
}

void
ct_lock(void)
{
	(void) pthread_once(&once, lock_init);
	(void) pthread_mutex_lock(&lock);
}
#endif

void
ct_unlock(void)
{
	(void) pthread_mutex_unlock(&lock);
}

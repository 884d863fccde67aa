/*
 * lock.c -- one lock for the whole backend.  The backends keep their
 * state per process (templates and latest() per thread), and Node may
 * run the addon on several threads at once (worker_threads): every call
 * into a backend from the binding holds this lock, and so does a fork
 * from a thread with an active template (Linux's atfork handlers).  It is
 * recursive: a finalizer run by the garbage collector inside a call may
 * close a contract.
 */
#include <pthread.h>

#include "ct.h"

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

void
ct_unlock(void)
{
	(void) pthread_mutex_unlock(&lock);
}

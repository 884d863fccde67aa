/*
 * error.c -- the calling thread's last error detail: which system call
 * failed and what was being attempted.  Backends return errno values as
 * libcontract does; this only adds the words the caller reports.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

static _Thread_local char *err_syscall;
static _Thread_local char *err_message;

void
ct_err_clear(void)
{
	free(err_syscall);
	free(err_message);
	err_syscall = NULL;
	err_message = NULL;
}

int
ct_err_set(int err, const char *syscall, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int n;

	ct_err_clear();
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0 && (msg = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		(void) vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	err_message = msg;
	err_syscall = syscall != NULL ? strdup(syscall) : NULL;
	return (err);
}

const char *
ct_err_syscall(void)
{
	return (err_syscall);
}

const char *
ct_err_message(void)
{
	return (err_message);
}

/*
 * helperdir.c -- where the helper programs (ct-keeper, ct-exec) are: the
 * directory of the addon that was loaded (build/Release or a prebuilds/
 * directory), which only the JS layer knows; it tells us once, at load.
 * A program that sets none (ctrun, ctstat, ctwatch) ships beside them.
 *
 * Every Node-API environment of the process (workers too) loads the same
 * addon file, so the first setting wins and is never freed: a reader on
 * another thread can never see it change.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

static _Atomic(char *) dir;

int
ct_helper_dir_set(const char *d)
{
	char *none = NULL, *c;

	if (atomic_load(&dir) != NULL)
		return (0);
	if ((c = strdup(d)) == NULL)
		return (ENOMEM);
	if (!atomic_compare_exchange_strong(&dir, &none, c))
		free(c);
	return (0);
}

const char *
ct_helper_dir(void)
{
	return (atomic_load(&dir));
}

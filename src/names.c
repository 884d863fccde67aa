/*
 * names.c -- name <-> number tables shared by every backend: event
 * types, parameters, device states, contract states, types, errnos.
 * The names are those of illumos_contract 1.0.3 (docs/ARCHITECTURE.md, "Names").
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "ct.h"

static const ct_name_t pr_events[] = {
	{ "negend", NC_EV_NEGEND },
	{ "pr_empty", NC_PR_EV_EMPTY },
	{ "pr_fork", NC_PR_EV_FORK },
	{ "pr_exit", NC_PR_EV_EXIT },
	{ "pr_core", NC_PR_EV_CORE },
	{ "pr_signal", NC_PR_EV_SIGNAL },
	{ "pr_hwerr", NC_PR_EV_HWERR },
	{ NULL, 0 }
};

static const ct_name_t dev_events[] = {
	{ "negend", NC_EV_NEGEND },
	{ "dev_online", NC_DEV_EV_ONLINE },
	{ "dev_degraded", NC_DEV_EV_DEGRADED },
	{ "dev_offline", NC_DEV_EV_OFFLINE },
	{ NULL, 0 }
};

/*
 * Extension events, the same for every type.  Names starting with "_"
 * are internal: the JS layer uses them (stop, freeze) and never emits them.
 */
static const ct_name_t ext_events[] = {
	{ "pr_lost", NC_EVX_LOST },
	{ "_frozen", NC_EVX_FROZEN },
	{ "_thawed", NC_EVX_THAWED },
	{ "_emptied", NC_EVX_EMPTIED },
	{ "_broken", NC_EVX_BROKEN },
	{ NULL, 0 }
};

const ct_name_t ct_names_params[] = {
	{ "inherit", NC_PR_INHERIT },
	{ "noorphan", NC_PR_NOORPHAN },
	{ "pgrponly", NC_PR_PGRPONLY },
	{ "regent", NC_PR_REGENT },
	{ NULL, 0 }
};

const ct_name_t ct_names_devstates[] = {
	{ "online", NC_DEV_EV_ONLINE },
	{ "degraded", NC_DEV_EV_DEGRADED },
	{ "offline", NC_DEV_EV_OFFLINE },
	{ NULL, 0 }
};

const ct_name_t ct_names_states[] = {
	{ "owned", NC_ST_OWNED },
	{ "inherited", NC_ST_INHERITED },
	{ "orphan", NC_ST_ORPHAN },
	{ "dead", NC_ST_DEAD },
	{ NULL, 0 }
};

const ct_name_t ct_names_types[] = {
	{ "process", CT_TYPE_PROCESS },
	{ "device", CT_TYPE_DEVICE },
	{ NULL, 0 }
};

const ct_name_t *
ct_names_events(ct_type_t type)
{
	return (type == CT_TYPE_DEVICE ? dev_events : pr_events);
}

int
ct_names_lookup(const ct_name_t *tab, const char *name, uint32_t *valuep)
{
	for (; tab->name != NULL; tab++) {
		if (strcmp(tab->name, name) == 0) {
			*valuep = tab->value;
			return (0);
		}
	}
	return (ENOENT);
}

const char *
ct_names_name(const ct_name_t *tab, uint32_t value)
{
	for (; tab->name != NULL; tab++) {
		if (tab->value == value)
			return (tab->name);
	}
	return (NULL);
}

const char *
ct_names_event(ct_type_t type, uint32_t evtype)
{
	const char *n = ct_names_name(ct_names_events(type), evtype);

	return (n != NULL ? n : ct_names_name(ext_events, evtype));
}

#define	E(x)	{ #x, x }
static const struct { const char *name; int value; } errnos[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR),
	E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY), E(EFBIG),
	E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK), E(EPIPE), E(EDOM),
	E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK), E(ENOSYS),
	E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ENODATA), E(ENOTSUP),
	E(EOVERFLOW), E(ETIMEDOUT), E(ENOBUFS), E(EPROTONOSUPPORT),
	E(EAFNOSUPPORT), E(ECONNREFUSED), E(EADDRINUSE), E(ECANCELED),
	E(EOWNERDEAD), E(EBADMSG),
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
	E(EOPNOTSUPP),
#endif
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
	E(EWOULDBLOCK),
#endif
};
#undef E

const char *
ct_names_errno(int err)
{
	for (size_t i = 0; i < sizeof (errnos) / sizeof (errnos[0]); i++) {
		if (errnos[i].value == err)
			return (errnos[i].name);
	}
	return (NULL);
}

/*
 * NSIG is one more than the highest signal number on both systems (65 on
 * Linux with glibc, 74 on illumos): the range the binding accepts.
 */
#if !defined(NSIG) && defined(_NSIG)
#define	NSIG	_NSIG
#endif

int
ct_sig_max(void)
{
	return (NSIG - 1);
}

/*
 * Stand-in for illumos's <procfs.h> (usr/src/uts/common/sys/procfs.h): the
 * psinfo_t fields src/illumos/members.c reads, with illumos's names and
 * sizes.  Not illumos: the layout is not the kernel's, and the model has no
 * /proc of its own, so a member's psinfo is never found under the model.
 */
#ifndef MODEL_PROCFS_H
#define MODEL_PROCFS_H

#include <sys/types.h>
#include <time.h>

#define	PRFNSZ		16
#define	PRARGSZ		80

typedef struct timespec timestruc_t;

typedef struct lwpsinfo {
	char	pr_sname;
} lwpsinfo_t;

typedef struct psinfo {
	pid_t	pr_pid;
	pid_t	pr_ppid;
	timestruc_t pr_start;
	char	pr_fname[PRFNSZ];
	char	pr_psargs[PRARGSZ];
	lwpsinfo_t pr_lwp;
} psinfo_t;

#endif

/*
 * Stand-in for illumos's <procfs.h> (usr/src/uts/common/sys/procfs.h): the
 * psinfo_t and prusage_t fields src/illumos/members.c and trace.c read,
 * with illumos's names, types and sizes.  Not illumos: the layout is not
 * the kernel's (fields nobody here reads are left out).  The model's
 * /proc (model/proc.c) fills them as prgetpsinfo (fs/proc/prsubr.c) and
 * pr_read_usage (fs/proc/prvnops.c) do.
 */
#ifndef MODEL_PROCFS_H
#define MODEL_PROCFS_H

#include <sys/types.h>
#include <time.h>

#define	PRFNSZ		16
#define	PRARGSZ		80

typedef struct timespec timestruc_t;

typedef struct lwpsinfo {
	char	pr_state;	/* numeric lwp state (SZOMB for a zombie) */
	char	pr_sname;	/* printable character for pr_state */
} lwpsinfo_t;

/* /proc/<pid>/psinfo: a zombie's is zeroed but for the ids and times. */
typedef struct psinfo {
	int	pr_nlwp;	/* number of active lwps in the process */
	pid_t	pr_pid;		/* unique process id */
	pid_t	pr_ppid;	/* process id of parent */
	timestruc_t pr_start;	/* process start time, from the epoch */
	timestruc_t pr_time;	/* usr+sys cpu time for this process */
	timestruc_t pr_ctime;	/* usr+sys cpu time for reaped children */
	char	pr_fname[PRFNSZ];	/* name of execed file */
	char	pr_psargs[PRARGSZ];	/* initial characters of arg list */
	int	pr_wstat;	/* if zombie, the wait() status */
	int	pr_argc;	/* initial argument count */
	id_t	pr_contract;	/* process contract (-1: none) */
	lwpsinfo_t pr_lwp;	/* information for representative lwp */
} psinfo_t;

/*
 * /proc/<pid>/usage: times are the kernel's hrtime (since boot) as
 * timestructs; readable until the process is reaped.
 */
typedef struct prusage {
	id_t		pr_lwpid;	/* lwp id.  0: process or defunct */
	int		pr_count;	/* number of contributing lwps */
	timestruc_t	pr_tstamp;	/* current time stamp */
	timestruc_t	pr_create;	/* process/lwp creation time stamp */
	timestruc_t	pr_term;	/* process/lwp termination time stamp */
	timestruc_t	pr_rtime;	/* total lwp real (elapsed) time */
	timestruc_t	pr_utime;	/* user level cpu time */
	timestruc_t	pr_stime;	/* system call cpu time */
	timestruc_t	pr_ttime;	/* other system trap cpu time */
} prusage_t;

#endif

/* Model of illumos <sys/contract/process.h>: its numbers.  Not illumos. */
#ifndef MODEL_SYS_CONTRACT_PROCESS_H
#define MODEL_SYS_CONTRACT_PROCESS_H

#define	CT_PR_INHERIT	0x1
#define	CT_PR_NOORPHAN	0x2
#define	CT_PR_PGRPONLY	0x4
#define	CT_PR_REGENT	0x8
#define	CT_PR_ALLPARAM	0xf

#define	CT_PR_EV_EMPTY	0x1
#define	CT_PR_EV_FORK	0x2
#define	CT_PR_EV_EXIT	0x4
#define	CT_PR_EV_CORE	0x8
#define	CT_PR_EV_SIGNAL	0x10
#define	CT_PR_EV_HWERR	0x20
#define	CT_PR_ALLEVENT	0x3f
#define	CT_PR_ALLFATAL	(CT_PR_EV_CORE | CT_PR_EV_SIGNAL | CT_PR_EV_HWERR)

#endif

/*
 * Model of illumos <sys/contract.h>: the numbers and types the backend
 * uses, with illumos's values.  Also the illumos-only pieces of
 * <sys/types.h>, <sys/procset.h> and <signal.h> it needs (uint_t,
 * zoneid_t, P_CTID, sigsend), which Linux has not.  Not illumos.
 */
#ifndef MODEL_SYS_CONTRACT_H
#define MODEL_SYS_CONTRACT_H

#include <stdint.h>
#include <sys/types.h>

typedef unsigned int uint_t;
typedef int32_t ctid_t;
typedef uint64_t ctevid_t;
typedef int32_t zoneid_t;

typedef enum ctstate {
	CTS_OWNED, CTS_INHERITED, CTS_ORPHAN, CTS_DEAD
} ctstate_t;

typedef enum ct_typeid {
	CTT_PROCESS, CTT_DEVICE, CTT_MAXTYPE
} ct_typeid_t;

#define	CTD_COMMON	0
#define	CTD_FIXED	1
#define	CTD_ALL		2

#define	CTE_ACK		0x1
#define	CTE_INFO	0x2
#define	CTE_NEG		0x4

#define	CT_EV_NEGEND	0x0
#define	CT_PARAM_MAX_SIZE	8192

/* <sys/procset.h> and <signal.h> */
#define	P_CTID		13
int sigsend(int idtype, id_t id, int sig);

#endif

/* Model of illumos <sys/contract/device.h>: its numbers.  Not illumos. */
#ifndef MODEL_SYS_CONTRACT_DEVICE_H
#define MODEL_SYS_CONTRACT_DEVICE_H

#define	CT_DEV_EV_ONLINE	0x1
#define	CT_DEV_EV_DEGRADED	0x2
#define	CT_DEV_EV_OFFLINE	0x4
#define	CT_DEV_ALLEVENT		0x7

#endif

/*
 * Model of illumos <sys/ctfs.h> for the test model (test/illumos/README.md):
 * only what the backend uses.  Not illumos.
 */
#ifndef MODEL_SYS_CTFS_H
#define MODEL_SYS_CTFS_H

#define	CTFS_ROOT	"/system/contract"

#endif

/*
 * keys.h -- the keys of a contract's records, each named once: xattrs of
 * its cgroup, or files of its registry directory (reaper.c).  Plain
 * defines, no declarations: the anchor (src/helpers/anchor.c), which has
 * no libc, writes some of them itself.
 */
#ifndef LX_KEYS_H
#define	LX_KEYS_H

#define	LX_META_TERMS	"user.ct.terms"		/* lx_terms_t */
#define	LX_META_STATE	"user.ct.state"		/* lx_hstate_t */
#define	LX_META_NEVENTS	"user.ct.nevents"	/* unacked critical */
#define	LX_META_DEVSTATE "user.ct.devstate"	/* a device's state */
#define	LX_META_NEXT	"user.ct.next"		/* the root's next-id hint */
/* The first member's pid: the holder's (cgroup), the anchor's (reaper). */
#define	LX_META_PROGRAM	"user.ct.program"
/* Reaper membership: the holder writes the first, the anchor the other. */
#define	LX_META_ANCHOR	"user.ct.anchor"	/* "<pid> <start time>" */
#define	LX_META_DONE	"user.ct.done"		/* "<status> <ut> <st> <last>" */

#endif /* LX_KEYS_H */

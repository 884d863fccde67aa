/*
 * tools.h -- what the illumos builds of ctstat and ctwatch use beyond
 * ct.h, to do what illumos's own tools do: read a status file without
 * observing the contract, and read a type's bundle.  Types are ct.h's;
 * implemented in src/illumos/.
 */
#ifndef IL_TOOLS_H
#define IL_TOOLS_H

#include <stdbool.h>

#include "ct.h"

/*
 * The status of contract id from its status file, which anyone who can
 * see the contract may read (ctstat).  0, or an errno with ct_err set.
 */
int il_status_id(ct_id_t id, ct_cstatus_t *st);

/*
 * Queue every event of every contract of type from <type>/bundle, as
 * ctwatch does for a type operand: from now on, or (reset) from the
 * oldest event the kernel still keeps; reliable asks the kernel to keep
 * every event for this reader, which needs the contract_event privilege
 * (contract.c:2679): refused, the bundle is read all the same and
 * il_reliable_was_refused() says so (illumos's ctwatch warns and carries
 * on, ctwatch.c:348-353).  Without contract_observer the kernel shows
 * only the contracts the reader's credentials "own" (contract.c:1977,
 * contract_owned :1060-1086): held by this process, or made by its uid,
 * or held by a process of its uid; so an orphan or inherited contract is
 * shown when our uid made it (:1081-1082) and left out when another user
 * did (:1987-1988).  Unreliable, the events of a contract destroyed
 * before they were read are lost (cte_trim, contract.c:2128-2162).
 * Events come through ct_evq_dispatch()/ct_evq_pop() like the others.
 */
int il_bundle_watch(ct_type_t type, bool reliable, bool reset);

/*
 * The same two options for the events endpoints of the contracts opened
 * with CT_OPEN_OBSERVE after this call (ctwatch's id operands).
 */
void il_observe_options(bool reliable, bool reset);

/* Whether a request for reliable delivery was refused (no privilege). */
bool il_reliable_was_refused(void);

#endif /* IL_TOOLS_H */

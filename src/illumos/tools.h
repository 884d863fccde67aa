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
 * every event for this reader (needs the contract_observer privilege).
 * Events come through ct_evq_dispatch()/ct_evq_pop() like the others.
 */
int il_bundle_watch(ct_type_t type, bool reliable, bool reset);

/*
 * The same two options for the events endpoints of the contracts opened
 * with CT_OPEN_OBSERVE after this call (ctwatch's id operands).
 */
void il_observe_options(bool reliable, bool reset);

#endif /* IL_TOOLS_H */

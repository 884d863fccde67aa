/*
 * test_cli_safe.c -- cli_puts_safe (src/cli/cli.c), how ctstat -v and
 * ctwatch print what a contract's creator or members wrote (fmri, aux,
 * creator, core paths; docs/security.md): C0, DEL and the backslash as
 * octal; C1 as UTF-8 with both of its bytes escaped (before, its second
 * byte, an 8-bit terminal's CSI or OSC, went out raw); a byte that is not
 * well-formed UTF-8 escaped; well-formed UTF-8 as it is.
 * Prints failures as file:line, then "N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/cli.c"

#include "check.h"

static const struct {
	const char *in, *out;
} rows[] = {
	{ "svc:/plain", "svc:/plain" },
	{ "a\x1b]0;t\x07z", "a\\033]0;t\\007z" },
	{ "tab\there\n", "tab\\011here\\012" },
	{ "del\x7f", "del\\177" },
	{ "back\\slash", "back\\134slash" },
	{ "csi \xc2\x9b" "31m", "csi \\302\\23331m" },		/* U+009B */
	{ "osc \xc2\x9d", "osc \\302\\235" },			/* U+009D */
	{ "nbsp \xc2\xa0", "nbsp \xc2\xa0" },			/* U+00A0 */
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },	/* é € 😀 */
	{ "lone \x9b" "31m", "lone \\23331m" },			/* 8-bit CSI */
	{ "lead \xc3", "lead \\303" },				/* cut short */
	{ "overlong \xc0\xaf", "overlong \\300\\257" },
	{ "overlong \xe0\x80\x9b", "overlong \\340\\200\\233" },
	{ "surrogate \xed\xa0\x80", "surrogate \\355\\240\\200" },
	{ "past \xf4\x90\x80\x80", "past \\364\\220\\200\\200" },
	{ "bad \xff\xfe", "bad \\377\\376" },
	{ "", "" },
};

int
main(void)
{
	for (size_t i = 0; i < CHECK_NELEM(rows); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f == NULL)
			return (2);
		cli_puts_safe(f, rows[i].in);
		(void) fclose(f);
		CHECK_STR(buf, rows[i].out);
		free(buf);
	}
	return (check_report());
}

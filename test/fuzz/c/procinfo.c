/*
 * libFuzzer harness: the parsers of what a traced or listed process
 * writes about itself (its comm by prctl, its cmdline by overwriting its
 * argv area): /proc/<pid>/stat and /proc/<pid>/cmdline as
 * ct_contract_members reads them (src/linux/procinfo.c, compiled in: its
 * parsers are static), and as a trace reads them at exit and exec
 * (src/linux/trace.c: the zombie's stat, the cmdline cut at its bound).
 * The first byte picks the parser.  Run by test/fuzz/libfuzzer.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/linux/procinfo.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ct_member_t m;
	uint64_t ut, st, start;
	char *s;

	if (size < 1 || (s = malloc(size + 1)) == NULL)
		return (0);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	memset(&m, 0, sizeof (m));
	switch (data[0] % 4) {
	case 0:
		/* Booted 1.7e9 s after the epoch, in ns. */
		(void) parse_stat(s, &m, 1700000000LL * 1000000000, 100);
		break;
	case 1:
		/* cmdline is not NUL-terminated: exact size. */
		(void) parse_cmdline((const char *)data + 1, size - 1, &m);
		break;
	case 2:
		(void) lx_trace_parse_stat(s, &ut, &st, &start);
		break;
	default:
		/* The caller leaves one byte of room after the bytes read. */
		memcpy(s, data + 1, size - 1);
		(void) lx_trace_argv_clean(s, size - 1, data[0] & 0x80);
		break;
	}
	ct_members_free_one(&m);
	free(s);
	return (0);
}

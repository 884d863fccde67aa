/*
 * libFuzzer harness: the parsers of what a member or another process can
 * write or show us (src/linux/parse.c): reaper records (strict decimals),
 * the holder state and the terms records, /proc/<pid>/stat, pid lists,
 * cgroup.events.  The first byte picks the parser.
 * Run by test/fuzz/libfuzzer.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	uint64_t v[3], start;
	lx_hstate_t st;
	lx_terms_t t;
	pid_t *pids, ppid;
	size_t n;
	int pop, frz;

	if (size < 1 || (s = malloc(size)) == NULL)
		return (0);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		(void) lx_parse_u64s(s, v, 1 + data[0] / 6 % 3);
		break;
	case 1:
		(void) lx_state_decode(s, &st);
		break;
	case 2:
		/* Terms are length-prefixed: not NUL-terminated, exact size. */
		if (lx_terms_decode((const char *)data + 1, size - 1, &t) == 0)
			lx_terms_fini(&t);
		break;
	case 3:
		(void) lx_parse_stat_start(s, &start);
		(void) lx_parse_stat_ppid(s, &ppid);
		break;
	case 4:
		if (lx_parse_pids(s, &pids, &n) == 0)
			free(pids);
		break;
	default:
		(void) lx_parse_events(s, &pop, &frz);
		break;
	}
	free(s);
	return (0);
}

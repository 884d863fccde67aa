/*
 * libFuzzer harness: the netlink walks of src/linux/nlwalk.c, on what a
 * recv could hand them -- any bytes, any length (the first byte picks the
 * walk; for the connector, the next four a claimed length, negative too).
 * Run by test/fuzz/libfuzzer.sh.
 */
#include <linux/cn_proc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sink(const void *p, size_t len, void *arg)
{
	struct proc_event pe;
	size_t *total = arg;

	/* What connector.c's deliver() does with it. */
	memcpy(&pe, p, len < sizeof (pe) ? len : sizeof (pe));
	*total += len + (size_t)pe.what;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t total = 0;

	if (size < 1)
		return (0);
	if (data[0] & 1) {
		int32_t claim = (int32_t)size - 5;
		uint8_t *buf;
		if (size < 5)
			return (0);
		/* A claimed length no larger than the buffer, or negative. */
		memcpy(&claim, data + 1, 4);
		if (claim > (int32_t)(size - 5))
			claim = (int32_t)(size - 5);
		if ((buf = malloc(size - 5 + 1)) == NULL)
			return (0);
		memcpy(buf, data + 5, size - 5);
		(void) lx_nl_cn_walk(buf, claim, sink, &total);
		free(buf);
	} else {
		size_t cap = size;	/* the buffer holds exactly what came */
		char *buf = malloc(cap);
		const char *a, *d;
		if (buf == NULL)
			return (0);
		memcpy(buf, data + 1, size - 1);
		if (lx_nl_uevent(buf, size - 1, cap, &a, &d) == 0)
			total += strlen(a) + strlen(d);
		free(buf);
	}
	return (total == (size_t)-1);
}

/*
 * test_names.c -- the name <-> number tables of src/names.c.
 * Checks with test/c/check.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ct.h"
#include "check.h"

static size_t
count(const ct_name_t *tab)
{
	size_t n = 0;

	while (tab[n].name != NULL)
		n++;
	return (n);
}

/* Every name and every value of tab appears once; both directions agree. */
static void
check_table(const ct_name_t *tab, const char *file, int line)
{
	for (size_t i = 0; tab[i].name != NULL; i++) {
		uint32_t v = 0xdeadbeef;

		check_at(ct_names_lookup(tab, tab[i].name, &v) == 0 &&
		    v == tab[i].value, "lookup(name) == value", file, line);
		check_at(check_streq(ct_names_name(tab, tab[i].value),
		    tab[i].name), "name(value) == name", file, line);
		for (size_t j = i + 1; tab[j].name != NULL; j++) {
			check_at(strcmp(tab[i].name, tab[j].name) != 0 &&
			    tab[i].value != tab[j].value, "unique", file, line);
		}
	}
}

/* The union of a table's values, which must be single bits or 0. */
static uint32_t
bits_of(const ct_name_t *tab, const char *file, int line)
{
	uint32_t all = 0;

	for (size_t i = 0; tab[i].name != NULL; i++) {
		check_at((tab[i].value & (tab[i].value - 1)) == 0,
		    "a single bit or 0", file, line);
		all |= tab[i].value;
	}
	return (all);
}

static void
test_events(void)
{
	const ct_name_t *pr = ct_names_events(CT_TYPE_PROCESS);
	const ct_name_t *dev = ct_names_events(CT_TYPE_DEVICE);
	static const char *const pr_names[] = { "negend", "pr_empty",
	    "pr_fork", "pr_exit", "pr_core", "pr_signal", "pr_hwerr" };
	static const char *const dev_names[] = { "negend", "dev_online",
	    "dev_degraded", "dev_offline" };
	uint32_t v;

	CHECK(count(pr) == 7);
	CHECK(count(dev) == 4);
	for (size_t i = 0; i < 7 && pr[i].name != NULL; i++)
		CHECK_STR(pr[i].name, pr_names[i]);
	for (size_t i = 0; i < 4 && dev[i].name != NULL; i++)
		CHECK_STR(dev[i].name, dev_names[i]);
	check_table(pr, __FILE__, __LINE__);
	check_table(dev, __FILE__, __LINE__);
	CHECK(bits_of(pr, __FILE__, __LINE__) == NC_PR_ALLEVENT);
	CHECK(bits_of(dev, __FILE__, __LINE__) == NC_DEV_ALLEVENT);

	CHECK(ct_names_lookup(pr, "negend", &v) == 0 && v == NC_EV_NEGEND);
	CHECK(ct_names_lookup(pr, "pr_empty", &v) == 0 && v == 0x1);
	CHECK(ct_names_lookup(pr, "pr_fork", &v) == 0 && v == 0x2);
	CHECK(ct_names_lookup(pr, "pr_exit", &v) == 0 && v == 0x4);
	CHECK(ct_names_lookup(pr, "pr_core", &v) == 0 && v == 0x8);
	CHECK(ct_names_lookup(pr, "pr_signal", &v) == 0 && v == 0x10);
	CHECK(ct_names_lookup(pr, "pr_hwerr", &v) == 0 && v == 0x20);
	CHECK(ct_names_lookup(dev, "dev_online", &v) == 0 && v == 0x1);
	CHECK(ct_names_lookup(dev, "dev_degraded", &v) == 0 && v == 0x2);
	CHECK(ct_names_lookup(dev, "dev_offline", &v) == 0 && v == 0x4);

	/* Unknown names: ENOENT, *valuep untouched. */
	v = 12345;
	CHECK(ct_names_lookup(pr, "dev_online", &v) == ENOENT && v == 12345);
	CHECK(ct_names_lookup(dev, "pr_fork", &v) == ENOENT && v == 12345);
	CHECK(ct_names_lookup(pr, "PR_FORK", &v) == ENOENT);
	CHECK(ct_names_lookup(pr, "pr_fork ", &v) == ENOENT);
	CHECK(ct_names_lookup(pr, "", &v) == ENOENT);
	/* The extensions are event names, not set members. */
	CHECK(ct_names_lookup(pr, "pr_lost", &v) == ENOENT);
	CHECK(ct_names_lookup(pr, "frozen", &v) == ENOENT);
	CHECK(ct_names_lookup(dev, "thawed", &v) == ENOENT);
	CHECK(v == 12345);

	CHECK_STR(ct_names_name(pr, 0), "negend");
	CHECK_STR(ct_names_name(pr, NC_PR_EV_HWERR), "pr_hwerr");
	CHECK_STR(ct_names_name(dev, NC_DEV_EV_OFFLINE), "dev_offline");
	CHECK(ct_names_name(pr, 0x40) == NULL);
	CHECK(ct_names_name(pr, 0x3) == NULL);
	CHECK(ct_names_name(dev, 0x8) == NULL);
	CHECK(ct_names_name(dev, NC_EVX_LOST) == NULL);
}

static void
test_event_names(void)
{
	CHECK_STR(ct_names_event(CT_TYPE_PROCESS, NC_EV_NEGEND), "negend");
	CHECK_STR(ct_names_event(CT_TYPE_DEVICE, NC_EV_NEGEND), "negend");
	CHECK_STR(ct_names_event(CT_TYPE_PROCESS, 0x1), "pr_empty");
	CHECK_STR(ct_names_event(CT_TYPE_DEVICE, 0x1), "dev_online");
	CHECK_STR(ct_names_event(CT_TYPE_PROCESS, 0x4), "pr_exit");
	CHECK_STR(ct_names_event(CT_TYPE_DEVICE, 0x4), "dev_offline");
	CHECK_STR(ct_names_event(CT_TYPE_PROCESS, 0x20), "pr_hwerr");
	CHECK(ct_names_event(CT_TYPE_DEVICE, 0x20) == NULL);
	for (int ty = CT_TYPE_PROCESS; ty < CT_TYPE_COUNT; ty++) {
		CHECK_STR(ct_names_event(ty, NC_EVX_LOST), "pr_lost");
		/* Internal notifications start with '_': JS never emits them. */
		CHECK_STR(ct_names_event(ty, NC_EVX_FROZEN), "_frozen");
		CHECK_STR(ct_names_event(ty, NC_EVX_THAWED), "_thawed");
		CHECK_STR(ct_names_event(ty, NC_EVX_EMPTIED), "_emptied");
		CHECK_STR(ct_names_event(ty, NC_EVX_BROKEN), "_broken");
		CHECK(ct_names_event(ty, 0x80) == NULL);
		CHECK(ct_names_event(ty, 0x3) == NULL);
		CHECK(ct_names_event(ty, 0x200000) == NULL);
		CHECK(ct_names_event(ty, UINT32_MAX) == NULL);
	}
	/* Extensions are above every real event bit. */
	CHECK(NC_EVX_LOST > NC_PR_ALLEVENT && NC_EVX_LOST > NC_DEV_ALLEVENT);
	CHECK((NC_EVX_LOST & NC_EVX_FROZEN) == 0 &&
	    (NC_EVX_FROZEN & NC_EVX_THAWED) == 0);
}

static void
test_params_states_types(void)
{
	uint32_t v = 77;

	CHECK(count(ct_names_params) == 4);
	check_table(ct_names_params, __FILE__, __LINE__);
	CHECK(bits_of(ct_names_params, __FILE__, __LINE__) == NC_PR_ALLPARAM);
	CHECK(ct_names_lookup(ct_names_params, "inherit", &v) == 0 && v == 1);
	CHECK(ct_names_lookup(ct_names_params, "noorphan", &v) == 0 &&
	    v == 2);
	CHECK(ct_names_lookup(ct_names_params, "pgrponly", &v) == 0 &&
	    v == 4);
	CHECK(ct_names_lookup(ct_names_params, "regent", &v) == 0 && v == 8);
	v = 77;
	CHECK(ct_names_lookup(ct_names_params, "keep_exec", &v) == ENOENT &&
	    v == 77);
	CHECK(ct_names_name(ct_names_params, 0) == NULL);
	CHECK(ct_names_name(ct_names_params, 0x10) == NULL);

	/* Device states: no dev_ prefix (1.0.3). */
	CHECK(count(ct_names_devstates) == 3);
	check_table(ct_names_devstates, __FILE__, __LINE__);
	CHECK(bits_of(ct_names_devstates, __FILE__, __LINE__) ==
	    NC_DEV_ALLEVENT);
	CHECK(ct_names_lookup(ct_names_devstates, "online", &v) == 0 &&
	    v == NC_DEV_EV_ONLINE);
	CHECK(ct_names_lookup(ct_names_devstates, "degraded", &v) == 0 &&
	    v == NC_DEV_EV_DEGRADED);
	CHECK(ct_names_lookup(ct_names_devstates, "offline", &v) == 0 &&
	    v == NC_DEV_EV_OFFLINE);
	CHECK(ct_names_lookup(ct_names_devstates, "dev_online", &v) ==
	    ENOENT);
	CHECK(ct_names_name(ct_names_devstates, 0) == NULL);

	CHECK(count(ct_names_states) == 4);
	check_table(ct_names_states, __FILE__, __LINE__);
	CHECK_STR(ct_names_name(ct_names_states, NC_ST_OWNED), "owned");
	CHECK_STR(ct_names_name(ct_names_states, NC_ST_INHERITED),
	    "inherited");
	CHECK_STR(ct_names_name(ct_names_states, NC_ST_ORPHAN), "orphan");
	CHECK_STR(ct_names_name(ct_names_states, NC_ST_DEAD), "dead");
	CHECK(ct_names_name(ct_names_states, 4) == NULL);
	CHECK(ct_names_lookup(ct_names_states, "zombie", &v) == ENOENT);

	CHECK(count(ct_names_types) == 2);
	check_table(ct_names_types, __FILE__, __LINE__);
	CHECK(ct_names_lookup(ct_names_types, "process", &v) == 0 &&
	    v == CT_TYPE_PROCESS);
	CHECK(ct_names_lookup(ct_names_types, "device", &v) == 0 &&
	    v == CT_TYPE_DEVICE);
	CHECK(ct_names_lookup(ct_names_types, "all", &v) == ENOENT);
	CHECK(ct_names_name(ct_names_types, CT_TYPE_COUNT) == NULL);
}

static void
test_errno(void)
{
	CHECK_STR(ct_names_errno(EPERM), "EPERM");
	CHECK_STR(ct_names_errno(ENOENT), "ENOENT");
	CHECK_STR(ct_names_errno(ESRCH), "ESRCH");
	CHECK_STR(ct_names_errno(EINVAL), "EINVAL");
	CHECK_STR(ct_names_errno(ERANGE), "ERANGE");
	CHECK_STR(ct_names_errno(ENOMEM), "ENOMEM");
	CHECK_STR(ct_names_errno(EACCES), "EACCES");
	CHECK_STR(ct_names_errno(EBUSY), "EBUSY");
	CHECK_STR(ct_names_errno(ENOTSUP), "ENOTSUP");
	CHECK_STR(ct_names_errno(EAGAIN), "EAGAIN");
	CHECK_STR(ct_names_errno(ENAMETOOLONG), "ENAMETOOLONG");
	CHECK_STR(ct_names_errno(EOWNERDEAD), "EOWNERDEAD");
	/* Aliases name the first spelling where the numbers agree. */
	CHECK(ct_names_errno(EOPNOTSUPP) != NULL);
	CHECK(ct_names_errno(EWOULDBLOCK) != NULL);
	if (EWOULDBLOCK == EAGAIN)
		CHECK_STR(ct_names_errno(EWOULDBLOCK), "EAGAIN");
	/* Unknown numbers. */
	CHECK(ct_names_errno(0) == NULL);
	CHECK(ct_names_errno(-1) == NULL);
	CHECK(ct_names_errno(-ENOENT) == NULL);
	CHECK(ct_names_errno(99999) == NULL);
}

/*
 * The binding's signal range is the system's: NSIG - 1 (64 here with
 * glibc; 73 on illumos, whose NSIG is 74).
 */
static void
test_sig_max(void)
{
	CHECK(ct_sig_max() == NSIG - 1);
	CHECK(ct_sig_max() >= 31);
}

int
main(void)
{
	test_sig_max();
	test_events();
	test_event_names();
	test_params_states_types();
	test_errno();
	return (check_report());
}

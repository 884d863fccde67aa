/*
 * procinfo.c -- ct_contract_members(): who the live members are, from
 * /proc/<pid>/stat and /proc/<pid>/cmdline (docs/ARCHITECTURE.md, "Linux
 * backend").  Both files are written by the member itself (comm by
 * prctl, cmdline by overwriting its own argv area), so they are read
 * with a bound and parsed as untrusted: comm is what lies between the
 * first "(" and the last ")", argv is cut at CT_MEMBER_ARGMAX bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lx.h"

/* Read at most max bytes of path, NUL-terminated; *lenp the bytes read. */
static int
read_bounded(const char *path, size_t max, char **bufp, size_t *lenp)
{
	size_t cap = 512, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int fd, err = 0;

	if (buf == NULL)
		return (ENOMEM);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno;
		free(buf);
		return (err);
	}
	while (len < max) {
		if (len + 1 >= cap) {
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if ((nb = realloc(buf, ncap)) == NULL) {
				err = ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		len += (size_t)n;
	}
	(void) close(fd);
	if (err != 0) {
		free(buf);
		return (err);
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return (0);
}

/*
 * The epoch time of boot, in ns: CLOCK_REALTIME - CLOCK_BOOTTIME, which
 * start times count from.  Not /proc/stat's btime: whole seconds, so a
 * start read from it could be up to a second early (as trace.c does).
 */
static int64_t
boot_epoch_ns(void)
{
	struct timespec r, b;

	(void) clock_gettime(CLOCK_REALTIME, &r);
	(void) clock_gettime(CLOCK_BOOTTIME, &b);
	return ((int64_t)(r.tv_sec - b.tv_sec) * 1000000000 +
	    (r.tv_nsec - b.tv_nsec));
}

/* Clock ticks since boot -> ms since the epoch (no overflow in ns). */
static uint64_t
start_epoch_ms(unsigned long long ticks, int64_t boot_ns, long hz)
{
	uint64_t h = (uint64_t)hz;
	int64_t ns = (int64_t)(ticks / h * 1000000000u +
	    ticks % h * 1000000000u / h) + boot_ns;

	return (ns < 0 ? 0 : (uint64_t)ns / 1000000u);
}

/* stat: pid (comm) state ppid ... utime(14) stime(15) ... starttime(22) */
static int
parse_stat(char *buf, ct_member_t *m, int64_t boot_ns, long hz)
{
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long ut, st, start;
	int ppid;
	char state;

	if (open == NULL || close == NULL || close < open || close[1] != ' ')
		return (ESRCH);
	if (sscanf(close + 2, "%c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s "
	    "%llu %llu %*s %*s %*s %*s %*s %*s %llu", &state, &ppid, &ut, &st,
	    &start) != 5)
		return (ESRCH);
	*close = '\0';
	if ((m->comm = strdup(open + 1)) == NULL)
		return (ENOMEM);
	m->state = state;
	m->ppid = (pid_t)ppid;
	m->user_usec = ut * 1000000ULL / (unsigned long long)hz;
	m->system_usec = st * 1000000ULL / (unsigned long long)hz;
	m->start_ms = start_epoch_ms(start, boot_ns, hz);
	return (0);
}

/* cmdline: NUL-separated strings (a last one may lack its NUL). */
static int
parse_cmdline(const char *buf, size_t len, ct_member_t *m)
{
	size_t n = 0, i = 0;

	for (size_t o = 0; o < len; o++)
		if (buf[o] == '\0' || o + 1 == len)
			n++;
	if (n == 0)
		return (0);
	if ((m->argv = calloc(n, sizeof (char *))) == NULL)
		return (ENOMEM);
	for (size_t o = 0; o < len && i < n; i++) {
		size_t l = strnlen(buf + o, len - o);
		if ((m->argv[i] = strndup(buf + o, l)) == NULL)
			return (ENOMEM);
		m->argc = i + 1;
		o += l + 1;
	}
	return (0);
}

/* One member's record; ESRCH when it is gone meanwhile. */
static int
member_read(pid_t pid, ct_member_t *m, int64_t boot_ns, long hz)
{
	char path[48], *buf;
	size_t len;
	int err;

	(void) memset(m, 0, sizeof (*m));
	m->pid = pid;
	(void) snprintf(path, sizeof (path), "/proc/%d/stat", (int)pid);
	if (read_bounded(path, 4096, &buf, &len) != 0)
		return (ESRCH);
	err = parse_stat(buf, m, boot_ns, hz);
	free(buf);
	if (err != 0 || m->state == 'Z' || m->state == 'X')
		return (err);	/* a zombie's argv is empty */
	(void) snprintf(path, sizeof (path), "/proc/%d/cmdline", (int)pid);
	if (read_bounded(path, CT_MEMBER_ARGMAX, &buf, &len) != 0)
		return (0);	/* exited between the reads: argv [] */
	err = parse_cmdline(buf, len, m);
	free(buf);
	return (err);
}

/* Records of the pids that are still there (lx_members_info in lx.h). */
int
lx_members_info(const pid_t *pids, size_t n, ct_member_t **mp, size_t *np)
{
	size_t k = 0;
	ct_member_t *m;
	int64_t boot_ns = boot_epoch_ns();
	long hz = sysconf(_SC_CLK_TCK);
	int err;

	*mp = NULL;
	*np = 0;
	if (hz <= 0)
		hz = 100;
	if ((m = calloc(n > 0 ? n : 1, sizeof (*m))) == NULL)
		return (ENOMEM);
	for (size_t i = 0; i < n; i++) {
		err = member_read(pids[i], &m[k], boot_ns, hz);
		if (err == 0) {
			k++;
			continue;
		}
		ct_members_free_one(&m[k]);
		if (err != ESRCH) {
			ct_members_free(m, k);
			return (err);
		}
	}
	*mp = m;
	*np = k;
	return (0);
}

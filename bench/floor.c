/*
 * floor -- the kernel's own price of putting a child into a fresh cgroup.
 *
 *   floor DIR N [GAP_US]
 *
 * Alternates N times (after a warm-up):
 *   plain  fork, exec /bin/true, waitpid
 *   join   fork, the child writes "0" to the cgroup.procs of a fresh
 *          cgroup DIR/f<i> (made and opened beforehand, untimed), exec
 *          /bin/true, waitpid
 * and prints one JSON line: the medians and means in microseconds.  With
 * GAP_US, every run is preceded by an idle pause of that long (untimed): a
 * process that spawns now and then rather than back to back.
 * Compiled at bench time; not part of the package.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *const targv[] = { "true", NULL };

static double
now_us(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof (*v), cmp);
	return (v[(n - 1) / 2]);
}

static double
mean(const double *v, int n)
{
	double s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return (s / n);
}

static double
run(int procsfd)
{
	double t0 = now_us();
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (procsfd >= 0 && write(procsfd, "0", 1) != 1)
			_exit(126);
		(void) execv("/bin/true", targv);
		_exit(127);
	}
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	double t1 = now_us();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		(void) fprintf(stderr, "floor: child failed (status %d)\n", st);
		exit(1);
	}
	return (t1 - t0);
}

static void
pause_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	if (us > 0)
		while (nanosleep(&ts, &ts) != 0)
			;
}

static double
joined(const char *dir, int i)
{
	char path[4096], procs[4200];
	double t;
	int fd;

	(void) snprintf(path, sizeof (path), "%s/f%d", dir, i);
	(void) snprintf(procs, sizeof (procs), "%s/cgroup.procs", path);
	if (mkdir(path, 0755) != 0 ||
	    (fd = open(procs, O_WRONLY | O_CLOEXEC)) < 0) {
		perror(path);
		exit(1);
	}
	t = run(fd);
	(void) close(fd);
	/* The child is reaped: the cgroup is empty (retry a busy rmdir). */
	for (int tries = 0; rmdir(path) != 0; tries++) {
		if (errno != EBUSY || tries > 1000) {
			perror(path);
			exit(1);
		}
		(void) usleep(1000);
	}
	return (t);
}

int
main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0, warm = 50;
	long gap = argc > 3 ? atol(argv[3]) : 0;
	double *p, *j;

	if (argc < 3 || argc > 4 || n <= 0 || gap < 0) {
		(void) fprintf(stderr, "usage: floor DIR N [GAP_US]\n");
		return (2);
	}
	p = calloc(n, sizeof (*p));
	j = calloc(n, sizeof (*j));
	for (int i = 0; i < warm; i++) {
		(void) run(-1);
		(void) joined(argv[1], i);
	}
	for (int i = 0; i < n; i++) {
		if (i & 1) {
			pause_us(gap);
			p[i] = run(-1);
			pause_us(gap);
			j[i] = joined(argv[1], i);
		} else {
			pause_us(gap);
			j[i] = joined(argv[1], i);
			pause_us(gap);
			p[i] = run(-1);
		}
	}
	double pm = mean(p, n), jm = mean(j, n);
	double pmed = median(p, n), jmed = median(j, n);
	(void) printf("{\"n\":%d,\"plain_median_us\":%.1f,\"join_median_us\":"
	    "%.1f,\"plain_mean_us\":%.1f,\"join_mean_us\":%.1f}\n", n, pmed,
	    jmed, pm, jm);
	return (0);
}

/*
 * device.c -- device contracts on Linux (docs/ARCHITECTURE.md, "Linux:
 * device contracts").  A device contract names a device by its /dev or /sys
 * path; its state changes come from kernel uevents (NETLINK_KOBJECT_UEVENT,
 * open to unprivileged readers): offline/remove -> offline, online/add ->
 * online.  Linux has no notion of a degraded device, and never negotiates.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lx.h"

static int uefd = -1;

static void drain(void *);

int
lx_dev_listen(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd, err;

	if (uefd >= 0)
		return (0);
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return (ct_err_set(errno, "socket", "cannot open the kernel "
		    "uevent socket: %s", strerror(errno)));
	if (bind(fd, (struct sockaddr *)&sa, sizeof (sa)) != 0)
		err = errno;
	else
		err = lx_evq_add(fd, drain, NULL);
	if (err != 0) {
		(void) close(fd);
		return (ct_err_set(err, "bind", "cannot listen to kernel "
		    "uevents: %s", strerror(err)));
	}
	uefd = fd;
	return (0);
}

/* The state a device is in now: its "online" attribute where it has one. */
static uint32_t
state_of(const char *syspath)
{
	char *path = NULL, c = '1';
	int fd;

	if (asprintf(&path, "%s/online", syspath) > 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '1';
		(void) close(fd);
	}
	free(path);
	return (c == '0' ? NC_DEV_EV_OFFLINE : NC_DEV_EV_ONLINE);
}

int
lx_dev_resolve(const char *minor, char **devpathp, uint32_t *statep)
{
	char *link = NULL, *real;
	struct stat sb;

	if (strncmp(minor, "/dev/", 5) == 0) {
		if (stat(minor, &sb) != 0)
			return (ct_err_set(errno == ENOENT ? ENOENT : errno,
			    "stat", "no device %s: %s", minor,
			    strerror(errno)));
		if (!S_ISCHR(sb.st_mode) && !S_ISBLK(sb.st_mode))
			return (ct_err_set(EINVAL, "stat", "%s is not a device "
			    "special file", minor));
		if (asprintf(&link, "/sys/dev/%s/%u:%u", S_ISCHR(sb.st_mode) ?
		    "char" : "block", major(sb.st_rdev), minor(sb.st_rdev)) < 0)
			return (ENOMEM);
	} else if (strncmp(minor, "/sys/", 5) == 0) {
		if ((link = strdup(minor)) == NULL)
			return (ENOMEM);
	} else {
		return (ct_err_set(EINVAL, "ct_dev_tmpl_set_minor", "dev_minor "
		    "'%s' must be a /dev or /sys path on Linux", minor));
	}
	real = realpath(link, NULL);
	free(link);
	if (real == NULL)
		return (ct_err_set(ENOENT, "realpath", "no device %s in sysfs",
		    minor));
	if (strncmp(real, "/sys/devices/", 13) != 0) {
		free(real);
		return (ct_err_set(EINVAL, "realpath", "%s is not a device "
		    "(its sysfs path is not under /sys/devices)", minor));
	}
	*statep = state_of(real);
	*devpathp = strdup(real + 4);	/* uevents say "/devices/..." */
	free(real);
	return (*devpathp == NULL ? ENOMEM : 0);
}

static void
match(lx_watch_t *w, void *arg)
{
	const char *const *ev = arg;	/* { action, devpath } */

	if (lx_watch_terms(w)->type != CT_TYPE_DEVICE ||
	    strcmp(lx_watch_devpath(w), ev[1]) != 0)
		return;
	if (strcmp(ev[0], "offline") == 0 || strcmp(ev[0], "remove") == 0)
		lx_watch_devstate(w, NC_DEV_EV_OFFLINE);
	else if (strcmp(ev[0], "online") == 0 || strcmp(ev[0], "add") == 0)
		lx_watch_devstate(w, NC_DEV_EV_ONLINE);
}

static void
drain(void *arg)
{
	char buf[8192];
	struct sockaddr_nl from;
	socklen_t fl;
	ssize_t n;

	(void) arg;
	for (;;) {
		const char *ev[2] = { NULL, NULL };
		fl = sizeof (from);
		n = recvfrom(uefd, buf, sizeof (buf) - 1, MSG_TRUNC,
		    (struct sockaddr *)&from, &fl);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* The kernel's only: a process may send to the group too. */
		if (fl < sizeof (from) || from.nl_pid != 0)
			continue;
		if (lx_nl_uevent(buf, (size_t)n, sizeof (buf), &ev[0],
		    &ev[1]) == 0)
			lx_watch_each(match, ev, false);
	}
}

int
lx_dev_check(const ct_template_t *t)
{
	char *devpath;
	uint32_t state;
	int err;

	if (t->dev_noneg)
		return (ct_err_set(ENOTSUP, "ct_dev_tmpl_set_noneg", "dev_noneg "
		    "cannot be honoured: Linux never asks before a device "
		    "changes state, so no change can be vetoed"));
	if (t->dev_minor == NULL)
		return (0);	/* create() says so */
	if ((err = lx_dev_resolve(t->dev_minor, &devpath, &state)) != 0)
		return (err);
	free(devpath);
	return (0);
}

int
lx_dev_create(lx_terms_t *terms, ct_id_t *idp)
{
	lx_hstate_t st = { .state = LX_OWNED };
	uint32_t state;
	ct_id_t id;
	int err, fd = -1;

	if ((err = lx_dev_resolve(terms->dev_minor, &terms->dev_path,
	    &state)) != 0 || (err = lx_root_mkdir(&id)) != 0)
		return (err);
	lx_self_holder(&st);
	if ((err = lx_root_open(id, &fd)) != 0 ||
	    (err = lx_terms_write(fd, terms)) != 0 ||
	    (err = lx_meta_set_u64(fd, LX_META_DEVSTATE, state)) != 0 ||
	    (err = lx_state_write(fd, &st)) != 0) {
		if (fd >= 0) {
			lx_root_bury(id, fd);
			(void) close(fd);
		} else {
			lx_root_rmdir(id);
		}
		return (ct_err_set(err, "fsetxattr", "cannot record device "
		    "contract %" PRId32 ": %s", id, strerror(err)));
	}
	(void) close(fd);
	*idp = id;
	return (0);
}

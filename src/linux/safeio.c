/*
 * safeio.c -- reading files that someone else may have planted
 * (docs/security.md): a reaper record a member can replace, a /proc or
 * cgroupfs file.  Such a file is opened O_NOFOLLOW (a symlink to
 * /dev/zero or to another user's file is refused, not followed),
 * O_NONBLOCK (a FIFO in its place cannot hang the open), must be a
 * regular file once open (a FIFO, socket or device is refused, so no read
 * can block either), and is read up to a cap (a file that keeps growing
 * cannot exhaust memory).  What fails is EBADMSG: the caller says which
 * contract's record it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx.h"

int
lx_read_bounded(int dirfd, const char *file, size_t cap, char **bufp,
    size_t *lenp)
{
	/* /proc/<pid>/stat is ~300 bytes: one read and the one that ends. */
	size_t size = 1024, len = 0;
	struct stat st;
	char *buf, *nb;
	ssize_t n;
	int fd, err = 0;

	if ((fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return (errno == ELOOP ? EBADMSG : errno);
	if (fstat(fd, &st) != 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EBADMSG;
	if (err != 0) {
		(void) close(fd);
		return (err);
	}
	if ((buf = malloc(size)) == NULL) {
		(void) close(fd);
		return (ENOMEM);
	}
	for (;;) {
		if (len + 1 >= size) {
			if (size > cap) {
				err = EBADMSG;	/* longer than any we write */
				break;
			}
			if ((nb = realloc(buf, size * 2)) == NULL) {
				err = ENOMEM;
				break;
			}
			buf = nb;
			size *= 2;
		}
		n = read(fd, buf + len, size - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? (errno == EAGAIN ? EBADMSG : errno) : 0;
			break;
		}
		len += (size_t)n;
	}
	(void) close(fd);
	if (err == 0 && len > cap)
		err = EBADMSG;
	if (err != 0) {
		free(buf);
		return (err);
	}
	buf[len] = '\0';
	*bufp = buf;
	if (lenp != NULL)
		*lenp = len;
	return (0);
}

int
lx_read_file(int dirfd, const char *file, char **bufp)
{
	return (lx_read_bounded(dirfd, file, LX_READ_CAP, bufp, NULL));
}

bool
lx_is_regular(int dirfd, const char *file)
{
	struct stat st;

	return (fstatat(dirfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode));
}

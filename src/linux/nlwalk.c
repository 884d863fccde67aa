/*
 * nlwalk.c -- walking netlink datagrams as received: the proc connector's
 * and the kernel's uevents.  Pure (no system calls), so that the fuzz
 * harnesses under test/fuzz/ drive exactly this code.  Nothing in a
 * datagram is believed before it is checked against the bytes that came:
 * a negative or short length is no message, a header's length must fit
 * what was received and hold its cn_msg, and cn_msg's own length must fit
 * inside its netlink message.
 */
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <string.h>

#include "lx.h"

size_t
lx_nl_cn_walk(const void *buf, long n, void (*fn)(const void *data,
    size_t len, void *arg), void *arg)
{
	const unsigned char *p = buf;
	size_t left, count = 0;

	if (n <= 0)
		return (0);
	left = (size_t)n;
	while (left >= sizeof (struct nlmsghdr)) {
		struct nlmsghdr nh;
		struct cn_msg cn;
		size_t body;

		memcpy(&nh, p, sizeof (nh));
		if (nh.nlmsg_len < NLMSG_HDRLEN || nh.nlmsg_len > left)
			break;
		body = nh.nlmsg_len - NLMSG_HDRLEN;
		if (nh.nlmsg_type == NLMSG_DONE && body >= sizeof (cn)) {
			memcpy(&cn, p + NLMSG_HDRLEN, sizeof (cn));
			if (cn.id.idx == CN_IDX_PROC && cn.id.val == CN_VAL_PROC &&
			    cn.len <= body - sizeof (cn)) {
				fn(p + NLMSG_HDRLEN + sizeof (cn), cn.len, arg);
				count++;
			}
		}
		if (NLMSG_ALIGN(nh.nlmsg_len) >= left)
			break;
		p += NLMSG_ALIGN(nh.nlmsg_len);
		left -= NLMSG_ALIGN(nh.nlmsg_len);
	}
	return (count);
}

int
lx_nl_uevent(char *buf, size_t n, size_t cap, const char **actionp,
    const char **devpathp)
{
	*actionp = *devpathp = NULL;
	if (n == 0 || n >= cap)
		return (-1);	/* nothing, or cut short (MSG_TRUNC) */
	buf[n] = '\0';
	/* "action@devpath\0KEY=value\0...": every string ends by buf[n]. */
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
		if (strncmp(p, "ACTION=", 7) == 0)
			*actionp = p + 7;
		else if (strncmp(p, "DEVPATH=", 8) == 0)
			*devpathp = p + 8;
	}
	return (*actionp != NULL && *devpathp != NULL ? 0 : -1);
}

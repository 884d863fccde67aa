/*
 * Force-included (-include) into the backend's sources when they are
 * built against the model: the system headers first, then the calls on
 * ctfs and /proc paths and descriptors sent to the model's ctfs (ctfs.c)
 * and /proc (proc.c).  Not
 * illumos.
 */
#ifndef MODEL_REDIRECT_H
#define MODEL_REDIRECT_H

#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

int model_open(const char *path, int flags, ...);
int model_close(int fd);
int model_fcntl(int fd, int cmd, ...);
int model_stat(const char *path, struct stat *sb);
DIR *model_fdopendir(int fd);
struct dirent *model_readdir(DIR *d);
int model_closedir(DIR *d);
ssize_t model_pread(int fd, void *buf, size_t n, off_t off);

#define	open(...)	model_open(__VA_ARGS__)
#define	close(fd)	model_close(fd)
#define	fcntl(...)	model_fcntl(__VA_ARGS__)
#define	stat(p, b)	model_stat(p, b)
#define	fdopendir(fd)	model_fdopendir(fd)
#define	readdir(d)	model_readdir(d)
#define	closedir(d)	model_closedir(d)
#define	pread(fd, b, n, o)	model_pread(fd, b, n, o)

#endif

/*
 * Model of illumos event ports (<port.h>, <sys/port.h>): the calls the
 * backend makes, implemented by test/illumos/model/port.c.  Not illumos.
 */
#ifndef MODEL_PORT_H
#define MODEL_PORT_H

#include <stdint.h>
#include <time.h>
#include <sys/contract.h>

#define	PORT_SOURCE_FD		4
#define	PORT_SOURCE_USER	3

typedef struct port_event {
	int portev_events;
	unsigned short portev_source;
	unsigned short portev_pad;
	uintptr_t portev_object;
	void *portev_user;
} port_event_t;

int port_create(void);
int port_associate(int, int, uintptr_t, int, void *);
int port_dissociate(int, int, uintptr_t);
int port_send(int, int, void *);
int port_getn(int, port_event_t [], uint_t, uint_t *, struct timespec *);

#endif

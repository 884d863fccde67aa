#!/bin/sh
# tree.sh TOTAL -- build a process tree of exactly TOTAL processes (this
# shell included), all sleeping long, in three kinds of branches of 6:
#   nested     sh -> sleep, sleep, sh -> sleep, sleep       (ppid chain)
#   daemon     double fork + setsid: reparented, own session
#   orphan     double fork, same session: reparented
# plus single sleeps to make up the total.  This shell then waits.
total=${1:-1000}
n=$(( (total - 1) / 6 ))
extra=$(( total - 1 - 6 * n ))
i=0
while [ "$i" -lt "$n" ]; do
	case $(( i % 3 )) in
	0)	sh -c 'sleep 3600 & sleep 3600 &
		    sh -c "sleep 3600 & sleep 3600 & wait" & wait' & ;;
	1)	( setsid sh -c 'sleep 3600 & sleep 3600 & sleep 3600 &
		    sleep 3600 & sleep 3600 & wait' & ) ;;
	2)	( sh -c 'sleep 3600 & sleep 3600 & sleep 3600 &
		    sleep 3600 & sleep 3600 & wait' & ) ;;
	esac
	i=$(( i + 1 ))
done
j=0
while [ "$j" -lt "$extra" ]; do
	sleep 3600 &
	j=$(( j + 1 ))
done
wait

#!/bin/sh
# The tree a container's init is judged by (test/env/init.test.js,
# bench/init.js; docs/containers.md, "PID 1"):
#
#   sh inittree.sh DIR ORPHANS WAITS CODE
#
# This shell is the program.  It starts a setsid daemon and a worker in a
# process group of its own (bash's job control gives it one); each of the
# three traps TERM by writing DIR/NAME.trap and exiting (the program with
# CODE, or with CODE "signal" by dying of the TERM it trapped).  Then
# ORPHANS processes are orphaned and exit (their parent exits first); once
# the last has closed the pipe they hold, the zombies in this pid
# namespace are counted until none is left or WAITS polls of 10 ms have
# passed, into DIR/zombies; then DIR/ready.
d=$1 n=$2 waits=$3 code=$4
# Each forks its sleep before it says it is there: a signal to every member
# after that reaches the sleep too.
role='trap "echo trapped > \"$0/$1.trap\"; exit 0" TERM
sleep 1000 & echo $$ > "$0/$1.pid"; wait'
(setsid sh -c "$role" "$d" daemon &)
bash -c 'set -m; sh -c "$0" "$1" worker &' "$role" "$d"

# Each ( : & ) exits before its child: that child is the orphan.
{ i=0; while [ $i -lt "$n" ]; do ( : & ); i=$((i + 1)); done; } | cat

zombies() { cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == "Z"' | wc -l; }
i=0
while [ "$(zombies)" -gt 0 ] && [ $i -lt "$waits" ]; do
	sleep 0.01
	i=$((i + 1))
done
zombies > "$d/zombies"

if [ "$code" = signal ]; then
	trap 'echo trapped > "$d/program.trap"; trap - TERM; kill -TERM $$' TERM
else
	trap 'echo trapped > "$d/program.trap"; exit $code' TERM
fi
sleep 1000 &
echo $$ > "$d/program.pid"
echo > "$d/ready"
wait

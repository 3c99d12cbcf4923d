#!/bin/sh
# /init of the bare-metal Linux guest (tests/bmlinux): mount /proc and /sys,
# report what the guest sees as "BMLINUX ..." lines, power off.  Output goes
# to /dev/kmsg (the kernel's polled serial console): the guest's ttyS0 has no
# interrupt line (docs/bm-linux.md), so /dev/console may not open.
PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev 2>/dev/null
say() { echo "BMLINUX $*" > /dev/kmsg; }
say init-ran pid=$$
if grep -q bmlinux.reboot /proc/cmdline; then
	say reboot
	reboot -f
	say reboot-returned
fi
say cpus=$(grep -c ^processor /proc/cpuinfo)
say memtotal=$(grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2)
j0=$(cut -d' ' -f1 /proc/uptime)
sleep 1
j1=$(cut -d' ' -f1 /proc/uptime)
say sleep-returned uptime=$j0..$j1
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/vendor" ] || continue
	say pci ${d##*/} $(cat $d/vendor) $(cat $d/device) $(cat $d/class)
done
set -- $(grep 'LOC:' /proc/interrupts)
say timer-irqs=$2
say poweroff
poweroff -f
say poweroff-returned

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
# The assigned VF (00:01.0, 8086:10ca): igbvf, an address, ping the
# hypervisor's responder (10.0.0.1).  bmlinux.badmap: the core left the
# guest's RAM out of the VF's VT-d domain; a few pings, then reboot.
vf_up() {
	insmod /igbvf.ko && say igbvf-loaded
	d=/sys/bus/pci/devices/0000:00:01.0
	[ -e $d/driver ] && say vf-driver=$(basename $(readlink $d/driver))
	ip link set eth0 up && ip addr add 10.0.0.2/24 dev eth0
	for i in $(seq 1 300); do
		[ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ] && break
		sleep 0.1
	done
	say link carrier=$(cat /sys/class/net/eth0/carrier 2>/dev/null) mac=$(cat /sys/class/net/eth0/address 2>/dev/null)
}
# Move the VF's BAR0 as a guest may (through sysfs config, before a driver
# has it; memory decode on meanwhile): 0xc0000000 -> 0xc0100000 and back.  RX queue 0's RDBAL (0x2800,
# a plain read/write register) written at the new place reads back there
# and at the first place once back; the old place reads all-ones meanwhile.
bar_move() {
	c=/sys/bus/pci/devices/0000:00:01.0/config
	printf '\002\000' | dd of=$c bs=2 seek=2 conv=notrunc 2>/dev/null   # command: memory decode on
	old=$(devmem 0xc0002800 32)
	printf '\014\000\020\300' | dd of=$c bs=4 seek=4 conv=notrunc 2>/dev/null
	devmem 0xc0102800 32 0x5a5a5a00
	new=$(devmem 0xc0102800 32)
	gone=$(devmem 0xc0002800 32)
	printf '\014\000\000\300' | dd of=$c bs=4 seek=4 conv=notrunc 2>/dev/null
	back=$(devmem 0xc0002800 32)
	# BAR3 (0x1c) to 0xc0204000 and back: MSI-X entry 0's vector control
	# (+0xc, masked at reset) read through the table's trap at the new place.
	printf '\014\100\040\300' | dd of=$c bs=4 seek=7 conv=notrunc 2>/dev/null
	tnew=$(devmem 0xc020400c 32)
	tgone=$(devmem 0xc000400c 32)
	printf '\014\100\000\300' | dd of=$c bs=4 seek=7 conv=notrunc 2>/dev/null
	tback=$(devmem 0xc000400c 32)
	printf '\000\000' | dd of=$c bs=2 seek=2 conv=notrunc 2>/dev/null   # off again, as the driver found it
	say barmove old=$old new=$new gone=$gone back=$back tnew=$tnew tgone=$tgone tback=$tback
}
vf_irqs() {
	grep eth0 /proc/interrupts | while read n c rest; do say irq $n $c ${rest##* }; done
}
if grep -q bmlinux.reboot /proc/cmdline; then
	if grep -q bmlinux.badmap /proc/cmdline; then
		vf_up
		ping -c 3 -w 4 10.0.0.1 > /tmp.ping 2>&1
		say badmap-ping $(grep 'packets transmitted' /tmp.ping)
	fi
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
bar_move
vf_up
vf_irqs
ping -A -c 600 -w 120 10.0.0.1 > /tmp.ping 2>&1
say ping $(grep 'packets transmitted' /tmp.ping)
vf_irqs
set -- $(grep 'LOC:' /proc/interrupts)
say timer-irqs=$2
say poweroff
poweroff -f
say poweroff-returned

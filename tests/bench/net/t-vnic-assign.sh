#!/bin/sh
# t-vnic-assign.sh — in the testbed host: `vfctl assign --vnic` gives a guest
# the emulated virtio-net NIC (alone, or beside a VF picked from a PF); when no
# VF is free — the named VF held, or every VF of the named PF — `vfctl assign`
# falls back to the vNIC and says so; --no-fallback refuses instead, naming
# the busy VFs.  Then the same guest traffic with the vNIC's doorbells taken
# by KVM_IOEVENTFD and with them trapped (vfs-vmm --no-ioeventfd): the VM exits
# to user space per MiB moved, on vs off (a count in one run, no timing).
# The guests ping the host end of the tap and send over TCP (iperf3).  TAP.
. /vfstack/lib/testbed.sh
pf=$(tb_pf 0)
tb_pf_up >/dev/null || tb_die "PF up"
tb_sriov_enable "$pf" 1 || tb_die "VFs"
tb_modprobe igbvf vfio_iommu_type1 vfio-pci ccp kvm kvm-amd tun >/dev/null || tb_die "modules"
ulimit -l unlimited
vf=$(tb_vfs "$pf" | head -n1)
[ -n "$(tb_driver "$vf")" ] || tb_bind "$vf" igbvf
ip tuntap add dev vfsv0 mode tap && ip addr add 10.0.9.1/24 dev vfsv0 && ip link set vfsv0 up || tb_die "tap"
iperf3 -s -D -p 5201 -B 10.0.2.15 -I /tmp/iperf3.pid || tb_die "iperf3 -s"
mkdir -p /tmp/g/vfstack/bench/lib
cp "$(command -v iperf3)" /tmp/g/vfstack/bench/iperf3
for l in $(/lib64/ld-linux-x86-64.so.2 --list "$(command -v iperf3)" | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
  cp -L "$l" /tmp/g/vfstack/bench/lib/; done
# vfs.work=measure on the command line: a fixed amount of traffic (8 MiB over
# TCP, 4096 64-byte UDP datagrams) instead of 1 MiB, for the exit counts;
# vfs.work=idle: no traffic at all (the NICs listed, then power off).
cat > /tmp/g/vfstack/guest-run <<'G'
#!/bin/sh
for d in /sys/class/net/*; do drv=$(readlink "$d/device/driver" 2>/dev/null); echo "NIC ${d##*/} ${drv##*/}"; done
dev=; for d in /sys/class/net/*; do drv=$(readlink "$d/device/driver" 2>/dev/null); [ "${drv##*/}" = virtio_net ] && dev=${d##*/}; done
[ -n "$dev" ] || exit 3
grep -q vfs.work=idle /proc/cmdline && exit 0
ip link set "$dev" up; ip addr add 10.0.9.2/24 dev "$dev"; ip route add default via 10.0.9.1
ping -c 2 -W 2 10.0.9.1 >/dev/null && echo "VNIC ping ok"
L=/vfstack/bench/lib
ip3() { "$L/ld-linux-x86-64.so.2" --library-path "$L" /vfstack/bench/iperf3 "$@" 2>&1; }
if grep -q vfs.work=measure /proc/cmdline; then
  ip3 -c 10.0.2.15 -n 8M -f m | sed -n 's/.*receiver.*/VNIC iperf &/p'
  ip3 -c 10.0.2.15 -u -l 64 -b 0 -n 256K -f m | sed -n 's/.*receiver.*/VNIC udp &/p'
else
  ip3 -c 10.0.2.15 -n 1M -f m | sed -n 's/.*receiver.*/VNIC iperf &/p'
fi
G
chmod +x /tmp/g/vfstack/guest-run
tb_guest_initrd /tmp/g.img /tmp/g || tb_die "initrd"
assign() { tb_guest_run timeout 200 vfctl assign "$@" --initrd /tmp/g.img --cmdline "vfs.modules=virtio_net,igbvf" --tap vfsv0; }

# --- the vNIC alone -------------------------------------------------------------------
assign --vnic --guest only-vnic > /tmp/c1.log 2> /tmp/e1.log; st=$?
tap_check "vfctl assign --vnic (no VF) boots a guest and it powers off" test $st = 0
tap_check "the guest has a virtio_net NIC and no VF" sh -c 'grep -q "^NIC eth0 virtio_net" /tmp/c1.log && ! grep -q "^NIC .* igbvf" /tmp/c1.log'
tap_check "the guest pings the host end of the tap" grep -q "VNIC ping ok" /tmp/c1.log
tap_check "the guest sends 1 MiB to the host's iperf3 over TCP" grep -q "VNIC iperf .*receiver" /tmp/c1.log
grep -a "VNIC\|NIC " /tmp/c1.log | tap_diag "$(cat)"
tap_diag "$(cat /tmp/e1.log)"

# --- a PF named: its first free VF, and the vNIC beside it ---------------------------------
assign "$pf" --vnic --guest both > /tmp/c4.log 2> /tmp/e4.log; st=$?
tap_check "vfctl assign PF --vnic picks the PF's free VF $vf, says so, and the guest powers off" \
  sh -c "test $st = 0 && grep -q \"$pf is a PF: giving guest 'both' its first free VF, $vf\" /tmp/e4.log"
tap_check "that guest has the VF (igbvf) and the vNIC (virtio_net) side by side" \
  sh -c 'grep -q "^NIC .* igbvf" /tmp/c4.log && grep -q "^NIC .* virtio_net" /tmp/c4.log'
tap_check "its vNIC works beside the VF (ping)" grep -q "VNIC ping ok" /tmp/c4.log
tap_check "$vf is back on igbvf afterwards" test "$(tb_driver "$vf")" = igbvf
tap_diag "$(cat /tmp/e4.log)"

# --- no VF free: the fallback, and --no-fallback ----------------------------------------
vfctl bind "$vf" vfio-pci >/dev/null 2>&1   # the VF is now held by "another VFIO user"
assign "$vf" --guest fallback > /tmp/c2.log 2> /tmp/e2.log; st=$?
tap_check "vfctl assign VF falls back to the vNIC when the VF is held, and says so" \
  sh -c "test $st = 0 && grep -q 'giving guest .fallback. the emulated vNIC' /tmp/e2.log"
tap_check "the fallback guest's vNIC works (ping)" grep -q "VNIC ping ok" /tmp/c2.log
links_before=$(ip -o link | wc -l)
assign "$vf" --guest refused --no-fallback > /tmp/c3.log 2> /tmp/e3.log; st=$?
tap_check "--no-fallback refuses instead (status 3, busy: one sentence)" \
  sh -c "test $st = 3 && grep -q 'no-fallback' /tmp/e3.log && test \$(wc -l < /tmp/e3.log) = 1"
assign "$pf" --guest pf-fallback > /tmp/c5.log 2> /tmp/e5.log; st=$?
tap_check "vfctl assign PF with no free VF falls back to the vNIC, naming the busy VF" \
  sh -c "test $st = 0 && grep -q \"no VF of $pf is free: $vf is already bound to vfio-pci\" /tmp/e5.log && grep -q 'giving guest .pf-fallback. the emulated vNIC' /tmp/e5.log"
tap_check "the PF fallback guest has only the vNIC, and it works (ping)" \
  sh -c 'grep -q "VNIC ping ok" /tmp/c5.log && ! grep -q "^NIC .* igbvf" /tmp/c5.log'
assign "$pf" --guest pf-refused --no-fallback > /tmp/c6.log 2> /tmp/e6.log; st=$?
tap_check "vfctl assign PF --no-fallback refuses (status 3, busy), naming the busy VF and the fix" \
  sh -c "test $st = 3 && grep -q \"no VF of $pf is free: $vf is already bound to vfio-pci\" /tmp/e6.log && grep -q 'sriov enable' /tmp/e6.log && test ! -s /tmp/c6.log"
drv_now=$(tb_driver "$vf")
tap_check "the refusals changed nothing: $vf still on vfio-pci, no registry entry, the same links ($links_before)" \
  sh -c "test '$drv_now' = vfio-pci && test ! -e /run/vfstack/assign/$vf && test \"\$(ip -o link | wc -l)\" = '$links_before'"
tap_diag "$(cat /tmp/e2.log /tmp/e3.log /tmp/e5.log /tmp/e6.log)"
vfctl release "$vf" >/dev/null 2>&1

# --- ioeventfd: VM exits per MiB with the doorbells in KVM vs trapped --------------------------
# The same guest three times: no traffic (the boot's own exits, which repeat
# to within a few), then the same fixed traffic with the doorbells taken by
# KVM_IOEVENTFD and with them trapped.  vfs-vmm's summary line counts all VM
# exits to user space and the doorbell writes among them; the traffic's cost
# is a run's exits minus the idle run's.  Interrupts go by irqfd in every run.
measure() { # idle|on|off
  flag=; [ "$1" = off ] && flag=--no-ioeventfd
  work=measure; [ "$1" = idle ] && work=idle
  tb_guest_run timeout 300 vfs-vmm --kernel "$TB_GUEST_KERNEL" --initrd /tmp/g.img --mem 256M --vnic vfsv0 $flag \
    --cmdline "console=ttyS0 reboot=k panic=-1 vfs.modules=virtio_net vfs.work=$work" \
    > /tmp/m-$1.log 2> /tmp/m-$1.err
}
field() { # FILE mib|door|mmio|exits: a number from the "vNIC (ioeventfd ...)" line
  sed -n "s/.*vNIC (ioeventfd .*): \([0-9.]*\) MiB moved.* \([0-9]*\) doorbell exits, \([0-9]*\) MMIO exits, \([0-9]*\) VM exits.*/\1 \2 \3 \4/p" "$1" |
    awk -v w="$2" '{ print (w == "mib" ? $1 : w == "door" ? $2 : w == "mmio" ? $3 : $4) }'
}
measure idle; st_idle=$?
measure on; st_on=$?
measure off; st_off=$?
for m in idle on off; do
  for w in mib door mmio exits; do eval "${w}_$m=\$(field /tmp/m-$m.err $w)"; done
done
tap_check "vfs-vmm --vnic boots idle, then runs the fixed traffic (8 MiB TCP, 4096 UDP datagrams) with ioeventfd on and off" \
  sh -c "test $st_idle = 0 && test $st_on = 0 && test $st_off = 0 && grep -q '^NIC .* virtio_net' /tmp/m-idle.log && grep -q 'VNIC iperf .*receiver' /tmp/m-on.log && grep -q 'VNIC iperf .*receiver' /tmp/m-off.log && grep -q 'VNIC udp .*receiver' /tmp/m-on.log && grep -q 'VNIC udp .*receiver' /tmp/m-off.log"
# The traffic's MMIO exits (the vNIC's registers; the console is port I/O):
# a run's minus the idle run's, per MiB moved.
cost=$(awk -v i="${mmio_idle:-0}" -v on="${mmio_on:-0}" -v off="${mmio_off:-0}" -v mon="${mib_on:-0}" -v moff="${mib_off:-0}" 'BEGIN {
  con = on - i; coff = off - i; if (con < 0) con = 0
  pon = mon > 0 ? con / mon : 0; poff = moff > 0 ? coff / moff : 0
  printf "%d MMIO exits (%.1f per MiB) with ioeventfd, %d (%.1f per MiB) without", con, pon, coff, poff
  if (pon > 0) printf ", off/on %.0fx", poff / pon; else printf ", none with it" }')
tap_check "ioeventfd keeps the vNIC's doorbells in the kernel: ${door_on:-?} doorbell exits with it, ${door_off:-?} without; over the idle boot the traffic cost $cost; VM exits to user space in all: idle ${exits_idle:-?}, on ${exits_on:-?}, off ${exits_off:-?}" \
  sh -c "test '$door_on' = 0 && test '${door_off:-0}' -gt 0"
tap_diag "$(cat /tmp/m-idle.err /tmp/m-on.err /tmp/m-off.err)"
kill "$(cat /tmp/iperf3.pid)" 2>/dev/null   # the server, by its PID
ip link del vfsv0
tap_done

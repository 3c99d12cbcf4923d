#!/bin/sh
# t-vnic-assign.sh — in the testbed host, with the vNIC integrated into the VMM
# (tests/bench/net/vmm-integration.patch): `vfctl assign --vnic` gives a guest
# the emulated virtio-net NIC; `vfctl assign VF` falls back to it when the VF is
# held; --no-fallback refuses instead.  The guest pings the host end of the tap
# and sends 1 MiB over TCP (iperf3).  TAP output.
. /vfstack/lib/testbed.sh
pf=$(tb_pf 0)
tb_pf_up >/dev/null || tb_die "PF up"
tb_sriov_enable "$pf" 1 || tb_die "VFs"
tb_modprobe igbvf vfio_iommu_type1 vfio-pci ccp kvm kvm-amd tun >/dev/null || tb_die "modules"
ulimit -l unlimited
vf=$(tb_vfs "$pf" | head -n1)
ip tuntap add dev vfsv0 mode tap && ip addr add 10.0.9.1/24 dev vfsv0 && ip link set vfsv0 up || tb_die "tap"
iperf3 -s -D -p 5201 -B 10.0.2.15 || tb_die "iperf3 -s"
mkdir -p /tmp/g/vfstack/bench/lib
cp "$(command -v iperf3)" /tmp/g/vfstack/bench/iperf3
for l in $(/lib64/ld-linux-x86-64.so.2 --list "$(command -v iperf3)" | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
  cp -L "$l" /tmp/g/vfstack/bench/lib/; done
cat > /tmp/g/vfstack/guest-run <<'G'
#!/bin/sh
for d in /sys/class/net/*; do drv=$(readlink "$d/device/driver" 2>/dev/null); echo "NIC ${d##*/} ${drv##*/}"; done
dev=; for d in /sys/class/net/*; do drv=$(readlink "$d/device/driver" 2>/dev/null); [ "${drv##*/}" = virtio_net ] && dev=${d##*/}; done
[ -n "$dev" ] || exit 3
ip link set "$dev" up; ip addr add 10.0.9.2/24 dev "$dev"; ip route add default via 10.0.9.1
ping -c 2 -W 2 10.0.9.1 >/dev/null && echo "VNIC ping ok"
L=/vfstack/bench/lib
"$L/ld-linux-x86-64.so.2" --library-path "$L" /vfstack/bench/iperf3 -c 10.0.2.15 -n 1M -f m 2>&1 | sed -n 's/.*receiver.*/VNIC iperf &/p'
G
chmod +x /tmp/g/vfstack/guest-run
tb_guest_initrd /tmp/g.img /tmp/g || tb_die "initrd"
assign() { timeout 200 vfctl assign "$@" --initrd /tmp/g.img --cmdline "vfs.modules=virtio_net,igbvf" --tap vfsv0; }

assign --vnic --guest only-vnic > /tmp/c1.log 2> /tmp/e1.log; st=$?
tap_check "vfctl assign --vnic (no VF) boots a guest and it powers off" test $st = 0
tap_check "the guest has a virtio_net NIC and no VF" sh -c 'grep -q "^NIC eth0 virtio_net" /tmp/c1.log && ! grep -q "^NIC .* igbvf" /tmp/c1.log'
tap_check "the guest pings the host end of the tap" grep -q "VNIC ping ok" /tmp/c1.log
tap_check "the guest sends 1 MiB to the host's iperf3 over TCP" grep -q "VNIC iperf .*receiver" /tmp/c1.log
grep -a "VNIC\|NIC " /tmp/c1.log | tap_diag "$(cat)"

vfctl bind "$vf" vfio-pci >/dev/null 2>&1   # the VF is now held by "another VFIO user"
assign "$vf" --guest fallback > /tmp/c2.log 2> /tmp/e2.log; st=$?
tap_check "vfctl assign VF falls back to the vNIC when the VF is held, and says so" \
  sh -c "test $st = 0 && grep -q 'giving guest .fallback. the emulated vNIC' /tmp/e2.log"
tap_check "the fallback guest's vNIC works (ping)" grep -q "VNIC ping ok" /tmp/c2.log
assign "$vf" --guest refused --no-fallback > /tmp/c3.log 2> /tmp/e3.log; st=$?
tap_check "--no-fallback refuses instead (status 1, one sentence)" \
  sh -c "test $st = 1 && grep -q 'no-fallback' /tmp/e3.log"
tap_diag "$(cat /tmp/e2.log /tmp/e3.log)"
vfctl release "$vf" >/dev/null 2>&1
tap_done

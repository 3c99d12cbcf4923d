#!/bin/sh
# assign-once.sh — inside the testbed: one assign of VF0 with a guest test, console shown.
. /vfstack/lib/testbed.sh
tb_modprobe ccp kvm kvm-amd irqbypass vfio vfio_iommu_type1 vfio-pci-core vfio-pci igbvf || exit 1
pf_if=$(tb_pf_up) || exit 1
pf=$(tb_pf)
tb_sriov_enable $pf 2 || exit 1
vf=$(tb_vfs $pf | head -n 1)
vfctl vf set $pf 0 mac 52:54:00:ab:cd:01 || exit 1
mkdir -p /tmp/ov/vfstack && cp /vfstack/files/guest-run /tmp/ov/vfstack/guest-run
tb_guest_initrd /tmp/guest.cpio.gz /tmp/ov || exit 1
echo "VF $vf on $(tb_driver $vf)"
timeout 200 vfctl assign $vf --guest g1 --initrd /tmp/guest.cpio.gz --kernel /vfstack/guest/vmlinuz \
  --cmdline "quiet vfs.modules=igbvf vfs.mac=52:54:00:ab:cd:01 vfs.ip=10.0.2.100/24 vfs.peer=10.0.2.15" > /tmp/console.log 2>/tmp/assign.err
echo "assign status $?"
cat /tmp/assign.err
tail -n ${LINES:-80} /tmp/console.log
echo "VF $vf on $(tb_driver $vf)"

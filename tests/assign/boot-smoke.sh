#!/bin/sh
# boot-smoke.sh — inside the testbed: boot the nested guest on vfs-vmm (no VF).
. /vfstack/lib/testbed.sh
tb_modprobe ccp kvm kvm-amd || exit 1
t0=$(date +%s)
timeout 150 vfs-vmm --kernel $TB_GUEST_KERNEL --initrd $TB_GUEST_INITRD --mem 256M --cpus ${CPUS:-1} \
  --cmdline "console=ttyS0 reboot=k panic=-1 ${EXTRA:-}" > /tmp/console.log 2>/tmp/vmm.err
st=$?
echo "vfs-vmm status $st after $(( $(date +%s) - t0 )) s"
cat /tmp/vmm.err
tail -n ${LINES:-60} /tmp/console.log

#!/bin/sh
# testbed-smoke.sh — runs inside the host VM (tests/testbed/run-in-vm); prints TAP.
# Checks what the testbed promises every other test: the igb PF and its VFs, one IOMMU
# group per VF, DMA and interrupt remapping on, VFIO binding both ways, nested KVM.
. /vfstack/lib/testbed.sh

PF=0000:00:02.0
VF0=0000:00:12.0
VF1=0000:00:12.2

# --- the PF -----------------------------------------------------------------------
tap_check "igb loads (dca, i2c-algo-bit, igb)" tb_modprobe igb
tap_check "PF $PF is an igb 82576 PF (8086:10c9)" \
  sh -c "[ \"\$(cat /sys/bus/pci/devices/$PF/vendor):\$(cat /sys/bus/pci/devices/$PF/device)\" = 0x8086:0x10c9 ]"
tap_check "PF $PF is driven by igb and offers 7 VFs (sriov_totalvfs)" \
  sh -c "[ \"\$(basename \$(readlink /sys/bus/pci/devices/$PF/driver))\" = igb ] && [ \"\$(cat /sys/bus/pci/devices/$PF/sriov_totalvfs)\" = 7 ]"
if pfif=$(tb_pf_up 2>/tmp/pfup.err); then
  tap_ok "PF netdev $pfif is up with 10.0.2.15/24 and carrier (tb_pf_up)"
  tap_check "PF $pfif reaches the user-mode network's gateway 10.0.2.2 (ping)" ping -c 1 -W 5 10.0.2.2
else
  tap_fail "PF netdev is up with 10.0.2.15/24 and carrier (tb_pf_up)" "$(cat /tmp/pfup.err)"
fi

# --- VT-d in the host kernel -------------------------------------------------------
tap_check "DMA remapping enabled: dmesg has 'DMAR: IOMMU enabled' and the VT-d banner" \
  sh -c "dmesg | grep -q 'DMAR: IOMMU enabled' && dmesg | grep -q 'DMAR: Intel(R) Virtualization Technology for Directed I/O'"
tap_check "interrupt remapping enabled: dmesg has 'DMAR-IR: Enabled IRQ remapping'" \
  sh -c "dmesg | grep 'DMAR-IR: Enabled IRQ remapping in' || { dmesg | grep -i 'DMAR-IR'; exit 1; }"
tap_diag "$(dmesg | sed -n 's/.*\(DMAR-IR: Enabled IRQ remapping in .*\)/\1/p')"
tap_check "the PF's MSI-X vectors go through interrupt remapping (IR-PCI-MSIX in /proc/interrupts)" \
  sh -c "grep 'IR-PCI-MSIX-$PF' /proc/interrupts || { grep -i msi /proc/interrupts; exit 1; }"

# --- SR-IOV --------------------------------------------------------------------------
tap_check "2 VFs created (sriov_numvfs=2)" tb_sriov_enable "$PF" 2
vfs=$(echo $(tb_vfs "$PF"))
tap_check "the VFs are $VF0 and $VF1 (offset 0x80, stride 2): got ${vfs:-none}" \
  test "$vfs" = "$VF0 $VF1"
groups=" $(tb_iommu_group "$PF") "
for vf in $VF0 $VF1; do
  tap_check "VF $vf is an 82576 VF (8086:10ca)" \
    sh -c "[ \"\$(cat /sys/bus/pci/devices/$vf/vendor):\$(cat /sys/bus/pci/devices/$vf/device)\" = 0x8086:0x10ca ]"
  g=$(tb_iommu_group "$vf")
  tap_check "VF $vf is alone in its own IOMMU group (group ${g:-none})" \
    sh -c "[ -n '$g' ] && ! echo '$groups' | grep -q ' $g ' && [ \"\$(ls /sys/kernel/iommu_groups/$g/devices)\" = $vf ]"
  groups="$groups$g "
  # The pci-hole64-size=0 workaround: VF BARs must sit below 4 GiB for QEMU 10.0.2.
  tap_check "VF $vf BAR0 is below 4 GiB (q35 pci-hole64-size=0 workaround)" \
    sh -c "b=\$(head -n 1 /sys/bus/pci/devices/$vf/resource | cut -d' ' -f1); [ \$((b)) -gt 0 ] && [ \$((b)) -lt \$((0x100000000)) ]"
done

tap_check "igbvf loads" tb_modprobe igbvf
tap_check "igbvf drives VF $VF0 and gives it a netdev" \
  sh -c ". /vfstack/lib/testbed.sh; tb_wait_for 10 _tb_driver_is $VF0 igbvf && tb_wait_for 10 tb_netdev $VF0 || { dmesg | grep -i igbvf | tail -5; exit 1; }"

# --- VFIO ------------------------------------------------------------------------------
tap_check "vfio-pci loads (irqbypass, vfio, vfio_iommu_type1, vfio-pci-core, vfio-pci)" tb_modprobe vfio-pci
g0=$(tb_iommu_group "$VF0")
tap_check "VF $VF0 binds to vfio-pci and /dev/vfio/$g0 appears" \
  sh -c ". /vfstack/lib/testbed.sh; tb_bind $VF0 vfio-pci && tb_wait_for 5 test -c /dev/vfio/$g0"
tap_check "VF $VF0 binds back to igbvf and gets a netdev again" \
  sh -c ". /vfstack/lib/testbed.sh; tb_bind $VF0 igbvf && tb_wait_for 10 tb_netdev $VF0 && ! test -e /dev/vfio/$g0"

# --- nested KVM ---------------------------------------------------------------------------
if grep -qw svm /proc/cpuinfo; then kvm_mod=kvm_amd; elif grep -qw vmx /proc/cpuinfo; then kvm_mod=kvm_intel; else kvm_mod=; fi
tap_check "the vCPUs offer hardware virtualization (svm or vmx in /proc/cpuinfo)" test -n "$kvm_mod"
if [ -n "$kvm_mod" ]; then
  tap_check "$kvm_mod loads and /dev/kvm appears" sh -c ". /vfstack/lib/testbed.sh; tb_modprobe $kvm_mod && tb_wait_for 5 test -c /dev/kvm"
  if out=$(kvm-smoke 2>&1); then
    tap_ok "nested KVM runs a vCPU: KVM_EXIT_IO (out '5' to 0x3f8) then KVM_EXIT_HLT (kvm-smoke)"
    tap_diag "$out"
  else
    tap_fail "nested KVM runs a vCPU: KVM_EXIT_IO (out '5' to 0x3f8) then KVM_EXIT_HLT (kvm-smoke)" "$out"
  fi
fi

# --- images for nested guests --------------------------------------------------------------
tap_check "nested-guest kernel and initramfs are in /vfstack/guest (guest.cpio.gz holds /init and igbvf.ko)" \
  sh -c "test -s $TB_GUEST_KERNEL && zcat $TB_GUEST_INITRD | cpio -t 2>/dev/null | grep -x init && zcat $TB_GUEST_INITRD | cpio -t 2>/dev/null | grep 'igbvf.ko\$'"

mkdir -p /tmp/gtree/vfstack && printf '#!/bin/sh\necho hi\n' > /tmp/gtree/vfstack/guest-run
tap_check "tb_guest_initrd appends a test's tree to the guest initramfs (busybox cpio + gzip)" \
  sh -c ". /vfstack/lib/testbed.sh; tb_guest_initrd /tmp/g.cpio.gz /tmp/gtree && tail -c +\$((\$(stat -c %s \$TB_GUEST_INITRD) + 1)) /tmp/g.cpio.gz | zcat | cpio -t 2>/dev/null | grep -x vfstack/guest-run"

# --- tb_guest_run: a run that fails across a vehicle stall is run once more, only then ---------
# (the stall is a line written to the kernel log, the one tb_stalled_since looks for)
_flaky() { _k=$(cat /tmp/flaky.n 2>/dev/null || echo 0); _k=$((_k + 1)); echo $_k > /tmp/flaky.n
  echo "attempt $_k out"; echo "attempt $_k err" >&2
  [ $_k = 1 ] && { echo "watchdog: BUG: soft lockup - CPU#0 stuck for 1s! [testbed-smoke]" > /dev/kmsg; return 7; }
  return 0; }
rm -f /tmp/flaky.n; tb_guest_run _flaky > /tmp/gr.out 2> /tmp/gr.err; _st=$?
tap_check "tb_guest_run: a run that failed across a host VM stall runs once more; only the second attempt's output and status count" \
  sh -c "test $_st = 0 && grep -qx 'attempt 2 out' /tmp/gr.out && grep -qx 'attempt 2 err' /tmp/gr.err && ! grep -q 'attempt 1' /tmp/gr.out /tmp/gr.err && grep -q \"'_flaky' ended with status 7 across a host VM stall\" $TB_RERUNS"
: > "$TB_RERUNS"
_fails() { echo once; return 5; }
tb_guest_run _fails > /tmp/gr.out 2>&1; _st=$?
tap_check "tb_guest_run: a failure with no stall is not run again (status 5 kept, one attempt)" \
  sh -c "test $_st = 5 && test \$(grep -c once /tmp/gr.out) = 1 && test ! -s $TB_RERUNS"

tap_done

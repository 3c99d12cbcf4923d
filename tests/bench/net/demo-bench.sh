#!/bin/sh
# demo-bench.sh [SECS] — the `make demo` bench step, run inside the testbed host
# (scripts/demo.sh's VM steps): PF up with 10.0.2.15/24, two VFs, the modules
# every path needs, then a short `vfctl bench` over the five paths; prints its
# table (each path's TCP Mbit/s and UDP 64-byte kpps with its ratio to the VF
# passed through by vfstack, and the VF link-up time vfstack vs QEMU).
. /vfstack/lib/testbed.sh
secs=${1:-2}
pf=$(tb_pf 0)
tb_pf_up >/dev/null || tb_die "the PF's netdev did not come up"
[ -e "/sys/bus/pci/devices/$pf/virtfn1" ] || tb_sriov_enable "$pf" 2 || tb_die "cannot create VFs on $pf"
tb_modprobe igbvf vfio_iommu_type1 vfio-pci ccp kvm kvm-amd tun >/dev/null || tb_die "modules"
ulimit -l unlimited
for vf in $(tb_vfs "$pf"); do [ -n "$(tb_driver "$vf")" ] || tb_bind "$vf" igbvf; done
echo "  one round, $secs s per workload, guests booted one after another (nested KVM under TCG: slow, compare ratios; make bench repeats)"
rm -f /tmp/demo-bench/bench.json
vfctl bench "$pf" --secs "$secs" --rounds 1 --warm 1 --out /tmp/demo-bench 2>/dev/null
st=$?
# The step fails only when no bench ran; a path that could not run is a row
# in the table with its reason (e.g. the vNIC before the VMM integration).
[ -s /tmp/demo-bench/bench.json ] || { echo "  vfctl bench did not run (status $st)"; exit 1; }
[ $st -eq 0 ] || echo "  (not every path was measured: the table says why; logs in /tmp/demo-bench)"
exit 0

#!/bin/sh
# demo.sh — vfstack's demo, end to end (run it with `make demo`).
#
# The same file runs on both sides:
#   on the build machine:  scripts/demo.sh           builds the testbed images, boots the
#                                                     QEMU testbed and runs itself inside it
#   in the testbed's host VM: demo.sh --in-vm          runs the in-VM steps below
#
# Adding a step: write a function `step_NAME` (POSIX sh, busybox inside the VM; it may
# use /vfstack/lib/testbed.sh helpers and vfstack's tools in /usr/local/bin), and add
# "NAME|one-line title" to VM_STEPS (or HOST_STEPS for the build machine side).
# A step fails by returning non-zero after printing one line
# "demo: step 'NAME' failed: WHAT; fix: HOW".  Values a later step needs go in
# shell variables (PF, PF_IF, VFS...).
#
# Environment: DEMO_VFS (VFs to create, default 2), DEMO_TIMEOUT (s, default 300),
# VFS_BUILD (default <repo>/build).

HOST_STEPS="
images|build or reuse the testbed images (kernel, host and guest initramfs)
boot|boot the QEMU testbed and run the in-VM steps
bmlinux|the same VF-to-guest story on our own bare-metal core (no Linux host, no KVM)
"
VM_STEPS="
pf|the SR-IOV physical function (igb 82576 PF) and its driver
sriov|create the virtual functions
vfs|list the VFs: PCI IDs, IOMMU groups, drivers, per-VF state on the PF
assign|set VF 0's MAC, assign it to a guest with vfctl assign: the guest's view, link and ping
bench|a short vfctl bench: passthrough vs the emulated vNIC (and QEMU, and the host)
"

NVFS=${DEMO_VFS:-2}

# --- build-machine steps ----------------------------------------------------------
step_images() {
  "$TOP/tests/testbed/build-images" || { echo "demo: step 'images' failed: see build-images' message above; fix: that, then rerun make demo"; return 1; }
}
step_boot() {
  # One vCPU: QEMU 10.0.2's multi-threaded TCG stalls a second vCPU's timer
  # under VF reset cycles (docs/design-notes.md).
  "$TOP/tests/testbed/run-in-vm" --timeout "${DEMO_TIMEOUT:-900}" --smp 1 --env "DEMO_VFS=$NVFS" \
    --file "$TOP/scripts/demo-guest-run:/vfstack/demo/guest-run" \
    --file "$TOP/tests/bench/net/demo-bench.sh:/vfstack/demo/demo-bench.sh" \
    -- "$TOP/scripts/demo.sh" --in-vm
}

# The bare-metal core (docs/bm-linux.md): make test-bm-linux boots the same Debian
# kernel on our SVM core under QEMU TCG, VF 0 of QEMU's igb assigned to it through our
# VT-d domain and IRTEs, stock igbvf inside, our PF driver on the mailbox, VF 1 as the
# hypervisor's responder; the table comes from that run's console log.
step_bmlinux() {
  out=/tmp/demo-bmlinux.$$
  make -C "$TOP" --no-print-directory BUILD="$VFS_BUILD" test-bm-linux > "$out" 2>&1
  rc=$?
  grep -E '^[a-z-]+: [0-9]+ passed' "$out" | sed 's/^/  /'
  log="$VFS_BUILD/bm-linux/console.log"
  sum=$(grep -m1 '^# bm-linux summary:' "$log" 2>/dev/null)
  bad=$(grep -m1 '^# bm-linux summary-badmap:' "$log" 2>/dev/null)
  exits=$(grep -m1 '^# exits:' "$log" 2>/dev/null | sed 's/^# exits: //; s/; [0-9]* VMRUNs.*//')
  rm -f "$out"
  if [ "$rc" != 0 ] || [ -z "$sum" ]; then
    echo "demo: step 'bmlinux' failed: make test-bm-linux did not pass; fix: run it alone and read $log (the guest's console is kept there)"
    return 1
  fi
  v() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
  printf '  %-44s %s\n' "bare-metal core, Linux 6.12 guest + igbvf" "(SVM under QEMU TCG: wall times are noisy)" \
    "guest boot to /init" "$(v "$sum" boot_to_init_ms) ms" \
    "guest boot to igbvf link up" "$(v "$sum" boot_to_link_ms) ms" \
    "pings answered by the hypervisor's responder" "$(v "$sum" pings)" \
    "frames exchanged (counted at the responder)" "$(v "$sum" frames)" \
    "VF interrupts: guest MSI-X / host vectors" "$(v "$sum" guest_msix) / $(v "$sum" host_vectors) (through our IRTEs)" \
    "VT-d faults: the run / a bad mapping" "$(v "$sum" faults) / $(v "$bad" faults) (reason $(v "$bad" reason))" \
    "exits of the first guest" "$exits"
}

# --- in-VM steps --------------------------------------------------------------------
step_pf() {
  PF_IF=$(tb_pf_up) || { echo "demo: step 'pf' failed: the igb PF did not come up; fix: see the tb_pf_up message above"; return 1; }
  PF=$(tb_pf 0)
  lspci -nn -s "$PF"
  echo "  driver $(tb_driver "$PF"), netdev $PF_IF ($(ip -br addr show dev "$PF_IF" | awk '{print $3}')), IOMMU group $(tb_iommu_group "$PF"), up to $(cat /sys/bus/pci/devices/$PF/sriov_totalvfs) VFs"
}
step_sriov() {
  tb_sriov_enable "$PF" "$NVFS" || { echo "demo: step 'sriov' failed: could not create $NVFS VFs on $PF; fix: see the message above (dmesg | grep igb)"; return 1; }
  tb_modprobe igbvf || return 1
  VFS=$(echo $(tb_vfs "$PF"))
  echo "  $PF: sriov_numvfs=$(cat /sys/bus/pci/devices/$PF/sriov_numvfs): $VFS"
}
step_vfs() {
  for vf in $VFS; do
    tb_wait_for 10 tb_netdev "$vf"
    lspci -nn -s "$vf"
    echo "  IOMMU group $(tb_iommu_group "$vf"), driver $(tb_driver "$vf"), netdev $(tb_netdev "$vf")"
  done
  echo "  per-VF state held by the PF ($PF_IF):"
  ip link show dev "$PF_IF" | sed 's/^/    /'
}

step_assign() {
  VF0=${VFS%% *}
  vfctl vf set "$PF" 0 mac 52:54:00:de:00:01 || { echo "demo: step 'assign' failed: vfctl vf set; fix: see its message above"; return 1; }
  tb_modprobe vfio_iommu_type1 vfio-pci ccp kvm kvm-amd >/dev/null || return 1
  ulimit -l unlimited
  mkdir -p /tmp/demo-guest/vfstack && cp /vfstack/demo/guest-run /tmp/demo-guest/vfstack/guest-run
  tb_guest_initrd /tmp/demo-guest.cpio.gz /tmp/demo-guest || { echo "demo: step 'assign' failed: could not build the guest initramfs"; return 1; }
  echo "  \$ vfctl assign $VF0 --guest demo"
  vfctl assign "$VF0" --guest demo --initrd /tmp/demo-guest.cpio.gz --mem 256M \
    --cmdline "quiet vfs.modules=igbvf vfs.ip=10.0.2.50/24 vfs.peer=10.0.2.15" \
    --console /tmp/demo-guest.console 2>&1 | sed 's/^/  /' &
  tb_wait_for 60 sh -c "vfctl list | grep -q ' demo *\$'" && { echo "  \$ vfctl list    (while the guest runs)"; vfctl list | sed 's/^/  /'; }
  wait
  grep '^guest:' /tmp/demo-guest.console | sed 's/^/  /'
  grep -q 'guest: .* 0% packet loss' /tmp/demo-guest.console \
    || { echo "demo: step 'assign' failed: the guest's ping through the VF did not go through; fix: make test-assign checks the same path and prints the guest's console on failure"; return 1; }
  echo "  $VF0 is back on $(tb_driver "$VF0")"
}
step_bench() {
  sh /vfstack/demo/demo-bench.sh 2
}

# --- driver -------------------------------------------------------------------------
run_steps() { # SIDE STEPS
  side=$1 list=$2
  total=$(printf '%s\n' "$list" | grep -c '|')
  i=0
  printf '%s\n' "$list" | grep '|' > /tmp/demo-steps.$$
  while IFS='|' read -r name title; do
    i=$((i + 1))
    echo "== demo [$side $i/$total] $name: $title"
    if ! "step_$name" < /dev/null; then rm -f /tmp/demo-steps.$$; return 1; fi
  done < /tmp/demo-steps.$$
  rm -f /tmp/demo-steps.$$
}

if [ "${1:-}" = --in-vm ]; then
  . /vfstack/lib/testbed.sh
  run_steps vm "$VM_STEPS" || exit 1
  echo "== demo: all in-VM steps done"
  exit 0
fi

TOP=$(cd "$(dirname "$0")/.." && pwd)
export VFS_BUILD="${VFS_BUILD:-$TOP/build}"
run_steps host "$HOST_STEPS" || { echo "== demo: FAILED"; exit 1; }
echo "== demo: done"

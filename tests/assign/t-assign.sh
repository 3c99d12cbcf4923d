#!/bin/sh
# t-assign.sh CYCLES — the assign suite, inside the testbed's host VM (busybox ash).
#
# The host enables 2 VFs, sets VF0's MAC and `vfctl assign`s VF0 to a Linux guest
# (nested KVM); the guest checks the VF (tests/assign/guest-run) and powers off.
# Then: the VF is back on igbvf, nothing holds VFIO, the group is free; the error
# cases (already assigned, group not viable, too little memlock) change nothing;
# CYCLES assign/release cycles of VF1 with a tiny guest (vfctl, one process each),
# and CYCLES VMM runs in one process, leak no fd, eventfd, pinned page or process.
. /vfstack/lib/testbed.sh
cycles=${1:-20}
files=/vfstack/files
mac=52:54:00:ab:cd:01
t_start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t_start )) s"; }

tb_modprobe ccp kvm kvm-amd irqbypass vfio vfio_iommu_type1 vfio-pci-core vfio-pci igbvf || exit 1
pf_if=$(tb_pf_up) || exit 1
pf=$(tb_pf) || exit 1

# --- helpers ------------------------------------------------------------------------
# Processes holding a VFIO fd (group, container or device), as "PID:target" words.
vfio_holders() {
  for f in /proc/[0-9]*/fd/*; do
    t=$(readlink "$f" 2>/dev/null) || continue
    case $t in /dev/vfio/*|*vfio-device*) echo "${f%%/fd/*}:$t" | sed 's|/proc/||' ;; esac
  done
}
eventfds() { ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c 'anon_inode:\[eventfd\]'; }
vmm_procs() { ps -o pid,args 2>/dev/null | grep -E '[v]fctl assign|[v]fs-vmm' ; }
registry() { ls /run/vfstack/assign 2>/dev/null | grep -v '^\.' ; }

# --- setup -------------------------------------------------------------------------
tap_check "enable 2 VFs on the igb PF $pf" vfctl sriov enable "$pf" 2 || tb_sriov_enable "$pf" 2
vf0=$(tb_vfs "$pf" | sed -n 1p) vf1=$(tb_vfs "$pf" | sed -n 2p)
tb_wait_for 10 test "$(tb_driver "$vf0")" = igbvf
tb_wait_for 10 test "$(tb_driver "$vf1")" = igbvf
tap_check "set VF0's MAC to $mac" vfctl vf set "$pf" 0 mac "$mac"
group0=$(tb_iommu_group "$vf0")
mkdir -p /tmp/overlay/vfstack && cp "$files/guest-run" /tmp/overlay/vfstack/guest-run
tb_guest_initrd /tmp/guest.cpio.gz /tmp/overlay || tb_die "cannot build the guest initrd"
efd_before=$(eventfds)

# --- one assignment to a Linux guest -------------------------------------------------
t0=$(date +%s)
vfctl assign "$vf0" --guest g1 --initrd /tmp/guest.cpio.gz --mem 256M \
  --cmdline "quiet vfs.modules=igbvf vfs.mac=$mac vfs.ip=10.0.2.100/24 vfs.peer=10.0.2.15" \
  > /tmp/g1.console 2> /tmp/g1.err &
g1=$!
if tb_wait_for 60 sh -c "vfctl list 2>/dev/null | grep -q 'g1'"; then
  tap_ok "vfctl list shows $vf0 assigned to guest g1 while it runs"
  vfctl list | sed 's/^/#   /'
else
  tap_fail "vfctl list shows $vf0 assigned to guest g1 while it runs" "$(vfctl list 2>&1)" "$(cat /tmp/g1.err)"
fi
drv_during=$(tb_driver "$vf0")
[ "$drv_during" = vfio-pci ] && tap_ok "$vf0 is on vfio-pci while the guest runs" \
  || tap_fail "$vf0 is on vfio-pci while the guest runs" "driver: ${drv_during:-none}"

# Error: the VF is already assigned (while g1 holds it).
out=$(timeout 30 vfctl assign "$vf0" --guest g2 --no-fallback 2>&1); st=$?
if [ $st = 3 ] && echo "$out" | grep -q "already assigned to guest 'g1'" && [ "$(tb_driver "$vf0")" = vfio-pci ] &&
   grep -q '^guest=g1' "/run/vfstack/assign/$vf0"; then
  tap_ok "assigning a VF already assigned fails with a clear message, nothing changed"
  tap_diag "$out"
else
  tap_fail "assigning a VF already assigned fails with a clear message, nothing changed" "status $st: $out"
fi

# Wait for the guest to power off (by PID, with a timeout).
if tb_wait_for 240 sh -c "! kill -0 $g1 2>/dev/null"; then wait $g1; g1_st=$?; else kill $g1; wait $g1; g1_st=timeout; fi
g1_time=$(( $(date +%s) - t0 ))
if [ "$g1_st" = 0 ]; then tap_ok "vfctl assign ran guest g1 to poweroff and exited 0 (${g1_time} s)"
else tap_fail "vfctl assign ran guest g1 to poweroff and exited 0" "status $g1_st" "$(cat /tmp/g1.err)" "$(tail -n 30 /tmp/g1.console)"; fi
tap_diag "$(cat /tmp/g1.err)"
# The guest's own checks.
n_guest=0
while IFS= read -r line; do
  case $line in
    "GUEST ok - "*) tap_ok "guest: ${line#GUEST ok - }"; n_guest=$((n_guest + 1)) ;;
    "GUEST not ok - "*) tap_fail "guest: ${line#GUEST not ok - }"; n_guest=$((n_guest + 1)) ;;
    "GUEST # "*) echo "#   ${line#GUEST # }" ;;
  esac
done < /tmp/g1.console
[ $n_guest -ge 6 ] || tap_fail "the guest ran all 6 of its checks" "it reported $n_guest" "$(tail -n 40 /tmp/g1.console)"
grep -q 'VFS-GUEST-EXIT 0' /tmp/g1.console && tap_ok "the guest's init finished with status 0 and powered off" \
  || tap_fail "the guest's init finished with status 0 and powered off" "$(tail -n 20 /tmp/g1.console)"

# After poweroff: back on igbvf, nothing holds VFIO, the group is free.
[ "$(tb_driver "$vf0")" = igbvf ] && tap_ok "after poweroff $vf0 is back on igbvf" \
  || tap_fail "after poweroff $vf0 is back on igbvf" "driver: $(tb_driver "$vf0")"
h=$(vfio_holders)
[ -z "$h" ] && tap_ok "after poweroff no process holds a VFIO fd" || tap_fail "after poweroff no process holds a VFIO fd" "$h"
[ ! -e "/dev/vfio/$group0" ] && [ -z "$(registry)" ] && ! vfctl list 2>/dev/null | grep -q g1 &&
  tap_ok "after poweroff IOMMU group $group0 is free and the assignment is gone from vfctl list" ||
  tap_fail "after poweroff IOMMU group $group0 is free and the assignment is gone from vfctl list" \
    "$(ls -l /dev/vfio 2>&1)" "registry: $(registry)"

# --- errors change nothing --------------------------------------------------------------
# Too little memlock: without CAP_IPC_LOCK and with a 1 MiB RLIMIT_MEMLOCK.
out=$(timeout 30 sh -c "ulimit -l 1024 && exec $files/vfs-nocap vfctl assign $vf1 --guest gm --mem 256M" 2>&1); st=$?
if [ $st = 1 ] && echo "$out" | grep -q "needs 256 MiB of locked memory" && [ "$(tb_driver "$vf1")" = igbvf ] &&
   [ -z "$(registry)" ] && [ -z "$(vfio_holders)" ]; then
  tap_ok "too little memlock fails with a clear message (how much is needed), nothing changed"
  tap_diag "$out"
else
  tap_fail "too little memlock fails with a clear message (how much is needed), nothing changed" "status $st: $out" \
    "driver of $vf1: $(tb_driver "$vf1")"
fi
# A group that is not viable: the edu behind the PCI bridge shares its group with an igb.
edu=$(for d in /sys/bus/pci/devices/*; do [ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x11e8 ] && basename $d; done | head -n 1)
if [ -z "$edu" ]; then
  tap_fail "assigning a device whose IOMMU group is not viable fails, nothing changed" "no edu device behind the bridge (see assign.mk)"
else
  edu_drv=$(tb_driver "$edu")
  out=$(timeout 30 vfctl assign "$edu" --guest gv 2>&1); st=$?
  if [ $st = 1 ] && echo "$out" | grep -q "not viable" && [ "$(tb_driver "$edu")" = "$edu_drv" ] && [ -z "$(registry)" ]; then
    tap_ok "assigning a device whose IOMMU group is not viable fails, naming the blocker; nothing changed"
    tap_diag "$out" "group $(tb_iommu_group "$edu"): $(ls /sys/kernel/iommu_groups/$(tb_iommu_group "$edu")/devices | tr '\n' ' ')"
  else
    tap_fail "assigning a device whose IOMMU group is not viable fails, naming the blocker; nothing changed" "status $st: $out"
  fi
fi

# SIGTERM while the guest runs: the guest stops, the VF goes back, exit status 1.
vfctl assign "$vf1" --guest gt --initrd /tmp/guest.cpio.gz --mem 256M > /tmp/gt.console 2> /tmp/gt.err &
gt=$!
if tb_wait_for 60 sh -c "vfctl list 2>/dev/null | grep -qw gt" && tb_wait_for 60 grep -q 'Linux version' /tmp/gt.console; then
  kill -TERM $gt
  if tb_wait_for 30 sh -c "! kill -0 $gt 2>/dev/null"; then wait $gt; st=$?; else kill -KILL $gt; wait $gt; st=killed; fi
  if [ "$st" = 1 ] && grep -q "guest 'gt' stopped" /tmp/gt.err && [ "$(tb_driver "$vf1")" = igbvf ] &&
     [ -z "$(registry)" ] && [ -z "$(vfio_holders)" ]; then
    tap_ok "SIGTERM to vfctl assign stops the running guest and gives $vf1 back to igbvf"
    tap_diag "$(cat /tmp/gt.err)"
  else
    tap_fail "SIGTERM to vfctl assign stops the running guest and gives $vf1 back to igbvf" "status $st" "$(cat /tmp/gt.err)" \
      "driver $(tb_driver "$vf1")" "registry: $(registry)"
  fi
else
  kill -KILL $gt 2>/dev/null; wait $gt
  tap_fail "SIGTERM to vfctl assign stops the running guest and gives $vf1 back" "the guest never showed in vfctl list or never booted" "$(cat /tmp/gt.err)"
  tb_bind "$vf1" igbvf
fi

# --- the vfio/ API against VF1 on vfio-pci ------------------------------------------------
relay() { # TAP-ish lines of a helper -> this script's TAP
  while IFS= read -r line; do
    case $line in
      "ok - "*) tap_ok "${line#ok - }" ;;
      "not ok - "*) tap_fail "${line#not ok - }" ;;
      "#"*) echo "#$line" ;;
    esac
  done
}
if tb_bind "$vf1" vfio-pci; then
  timeout 60 "$files/vfio-check" "$vf1" > /tmp/vfio-check.out 2>&1; st=$?
  relay < /tmp/vfio-check.out
  [ $st = 0 ] || tap_fail "vfio-check exited 0" "status $st" "$(tail -n 5 /tmp/vfio-check.out)"
  tb_bind "$vf1" igbvf
else
  tap_fail "bind $vf1 to vfio-pci for vfio-check" "$(tb_driver "$vf1")"
fi

# --- cycles: vfctl assign/release with the tiny guest, one process each ----------------
ok_n=0 bad=
t0=$(date +%s)
i=1
while [ $i -le "$cycles" ]; do
  tb_guest_run timeout 60 vfctl assign "$vf1" --guest "cyc$i" --kernel "$files/mini-bzImage" --mem 64M > /tmp/cyc.console 2> /tmp/cyc.err
  st=$?
  if [ $st = 0 ] && grep -q 'VFS-MINI vendor=Y msix=Y table=Y' /tmp/cyc.console && [ "$(tb_driver "$vf1")" = igbvf ]; then
    ok_n=$((ok_n + 1))
  else
    bad="cycle $i: status $st, console '$(cat /tmp/cyc.console)', driver $(tb_driver "$vf1"): $(cat /tmp/cyc.err)"
    break
  fi
  i=$((i + 1))
done
cyc_time=$(( $(date +%s) - t0 ))
[ $ok_n = "$cycles" ] && tap_ok "$cycles vfctl assign/release cycles of $vf1 (tiny guest: VF seen, MSI-X on, table trapped) in ${cyc_time} s" \
  || tap_fail "$cycles vfctl assign/release cycles of $vf1" "$ok_n passed; $bad"
# (busybox timeout's watcher outlives the command by up to a second)
tb_wait_for 5 sh -c "! ps -o args | grep -qE '[v]fctl assign|[v]fs-vmm'"
procs=$(vmm_procs) h=$(vfio_holders) efd_after=$(eventfds)
[ -z "$procs" ] && [ -z "$h" ] && [ -z "$(registry)" ] && [ "$efd_after" -le "$efd_before" ] &&
  tap_ok "after the cycles: no VMM process, no VFIO fd, no registry entry, eventfds $efd_after (were $efd_before)" ||
  tap_fail "after the cycles: no VMM process, no VFIO fd, no registry entry, no new eventfd" \
    "processes: $procs" "vfio: $h" "registry: $(registry)" "eventfds $efd_after, were $efd_before"

# --- cycles in one process: fds, eventfds, threads, pinned memory ------------------------
if tb_bind "$vf1" vfio-pci; then
  t0=$(date +%s)
  tb_guest_run timeout $((cycles * 10 + 60)) vfs-vmm --vf "$vf1" --kernel "$files/mini-bzImage" --mem 64M --cycles "$cycles" \
    > /tmp/inproc.console 2> /tmp/inproc.err
  st=$?
  n_ok=$(grep -c 'VFS-MINI vendor=Y msix=Y table=Y' /tmp/inproc.console)
  if [ $st = 0 ] && [ "$n_ok" = "$cycles" ]; then
    tap_ok "$cycles VMM runs with $vf1 in one process leak no fd, eventfd, thread or pinned page ($(( $(date +%s) - t0 )) s)"
    tap_diag "$(grep cycle /tmp/inproc.err | sed -n '1p;$p')"
  else
    tap_fail "$cycles VMM runs with $vf1 in one process leak no fd, eventfd, thread or pinned page" \
      "status $st, $n_ok good consoles" "$(tail -n 5 /tmp/inproc.err)"
  fi
  tb_bind "$vf1" igbvf
else
  tap_fail "$cycles VMM runs with $vf1 in one process leak nothing" "cannot bind $vf1 to vfio-pci"
fi
[ "$(tb_driver "$vf1")" = igbvf ] && [ -z "$(vfio_holders)" ] && tap_ok "$vf1 is back on igbvf and nothing holds VFIO" \
  || tap_fail "$vf1 is back on igbvf and nothing holds VFIO" "driver $(tb_driver "$vf1")" "$(vfio_holders)"

tb_log "assign suite took $(elapsed)"
tap_done

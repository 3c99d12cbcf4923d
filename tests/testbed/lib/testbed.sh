# testbed.sh — helpers for scripts that run inside the testbed's host VM (/bin/sh is bash;
# busybox provides the other commands).
#
#   . /vfstack/lib/testbed.sh
#
# TAP:      tap_ok DESC | tap_fail DESC [DIAG...] | tap_skip DESC REASON
#           tap_check DESC CMD...   ok/not ok by CMD's status; on failure CMD's output as "# " lines
#           tap_diag TEXT...        "# TEXT" lines
#           tap_done                prints "1..N" and a "# N passed, N failed, N skipped" line,
#                                   returns 1 when anything failed (end a script with: tap_done)
# Waiting:  tb_wait_for TIMEOUT_S CMD...   poll CMD every 0.1 s until it succeeds (0) or time is up (1)
# Modules:  tb_modprobe MOD...      load each; one clear line on stderr and status 1 on failure
# PCI:      tb_pf [N]               BDF of the Nth igb PF (default 0), e.g. 0000:00:02.0
#           tb_vfs PF_BDF           BDFs of the PF's VFs, one a line
#           tb_sriov_enable PF_BDF N   create N VFs (0 removes them) and wait until they exist
#           tb_driver BDF           the driver bound to BDF (empty when none)
#           tb_bind BDF DRIVER      bind BDF to DRIVER (through driver_override); waits for it
#           tb_unbind BDF           unbind BDF from its driver (if any)
#           tb_iommu_group BDF      the IOMMU group number of BDF
#           tb_netdev BDF           the network interface of BDF (empty when none)
# Network:  tb_pf_up [N [ADDR/PREFIX]]  load igb, bring the Nth PF's netdev up with an
#                                   address (default 10.0.2.15/24 for PF 0; 10.0.(2+N).15/24
#                                   otherwise), wait for carrier, print its name
# Guests:   tb_guest_initrd OUT DIR   OUT = /vfstack/guest/guest.cpio.gz + an archive of the tree
#                                   DIR laid over the guest's / (put the test at DIR/vfstack/guest-run;
#                                   do not put bin/ sbin/ lib/ in DIR: those are links in the image)
#           tb_guest_run CMD...       run CMD (it boots a nested guest); if it fails and the host VM
#                                   stalled meanwhile (the vehicle, see below), run it once more
# Misc:     tb_log TEXT...  (to stderr, "# " prefixed); tb_die TEXT... (log and exit 1)
#
# Facts: igb PF k is at 0000:00:0(2+4k).0; PF 0's VFs are 0000:00:12.0, :12.2, ... (stride 2).
# The nested guests' kernel and initramfs: /vfstack/guest/vmlinuz, /vfstack/guest/guest.cpio.gz.

export TB_GUEST_KERNEL=/vfstack/guest/vmlinuz
export TB_GUEST_INITRD=/vfstack/guest/guest.cpio.gz
_tap_n=0 _tap_pass=0 _tap_fail=0 _tap_skip=0
# (sourced again in a subshell: the list of re-runs is kept)
[ -n "${TB_RERUNS:-}" ] || { export TB_RERUNS=/tmp/vfs-tb-reruns; : > "$TB_RERUNS"; }

tb_log() { echo "# $*" >&2; }
tb_die() { echo "# FATAL: $*" >&2; exit 1; }

tap_diag() { for _l in "$@"; do printf '%s\n' "$_l" | sed 's/^/# /'; done; }
tap_ok() { _tap_n=$((_tap_n + 1)); _tap_pass=$((_tap_pass + 1)); echo "ok $_tap_n - $1"; }
tap_fail() {
  _tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $1"; shift
  [ $# -gt 0 ] && tap_diag "$@"
  return 0
}
tap_skip() { _tap_n=$((_tap_n + 1)); _tap_skip=$((_tap_skip + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-no reason given}"; }
tap_check() {
  _desc=$1; shift
  _out=$("$@" 2>&1); _st=$?
  if [ $_st = 0 ]; then tap_ok "$_desc"; return 0; fi
  tap_fail "$_desc"
  [ -n "$_out" ] && printf '%s\n' "$_out" | sed 's/^/#   /'
  echo "#   (exit status $_st: $*)"
  return 1
}
tap_done() {
  echo "1..$_tap_n"
  [ -s "$TB_RERUNS" ] && sed 's/^/# vehicle stall, run again: /' "$TB_RERUNS"
  echo "# $(basename "$0"): $_tap_pass passed, $_tap_fail failed, $_tap_skip skipped"
  [ $_tap_fail = 0 ]
}

# tb_wait_for TIMEOUT_S CMD...: 0 as soon as CMD succeeds, 1 after TIMEOUT_S seconds.
tb_wait_for() {
  _tmo=$1; shift
  _end=$(( $(date +%s) + _tmo ))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$(date +%s)" -ge "$_end" ] && return 1
    sleep 0.1
  done
}

tb_modprobe() {
  for _m in "$@"; do
    _err=$(modprobe "$_m" 2>&1) || {
      echo "tb_modprobe: cannot load module '$_m': ${_err:-modprobe failed}; fix: is it in HOST_MODULES of tests/testbed/build-images? (kernel $(uname -r))" >&2
      return 1
    }
  done
}

tb_pf() {
  _want=${1:-0} _i=0
  for _d in /sys/bus/pci/devices/*; do
    [ "$(cat "$_d/vendor")" = 0x8086 ] && [ "$(cat "$_d/device")" = 0x10c9 ] || continue
    [ $_i = "$_want" ] && { basename "$_d"; return 0; }
    _i=$((_i + 1))
  done
  echo "tb_pf: no igb PF number $_want (8086:10c9) on the PCI bus; fix: run-in-vm --igb N" >&2
  return 1
}
tb_vfs() {
  for _v in /sys/bus/pci/devices/$1/virtfn*; do [ -e "$_v" ] && basename "$(readlink "$_v")"; done | sort
}
tb_sriov_enable() {
  _pf=$1 _n=$2 _sys=/sys/bus/pci/devices/$1
  [ -e "$_sys/sriov_numvfs" ] || { echo "tb_sriov_enable: $_pf has no SR-IOV capability (or no driver: tb_modprobe igb)" >&2; return 1; }
  if [ "$(cat "$_sys/sriov_numvfs")" != 0 ] && [ "$_n" != 0 ]; then echo 0 > "$_sys/sriov_numvfs" || return 1; fi
  echo "$_n" > "$_sys/sriov_numvfs" || { echo "tb_sriov_enable: writing $_n to $_sys/sriov_numvfs failed (sriov_totalvfs=$(cat "$_sys/sriov_totalvfs"))" >&2; return 1; }
  tb_wait_for 10 _tb_nvfs_is "$_pf" "$_n" || { echo "tb_sriov_enable: $_pf has $(tb_vfs "$_pf" | wc -l) VFs after 10 s, wanted $_n" >&2; return 1; }
}
_tb_nvfs_is() { [ "$(tb_vfs "$1" | wc -l)" = "$2" ]; }
tb_driver() { [ -e "/sys/bus/pci/devices/$1/driver" ] && basename "$(readlink "/sys/bus/pci/devices/$1/driver")"; return 0; }
tb_unbind() {
  [ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
  echo "$1" > "/sys/bus/pci/devices/$1/driver/unbind"
}
tb_bind() {
  _bdf=$1 _drv=$2
  [ "$(tb_driver "$_bdf")" = "$_drv" ] && return 0
  tb_unbind "$_bdf" || return 1
  echo "$_drv" > "/sys/bus/pci/devices/$_bdf/driver_override" || return 1
  echo "$_bdf" > /sys/bus/pci/drivers_probe 2>/dev/null
  echo > "/sys/bus/pci/devices/$_bdf/driver_override"
  tb_wait_for 5 _tb_driver_is "$_bdf" "$_drv" || { echo "tb_bind: $_bdf is bound to '$(tb_driver "$_bdf")', not $_drv (is the module loaded? dmesg | tail)" >&2; return 1; }
}
_tb_driver_is() { [ "$(tb_driver "$1")" = "$2" ]; }
tb_iommu_group() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
tb_netdev() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n 1; }

tb_pf_up() {
  _n=${1:-0}
  _addr=${2:-10.0.$((2 + _n)).15/24}
  tb_modprobe igb || return 1
  _pf=$(tb_pf "$_n") || return 1
  tb_wait_for 10 tb_netdev "$_pf" && _if=$(tb_netdev "$_pf")
  [ -n "${_if:-}" ] || { echo "tb_pf_up: PF $_pf has no network interface 10 s after igb loaded (dmesg | grep igb)" >&2; return 1; }
  ip link set dev "$_if" up || return 1
  ip addr show dev "$_if" | grep -q "inet ${_addr%/*}/" || ip addr add "$_addr" dev "$_if" || return 1
  tb_wait_for 15 _tb_carrier "$_if" || { echo "tb_pf_up: $_if ($_pf) has no carrier after 15 s" >&2; return 1; }
  echo "$_if"
}
_tb_carrier() { [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ]; }

# tb_guest_initrd OUT DIR: the guest initramfs plus an archive of the tree DIR (laid over /).
tb_guest_initrd() {
  _out=$1 _dir=$2
  [ -d "$_dir" ] || { echo "tb_guest_initrd: $_dir is not a directory" >&2; return 1; }
  cp "$TB_GUEST_INITRD" "$_out" || return 1
  # guest.cpio.gz is padded to 4 bytes, where the kernel looks for the next archive.
  ( cd "$_dir" && find . -mindepth 1 | sed 's|^\./||' | cpio -o -H newc 2>/dev/null ) | gzip >> "$_out"
}

# --- the vehicle's stalls ----------------------------------------------------------------
# QEMU TCG (the vehicle, docs/testbed.md "The vehicle stalls") sometimes stops delivering
# interrupts to the host VM for minutes while nested KVM guests run (seen: 129-438 s, about
# once per 10-15 nested boots); the host VM's kernel logs a soft lockup or an RCU stall when
# time resumes, and timeouts in the host VM may fire at once.  That is the emulator, not the code
# under test: a guest run that failed across such a stall is run once more, and only then.

# tb_stall_mark: a mark for tb_stalled_since (the kernel log's length now).
tb_stall_mark() { dmesg | wc -l; }
# tb_stalled_since MARK: print the first stall line the kernel logged after MARK; 1 if none.
tb_stalled_since() {
  dmesg | tail -n +$(($1 + 1)) |
    grep -m1 -E "soft lockup - CPU#|rcu: INFO: rcu_[a-z]* self-detected stall|rcu_[a-z]* kthread timer wakeup didn't happen"
}
# tb_guest_run CMD...: CMD's stdout and stderr are those of the attempt that counts; the
# re-run is listed (TB_RERUNS) and tap_done prints it as a diagnostic.
tb_guest_run() {
  _g_o=$(mktemp) _g_e=$(mktemp) _g_mark=$(tb_stall_mark)
  "$@" > "$_g_o" 2> "$_g_e"; _g_st=$?
  if [ $_g_st != 0 ] && _g_line=$(tb_stalled_since "$_g_mark"); then
    echo "'$*' ended with status $_g_st across a host VM stall ($_g_line)" >> "$TB_RERUNS"
    "$@" > "$_g_o" 2> "$_g_e"; _g_st=$?
  fi
  cat "$_g_o"; cat "$_g_e" >&2; rm -f "$_g_o" "$_g_e"
  return $_g_st
}

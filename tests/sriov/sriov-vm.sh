#!/bin/sh
# sriov-vm.sh — the `make test-sriov` checks, run inside the testbed's host VM
# (tests/sriov/run boots it once with an igb PF, an edu device, and a
# PCIe-to-PCI bridge holding a second edu next to a virtio device).  Prints TAP.
#
# Every check runs vfctl the way a user would and asserts what the user would
# see: its exit status, its one-sentence message, and the state of the
# system afterwards — read through sysfs, iproute2 (rtnetlink) and the VF's
# own igbvf interface, never through vfctl alone.  Error cases also assert
# that nothing changed.
. /vfstack/lib/testbed.sh

PF=0000:00:02.0
EDU=0000:00:0c.0          # a device with no SR-IOV capability
BR_EDU=0000:01:01.0       # behind the PCIe-to-PCI bridge: shares its IOMMU group
BR_VIRTIO=0000:01:02.0    # ... with this device, bound to virtio-pci
NODEV=0000:00:1e.0        # no such device
VF0=0000:00:12.0
VF1=0000:00:12.2
SYS=/sys/bus/pci/devices
T=/tmp/sriov-test
mkdir -p $T

# run CMD...: status in $st, stdout in $out, stderr in $err
run() {
  "$@" >$T/out 2>$T/err; st=$?
  out=$(cat $T/out); err=$(cat $T/err)
}
# expect DESC STATUS REGEX-ON-STDOUT+STDERR: one TAP line for the last run
expect() {
  if [ "$st" = "$2" ] && printf '%s\n%s\n' "$out" "$err" | grep -Eq -- "$3"; then
    tap_ok "$1"
  else
    tap_fail "$1" "wanted exit $2 and output matching /$3/, got exit $st" "stdout: $out" "stderr: $err"
  fi
}
numvfs() { cat $SYS/$PF/sriov_numvfs; }
nvf_links() { ls -d $SYS/$PF/virtfn* 2>/dev/null | wc -l; }
# A fingerprint of everything the error cases must leave alone.
state() {
  echo "numvfs=$(numvfs)"
  for v in $(tb_vfs $PF); do echo "$v driver=$(tb_driver $v)"; done
  for d in $EDU $BR_EDU $BR_VIRTIO; do echo "$d driver=$(tb_driver $d) override=$(cat $SYS/$d/driver_override 2>/dev/null)"; done
  ip link show "$PFIF" | grep ' vf '
}
unchanged() { # DESC: compares with the snapshot taken by `snap`
  state >$T/after 2>&1
  if cmp -s $T/before $T/after; then tap_ok "$1"; else tap_fail "$1" "$(diff $T/before $T/after)"; fi
}
snap() { state >$T/before 2>&1; }
# the iproute2 line for VF N of the PF
ipvf() { ip link show "$PFIF" | grep "^ *vf $1 "; }

# --- setup -----------------------------------------------------------------------
tb_modprobe igb igbvf || tb_die "cannot load igb/igbvf"
tb_wait_for 10 tb_netdev $PF || tb_die "PF $PF has no netdev"
PFIF=$(tb_netdev $PF)
ip link set "$PFIF" up
[ ! -d /sys/bus/pci/drivers/vfio-pci ] || tb_die "vfio-pci is loaded before the test; the 'not loaded' case needs it absent"

# --- list, enable, change, disable ------------------------------------------------
run vfctl list
expect "vfctl list shows the igb PF with its name, driver and 0/7 VFs" 0 \
  "$PF  Intel Corporation 82576 Gigabit Network Connection"
expect "vfctl list shows 'driver igb, netdev $PFIF, VFs 0/7'" 0 "driver igb, netdev $PFIF, VFs 0/7"

run vfctl sriov enable $PF 2
expect "vfctl sriov enable $PF 2 reports 2 VFs" 0 "2 VFs enabled \\(was 0\\)"
tap_check "sysfs: sriov_numvfs is 2 and the VFs are $VF0 $VF1" \
  test "$(numvfs) $(tb_vfs $PF | tr '\n' ' ')" = "2 $VF0 $VF1 "

run vfctl list
g0=$(tb_iommu_group $VF0); g1=$(tb_iommu_group $VF1)
expect "vfctl list shows vf 0 as $VF0 on igbvf in IOMMU group $g0" 0 "vf 0  $VF0  igbvf +$g0 "
expect "vfctl list shows vf 1 as $VF1 on igbvf in IOMMU group $g1" 0 "vf 1  $VF1  igbvf +$g1 "

run vfctl sriov enable $PF 7
expect "vfctl sriov enable $PF 7 goes from 2 to 7" 0 "7 VFs enabled \\(was 2\\)"
tap_check "sysfs: 7 VFs, the last at 0000:00:13.4 (offset 0x80, stride 2)" \
  test "$(numvfs) $(nvf_links) $(tb_vfs $PF | tail -n 1)" = "7 7 0000:00:13.4"

run vfctl sriov show $PF
expect "vfctl sriov show: the freestanding arithmetic (offset 0x80, stride 2, 16 KiB VF BARs) matches all 7 of the kernel's VFs" 0 \
  "Every VF's routing ID and BARs match the kernel's"
expect "vfctl sriov show decodes TotalVFs 8, offset 0x80, stride 2, VF device 8086:10ca, 16 KiB BAR0" 0 \
  "First VF Offset 0x80, VF Stride 2, VF Device ID 8086:10ca"
printf '%s\n' "$out" | grep -q "VF BAR0: base 0x[0-9a-f]*, 16 KiB per VF" && printf '%s\n' "$out" | grep -q "TotalVFs 8," \
  && tap_ok "vfctl sriov show reports the capability's TotalVFs 8 and 16 KiB VF BAR0" \
  || tap_fail "vfctl sriov show reports the capability's TotalVFs 8 and 16 KiB VF BAR0" "$out"

run vfctl sriov enable $PF 3
expect "vfctl sriov enable $PF 3 changes the count through 0 (7 -> 3)" 0 "3 VFs enabled \\(was 7\\)"
tap_check "sysfs: sriov_numvfs is 3 with 3 virtfn links" test "$(numvfs) $(nvf_links)" = "3 3"

run vfctl sriov disable $PF
expect "vfctl sriov disable $PF removes them" 0 "VFs disabled \\(was 3\\)"
tap_check "sysfs: sriov_numvfs is 0 and no virtfn links remain" test "$(numvfs) $(nvf_links)" = "0 0"

run vfctl sriov enable $PF 2
expect "vfctl sriov enable $PF 2 again" 0 "2 VFs enabled"
tb_wait_for 10 tb_netdev $VF0 && tb_wait_for 10 tb_netdev $VF1

# --- errors: each gives its sentence and changes nothing ---------------------------------
snap
run vfctl sriov enable $PF 8
expect "N > TotalVFs: 'sriov enable $PF 8' fails naming the limit" 2 "$PF supports at most 7 VFs \\(TotalVFs\\); ask for 7 or fewer"
unchanged "N > TotalVFs changed nothing (still 2 VFs, same drivers)"

run vfctl sriov enable $NODEV 2
expect "a BDF that does not exist: 'sriov enable $NODEV' fails naming it" 4 "there is no PCI device $NODEV"
run vfctl bind $NODEV vfio-pci
expect "a BDF that does not exist: 'bind $NODEV vfio-pci' fails naming it" 4 "there is no PCI device $NODEV"
unchanged "the nonexistent BDF changed nothing"

run vfctl sriov enable $EDU 2
expect "no SR-IOV: 'sriov enable' on the edu device fails saying so" 4 "$EDU .*has no SR-IOV capability"
run vfctl vf set $EDU 0 mac 52:54:00:aa:bb:09
expect "no SR-IOV: 'vf set' on the edu device fails saying so" 4 "$EDU .*has no SR-IOV capability"
unchanged "the device without SR-IOV changed nothing"

run vfctl bind $VF0 vfio-pci
expect "vfio-pci not loaded: 'bind' fails and says to modprobe it" 1 "driver vfio-pci is not loaded, so it cannot take $VF0; run 'modprobe vfio-pci'"
unchanged "vfio-pci not loaded: $VF0 stays on igbvf"

run vfctl vf set $PF 5 mac 52:54:00:aa:bb:09
expect "a VF index past NumVFs fails naming the valid range" 4 "$PF has 2 VFs \\(index 0 to 1\\); there is no VF 5"
run vfctl bind $VF0 nosuchdrv
expect "a driver that does not exist: 'bind $VF0 nosuchdrv' says to modprobe it" 1 "driver nosuchdrv is not loaded, so it cannot take $VF0"
run vfctl release $VF1
expect "releasing a VF that was never bound changes nothing and says so" 0 "$VF1 is on its host driver igbvf; nothing to release"
printf '{ "pfs": [ { "bdf": "%s", "num_vfs": 1 }, { "bdf": "%s", "num_vfs": 3 } ] }\n' $PF $NODEV >$T/missing-pf.json
run vfctl apply $T/missing-pf.json
expect "apply of a file naming a missing PF fails naming it, before changing the first PF" 4 "there is no PCI device $NODEV"
printf '{ "pfs": [ { "bdf": "%s", "vfs": [ { "index": 0, "min_tx_rate": 500, "max_tx_rate": 100 } ] } ] }\n' $PF >$T/minmax.json
run vfctl apply $T/minmax.json
expect "apply: min_tx_rate above max_tx_rate is rejected naming the entry (exit 2)" 2 'pfs\[0\].vfs\[0\] has a "min_tx_rate" above its "max_tx_rate"'
run vfctl vf set $PF 0 vlan 4095
expect "vlan 4095 (reserved) is refused before the driver sees it" 2 "'4095' is not a VLAN ID \\(0-4094"
run vfctl vf set $PF 0 vlan 5000
expect "usage: an out-of-range VLAN exits 2" 2 "'5000' is not a VLAN ID"
run vfctl sriov enable $PF many
expect "usage: a VF count that is not a number exits 2" 2 "'many' is not a VF count"
run vfctl frobnicate
expect "usage: an unknown command exits 2" 2 "there is no command 'frobnicate'"
unchanged "usage errors changed nothing"

tb_modprobe vfio-pci vfio_iommu_type1 || tb_die "cannot load vfio-pci"
snap
gb=$(tb_iommu_group $BR_EDU)
run vfctl bind $BR_EDU vfio-pci
expect "a group that is not viable: 'bind $BR_EDU' is refused naming $BR_VIRTIO (virtio-pci) in group $gb" 1 \
  "its IOMMU group $gb is not viable because $BR_VIRTIO in the same group is bound to virtio-pci"
unchanged "the non-viable group changed nothing ($BR_EDU unbound, $BR_VIRTIO on virtio-pci)"

# --- per-VF settings, read back through netlink and through igbvf ----------------------
run vfctl vf set $PF 0 mac 52:54:00:aa:bb:01 vlan 100 qos 2 trust on spoofchk off
expect "vfctl vf set $PF 0 mac/vlan/qos/trust/spoofchk succeeds and prints the read-back" 0 \
  "vf 0: mac 52:54:00:aa:bb:01, vlan 100, qos 2, proto 802.1Q, spoofchk off, trust on"
l=$(ipvf 0)
for want in "link/ether 52:54:00:aa:bb:01" "vlan 100, qos 2" "spoof checking off" "trust on"; do
  case "$l" in *"$want"*) tap_ok "iproute2 (rtnetlink) reads back '$want' for vf 0" ;;
    *) tap_fail "iproute2 (rtnetlink) reads back '$want' for vf 0" "$l" ;; esac
done
run vfctl vf show $PF 0 --json
expect "vfctl vf show --json reads back mac, vlan, qos, trust" 0 \
  '"mac": "52:54:00:aa:bb:01",'
printf '%s' "$out" | tr -d ' \n' | grep -q '"vlan":100,"qos":2,"vlan_proto":"802.1Q","spoofchk":false,"trust":true' \
  && tap_ok "vfctl vf show --json: vlan 100, qos 2, 802.1Q, spoofchk false, trust true" \
  || tap_fail "vfctl vf show --json: vlan 100, qos 2, 802.1Q, spoofchk false, trust true" "$out"
printf '%s' "$out" | tr -d ' \n' | grep -Eq '"stats":\{"rx_packets":[0-9]+,"tx_packets":[0-9]+,"rx_bytes":[0-9]+,"tx_bytes":[0-9]+,"broadcast":[0-9]+,"multicast":[0-9]+\}' \
  && tap_ok "vfctl vf show --json has the VF's counters (stats)" \
  || tap_fail "vfctl vf show --json has the VF's counters (stats)" "$out"
run vfctl vf show -j -- $PF 0
expect "vf show takes -j and -- (getopt_long)" 0 '"mac": "52:54:00:aa:bb:01",'

# Link state: igb may or may not implement it; either way the user sees the truth.
before1=$(ipvf 1)
run vfctl vf set $PF 1 mac 52:54:00:aa:bb:02 state disable
if [ $st = 0 ]; then
  case "$(ipvf 1)" in *"link-state disable"*) tap_ok "state disable is applied (iproute2 reads link-state disable)" ;;
    *) tap_fail "state disable is applied (iproute2 reads link-state disable)" "$(ipvf 1)" ;; esac
  run vfctl vf set $PF 1 state auto
  expect "state auto is applied back" 0 "state auto"
else
  expect "state: the igb driver refuses VF link state with one sentence" 1 \
    "the igb driver of $PF cannot set state on its VFs; nothing was changed"
  if [ "$(ipvf 1)" = "$before1" ]; then tap_ok "refused state rolled back the MAC set in the same command (vf 1 unchanged)"
  else tap_fail "refused state rolled back the MAC set in the same command (vf 1 unchanged)" "before: $before1" "after: $(ipvf 1)"; fi
  case "$(ipvf 0)" in *"link-state auto"*) tap_ok "iproute2 reads link-state auto for vf 0 (state untouched)" ;;
    *) tap_fail "iproute2 reads link-state auto for vf 0 (state untouched)" "$(ipvf 0)" ;; esac
fi
run vfctl vf set $PF 0 vlan 7 proto 802.1ad
if [ $st = 0 ]; then
  case "$(ipvf 0)" in *"vlan 7"*"802.1ad"*) tap_ok "802.1ad VLAN applied" ;; *) tap_fail "802.1ad VLAN applied" "$(ipvf 0)" ;; esac
else
  expect "proto 802.1ad: igb's refusal is one sentence" 1 "supports only 802.1Q VLAN tags on VFs"
  case "$(ipvf 0)" in *"vlan 100, qos 2"*) tap_ok "the refused 802.1ad VLAN left vlan 100 qos 2 in place" ;;
    *) tap_fail "the refused 802.1ad VLAN left vlan 100 qos 2 in place" "$(ipvf 0)" ;; esac
fi

# A driver that refuses the VF: the bind is rolled back to igbvf.  (Rebinding
# resets the VF; it keeps its MAC here because the PF set it above — igb gives
# a VF without an administrative MAC a new random one at every reset.)
snap
run vfctl bind $VF0 virtio-pci
expect "a driver that refuses the device: 'bind $VF0 virtio-pci' fails and puts it back on igbvf" 1 \
  "virtio-pci did not take $VF0 \\(see the kernel log\\); it was put back on igbvf"
unchanged "the refused bind left everything as it was"
tap_check "... and $VF0's driver_override is cleared again" test "$(cat $SYS/$VF0/driver_override)" = "(null)"

# --- bind to vfio-pci, release to igbvf; the VF's own netdev then shows the MAC ---------
run vfctl bind $VF0 vfio-pci
expect "vfctl bind $VF0 vfio-pci succeeds and names its group" 0 "$VF0: bound to vfio-pci \\(was igbvf\\); IOMMU group $g0, /dev/vfio/$g0"
tap_check "sysfs: $VF0 is on vfio-pci and /dev/vfio/$g0 exists" \
  sh -c "[ \"\$(basename \$(readlink $SYS/$VF0/driver))\" = vfio-pci ] && [ -c /dev/vfio/$g0 ]"
run vfctl list
expect "vfctl list shows vf 0 on vfio-pci with its MAC and VLAN" 0 "vf 0  $VF0  vfio-pci +$g0 +- +52:54:00:aa:bb:01 100/qos2"
run vfctl sriov disable $PF
expect "sriov disable is refused while a VF is on vfio-pci" 3 "VF $VF0 of $PF is bound to vfio-pci; 'vfctl release $VF0' first"
tap_check "... and the 2 VFs are still there" test "$(numvfs)" = 2

run vfctl release $VF0
expect "vfctl release $VF0 returns it to igbvf" 0 "$VF0: released from vfio-pci to igbvf \\(interface [a-z0-9]+\\)"
tb_wait_for 10 tb_netdev $VF0
vif=$(tb_netdev $VF0)
tap_check "sysfs: $VF0 is on igbvf with driver_override cleared" \
  sh -c "[ \"\$(basename \$(readlink $SYS/$VF0/driver))\" = igbvf ] && [ \"\$(cat $SYS/$VF0/driver_override)\" = '(null)' ]"
tap_check "the VF's igbvf interface ${vif:-?} has the MAC the PF set (52:54:00:aa:bb:01)" \
  test "$(cat /sys/class/net/$vif/address 2>/dev/null)" = 52:54:00:aa:bb:01

# A VF whose interface is in use is not taken without --force.
ip link set "$vif" up && ip addr add 192.168.77.1/24 dev "$vif"
snap
run vfctl bind $VF0 vfio-pci
expect "bind refuses a VF whose interface is up with an address" 3 "$VF0's interface $vif is in use \\(it is up with address 192.168.77.1\\)"
unchanged "the refused bind changed nothing"
run vfctl bind $VF0 vfio-pci --force
expect "bind --force takes it anyway" 0 "$VF0: bound to vfio-pci"
run vfctl release $VF0
expect "and release gives it back" 0 "released from vfio-pci to igbvf"

# --- JSON: list --json round-trips through apply ------------------------------------------
tb_wait_for 10 tb_netdev $VF0
vfctl list --json >$T/list.json; st=$?
tap_check "vfctl list --json exits 0" test $st = 0
echo "# JSON-BEGIN list"; sed 's/^/# J /' $T/list.json; echo "# JSON-END"
run vfctl apply $T/list.json
expect "apply of list --json's own output changes nothing" 0 "nothing to change: the host already matches"

cat >$T/want.json <<EOF
{ "pfs": [ { "bdf": "$PF", "num_vfs": 3,
    "vfs": [ { "index": 1, "mac": "52:54:00:aa:bb:12", "vlan": 200, "qos": 1, "trust": true },
             { "index": 2, "driver": "vfio-pci" } ] } ] }
EOF
run vfctl apply $T/want.json --dry-run
expect "apply --dry-run lists the changes" 0 "would change $PF: num_vfs 2 -> 3"
# The count changes, so vf 1 is recreated: its old settings go with it.
case "$out" in *"would set $PF vf 1: mac (new VF) -> 52:54:00:aa:bb:12"*"would set $PF vf 1: vlan (new VF) -> 200 qos 1 proto 802.1Q"*"would set $PF vf 1: trust (new VF) -> on"*"would bind $PF vf 2: driver none -> vfio-pci"*)
  tap_ok "apply --dry-run prints old -> new for every change (a recreated VF's old is '(new VF)')" ;;
  *) tap_fail "apply --dry-run prints old -> new for every change (a recreated VF's old is '(new VF)')" "$out" ;; esac
tap_diag "$out"
run vfctl apply $T/want.json --dry-run --json
case "$out" in *'"dry_run": true'*'"setting": "num_vfs"'*'"old": "2"'*'"new": "3"'*'"setting": "mac"'*'"new": "52:54:00:aa:bb:12"'*'"setting": "driver"'*'"old": null'*'"new": "vfio-pci"'*)
  tap_ok "apply --dry-run --json prints the plan as JSON (pf, vf, setting, old, new)" ;;
  *) tap_fail "apply --dry-run --json prints the plan as JSON (pf, vf, setting, old, new)" "exit $st" "$out" ;; esac
tap_check "... and makes none (still 2 VFs)" test "$(numvfs)" = 2
run vfctl apply $T/want.json
expect "apply sets 3 VFs, vf 1's MAC/VLAN/trust and binds vf 2 to vfio-pci" 0 "changes applied from"
tap_diag "$out"
tap_check "sysfs: 3 VFs, vf 2 (0000:00:12.4) on vfio-pci" \
  test "$(numvfs) $(tb_driver 0000:00:12.4)" = "3 vfio-pci"
case "$(ipvf 1)" in *"link/ether 52:54:00:aa:bb:12"*"vlan 200, qos 1"*"trust on"*) tap_ok "iproute2 reads back vf 1 as applied" ;;
  *) tap_fail "iproute2 reads back vf 1 as applied" "$(ipvf 1)" ;; esac
run vfctl apply $T/want.json
expect "applying the same file again changes nothing (idempotent)" 0 "nothing to change"
sed -e 's/52:54:00:aa:bb:12/52:54:00:aa:bb:13/' -e 's/"vlan": 200/"vlan": 201/' $T/want.json >$T/want2.json
run vfctl apply --dry-run $T/want2.json
case "$out" in *"would set $PF vf 1: mac 52:54:00:aa:bb:12 -> 52:54:00:aa:bb:13"*"would set $PF vf 1: vlan 200 qos 1 proto 802.1Q -> 201 qos 1 proto 802.1Q"*)
  tap_ok "apply --dry-run on an existing VF prints its current value -> the new one" ;;
  *) tap_fail "apply --dry-run on an existing VF prints its current value -> the new one" "exit $st" "$out" "$err" ;; esac
tap_diag "$out"

printf '{ "pfs": [ { "bdf": "%s", "num_vfs": 9 } ] }\n' $PF >$T/bad1.json
printf '{ "pfs": [ { "bdf": "%s", "vfs": [ { "index": 0, "mac": "nonsense" } ] } ] }\n' $PF >$T/bad2.json
printf '{ "pfs": [ { "bdf": "%s" ' $PF >$T/bad3.json
snap
run vfctl apply $T/bad1.json
expect "apply: num_vfs above TotalVFs is rejected before any change (exit 2)" 2 "asks for 9 VFs on $PF, which supports at most 7"
run vfctl apply $T/bad2.json
expect "apply: a bad MAC is rejected naming where it is" 2 "pfs\\[0\\].vfs\\[0\\] has a \"mac\" that is not a MAC address"
run vfctl apply $T/bad3.json
expect "apply: broken JSON is rejected with its line and column" 2 "bad3.json:1:[0-9]+: not valid JSON"
unchanged "the rejected files changed nothing"

# Back to the list --json state: 2 VFs, vf 0 as set, vf 2 gone.
run vfctl apply $T/list.json
expect "apply refuses to shrink the VF count while vf 2 is on vfio-pci (exit 3, in use)" 3 \
  "VF 0000:00:12.4 of $PF is bound to vfio-pci"
run vfctl apply $T/list.json --force
expect "apply --force of the saved list --json restores it" 0 "changes applied from"
vfctl list --json >$T/list2.json
# Interface names, IOMMU groups and counters may differ after VFs are recreated.
norm() { grep -Ev '"(netdev|iommu_group|rx_|tx_|broadcast|multicast)' "$1" | grep -Ev '"stats"|^ *},?$'; }
if norm $T/list.json >$T/n1 && norm $T/list2.json >$T/n2 && cmp -s $T/n1 $T/n2; then
  tap_ok "list --json after apply equals the saved one (round trip)"
else
  tap_fail "list --json after apply equals the saved one (round trip)" "$(diff $T/n1 $T/n2)"
fi

# --- the assignment registry: a VF a guest holds is shown and protected ---------------------
mkdir -p /run/vfstack/assign
sleep 120 & holder=$!
printf 'guest=web1\npid=%s\n' $holder >/run/vfstack/assign/$VF1
run vfctl list
expect "vfctl list shows guest web1 holding vf 1 (live registry record)" 0 "vf 1  $VF1 .* web1\$"
snap
run vfctl bind $VF1 vfio-pci --force
expect "bind refuses a VF held by a guest, even with --force" 3 "$VF1 is held by guest 'web1' \\(pid $holder\\)"
run vfctl sriov disable $PF --force
expect "sriov disable refuses while a guest holds a VF, even with --force" 3 "VF $VF1 of $PF is held by guest 'web1'"
unchanged "the guest-held VF was left alone"
kill $holder; wait $holder 2>/dev/null
run vfctl list
expect "a stale registry record (its pid gone) is ignored: guest column back to -" 0 "vf 1  $VF1 .* auto +-\$"
rm -f /run/vfstack/assign/$VF1

# --- autoprobe off: new VFs come up driverless; release must be told the driver -------------
run vfctl sriov autoprobe $PF off
expect "sriov autoprobe off" 0 "new VFs will not get a host driver"
run vfctl sriov enable $PF 3
expect "with autoprobe off, 3 VFs are created" 0 "3 VFs enabled"
tap_check "... and $VF0 has no driver" test -z "$(tb_driver $VF0)"
snap
run vfctl release $VF0
expect "release of a driverless VF under autoprobe off fails saying to name the driver" 1 \
  "no host driver claimed $VF0, because its PF $PF has sriov_drivers_autoprobe off; name its driver"
unchanged "the failed release left $VF0 as it was (no driver, no override)"
run vfctl release $VF0 igbvf
expect "release $VF0 igbvf binds it to igbvf" 0 "$VF0: released from no driver to igbvf"
tap_check "sysfs: $VF0 on igbvf with driver_override cleared" \
  sh -c "[ \"\$(basename \$(readlink $SYS/$VF0/driver))\" = igbvf ] && [ \"\$(cat $SYS/$VF0/driver_override)\" = '(null)' ]"
vfctl sriov autoprobe $PF on >/dev/null

# --- doctor ---------------------------------------------------------------------------------
run vfctl doctor
expect "vfctl doctor: the IOMMU is on" "$st" "^ok +iommu +DMA remapping is on \\(dmar0\\)"
expect "vfctl doctor: interrupt remapping is on" "$st" "^ok +intremap"
expect "vfctl doctor: vfio modules are loaded" "$st" "^ok +vfio "
nf=$(printf '%s\n' "$out" | grep -c '^FAIL')
if { [ "$nf" = 0 ] && [ $st = 0 ]; } || { [ "$nf" != 0 ] && [ $st = 1 ]; }; then
  tap_ok "vfctl doctor's exit status ($st) matches its FAIL lines ($nf)"
else
  tap_fail "vfctl doctor's exit status ($st) matches its FAIL lines ($nf)" "$out"
fi
tap_diag "$out"

# --- export, stats, status (tests/sriov/eco-vm.sh) ----------------------------------------
. /vfstack/files/eco-vm.sh

# --- help -----------------------------------------------------------------------------------
ok=1
for c in list sriov vf bind release apply doctor export stats status; do
  vfctl $c --help >$T/help; hst=$?
  [ $hst = 0 ] || { ok=0; tap_diag "vfctl $c --help exits $hst"; }
  grep -q "^usage: vfctl $c" $T/help || { ok=0; tap_diag "vfctl $c --help has no usage line"; }
done
[ $ok = 1 ] && tap_ok "every subcommand has --help (exit 0, usage line)" || tap_fail "every subcommand has --help (exit 0, usage line)"

vfctl sriov disable $PF --force >/dev/null 2>&1
tap_done

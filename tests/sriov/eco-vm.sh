# eco-vm.sh — sourced by sriov-vm.sh (same shell, same helpers): vfctl export,
# stats and status on the testbed's igb VFs.  Expects 3 VFs, vf 0 on igbvf,
# vf 1 and 2 without a driver, vfio-pci loaded.  Prints the XML, JSON and
# Prometheus text between markers for tests/sriov/eco-host-checks, which
# validates them on the host (virt-xml-validate, the device plugin's schema,
# the exposition grammar).
VF2=0000:00:12.4
tb_wait_for 10 tb_netdev $VF0
vif=$(tb_netdev $VF0)
g1=$(tb_iommu_group $VF1)
emit() { echo "# $1-BEGIN $2"; sed 's/^/# J /' "$3"; echo "# $1-END"; }

# --- export libvirt -----------------------------------------------------------------------
vfctl vf set $PF 0 mac 52:54:00:aa:bb:31 vlan 42 >/dev/null
run vfctl export libvirt $VF0
expect "export libvirt $VF0: an <interface type='hostdev' managed='yes'> (a NIC VF)" 0 "<interface type='hostdev' managed='yes'>"
for want in "<mac address='52:54:00:aa:bb:31'/>" "<address type='pci' domain='0x0000' bus='0x00' slot='0x12' function='0x0'/>" "<tag id='42'/>"; do
  case "$out" in *"$want"*) tap_ok "export libvirt $VF0 carries $want (what the PF enforces)" ;;
    *) tap_fail "export libvirt $VF0 carries $want (what the PF enforces)" "$out" ;; esac
done
printf '%s\n' "$out" >$T/dev.xml; emit XML interface $T/dev.xml
tap_diag "\$ vfctl export libvirt $VF0" "$out"
run vfctl export libvirt $VF0 --hostdev
expect "export libvirt --hostdev: a <hostdev mode='subsystem' type='pci' managed='yes'> with the address" 0 \
  "<address domain='0x0000' bus='0x00' slot='0x12' function='0x0'/>"
printf '%s\n' "$out" >$T/hostdev.xml; emit XML hostdev $T/hostdev.xml
run vfctl export libvirt $VF0 --guest 'web1&co' --mem=256 --cpus 2
expect "export libvirt --guest: a whole <domain> with the name escaped" 0 "<name>web1&amp;co</name>"
printf '%s\n' "$out" >$T/domain.xml; emit XML domain $T/domain.xml
tap_diag "\$ vfctl export libvirt $VF0 --guest 'web1&co' --mem=256 --cpus 2" "$out"
run vfctl export libvirt $EDU
expect "export libvirt of a device that is no VF fails naming it (exit 4)" 4 "$EDU is not an SR-IOV virtual function"
run vfctl export libvirt $VF0 --guest a/b
expect "export libvirt --guest with '/' is a usage error" 2 "'a/b' is not a guest name"
run vfctl export libvirt $VF0 --frob
expect "export: an unknown option is a usage error naming it" 2 "there is no option '--frob'"
run vfctl export
expect "export without a format is a usage error" 2 "say what to export"

# --- export k8s -----------------------------------------------------------------------------
vfctl bind $VF1 vfio-pci >/dev/null || tb_die "cannot bind $VF1 to vfio-pci"
run vfctl export k8s
expect "export k8s: one resource per VF driver on $PFIF, and a note on the driverless VF" 0 \
  "left out 1 VF without a driver"
printf '%s\n' "$out" >$T/k8s.json; emit JSON k8s $T/k8s.json
tap_diag "\$ vfctl export k8s" "$out" "$err"
n=$(grep -c '"resourceName"' $T/k8s.json)
tap_check "export k8s has 2 resources (igbvf, vfio-pci): got $n" test "$n" = 2
case "$out" in *'"sriov_'"$PFIF"'_vfio_pci"'*'"pfNames"'*) tap_ok "export k8s names the vfio-pci pool after $PFIF and selects by pfNames" ;;
  *) tap_fail "export k8s names the vfio-pci pool after $PFIF and selects by pfNames" "$out" ;; esac
run vfctl export k8s $EDU
expect "export k8s of a device without SR-IOV fails naming it (exit 4)" 4 "$EDU .*has no SR-IOV capability"

# --- stats ----------------------------------------------------------------------------------
ip link set "$vif" up && ip addr add 192.168.78.1/24 dev "$vif"
ping -c 3 -W 1 192.168.78.2 >/dev/null 2>&1   # nobody answers: ARP requests go out
ip link set "$vif" down                         # freeze the counters
tx=$(cat /sys/class/net/$vif/statistics/tx_packets); txb=$(cat /sys/class/net/$vif/statistics/tx_bytes)
tap_check "the igbvf interface $vif sent packets (tx_packets $tx)" test "$tx" -gt 0
run vfctl stats $VF0 --json
expect "stats --json: $VF0's counters from its interface" 0 '"source": "netdev"'
printf '%s\n' "$out" >$T/stats.json; emit JSON stats $T/stats.json
case "$out" in *"\"tx_packets\": $tx,"*"\"tx_bytes\": $txb,"*) tap_ok "stats --json: tx_packets $tx and tx_bytes $txb equal sysfs's" ;;
  *) tap_fail "stats --json: tx_packets $tx and tx_bytes $txb equal sysfs's" "$out" ;; esac
run vfctl stats
expect "stats: a table row for $VF0 with sysfs's tx_packets" 0 "^$VF0  0 +$vif +netdev +[0-9]+ +$tx "
expect "stats: $VF1 on vfio-pci is read through the PF (rtnetlink)" 0 "^$VF1  1 +- +pf "
tap_diag "\$ vfctl stats" "$out"
run vfctl stats $VF1 --json
expect "stats --json: $VF1 (vfio-pci) through the PF, drop counters included (IFLA_VF_STATS_RX_DROPPED)" 0 \
  '"source": "pf",'
printf '%s' "$out" | tr -d ' \n' | grep -Eq '"rx_dropped":[0-9]+,"tx_dropped":[0-9]+,' \
  && tap_ok "stats --json: the PF's rx_dropped/tx_dropped for $VF1 are numbers" \
  || tap_fail "stats --json: the PF's rx_dropped/tx_dropped for $VF1 are numbers" "$out"
run timeout 30 vfctl stats $VF0 --watch 1 --count 3
nh=$(printf '%s\n' "$out" | grep -c "s after the previous sample; rates per second")
tap_check "stats --watch 1 --count 3 prints 3 samples, 2 with rates, and ends (exit $st)" test "$st $nh" = "0 2"
tap_diag "\$ vfctl stats $VF0 --watch 1 --count 3" "$out"
run timeout 30 vfctl stats --watch 0.5 --count 2 --json
nl=$(printf '%s\n' "$out" | grep -c '^{"interval"')
tap_check "stats --watch --json prints one JSON object per sample (JSON lines)" test "$st $nl" = "0 2"
printf '%s\n' "$out" | tail -n 1 >$T/stats-watch.json; emit JSON stats-watch $T/stats-watch.json
mkdir -p $T/prom
run vfctl stats --prometheus $T/prom/vfstack.prom
tap_check "stats --prometheus writes the file, prints nothing, leaves no temporary file" \
  test "$st|$out|$(ls -A $T/prom | tr '\n' ' ')" = "0||vfstack.prom "
grep -qF "vfstack_vf_tx_packets_total{pf=\"$PF\",vf=\"$VF0\",index=\"0\",netdev=\"$vif\",source=\"netdev\"} $tx" $T/prom/vfstack.prom \
  && tap_ok "the Prometheus file has $VF0's tx_packets $tx with its labels" \
  || tap_fail "the Prometheus file has $VF0's tx_packets $tx with its labels" "$(cat $T/prom/vfstack.prom)"
emit PROM stats $T/prom/vfstack.prom
tap_diag "\$ cat vfstack.prom" "$(cat $T/prom/vfstack.prom)"
run vfctl stats --prometheus /nonexistent/dir/x.prom
expect "stats --prometheus into a missing directory fails naming the file" 1 "could not write /nonexistent/dir/x.prom"
run vfctl stats --count 2
expect "stats --count without --watch is a usage error" 2 "give --watch SECS too"

# --- status ---------------------------------------------------------------------------------
ip link set "$vif" up
sleep 300 3</dev/vfio/$g1 & holder=$!
tb_wait_for 5 sh -c "ls -l /proc/$holder/fd 2>/dev/null | grep -q /dev/vfio/$g1"
run vfctl status
expect "status: $VF1 on vfio-pci, group $g1, in use by pid $holder (sleep) on /dev/vfio/$g1" 0 \
  "^$VF1  $PF  1 +vfio-pci +$g1 +- +yes +pid $holder \\(sleep\\) on /dev/vfio/$g1\$"
expect "status: $VF0's interface $vif is up with an address: in use" 0 "^$VF0  $PF  0 +igbvf .* yes +interface $vif: "
expect "status: $VF2 without a driver is free" 0 "^$VF2  $PF  2 +- +[0-9]+ +- +no +-\$"
tap_diag "\$ vfctl status" "$out"
printf 'guest=web2\npid=%s\n' $holder >/run/vfstack/assign/$VF1
run vfctl status $VF1
expect "status $VF1 names the guest from the assign registry" 0 "yes +guest 'web2' \\(pid $holder\\)\$"
run vfctl status $VF1 --json
printf '%s\n' "$out" >$T/status.json; emit JSON status $T/status.json
tr -d ' \n' <$T/status.json | grep -q "\"in_use\":true,\"guest\":{\"name\":\"web2\",\"pid\":$holder},\"processes\":\[{\"pid\":$holder,\"comm\":\"sleep\",\"node\":\"/dev/vfio/$g1\"}\]" \
  && tap_ok "status --json: in use, guest web2, the process and its node" \
  || tap_fail "status --json: in use, guest web2, the process and its node" "$out"
kill $holder; wait $holder 2>/dev/null
rm -f /run/vfstack/assign/$VF1
ip addr flush dev "$vif"; ip link set "$vif" down
run vfctl status $VF1 $VF0
expect "status after the holder ended: $VF1 free" 0 "^$VF1  $PF  1 +vfio-pci +$g1 +- +no +-\$"
expect "status: $VF0 free once its interface is down" 0 "^$VF0  $PF  0 +igbvf .* no +-\$"
vfctl release $VF1 igbvf >/dev/null

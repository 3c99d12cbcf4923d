#!/bin/sh
# vfctl bench, the guest side (/vfstack/guest-run; tests/testbed/image/guest-init runs it).
# vfctl embeds this file (Makefile: bench_guest_script.c) and adds it to the guest image.
# Parameters come as vfs.bench.KEY=VALUE on the kernel command line:
#   drv ip [gw] server port secs warm udp_bps rtt_n [dpdk]
# Every line for the host starts with "VFS-BENCH ".  The host watches the console for
# "VFS-BENCH mark NAME" and takes its snapshot of the VM's costs there; the guest waits
# a moment after each mark, so the snapshot falls outside the measured traffic.
for kv in $(cat /proc/cmdline); do
  case "$kv" in vfs.bench.*=*) k=${kv#vfs.bench.}; k=${k%%=*}; eval "B_$k=\${kv#*=}";; esac
done
say() { echo "VFS-BENCH $*"; }
dev=; i=0
while [ -z "$dev" ] && [ $i -lt 200 ]; do
  for d in /sys/class/net/*; do
    drv=$(readlink "$d/device/driver" 2>/dev/null); [ "${drv##*/}" = "$B_drv" ] && dev=${d##*/}
  done
  [ -n "$dev" ] || sleep 0.05; i=$((i+1))
done
[ -n "$dev" ] || { say "error no $B_drv network device in the guest"; exit 3; }
ip link set "$dev" up; ip addr add "$B_ip" dev "$dev"
i=0; while [ "$(cat /sys/class/net/$dev/carrier 2>/dev/null)" != 1 ] && [ $i -lt 600 ]; do sleep 0.02; i=$((i+1)); done
say "link-up $dev carrier=$(cat /sys/class/net/$dev/carrier 2>/dev/null) uptime=$(cut -d' ' -f1 /proc/uptime)"
[ -n "$B_gw" ] && ip route add default via "$B_gw"
i=0; until ping -c 1 -W 1 "$B_server" >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i+1)); done

L=/vfstack/bench/lib
ip3() { "$L/ld-linux-x86-64.so.2" --library-path "$L" /vfstack/bench/iperf3 "$@" 2>&1; }
# the NIC's interrupts: the lines of /proc/interrupts named after the netdev (igbvf:
# DEV-rx-0, DEV-tx-0, DEV) or virtio's queues (virtioN-input.0, -output.0, -config)
nic_irqs() { awk -v d="$dev" 'NR > 1 && ($NF ~ d || $NF ~ /^virtio/) { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break } END { print s + 0 }' /proc/interrupts; }
mark() { say "mark $1"; sleep 0.5; }

# warm-up: a short TCP stream, not reported
ip3 -c "$B_server" -p "$B_port" -t "$B_warm" -f m > /dev/null

mark tcp-begin
i0=$(nic_irqs)
ip3 -c "$B_server" -p "$B_port" -t "$B_secs" -f m | sed -n 's/^.*receiver.*$/VFS-BENCH tcp &/p; s/^iperf3: error/VFS-BENCH error tcp:/p'
i1=$(nic_irqs)
say "irqs-tcp $((i1 - i0))"
mark tcp-end

# UDP, 64-byte datagrams at a fixed offered rate (vfs.bench.udp_bps bit/s of payload)
ip3 -c "$B_server" -p "$B_port" -t "$B_secs" -u -l 64 -b "$B_udp_bps" -f m | sed -n 's/^.*receiver.*$/VFS-BENCH udp &/p; s/^iperf3: error/VFS-BENCH error udp:/p'

# request-response: our own UDP echo, one datagram in flight
/vfstack/bench/vfs-udpecho ping "$B_server" "$((B_port + 1))" "$B_rtt_n" | sed -n 's/^rtt /VFS-BENCH rtt /p; s/^vfs-udpecho: /VFS-BENCH error rtt: /p'

if [ -n "$B_dpdk" ]; then
  # testpmd tx-only: the VF from igbvf to uio_pci_generic (no vIOMMU here)
  # EAL refuses plugins under a world-writable directory: the initramfs root is one
  chmod go-w /; D=/vfstack/dpdk; bdf=$(readlink /sys/class/net/$dev/device); bdf=${bdf##*/}
  ip link set "$dev" down; echo "$bdf" > /sys/bus/pci/devices/$bdf/driver/unbind
  insmod $D/ko/uio.ko; insmod $D/ko/uio_pci_generic.ko
  echo uio_pci_generic > /sys/bus/pci/devices/$bdf/driver_override
  echo "$bdf" > /sys/bus/pci/drivers/uio_pci_generic/bind
  [ -e /sys/bus/pci/drivers/uio_pci_generic/$bdf ] || say "dpdk-error $bdf did not bind to uio_pci_generic"
  echo 48 > /proc/sys/vm/nr_hugepages; mkdir -p /dev/hugepages; mount -t hugetlbfs none /dev/hugepages
  . /vfstack/bench/testpmd-tp.sh
  tp "$B_dpdk" $D/lib/ld-linux-x86-64.so.2 --library-path $D/lib $D/dpdk-testpmd \
    --lcores=0@0,1@0 -n 1 -m 64 -d $D/pmds -a $bdf --iova-mode=pa -- \
    --forward-mode=txonly --txpkts=64 --stats-period=1 --total-num-mbufs=2048
fi
say done

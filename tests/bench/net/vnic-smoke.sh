#!/bin/sh
# vnic-smoke.sh — in the testbed host: boot the nested guest on vfs-vmm with
# the emulated vNIC on a tap, and check from inside the guest that Linux's
# virtio_net drives it: link up, ping the host end of the tap, move 4 MiB
# over TCP both ways (busybox nc).  TAP output.  Needs vfs-vmm --vnic.
. /vfstack/lib/testbed.sh
TAP=vfsb0
tb_modprobe ccp kvm kvm-amd tun >/dev/null || tb_die "kvm/tun modules"
ip tuntap add dev $TAP mode tap && ip addr add 10.0.9.1/24 dev $TAP && ip link set $TAP up ||
  tb_die "cannot create tap $TAP"
mkdir -p /tmp/g/vfstack
cat > /tmp/g/vfstack/guest-run <<'G'
#!/bin/sh
dev=
for d in /sys/class/net/*; do
  drv=$(readlink "$d/device/driver" 2>/dev/null)
  [ "${drv##*/}" = virtio_net ] && dev=${d##*/}
done
[ -n "$dev" ] || { echo "VNIC no virtio_net netdev"; ls -l /sys/class/net; exit 3; }
echo "VNIC netdev $dev mac $(cat /sys/class/net/$dev/address)"
ip link set "$dev" up && ip addr add 10.0.9.2/24 dev "$dev"
i=0; while [ "$(cat /sys/class/net/$dev/carrier 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo "VNIC carrier $(cat /sys/class/net/$dev/carrier)"
ping -c 3 -W 2 10.0.9.1 && echo "VNIC ping ok"
dd if=/dev/zero bs=64k count=64 2>/dev/null | nc -w 5 10.0.9.1 5001 && echo "VNIC tx sent"
n=$(nc -w 5 10.0.9.1 5002 | wc -c); echo "VNIC rx bytes $n"
cat /proc/interrupts | grep -i virtio
G
chmod +x /tmp/g/vfstack/guest-run
tb_guest_initrd /tmp/g.img /tmp/g || tb_die "guest initrd"
# host ends: a sink on 5001 counting bytes, a source on 5002
( nc -l -p 5001 > /tmp/rx.bin ) & sink=$!
( dd if=/dev/zero bs=64k count=64 2>/dev/null | nc -l -p 5002 ) & src=$!
t0=$(date +%s)
timeout 150 vfs-vmm --kernel "$TB_GUEST_KERNEL" --initrd /tmp/g.img --mem 256M --vnic $TAP \
  --cmdline "console=ttyS0 reboot=k panic=-1 vfs.modules=virtio_net" --console /tmp/con.log
st=$?
tb_log "vfs-vmm exited $st after $(( $(date +%s) - t0 )) s"
kill $sink $src 2>/dev/null
grep -a "VNIC\|VFS-GUEST-EXIT\|virtio" /tmp/con.log | sed 's/^/# /'
tap_check "vfs-vmm with --vnic boots the guest and it powers off" test $st = 0
tap_check "guest's virtio_net binds the vNIC (a netdev appears)" grep -aq "VNIC netdev" /tmp/con.log
tap_check "vNIC link is up (VIRTIO_NET_S_LINK_UP)" grep -aq "VNIC carrier 1" /tmp/con.log
tap_check "guest pings the host end of the tap" grep -aq "VNIC ping ok" /tmp/con.log
tap_check "4 MiB guest->host over TCP arrive" test "$(wc -c < /tmp/rx.bin)" = 4194304
tap_check "4 MiB host->guest over TCP arrive" grep -aq "VNIC rx bytes 4194304" /tmp/con.log
tap_done

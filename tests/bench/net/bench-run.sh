#!/bin/sh
# bench-run.sh SECS [PATHS [ROUNDS [WARM [DPDK_DIR]]]] — in the testbed host: set up the PF
# (10.0.2.15/24), two VFs (the paths' and the traffic peer's) and the modules every path needs, run `vfctl bench`, print its table
# on stderr and its JSON on stdout between BENCH-JSON-BEGIN/END (run-in-vm
# streams stdout; tests/bench/net/run-bench takes it from there).
. /vfstack/lib/testbed.sh
secs=${1:-5}
paths=${2:-a,b,c,d,e}
rounds=${3:-3}
warm=${4:-2}
dpdk=${5:-}
# --dpdk: DPDK's EAL refuses plugins under a world-writable directory (the initramfs root)
[ -z "$dpdk" ] || chmod go-w /
pf=$(tb_pf 0)
tb_pf_up >/dev/null || tb_die "the PF's netdev did not come up"
tb_sriov_enable "$pf" 2 || tb_die "cannot create VFs on $pf"
tb_modprobe igbvf vfio_iommu_type1 vfio-pci ccp kvm kvm-amd tun >/dev/null || tb_die "modules"
ulimit -l unlimited
# the VFs bound to igbvf is the host's normal state (path e uses it)
for vf in $(tb_vfs "$pf"); do [ -n "$(tb_driver "$vf")" ] || tb_bind "$vf" igbvf; done
vfctl bench "$pf" --secs "$secs" --paths "$paths" --rounds "$rounds" --warm "$warm" ${dpdk:+--dpdk "$dpdk"} --out /tmp/bench >&2 &
vpid=$!
# a deadline of our own, before run-in-vm's: if vfctl bench hangs, say where (processes,
# the newest logs, the kernel's last words), then end it by PID
deadline=${BENCH_DEADLINE:-0} t=0
while kill -0 $vpid 2>/dev/null; do
  sleep 1; t=$((t + 1))
  if [ "$deadline" -gt 0 ] && [ $t -ge "$deadline" ]; then
    echo "bench-run.sh: vfctl bench still running after $t s; its state:" >&2
    ps >&2
    for f in $(ls -t /tmp/bench/*.log 2>/dev/null | head -n 3); do echo "== $f" >&2; tail -n 15 "$f" >&2; done
    dmesg | tail -n 30 >&2
    kill -TERM $vpid; sleep 10; kill -KILL $vpid 2>/dev/null
  fi
done
wait $vpid
st=$?
echo "BENCH-JSON-BEGIN"
cat /tmp/bench/bench.json 2>/dev/null
echo "BENCH-JSON-END"
echo "BENCH-STATUS $st"
# the logs of any path that did not produce numbers
grep -q '"measured": false' /tmp/bench/bench.json 2>/dev/null && for f in /tmp/bench/*.log; do
  echo "BENCH-LOG $f"; tail -n 25 "$f" | sed 's/^/BENCH-LOG| /'
done
exit 0

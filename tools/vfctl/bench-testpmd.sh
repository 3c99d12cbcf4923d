# tp N CMD...: run testpmd (CMD) in the background until it has printed N + 1 nonzero
# Tx-pps lines (the first covers start-up) or 30 + N s have passed, then end it by PID
# (SIGINT, after 5 s SIGKILL) and print its numbers as "VFS-BENCH dpdk-pps N" lines and its
# first error as "VFS-BENCH dpdk-error ...".  vfctl bench sources it in the guest
# (/vfstack/bench/testpmd-tp.sh) and in the host (path e); vfctl embeds this file.
tp() {
  n=$1; shift; o=/tmp/vfs-testpmd.out
  "$@" > $o 2>&1 & pid=$!
  alive() { grep -q '^State:[[:space:]]*[^Z]' /proc/$pid/status 2>/dev/null; }
  i=0
  while [ $i -lt $((n * 10 + 300)) ] && alive; do
    [ $(grep -c 'Tx-pps: *[1-9]' $o) -gt $n ] && break
    sleep 0.1; i=$((i+1))
  done
  kill -INT $pid 2>/dev/null
  i=0; while alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL $pid 2>/dev/null; wait $pid
  sed -n -e 's/^.*Tx-pps: *\([0-9][0-9]*\).*$/VFS-BENCH dpdk-pps \1/p' \
    -e 's/^.*\(EAL: Error.*\|Cannot.*\|[Ff]ail.*\)$/VFS-BENCH dpdk-error \1/p' $o
}

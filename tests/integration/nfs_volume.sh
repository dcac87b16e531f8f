#!/bin/sh
# Run in the test host (L1) by test_volume.py::test_nfs_volume: Debian's kernel
# NFS server (nfs-kernel-server) in one network namespace, `isola volume` and
# volume-helper (volume_mount_source/volume_release) in a second one, joined by a
# veth pair; no traffic leaves the two namespaces made here.
# Usage: nfs_volume.sh ISOLA VOLUME_HELPER OUTDIR
# OUTDIR gets client.out (the client's steps), server-saw (the file the client
# wrote, read on the server's export), nfsd.log, mountd.log. Exit 77: no nfsd.
set -eu
ISOLA=$1
HELPER=$2
OUT=$3
T=v$$
mkdir -p "$OUT"
modprobe nfsd && modprobe nfsv4 || exit 77
cleanup() {
    set +e
    [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
    ip netns exec "${T}s" rpc.nfsd 0 2>/dev/null
    ip netns del "${T}s" 2>/dev/null
    ip netns del "${T}c" 2>/dev/null
}
trap cleanup EXIT
ip netns add "${T}s"
ip netns add "${T}c"
ip link add "${T}a" type veth peer name "${T}b"
ip link set "${T}a" netns "${T}s"
ip link set "${T}b" netns "${T}c"
ip -n "${T}s" addr add 10.77.0.1/24 dev "${T}a"
ip -n "${T}c" addr add 10.77.0.2/24 dev "${T}b"
for n in "${T}s:${T}a" "${T}c:${T}b"; do
    ip -n "${n%%:*}" link set lo up
    ip -n "${n%%:*}" link set "${n#*:}" up
done
# The server: its own mount namespace (ip netns exec) with nfsd's file system,
# a tmpfs export (NFSv4 pseudo-root, fsid=0), mountd for the export upcalls.
ip netns exec "${T}s" sh -c '
  set -e
  mount -t nfsd nfsd /proc/fs/nfsd
  mkdir -p /srv/export /var/lib/nfs/v4recovery
  mount -t tmpfs tmpfs /srv/export
  echo "from the server" > /srv/export/hello
  echo "/srv/export 10.77.0.2(rw,no_root_squash,fsid=0,no_subtree_check,insecure)" > /etc/exports
  exportfs -r
  rpc.mountd -N 3 -F >"$0/mountd.log" 2>&1 &
  rpc.nfsd -N 3 4 >"$0/nfsd.log" 2>&1
  echo up > "$0/server-up"
  while [ ! -f "$0/client-done" ]; do sleep 0.2; done
  cat /srv/export/written > "$0/server-saw" 2>&1 || true
  kill $! 2>/dev/null || true
' "$OUT" &
SRV=$!
i=0
while [ ! -f "$OUT/server-up" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
ip netns exec "${T}c" sh -c '
  set -e
  ISOLA=$0 HELPER=$1 S=/tmp/$2-state
  $ISOLA volume --root $S create --opt type=nfs --opt o=addr=10.77.0.1,vers=4.2 --opt device=:/ shared
  H=$($HELPER use $S shared - /data c1)
  echo "mounted: $(grep " $H " /proc/self/mounts | cut -d" " -f3)"
  echo "read: $(cat $H/hello)"
  echo "from the client" > $H/written
  $HELPER release $S shared c1
  echo "after release: $(grep -c " $H " /proc/self/mounts || true) mounts"
  $ISOLA volume --root $S rm shared
' "$ISOLA" "$HELPER" "$T" >"$OUT/client.out" 2>&1 || echo "client failed: $?" >>"$OUT/client.out"
touch "$OUT/client-done"
wait "$SRV" || true

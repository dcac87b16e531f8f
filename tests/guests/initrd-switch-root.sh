#!/bin/sh
# /init of a test initramfs (scripts/testhost/mkguest-initrd -i): load the
# modules, mount root= (the VM's disk from `isola vm run --image`) and switch to
# its init= with the arguments the kernel gave after `--`, as Debian's own
# initramfs does for root=/dev/vda.
export PATH=/bin:/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
    insmod "/lib/modules/$m" || echo "initrd: insmod $m failed"
done </etc/modules.load
root=
init=/sbin/init
for a in $(cat /proc/cmdline); do
    case $a in
    root=*) root=${a#root=} ;;
    init=*) init=${a#init=} ;;
    esac
done
i=0
while [ ! -b "$root" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
mkdir -p /newroot
if ! mount -t ext4 -o rw "$root" /newroot; then
    echo "initrd: cannot mount root $root"
    poweroff -f
fi
umount /sys /proc
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot "$init" "$@"

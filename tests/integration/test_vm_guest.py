"""Layer 1: the monitor with tiny freestanding guests (tests/guests/guest.c).

They run on this host's /dev/kvm when it has one, else inside the test host
(L1: QEMU TCG with SVM). They check the run loop, port and MMIO exits, the
serial console both ways, SMP bring-up, and how a guest's end maps to the exit
status (docs/vm.md).
"""
import json
import os

import pytest

from vmhost import GUEST, ISOLA, L1Host, LocalHost, local_kvm, vm_cmd


@pytest.fixture(scope="module")
def vmhost(request):
    if not os.access(GUEST, os.R_OK):
        pytest.fail(f"{GUEST} is not built (run scripts/build.sh)")
    if local_kvm():
        return LocalHost()
    th = request.getfixturevalue("testhost")
    return L1Host(th)


def test_hello_prints_cmdline_and_powers_off(vmhost):
    r = vmhost.run(vm_cmd("--cmdline", "mode=hello marker=m%d" % os.getpid(),
                          "--memory", "64M"))
    assert r.returncode == 0, r
    assert "isola-guest: hello" in r.stdout
    assert "marker=m%d" % os.getpid() in r.stdout


def test_guest_exit_code_via_debug_port(vmhost):
    r = vmhost.run(vm_cmd("--cmdline", "mode=exit code=42", "--memory", "64M"))
    assert r.returncode == 42, r


def test_reboot_status(vmhost):
    r = vmhost.run(vm_cmd("--cmdline", "mode=reboot", "--memory", "64M"))
    assert r.returncode == 80, r
    assert "reboot" in r.stderr


def test_triple_fault_status(vmhost):
    r = vmhost.run(vm_cmd("--cmdline", "mode=triple", "--memory", "64M"))
    assert r.returncode == 81, r
    assert "triple fault" in r.stderr


def test_panic_status(vmhost):
    r = vmhost.run(vm_cmd("--cmdline", "mode=panic", "--memory", "64M"))
    assert r.returncode == 82, r
    assert "panic" in r.stderr


def test_unclaimed_mmio_reads_all_ones(vmhost):
    r = vmhost.run(vm_cmd("--cmdline", "mode=mmio", "--memory", "64M"))
    assert r.returncode == 0, r
    assert "isola-guest: mmio: ffffffff" in r.stdout


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_smp_all_vcpus_come_up(vmhost, cpus):
    r = vmhost.run(vm_cmd("--cmdline", f"mode=smp expect={cpus}", "--cpus", str(cpus),
                          "--memory", "64M"), timeout=120)
    assert r.returncode == 0, r
    assert f"isola-guest: cpus up: {cpus}\n" in r.stdout


def test_serial_input_reaches_guest(vmhost):
    r = vmhost.run(vm_cmd("--cmdline", "mode=echo", "--memory", "64M",
                          stdin="typed-%d\n" % os.getpid()))
    assert r.returncode == 0, r
    assert "isola-guest: echo: typed-%d" % os.getpid() in r.stdout


def test_console_to_file(vmhost, tmp_path):
    # tmp_path lives on this host; L1 sees the host's / read-only, so the log
    # goes to L1's own /tmp there and is printed back.
    log = f"/tmp/isola-vm-console-{os.getpid()}.log"
    cmd = vm_cmd("--cmdline", "mode=hello", "--memory", "64M", "--console", f"file={log}")
    r = vmhost.run(f"{cmd}; rc=$?; echo ---; cat {log}; rm -f {log}; exit $rc")
    assert r.returncode == 0, r
    before, _, after = r.stdout.partition("---\n")
    assert "isola-guest" not in before
    assert "isola-guest: hello" in after


def test_config_file(vmhost):
    cfg = {"kernel": GUEST, "cmdline": "mode=smp expect=2", "cpus": 2, "memory_mib": 64}
    path = f"/tmp/isola-vm-config-{os.getpid()}.json"
    r = vmhost.run(f"printf %s '{json.dumps(cfg)}' > {path}; {ISOLA} vm run --config {path} "
                   f"</dev/null; rc=$?; rm -f {path}; exit $rc")
    assert r.returncode == 0, r
    assert "isola-guest: cpus up: 2" in r.stdout


@pytest.mark.parametrize("sig,status", [("TERM", 128 + 15), ("KILL", 128 + 9)])
def test_signal_stops_spinning_guest(vmhost, sig, status):
    cmd = vm_cmd("--cmdline", "mode=spin", "--memory", "64M", "--cpus", "2")
    script = (f"{cmd} & pid=$!; "
              # wait for the guest's first line, bounded
              "i=0; while [ $i -lt 300 ] && ! grep -q . /proc/$pid/status 2>/dev/null; do "
              "i=$((i+1)); sleep 0.1; done; sleep 1; "
              f"kill -{sig} $pid; wait $pid; echo status=$?; "
              "sleep 0.2; ls /proc/$pid >/dev/null 2>&1 && echo leftover-process; true")
    r = vmhost.run(script, timeout=120)
    assert f"status={status}" in r.stdout, r
    assert "leftover-process" not in r.stdout


# The watcher that removes the vsock socket if the monitor dies (util/reaper.h):
# a child of the monitor named isola-vmm-reap. Found by its parent pid before
# the kill; after it, the socket must go and no process may be left (a zombie
# waiting for L1's init to reap it counts as gone).
VSOCK_SIGNAL_SCRIPT = r"""
set -u
d=$(mktemp -d /tmp/isola-vsock-sig.XXXXXX)
{cmd} & pid=$!
i=0; while [ $i -lt 300 ] && [ ! -S $d/v.sock ]; do i=$((i+1)); sleep 0.1; done
[ -S $d/v.sock ] && echo socket-created
find_watcher() {{
    for f in /proc/[0-9]*/stat; do
        {{ read -r l <$f; }} 2>/dev/null || continue
        set -- $l
        [ "$2" = "(isola-vmm-reap)" ] && [ "$4" = "$pid" ] && echo $1
    done
}}
w=""; i=0
while [ $i -lt 50 ] && [ -z "$w" ]; do w=$(find_watcher); i=$((i+1)); sleep 0.1; done
echo "watcher: ${{w:-none}}"
[ -n "$w" ] && echo "watcher-mem:" $(grep -E '^(Rss|Pss):' /proc/$w/smaps_rollup)
sleep 0.5
kill -{sig} $pid; wait $pid; echo status=$?
alive() {{
    {{ read -r l </proc/$1/stat; }} 2>/dev/null || return 1
    set -- $l
    [ "$3" != Z ]
}}
i=0; while [ $i -lt 20 ] && [ -e $d/v.sock ]; do i=$((i+1)); sleep 0.1; done
[ -e $d/v.sock ] && echo leftover-socket
i=0; while [ $i -lt 20 ] && [ -n "$w" ] && alive $w; do i=$((i+1)); sleep 0.1; done
[ -n "$w" ] && alive $w && echo leftover-watcher && kill -KILL $w
alive $pid && echo leftover-process && kill -KILL $pid
rm -rf $d
true
"""


@pytest.mark.parametrize("sig,status", [("TERM", 128 + 15), ("KILL", 128 + 9)])
def test_signal_removes_vsock_socket(vmhost, sig, status):
    cmd = vm_cmd("--cmdline", "mode=spin", "--memory", "64M", "--vsock", "3",
                 "--vsock-uds", "$d/v.sock").replace("'$d/v.sock'", "$d/v.sock")
    r = vmhost.run(VSOCK_SIGNAL_SCRIPT.format(cmd=cmd, sig=sig), timeout=120)
    print(r.stdout)  # shown by pytest on failure, or with -s
    assert "socket-created" in r.stdout, r
    assert "watcher: none" not in r.stdout, r
    assert f"status={status}" in r.stdout, r
    assert "leftover-socket" not in r.stdout, r
    assert "leftover-watcher" not in r.stdout, r
    assert "leftover-process" not in r.stdout, r


def test_missing_tap_is_named(vmhost):
    tap = "isnotap%d" % (os.getpid() % 100000)
    r = vmhost.run(vm_cmd("--net", f"tap={tap}", "--memory", "64M"))
    assert r.returncode == 1, r
    assert tap in r.stderr, r


def test_missing_disk_is_named(vmhost):
    disk = "/nonexistent/isola-disk-%d.img" % os.getpid()
    r = vmhost.run(vm_cmd("--disk", disk, "--memory", "64M"))
    assert r.returncode == 1, r
    assert disk in r.stderr, r

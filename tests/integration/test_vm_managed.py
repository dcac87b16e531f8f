"""Managed VMs (docs/vm.md, "Managed VMs"): `isola vm run -d`, `vm ls`, `stop`,
`kill`, `rm`, `logs`, `console`, `inspect`, `pause`/`resume`, restart
policies, `isola ps` and `isola system boot` with VMs.

The VMs are the tiny test guests (tests/guests/guest.c): they boot in
milliseconds. They run on this host's /dev/kvm when it can run them, else in
the test host (L1), as test_vm_guest.py's do. Every script has its own state
root and run dir (ISOLA_ROOT, ISOLA_RUN_DIR) and removes every VM it made and
both directories on exit, whatever happened. No peer manages VMs on this host
(QEMU and kvmtool have no managed mode here; Docker and Podman run no VMs), so
there is nothing to compare with.
"""
import itertools
import json
import os

import pytest

from vmhost import GUEST, ISOLA, L1Host, LocalHost, local_kvm

_seq = itertools.count()

PRELUDE = r"""
set -u
D={d}
export ISOLA_ROOT=$D/root ISOLA_RUN_DIR=$D/run
I={isola}
G={guest}
cleanup() {{
    for v in $($I vm ls -aq 2>/dev/null); do timeout 30 $I vm rm -f $v >/dev/null 2>&1; done
    rm -rf $D
}}
trap cleanup EXIT
mkdir -p $D
# waitfor CMD: true once CMD succeeds, within 10 s
waitfor() {{
    i=0
    while [ $i -lt 100 ]; do eval "$1" >/dev/null 2>&1 && return 0; i=$((i+1)); sleep 0.1; done
    return 1
}}
# alive PID: a process that is not a zombie
alive() {{
    {{ read -r l </proc/$1/stat; }} 2>/dev/null || return 1
    set -- $l
    [ "$3" != Z ]
}}
vmpid() {{ $I vm inspect "$1" | sed -n 's/^ *"Pid": \([0-9]*\),*$/\1/p'; }}
"""


@pytest.fixture(scope="module")
def vmhost(request):
    if not os.access(GUEST, os.R_OK):
        pytest.fail(f"{GUEST} is not built (run scripts/build.sh)")
    if local_kvm():
        return LocalHost()
    th = request.getfixturevalue("testhost")
    return L1Host(th)


def engine(vmhost, body, timeout=120):
    d = f"/tmp/ivm-{os.getpid()}-{next(_seq)}"
    script = PRELUDE.format(d=d, isola=ISOLA, guest=GUEST) + body
    r = vmhost.run(script, timeout=timeout)
    print(r.stdout, r.stderr)  # shown by pytest on failure
    return r


def test_detached_vm_ls_logs_inspect_ps_stop_rm(vmhost):
    r = engine(vmhost, r"""
id=$($I vm run -d --name web1 --kernel $G --cmdline 'mode=spin marker=m1' --memory 64M)
echo "run=$? id=$id"
waitfor "$I vm logs web1 | grep -q marker=m1" && echo booted
echo "--- ls"; $I vm ls
echo "--- ls-q"; $I vm ls -q
echo "--- inspect"; $I vm inspect web1
echo "--- ps"; $I ps --format '{{.Names}} {{.Kind}} {{.Image}}'
echo "--- ps-end"
pid=$(vmpid web1)
alive $pid && echo vmm-alive
$I vm stop -t 1 web1; echo "stop=$?"
echo "--- ls-after"; $I vm ls
echo "--- ls-a"; $I vm ls -a
echo "--- end"
alive $pid && echo leftover-vmm
$I vm rm web1; echo "rm=$?"
$I vm ls -aq | grep -q . && echo leftover-row
[ -e $ISOLA_RUN_DIR/c/$id ] && echo leftover-rundir
[ -e $ISOLA_ROOT/containers/$id ] && echo leftover-bundle
true
""")
    out = r.stdout
    assert "run=0 id=" in out, r
    vm_id = out.split("run=0 id=")[1].split()[0]
    assert len(vm_id) == 64, r
    assert "booted" in out, r
    ls = out.split("--- ls\n")[1].split("--- ls-q")[0]
    assert "web1" in ls and "Up " in ls and vm_id[:12] in ls, r
    assert out.split("--- ls-q\n")[1].split("--- inspect")[0].strip() == vm_id[:12], r
    doc = json.loads(out.split("--- inspect\n")[1].split("--- ps\n")[0])
    assert doc[0]["Kind"] == "vm" and doc[0]["Name"] == "/web1", doc
    assert doc[0]["State"]["Running"] is True, doc
    assert doc[0]["Config"]["kernel"] == GUEST and doc[0]["Config"]["memory_mib"] == 64, doc
    assert "web1 vm vm:vm-guest" in out.split("--- ps\n")[1], r
    assert "vmm-alive" in out, r
    assert "stop=0" in out, r
    assert "web1" not in out.split("--- ls-after\n")[1].split("--- ls-a\n")[0], r
    # the tiny guest ignores the shutdown request: powered off after 1 s
    assert "Exited (137)" in out.split("--- ls-a\n")[1].split("--- end")[0], r
    assert "rm=0" in out, r
    for bad in ("leftover-vmm", "leftover-row", "leftover-rundir", "leftover-bundle"):
        assert bad not in out, r


def test_console_input_reaches_guest_and_detach_keys(vmhost):
    r = engine(vmhost, r"""
$I vm run -d --name echo1 --kernel $G --cmdline mode=echo --memory 64M >/dev/null
waitfor "$I vm logs echo1 | grep -q ready" && echo ready
printf 'typed-%s\n' $$ | timeout 20 $I vm console echo1; echo "console=$?"
$I vm ls -a | grep echo1
echo "--- logs"; $I vm logs echo1; echo "--- end"
$I vm run -d --name spin1 --kernel $G --cmdline mode=spin --memory 64M >/dev/null
waitfor "$I vm logs spin1 | grep -q hello" && echo spin-up
printf '\020\021' | timeout 20 $I vm console spin1; echo "detach=$?"
printf '\035' | timeout 20 $I vm console --detach-keys 'ctrl-]' spin1; echo "detach2=$?"
$I vm ls | grep -q spin1 && echo still-running
$I vm console nosuchvm; echo "unknown=$?"
# --name without -d: created, started and attached in the foreground
printf 'fg-%s\n' $$ | timeout 20 $I vm run --name fg1 --kernel $G --cmdline mode=echo \
    --memory 64M; echo "foreground=$?"
$I vm ls -a | grep fg1
true
""")
    out = r.stdout
    assert "ready" in out, r
    assert "console=0" in out, r  # the guest powered off after the echo
    assert "isola-guest: echo: typed-" in out.split("--- logs")[0], r
    assert "isola-guest: echo: typed-" in out.split("--- logs\n")[1], r
    assert "echo1" in out and "Exited (0)" in out, r
    assert "spin-up" in out, r
    assert "detach=0" in out and "detach2=0" in out, r
    assert "still-running" in out, r
    assert "unknown=1" in out and "No such VM: nosuchvm" in r.stderr, r
    assert "isola-guest: echo: fg-" in out and "foreground=0" in out, r
    assert "fg1" in out.split("foreground=0")[1], r


def test_restart_policy_on_failure(vmhost):
    r = engine(vmhost, r"""
$I vm run -d --name rs1 --restart on-failure:2 --kernel $G --cmdline 'mode=exit code=3' \
    --memory 64M >/dev/null
waitfor "$I vm ls -a | grep rs1 | grep -q Exited" && echo ended
$I vm inspect rs1 | grep -E '"(RestartCount|ExitCode|Name)"'
$I vm logs rs1 | grep -c 'isola-guest: hello' | sed 's/^/boots=/'
""")
    out = r.stdout
    assert "ended" in out, r
    assert '"RestartCount": 2' in out and '"ExitCode": 3' in out, r
    assert '"Name": "on-failure"' in out, r
    assert "boots=3" in out, r


def test_rm_running_refused_kill_and_force(vmhost):
    r = engine(vmhost, r"""
$I vm run -d --name k1 --kernel $G --cmdline mode=spin --memory 64M >/dev/null
$I vm run -d --name k2 --kernel $G --cmdline mode=spin --memory 64M >/dev/null
waitfor "$I vm logs k2 | grep -q hello" && echo up
$I vm rm k1; echo "rm=$?"
$I vm ls | grep -q k1 && echo k1-running
p1=$(vmpid k1)
$I vm kill k1; echo "kill=$?"
waitfor "$I vm ls -a | grep k1 | grep -q 'Exited (137)'" && echo k1-killed
alive $p1 && echo leftover-vmm1
$I vm kill k1; echo "kill-again=$?"
p2=$(vmpid k2)
$I vm rm -f k2; echo "rmf=$?"
alive $p2 && echo leftover-vmm2
$I vm ls -a | grep -q k2 && echo leftover-k2
true
""")
    out = r.stdout
    assert "up" in out, r
    assert "rm=1" in out and "k1-running" in out, r
    assert "it is running" in r.stderr, r
    assert "kill=0" in out and "k1-killed" in out, r
    assert "kill-again=1" in out and "not running" in r.stderr, r
    assert "rmf=0" in out, r
    for bad in ("leftover-vmm1", "leftover-vmm2", "leftover-k2"):
        assert bad not in out, r


def test_killed_monitor_then_system_boot_restarts_always(vmhost):
    r = engine(vmhost, r"""
$I vm run -d --name b1 --restart always --kernel $G --cmdline mode=spin --memory 64M >/dev/null
$I vm run -d --name b2 --kernel $G --cmdline mode=spin --memory 64M >/dev/null
waitfor "$I vm logs b2 | grep -q hello" && echo up
for v in b1 b2; do
    p=$(vmpid $v)
    mon=$(awk '{print $4}' /proc/$p/stat)
    kill -KILL $mon
    waitfor "! alive $p" && echo "$v-vmm-gone"
done
echo "--- ls-a"; $I vm ls -a; echo "--- boot"
$I system boot
echo "--- ls"; $I vm ls; echo "--- end"
""")
    out = r.stdout
    assert "up" in out, r
    # a VM never runs on without its monitor (as a container)
    assert "b1-vmm-gone" in out and "b2-vmm-gone" in out, r
    assert out.split("--- ls-a\n")[1].split("--- boot")[0].count("Exited (255)") == 2, r
    assert "b1" in out.split("--- boot\n")[1].split("--- ls")[0], r
    running = out.split("--- ls\n")[1].split("--- end")[0]
    assert "b1" in running and "b2" not in running, r


def test_bad_input(vmhost):
    r = engine(vmhost, r"""
$I vm run -d --kernel /nonexistent/kernel-$$ --memory 64M; echo "nokernel=$?"
$I vm run -d --name c1 --console none --kernel $G --memory 64M; echo "console=$?"
$I vm run -d --name x --kernel $G --memory 64M; echo "badname=$?"
$I vm stop nosuchvm; echo "stop=$?"
$I vm ls -aq | grep -q . && echo leftover-row
true
""")
    out = r.stdout
    assert "nokernel=125" in out and "/nonexistent/kernel-" in r.stderr, r
    assert "console=2" in out and "console" in r.stderr, r
    assert "badname=125" in out and 'invalid container name "x"' in r.stderr, r
    assert "stop=1" in out and "No such VM: nosuchvm" in r.stderr, r
    assert "leftover-row" not in out, r


def test_pause_resume_counter_goes_on(vmhost):
    r = engine(vmhost, r"""
$I vm run -d --name p1 --cpus 2 --kernel $G --cmdline 'mode=count ticks=20000000' \
    --memory 64M >/dev/null
waitfor "$I vm logs p1 | grep -q 'count 3$'" && echo counting
$I vm pause p1; echo "pause=$?"
echo "--- ls"; $I vm ls; echo "--- end"
$I vm inspect p1 | grep '"Paused"'
# the whole log, a line cut in the middle by the pause too
a=$($I vm logs p1 | cksum)
sleep 1
b=$($I vm logs p1 | cksum)
[ "$a" = "$b" ] && echo paused-still
n=$($I vm logs p1 | sed -n 's/^isola-guest: count \([0-9]*\)$/\1/p' | tail -n 1)
echo "last=$n"
$I vm pause p1; echo "pause-again=$?"
$I vm resume p1; echo "resume=$?"
waitfor "$I vm logs p1 | grep -q 'count $((n + 3))$'" && echo counting-again
$I vm logs p1 | grep -c 'isola-guest: hello' | sed 's/^/boots=/'
$I vm logs p1 | awk '/: count [0-9]+$/ { if ($3 != prev + 1) bad = 1; prev = $3 } END { print bad ? "gap" : "consecutive" }'
$I vm resume p1; echo "resume-again=$?"
$I vm pause p1 >/dev/null
$I vm stop -t 1 p1; echo "stop=$?"
$I vm ls -a | grep p1
$I vm pause p1; echo "pause-stopped=$?"
true
""")
    out = r.stdout
    assert "counting" in out and "pause=0" in out, r
    assert "(Paused)" in out.split("--- ls\n")[1].split("--- end")[0], r
    assert '"Paused": true' in out, r
    # nothing runs while paused: the log stays the same
    assert "paused-still" in out and "last=" in out and "last=\n" not in out, r
    assert "pause-again=1" in out and "is already paused" in r.stderr, r
    assert "resume=0" in out and "counting-again" in out, r
    # the same run goes on: one boot, no count skipped or repeated
    assert "boots=1" in out and "consecutive" in out, r
    assert "resume-again=1" in out and "is not paused" in r.stderr, r
    assert "stop=0" in out and "Exited (137)" in out, r
    assert "pause-stopped=1" in out and "is not running" in r.stderr, r

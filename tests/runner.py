#!/usr/bin/python3
"""Run every isola test suite and print one closing line: N passed, N failed, N skipped.

Suites: the C unit tests (TAP) of each build directory given, then the pytest
integration suite. Every program runs under a time bound; a suite that cannot
run counts as a failure, never as a silent pass.
"""
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
totals = {"passed": 0, "failed": 0, "skipped": 0}


def run_tap(name, argv, timeout=120):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True, errors="replace")
        out, code = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, code = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), -1
        out += f"\n# TIMEOUT after {timeout}s\n"
    passed = failed = skipped = 0
    planned = None
    for line in out.splitlines():
        m = re.match(r"^(not ok|ok)\b", line)
        if m:
            if "# SKIP" in line:
                skipped += 1
                print(f"  SKIP {name}: {line}")
            elif m.group(1) == "ok":
                passed += 1
            else:
                failed += 1
                print(f"  FAIL {name}: {line}")
        m = re.match(r"^1\.\.(\d+)", line)
        if m:
            planned = int(m.group(1))
        if line.startswith("#   ") or "ERROR: " in line or "runtime error" in line:
            print(f"  {name}: {line}")
    ran = passed + failed + skipped
    if code != 0 and failed == 0:
        failed += 1
        print(f"  FAIL {name}: exited with {code}")
        print("\n".join("    " + l for l in out.splitlines()[-30:]))
    if planned is not None and planned != ran:
        failed += 1
        print(f"  FAIL {name}: planned {planned} tests, ran {ran}")
    print(f"{name}: {passed} passed, {failed} failed, {skipped} skipped")
    totals["passed"] += passed
    totals["failed"] += failed
    totals["skipped"] += skipped


def unit_tests(builddir):
    out = subprocess.run(["meson", "introspect", "--tests", builddir],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    for t in json.loads(out):
        if t.get("protocol") != "tap":
            continue
        env = dict(os.environ, **t.get("env", {}))
        label = f"{os.path.basename(builddir)}/{t['name']}"
        os.environ.update(env)
        run_tap(label, t["cmd"], timeout=t.get("timeout", 120) or 120)


def pytest_suite(builddir, args):
    xml = os.path.join(builddir, "pytest-junit.xml")
    if os.path.exists(xml):
        os.unlink(xml)
    env = dict(os.environ, ISOLA_BUILD=os.path.abspath(builddir))
    cmd = ["/usr/bin/python3", "-m", "pytest", "-ra", "-p", "no:cacheprovider",
           f"--junitxml={xml}", os.path.join(ROOT, "tests", "integration")] + args
    print("$ " + " ".join(cmd), flush=True)
    code = subprocess.run(cmd, env=env, timeout=3600).returncode
    if not os.path.exists(xml):
        totals["failed"] += 1
        print(f"pytest: no report (exit {code})")
        return
    root = ET.parse(xml).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    p = f = s = 0
    for su in suites:
        n = int(su.get("tests", 0))
        fl = int(su.get("failures", 0)) + int(su.get("errors", 0))
        sk = int(su.get("skipped", 0))
        p += n - fl - sk
        f += fl
        s += sk
    if code not in (0, 1) and f == 0:
        f += 1
    print(f"pytest: {p} passed, {f} failed, {s} skipped")
    totals["passed"] += p
    totals["failed"] += f
    totals["skipped"] += s


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--unit", action="append", default=[], help="build dir for unit tests")
    ap.add_argument("--integration", help="build dir whose binaries pytest drives")
    ap.add_argument("--fail", action="append", default=[],
                    help="count a failed check that ran before (e.g. clang-format)")
    ap.add_argument("pytest_args", nargs="*")
    a = ap.parse_args()
    for name in a.fail:
        print(f"FAIL {name}")
        totals["failed"] += 1
    for b in a.unit:
        unit_tests(b)
    if a.integration:
        pytest_suite(a.integration, a.pytest_args)
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn containers-common's seccomp.json (docker's format, /usr/share/containers)
into the OCI `linux.seccomp` object a runtime receives, the way podman does for
an x86_64 container with the default capabilities: rules whose `includes` need
capabilities outside the default set or other arches are dropped, `excludes`
honoured, the docker-only keys removed. Prints the JSON on stdout."""
import json
import sys

DEFAULT_CAPS = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}
ARCH = "SCMP_ARCH_X86_64"


def keep(rule):
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if inc.get("arches") and ARCH not in inc["arches"] and "amd64" not in inc["arches"]:
        return False
    if inc.get("caps") and not set(inc["caps"]) <= DEFAULT_CAPS:
        return False
    if exc.get("caps") and set(exc["caps"]) & DEFAULT_CAPS:
        return False
    if exc.get("arches") and (ARCH in exc["arches"] or "amd64" in exc["arches"]):
        return False
    return True


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/containers/seccomp.json"
    with open(src) as f:
        d = json.load(f)
    out = {"defaultAction": d["defaultAction"]}
    if "defaultErrnoRet" in d:
        out["defaultErrnoRet"] = d["defaultErrnoRet"]
    arches = []
    for m in d.get("archMap") or []:
        if m["architecture"] == ARCH:
            arches = [m["architecture"]] + m.get("subArchitectures", [])
    if arches:
        out["architectures"] = arches
    rules = []
    for r in d["syscalls"]:
        if not keep(r):
            continue
        o = {"names": r["names"], "action": r["action"]}
        if r.get("args"):
            o["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a}
                         for a in r["args"]]
        if r.get("errnoRet") is not None and r["action"] in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
            o["errnoRet"] = r["errnoRet"]
        rules.append(o)
    out["syscalls"] = rules
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()

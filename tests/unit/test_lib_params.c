/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Libraries take parameters; only the front ends read the environment
 * (docs/design.md, "Layers"). With the variables set, the libraries' defaults
 * do not move.
 */
#include <stdlib.h>
#include <string.h>

#include "image/store.h"
#include "runtime/cgroup.h"
#include "tap.h"
#include "vm/kvm.h"

int main(void)
{
    struct vm_kvm k;
    struct err *e = NULL;

    setenv("ISOLA_ROOT", "/nonexistent/isola-root", 1);
    setenv("ISOLA_CGROUP_ROOT", "/nonexistent/cgroup", 1);
    setenv("ISOLA_KVM_DEV", "/nonexistent/kvm", 1);
    is_str(store_default_root(NULL), "/var/lib/isola", "store: $ISOLA_ROOT is the front end's");
    is_str(store_default_root("/x"), "/x", "store: the root given");
    is_str(cgroup_root(), "/sys/fs/cgroup", "cgroup: $ISOLA_CGROUP_ROOT is the front end's");
    ok(kvm_open(&k, "/nonexistent/other-kvm", &e) < 0 && e && strstr(e->msg, "other-kvm"),
       "kvm: the device given (%s)", e ? e->msg : "-");
    err_free(&e);
    if (kvm_open(&k, NULL, &e) == 0) {
        kvm_close(&k);
        ok(1, "kvm: /dev/kvm by default");
    } else {
        ok(e && strstr(e->msg, "/dev/kvm") && !strstr(e->msg, "nonexistent"),
           "kvm: /dev/kvm by default, not $ISOLA_KVM_DEV (%s)", e ? e->msg : "-");
    }
    err_free(&e);
    return done_testing();
}

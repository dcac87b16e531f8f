/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/spec.h"
#include "runtime/oci_state.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static char bundle[] = "/tmp/isola-test-spec-XXXXXX";

/* Parse the default config with one change applied by `patch` (a JSON object
 * merged at path "a.b" or the top when path is ""). Returns the error message. */
static char *try(const char *path, const char *patch)
{
    _cleanup_json_ json_t *j = spec_default(false);
    json_t *target = j;
    struct spec *s = NULL;
    struct err *e = NULL;
    char *msg = NULL;

    if (path[0]) {
        _cleanup_free_ char *p = strdup(path);
        char *save = NULL;
        for (char *t = strtok_r(p, ".", &save); t; t = strtok_r(NULL, ".", &save))
            target = json_object_get(target, t);
    }
    if (patch) {
        json_t *pj = json_loads(patch, 0, NULL);
        if (pj == NULL)
            return strdup("bad patch");
        json_object_update(target, pj);
        json_decref(pj);
    }
    if (spec_parse(j, bundle, &s, &e) < 0) {
        msg = strdup(e->msg);
        err_free(&e);
        return msg;
    }
    spec_free(s);
    return NULL;
}

#define expect_err(path, patch, want, name)            \
    do {                                               \
        char *m_ = try(path, patch);                   \
        ok(m_ &&strstr(m_, want) != NULL, "%s", name); \
        if (m_ && !strstr(m_, want))                   \
            printf("#   got: %s\n", m_);               \
        free(m_);                                      \
    } while (0)

int main(void)
{
    char rootfs[128];

    if (mkdtemp(bundle) == NULL)
        return 1;
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
    mkdir(rootfs, 0755);

    /* The default config has capabilities; without the caps implementation
     * merged they fail to parse, so test with them removed. */
    char *m = try("process", "{\"capabilities\": null}");
    ok(m == NULL, "default config (no caps) parses");
    if (m)
        printf("#   got: %s\n", m);
    free(m);

    expect_err("process.user", "{\"uid\": \"root\"}", "process.user.uid: expected",
               "wrong type names the path");
    /* runtime-spec config.md: unknown properties are ignored. */
    m = try("process", "{\"capabilities\": null, \"bogus\": 1}");
    ok(m == NULL, "unknown process field ignored");
    free(m);
    m = try("", "{\"bogus\": {}}");
    ok(m == NULL, "unknown top-level field ignored");
    free(m);
    expect_err("", "{\"hostname\": 7}", "hostname: expected a string",
               "known field of the wrong type still fails");
    expect_err("process",
               "{\"capabilities\": null, \"rlimits\": [{\"type\": \"RLIMIT_FOO\", "
               "\"soft\": 1, \"hard\": 1}]}",
               "process.rlimits[0].type: unknown rlimit `RLIMIT_FOO`", "unknown rlimit");
    expect_err("process", "{\"capabilities\": null, \"cwd\": \"relative\"}",
               "process.cwd: `relative` is not an absolute path", "relative cwd");
    expect_err("process", "{\"capabilities\": null, \"args\": []}", "process.args", "empty args");
    expect_err("root", "{\"path\": \"missing\"}", "root.path", "missing rootfs");
    expect_err("linux", "{\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"bogus\"}]}",
               "linux.namespaces[1].type: unknown namespace type `bogus`", "unknown namespace");
    expect_err("linux", "{\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"mount\"}]}",
               "given twice", "duplicate namespace");
    expect_err("linux", "{\"sysctl\": {\"kernel.panic\": \"1\"}}", "linux.sysctl.kernel.panic",
               "host sysctl refused");
    expect_err("linux", "{\"sysctl\": {\"net.ipv4.ip_forward\": 1}}", "expected a string",
               "sysctl value type");
    expect_err("linux", "{\"intelRdt\": {}}", "linux.intelRdt: not supported", "intelRdt refused");
    expect_err("linux", "{\"namespaces\": [{\"type\": \"uts\"}], \"maskedPaths\": [\"/x\"]}",
               "needs a mount namespace", "no mount namespace: no mounts");
    expect_err("linux",
               "{\"namespaces\": [{\"type\": \"uts\"}], \"sysctl\": {\"kernel.hostname\": \"x\"}}",
               "conflicts with the OCI field `hostname`", "kernel.hostname sysctl refused");
    expect_err("",
               "{\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": "
               "\"/tmp\", \"options\": [\"copy-symlink\"]}]}",
               "mounts[0].options[0]: `copy-symlink` is not supported", "copy-symlink refused");
    expect_err("",
               "{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": "
               "[\"idmap\"]}]}",
               "mounts[0]: idmapped mounts are supported on bind mounts only", "idmap on a tmpfs");
    expect_err("",
               "{\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": "
               "\"/tmp\", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}]}",
               "needs both uidMappings and gidMappings", "idmap needs both maps");
    expect_err("", "{\"mounts\": [{\"destination\": \"x\", \"type\": \"tmpfs\"}]}",
               "mounts[0].destination", "relative mount destination");
    expect_err("", "{\"mounts\": [{\"destination\": \"/x\", \"type\": \"nfs\"}]}",
               "unsupported filesystem type `nfs`", "unknown fs type");
    expect_err("", "{\"hooks\": {\"prestart\": [{\"path\": \"rel\"}]}}", "hooks.prestart[0].path",
               "relative hook path");
    expect_err("", "{\"ociVersion\": \"2.0.0\"}", "ociVersion", "version checked");

    /* mount options */
    struct spec_mount mt = {.type = "tmpfs"};
    struct err *e = NULL;
    json_t *o = json_loads("[\"ro\",\"nosuid\",\"rprivate\",\"rnoexec\",\"mode=755\",\"size=1m\"]",
                           0, NULL);
    ok(spec_mount_options(o, "m", &mt, &e) == 0, "mount options parse");
    ok(mt.flags == (MS_RDONLY | MS_NOSUID), "flags");
    ok(mt.propagation == (MS_PRIVATE | MS_REC), "propagation");
    ok(mt.attr_set != 0, "recursive attribute");
    is_str(mt.data, "mode=755,size=1m", "data options");
    free(mt.data);
    json_decref(o);

    /* ids */
    ok(oci_state_check_id("abc-1.2_x+", &e) == 0, "valid id");
    ok(oci_state_check_id("a/b", &e) < 0, "slash in id refused");
    err_free(&e);
    ok(oci_state_check_id("..", &e) < 0, "dot-dot id refused");
    err_free(&e);

    rmdir(rootfs);
    rmdir(bundle);
    return done_testing();
}

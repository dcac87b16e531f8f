/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/vm_config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/js.h"
#include "util/size.h"

void vm_config_init(struct vm_config *c)
{
    memset(c, 0, sizeof(*c));
    c->cpus = 1;
    c->memory = 256ULL << 20;
}

void vm_config_free(struct vm_config *c)
{
    free(c->kernel);
    free(c->initrd);
    free(c->cmdline);
    for (unsigned int i = 0; i < c->ndisks; i++)
        free(c->disks[i].path);
    for (unsigned int i = 0; i < c->nnets; i++) {
        free(c->nets[i].tap);
        free(c->nets[i].mac);
    }
    free(c->vsock_uds);
    free(c->console_file);
    free(c->control);
    memset(c, 0, sizeof(*c));
}

static int vm_config_dup(char **dst, const char *s, struct err **err)
{
    char *d = strdup(s);

    if (d == NULL)
        return err_set(err, ENOMEM, "config");
    free(*dst);
    *dst = d;
    return 0;
}

int vm_config_parse_memory(const char *s, uint64_t *bytes, struct err **err)
{
    int64_t v;

    /* util/size.c's rule; a bare number is MiB here, as QEMU's -m counts. */
    if (size_parse(s, 1ULL << 20, &v, err) < 0)
        return err_wrap(err, "memory");
    *bytes = (uint64_t)v;
    return 0;
}

int vm_config_add_disk(struct vm_config *c, const char *spec, struct err **err)
{
    _cleanup_free_ char *s = strdup(spec);
    char *comma;
    bool ro = false;

    if (s == NULL)
        return err_set(err, ENOMEM, "disk");
    if (c->ndisks >= VM_CONFIG_MAX_DISKS)
        return err_val(err, E2BIG, "disk `%s`: at most %d disks", spec, VM_CONFIG_MAX_DISKS);
    comma = strchr(s, ',');
    if (comma != NULL) {
        *comma = '\0';
        if (strcmp(comma + 1, "ro") == 0 || strcmp(comma + 1, "readonly") == 0)
            ro = true;
        else if (strcmp(comma + 1, "rw") != 0)
            return err_val(err, EINVAL, "disk `%s`: unknown option `%s` (expected ro)", spec,
                           comma + 1);
    }
    if (*s == '\0')
        return err_val(err, EINVAL, "disk `%s`: empty path", spec);
    c->disks[c->ndisks].path = steal_ptr(&s);
    c->disks[c->ndisks].readonly = ro;
    c->ndisks++;
    return 0;
}

int vm_config_add_net(struct vm_config *c, const char *spec, struct err **err)
{
    _cleanup_free_ char *s = strdup(spec);
    char *tap = NULL, *mac = NULL, *save = NULL;

    if (s == NULL)
        return err_set(err, ENOMEM, "net");
    if (c->nnets >= VM_CONFIG_MAX_NETS)
        return err_val(err, E2BIG, "net `%s`: at most %d interfaces", spec, VM_CONFIG_MAX_NETS);
    for (char *t = strtok_r(s, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (strncmp(t, "tap=", 4) == 0)
            tap = t + 4;
        else if (strncmp(t, "mac=", 4) == 0)
            mac = t + 4;
        else
            return err_val(err, EINVAL, "net `%s`: unknown option `%s` (expected tap=, mac=)", spec,
                           t);
    }
    if (tap == NULL || *tap == '\0')
        return err_val(err, EINVAL, "net `%s`: expected tap=NAME", spec);
    if (vm_config_dup(&c->nets[c->nnets].tap, tap, err) < 0 ||
        (mac != NULL && vm_config_dup(&c->nets[c->nnets].mac, mac, err) < 0))
        return -1;
    c->nnets++;
    return 0;
}

int vm_config_set_console(struct vm_config *c, const char *spec, struct err **err)
{
    c->console_none = false;
    free(c->console_file);
    c->console_file = NULL;
    if (strcmp(spec, "terminal") == 0 || strcmp(spec, "tty") == 0)
        return 0;
    if (strcmp(spec, "none") == 0) {
        c->console_none = true;
        return 0;
    }
    if (strncmp(spec, "file=", 5) == 0 && spec[5] != '\0')
        return vm_config_dup(&c->console_file, spec + 5, err);
    return err_val(err, EINVAL, "console `%s`: expected terminal, none or file=PATH", spec);
}

static int vm_config_str(json_t *j, const char *key, char **dst, struct err **err)
{
    const char *s = NULL;
    int r = js_get_str(j, "", key, false, &s, err);

    if (r <= 0)
        return r;
    return vm_config_dup(dst, s, err);
}

int vm_config_load_file(struct vm_config *c, const char *path, struct err **err)
{
    static const char *const keys[] = {"kernel",     "initrd",  "cmdline", "cpus",
                                       "memory_mib", "boot",    "disks",   "nets",
                                       "vsock",      "console", "rng",     NULL};
    _cleanup_json_ json_t *j = NULL;
    json_t *arr = NULL, *v, *con;
    const char *boot = NULL;
    int64_t n;
    size_t i;

    if (js_load_file(path, &j, err) < 0)
        return -1;
    if (!json_is_object(j))
        return err_val(err, EINVAL, "config `%s`: expected a JSON object", path);
    if (js_check_keys_strict(j, "", keys, err) < 0 ||
        vm_config_str(j, "kernel", &c->kernel, err) < 0 ||
        vm_config_str(j, "initrd", &c->initrd, err) < 0 ||
        vm_config_str(j, "cmdline", &c->cmdline, err) < 0)
        goto fail;
    if (js_get_range(j, "", "cpus", false, 0, 1024, &n, err) < 0)
        goto fail;
    if (json_object_get(j, "cpus") != NULL)
        c->cpus = (unsigned int)n;
    if (js_get_range(j, "", "memory_mib", false, 0, INT64_MAX >> 20, &n, err) < 0)
        goto fail;
    if (json_object_get(j, "memory_mib") != NULL)
        c->memory = (uint64_t)n << 20;
    if (js_get_bool(j, "", "rng", false, &c->rng, err) < 0 ||
        js_get_str(j, "", "boot", false, &boot, err) < 0)
        goto fail;
    if (boot != NULL) {
        if (strcmp(boot, "pvh") == 0)
            c->boot = BOOT_PVH;
        else if (strcmp(boot, "linux64") == 0)
            c->boot = BOOT_LINUX64;
        else {
            err_val(err, EINVAL, "boot: expected linux64 or pvh, got `%s`", boot);
            goto fail;
        }
    }
    if (js_get_arr(j, "", "disks", false, &arr, err) < 0)
        goto fail;
    if (arr != NULL)
        json_array_foreach (arr, i, v) {
            static const char *const dk[] = {"path", "readonly", NULL};
            const char *p = NULL;
            bool ro = false;
            char where[32];
            snprintf(where, sizeof(where), "disks[%zu]", i);
            if (js_check_keys_strict(v, where, dk, err) < 0 ||
                js_get_str(v, where, "path", true, &p, err) < 0 ||
                js_get_bool(v, where, "readonly", false, &ro, err) < 0 ||
                vm_config_add_disk(c, p, err) < 0)
                goto fail;
            c->disks[c->ndisks - 1].readonly = ro;
        }
    arr = NULL;
    if (js_get_arr(j, "", "nets", false, &arr, err) < 0)
        goto fail;
    if (arr != NULL)
        json_array_foreach (arr, i, v) {
            static const char *const nk[] = {"tap", "mac", NULL};
            const char *tap = NULL, *mac = NULL;
            char where[32];
            snprintf(where, sizeof(where), "nets[%zu]", i);
            if (js_check_keys_strict(v, where, nk, err) < 0 ||
                js_get_str(v, where, "tap", true, &tap, err) < 0 ||
                js_get_str(v, where, "mac", false, &mac, err) < 0)
                goto fail;
            if (c->nnets >= VM_CONFIG_MAX_NETS) {
                err_val(err, E2BIG, "%s: at most %d interfaces", where, VM_CONFIG_MAX_NETS);
                goto fail;
            }
            if (vm_config_dup(&c->nets[c->nnets].tap, tap, err) < 0 ||
                (mac != NULL && vm_config_dup(&c->nets[c->nnets].mac, mac, err) < 0))
                goto fail;
            c->nnets++;
        }
    v = NULL;
    if (js_get_obj(j, "", "vsock", false, &v, err) < 0)
        goto fail;
    if (v != NULL) {
        static const char *const vk[] = {"cid", "uds", NULL};
        if (js_check_keys_strict(v, "vsock", vk, err) < 0 ||
            js_get_range(v, "vsock", "cid", true, 3, UINT32_MAX - 1, &n, err) < 0 ||
            vm_config_str(v, "uds", &c->vsock_uds, err) < 0)
            goto fail;
        c->vsock_cid = (uint32_t)n;
    }
    con = json_object_get(j, "console");
    if (json_is_string(con)) {
        if (vm_config_set_console(c, json_string_value(con), err) < 0)
            goto fail;
    } else if (json_is_object(con)) {
        const char *f = NULL;
        if (js_get_str(con, "console", "file", true, &f, err) < 0 ||
            vm_config_dup(&c->console_file, f, err) < 0)
            goto fail;
    } else if (con != NULL && !json_is_null(con)) {
        err_val(err, EINVAL, "console: expected a string or {\"file\": PATH}, got %s",
                js_type_name(con));
        goto fail;
    }
    return 0;
fail:
    return err_wrap(err, "config `%s`", path);
}

int vm_config_validate(const struct vm_config *c, struct err **err)
{
    struct sysinfo si;

    if (c->kernel == NULL)
        return err_val(err, EINVAL, "no kernel given (--kernel PATH)");
    if (c->cpus == 0)
        return err_val(err, EINVAL, "cpus: a VM needs at least 1 vCPU");
    if (c->cpus > 64)
        return err_val(err, EINVAL, "cpus: %u is more than the 64 vCPUs supported", c->cpus);
    if (c->memory < (16ULL << 20))
        return err_val(err, EINVAL, "memory: %llu MiB is less than the 16 MiB minimum",
                       (unsigned long long)(c->memory >> 20));
    if (sysinfo(&si) == 0) {
        uint64_t host = (uint64_t)si.totalram * si.mem_unit;
        if (c->memory > host)
            return err_val(err, ENOMEM, "memory: %llu MiB is more than this host's %llu MiB of RAM",
                           (unsigned long long)(c->memory >> 20), (unsigned long long)(host >> 20));
    }
    if (c->vsock_cid != 0 && c->vsock_cid < 3)
        return err_val(err, EINVAL, "vsock: guest CID %u is reserved (use 3 or more)",
                       c->vsock_cid);
    return 0;
}

/* The file form that vm_config_load_file() reads back (memory in whole MiB). */
int vm_config_to_json(const struct vm_config *c, json_t **out, struct err **err)
{
    _cleanup_json_ json_t *j = json_object(), *disks = json_array(), *nets = json_array();

    if (!j || !disks || !nets)
        return err_set(err, ENOMEM, "config to JSON");
    if (c->kernel)
        json_object_set_new(j, "kernel", json_string(c->kernel));
    if (c->initrd)
        json_object_set_new(j, "initrd", json_string(c->initrd));
    if (c->cmdline)
        json_object_set_new(j, "cmdline", json_string(c->cmdline));
    json_object_set_new(j, "cpus", json_integer(c->cpus));
    json_object_set_new(j, "memory_mib", json_integer((json_int_t)(c->memory >> 20)));
    json_object_set_new(j, "boot", json_string(c->boot == BOOT_PVH ? "pvh" : "linux64"));
    for (unsigned int i = 0; i < c->ndisks; i++)
        json_array_append_new(disks, json_pack("{s:s, s:b}", "path", c->disks[i].path, "readonly",
                                               c->disks[i].readonly));
    json_object_set(j, "disks", disks);
    for (unsigned int i = 0; i < c->nnets; i++) {
        json_t *n = json_pack("{s:s}", "tap", c->nets[i].tap);
        if (n && c->nets[i].mac)
            json_object_set_new(n, "mac", json_string(c->nets[i].mac));
        json_array_append_new(nets, n);
    }
    json_object_set(j, "nets", nets);
    if (c->vsock_cid) {
        json_t *v = json_pack("{s:I}", "cid", (json_int_t)c->vsock_cid);
        if (v && c->vsock_uds)
            json_object_set_new(v, "uds", json_string(c->vsock_uds));
        json_object_set_new(j, "vsock", v);
    }
    json_object_set_new(j, "rng", json_boolean(c->rng));
    if (c->console_none)
        json_object_set_new(j, "console", json_string("none"));
    else if (c->console_file)
        json_object_set_new(j, "console", json_pack("{s:s}", "file", c->console_file));
    else
        json_object_set_new(j, "console", json_string("terminal"));
    *out = j;
    j = NULL;
    return 0;
}

static int vm_config_abs1(char **p, const char *what, bool must_exist, struct err **err)
{
    char buf[PATH_MAX];

    if (*p == NULL || (**p == '/' && !must_exist))
        return 0;
    if (must_exist) {
        if (realpath(*p, buf) == NULL)
            return err_sys(err, "%s `%s`", what, *p);
    } else {
        if (getcwd(buf, sizeof(buf)) == NULL)
            return err_sys(err, "%s `%s`: getcwd", what, *p);
        size_t l = strlen(buf);
        if (snprintf(buf + l, sizeof(buf) - l, "/%s", *p) >= (int)(sizeof(buf) - l))
            return err_val(err, ENAMETOOLONG, "%s `%s`: path too long", what, *p);
    }
    return vm_config_dup(p, buf, err);
}

int vm_config_absolute(struct vm_config *c, struct err **err)
{
    if (vm_config_abs1(&c->kernel, "kernel", true, err) < 0 ||
        vm_config_abs1(&c->initrd, "initrd", true, err) < 0 ||
        vm_config_abs1(&c->vsock_uds, "vsock socket", false, err) < 0 ||
        vm_config_abs1(&c->console_file, "console file", false, err) < 0)
        return -1;
    for (unsigned int i = 0; i < c->ndisks; i++)
        if (vm_config_abs1(&c->disks[i].path, "disk", true, err) < 0)
            return -1;
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A microVM's configuration, from the command line or a JSON file (docs/vm.md):
 * {"kernel": PATH, "initrd": PATH, "cmdline": STR, "cpus": N, "memory_mib": N,
 *  "boot": "linux64"|"pvh", "disks": [{"path": P, "readonly": B}],
 *  "nets": [{"tap": NAME, "mac": "52:54:00:..."}], "vsock": {"cid": N, "uds": PATH},
 *  "rng": B, "console": "terminal" | "none" | {"file": PATH}}
 */
#ifndef ISOLA_VM_CONFIG_H
#define ISOLA_VM_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "vm/boot.h"

#define VM_CONFIG_MAX_DISKS 8
#define VM_CONFIG_MAX_NETS  4

struct vm_config {
    char *kernel, *initrd, *cmdline;
    enum boot_mode boot;
    unsigned int cpus;
    uint64_t memory; /* bytes */
    struct {
        char *path;
        bool readonly;
    } disks[VM_CONFIG_MAX_DISKS];
    unsigned int ndisks;
    struct {
        char *tap;
        char *mac; /* NULL: derived from the tap's name */
    } nets[VM_CONFIG_MAX_NETS];
    unsigned int nnets;
    uint32_t vsock_cid; /* 0: no vsock device */
    char *vsock_uds;    /* host socket path prefix */
    bool rng;           /* a virtio-rng device */
    bool console_none;
    char *console_file;  /* NULL: the terminal (stdin/stdout) */
    const char *kvm_dev; /* NULL: /dev/kvm (not owned) */
    bool no_ioeventfd;   /* queue notifications as MMIO exits (docs/virtio.md) */
    char *control;       /* the control socket's path (control.h), NULL: none;
                            command line only, not in the JSON form */
};

void vm_config_init(struct vm_config *c);
void vm_config_free(struct vm_config *c);

/* Fill c from a JSON file (fields not in the file keep their values). */
int vm_config_load_file(struct vm_config *c, const char *path, struct err **err);

/* Command-line forms: "PATH[,ro]", "tap=NAME[,mac=MAC]", "terminal|none|file=PATH",
 * sizes "512M", "2G", "1024" (MiB). */
int vm_config_add_disk(struct vm_config *c, const char *spec, struct err **err);
int vm_config_add_net(struct vm_config *c, const char *spec, struct err **err);
int vm_config_set_console(struct vm_config *c, const char *spec, struct err **err);
int vm_config_parse_memory(const char *s, uint64_t *bytes, struct err **err);

/* The JSON file form of c (vm_config_load_file() reads it back). */
int vm_config_to_json(const struct vm_config *c, json_t **out, struct err **err);
/* Make every relative path absolute (against the working directory; files
 * that must exist, the kernel, initrd and disks, are resolved with realpath
 * and so must exist, absolute or not), for a VM whose monitor runs
 * elsewhere (isola vm run -d). */
int vm_config_absolute(struct vm_config *c, struct err **err);

/* Check values the builder cannot (0 CPUs, memory beyond the host's). */
int vm_config_validate(const struct vm_config *c, struct err **err);

#endif

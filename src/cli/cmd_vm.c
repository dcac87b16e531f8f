/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `isola vm run`: boot a microVM (see docs/vm.md for options and exit statuses).
 * `isola vm extract-kernel BZIMAGE OUT`: write the bzImage's payload as an ELF vmlinux.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cmd_vm.h"
#include "cli/commands.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "vm/builder.h"
#include "vm/extract.h"
#include "vm/snapshot.h"

static void vm_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: isola vm run [OPTIONS]\n"
            "       isola vm extract-kernel BZIMAGE OUT\n"
            "Managed VMs (isola, not isola-vmm; docs/vm.md):\n"
            "       isola vm run -d [--name NAME] [--restart POLICY] [--stop-timeout S] [OPTIONS]\n"
            "       isola vm ls [-a] [-q] | stop [-t S] | kill [-s SIG] | rm [-f] VM...\n"
            "       isola vm logs [-f] VM | console [--detach-keys K] VM | inspect VM...\n"
            "       isola vm start VM... | pause VM... | resume VM...\n"
            "       isola vm snapshot [--leave-paused] VM DIR | restore [--name NAME] DIR\n"
            "\n"
            "Options of `run`:\n"
            "  --kernel PATH        bzImage or ELF vmlinux (required)\n"
            "  --initrd PATH        initial ramdisk\n"
            "  --image IMAGE        managed: boot IMAGE's root file system as the root disk\n"
            "                       (ext4, cached per image; the VM writes its own copy)\n"
            "                       with the image's init; --kernel and --initrd as above\n"
            "  --cmdline STR        kernel command line\n"
            "  --boot linux64|pvh   entry protocol (default linux64)\n"
            "  --cpus N             vCPUs (default 1)\n"
            "  --memory SIZE        RAM, e.g. 512M, 2G (default 256M)\n"
            "  --disk PATH[,ro]     virtio-blk disk (repeatable)\n"
            "  --net tap=NAME[,mac=MAC]  virtio-net on a tap (repeatable)\n"
            "  --net network=NAME[,ip=IP][,mac=MAC]  virtio-net on a network of the\n"
            "                       engine: a tap on its bridge, its IPAM's address\n"
            "                       leased by DHCP, the name in its DNS (foreground only)\n"
            "  --vsock CID          virtio-vsock with guest CID (--vsock-uds PATH)\n"
            "  --vsock-uds PATH     host socket prefix: PATH_<port> (default vsock-CID.sock)\n"
            "  --rng                virtio-rng (host getrandom)\n"
            "  --console terminal|none|file=PATH   serial console (default terminal)\n"
            "  --config FILE.json   settings from a file (options after it override)\n"
            "  --restore DIR        continue the guest of a snapshot (docs/vm.md, \"Snapshot\n"
            "                       and restore\"); console and --control from this command\n"
            "                       line, the rest from the snapshot\n"
            "  -d, --detach         managed: run in the background under isola-monitor\n"
            "  --name NAME          the VM's name (managed, and on its networks;\n"
            "                       default: generated)\n"
            "  --restart POLICY     managed: no, on-failure[:N], always, unless-stopped\n"
            "  --stop-timeout S     managed: seconds from the shutdown request to power off\n"
            "                       (default 10)\n"
            "\n"
            "Exit status: 0 power-off, the guest's code (debug port 0x501), 80 reboot,\n"
            "81 triple fault, 82 guest panic, 83 KVM internal error, 1 monitor error,\n"
            "128+N stopped by signal N.\n");
}

struct console {
    struct serial *serial;
    bool tty;
    bool escape; /* saw Ctrl-A */
    struct vm_machine *m;
};

static void console_input(void *ctx, const uint8_t *buf, size_t len)
{
    struct console *c = ctx;

    if (!c->tty) {
        serial_input(c->serial, buf, len);
        return;
    }
    /* On a terminal, Ctrl-A x ends the VM (as QEMU's -serial mon:stdio). */
    for (size_t i = 0; i < len; i++) {
        if (c->escape) {
            c->escape = false;
            if (buf[i] == 'x') {
                machine_end(c->m, VM_END_SIGNAL, 2, "%s", "stopped from the console");
                return;
            }
            if (buf[i] != 1)
                serial_input(c->serial, (const uint8_t *)"\x01", 1);
        } else if (buf[i] == 1) {
            c->escape = true;
            continue;
        }
        serial_input(c->serial, buf + i, 1);
    }
}

int vm_run_parse(int argc, char **argv, struct vm_config *cfg, struct vm_run_extra *x,
                 struct err **err)
{
    enum {
        O_KERNEL = 256,
        O_INITRD,
        O_CMDLINE,
        O_CPUS,
        O_MEMORY,
        O_DISK,
        O_NET,
        O_VSOCK,
        O_VSOCK_UDS,
        O_CONSOLE,
        O_CONFIG,
        O_BOOT,
        O_RNG,
        O_NAME,
        O_RESTART,
        O_STOP_TIMEOUT,
        O_IMAGE,
        O_CONTROL,
        O_RESTORE
    };
    static const struct option opts[] = {
        {"kernel", required_argument, NULL, O_KERNEL},
        {"initrd", required_argument, NULL, O_INITRD},
        {"cmdline", required_argument, NULL, O_CMDLINE},
        {"cpus", required_argument, NULL, O_CPUS},
        {"memory", required_argument, NULL, O_MEMORY},
        {"disk", required_argument, NULL, O_DISK},
        {"net", required_argument, NULL, O_NET},
        {"vsock", required_argument, NULL, O_VSOCK},
        {"vsock-uds", required_argument, NULL, O_VSOCK_UDS},
        {"console", required_argument, NULL, O_CONSOLE},
        {"config", required_argument, NULL, O_CONFIG},
        {"boot", required_argument, NULL, O_BOOT},
        {"rng", no_argument, NULL, O_RNG},
        {"detach", no_argument, NULL, 'd'},
        {"name", required_argument, NULL, O_NAME},
        {"restart", required_argument, NULL, O_RESTART},
        {"stop-timeout", required_argument, NULL, O_STOP_TIMEOUT},
        {"image", required_argument, NULL, O_IMAGE},
        {"control", required_argument, NULL, O_CONTROL},
        {"restore", required_argument, NULL, O_RESTORE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;

    memset(x, 0, sizeof(*x));
    x->stop_timeout = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hd", opts, NULL)) != -1) {
        int r = 0;
        switch (c) {
        case O_KERNEL:
            free(cfg->kernel);
            cfg->kernel = strdup(optarg);
            break;
        case O_INITRD:
            free(cfg->initrd);
            cfg->initrd = strdup(optarg);
            break;
        case O_CMDLINE:
            free(cfg->cmdline);
            cfg->cmdline = strdup(optarg);
            break;
        case O_CPUS: {
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || errno != 0 || n < 0 || n > 100000)
                r = err_val(err, EINVAL, "--cpus `%s`: expected a number", optarg);
            else
                cfg->cpus = (unsigned int)n;
            break;
        }
        case O_MEMORY:
            r = vm_config_parse_memory(optarg, &cfg->memory, err);
            x->memory_set = true;
            break;
        case O_DISK:
            r = vm_config_add_disk(cfg, optarg, err);
            break;
        case O_NET:
            r = vm_config_add_net(cfg, optarg, err);
            break;
        case O_VSOCK: {
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || errno != 0 || n < 3 || n >= UINT32_MAX)
                r = err_val(err, EINVAL, "--vsock `%s`: expected a guest CID >= 3", optarg);
            else
                cfg->vsock_cid = (uint32_t)n;
            break;
        }
        case O_VSOCK_UDS:
            free(cfg->vsock_uds);
            cfg->vsock_uds = strdup(optarg);
            break;
        case O_CONSOLE:
            r = vm_config_set_console(cfg, optarg, err);
            x->console_set = r == 0;
            break;
        case O_CONFIG:
            r = vm_config_load_file(cfg, optarg, err);
            break;
        case O_BOOT:
            if (strcmp(optarg, "pvh") == 0)
                cfg->boot = BOOT_PVH;
            else if (strcmp(optarg, "linux64") == 0)
                cfg->boot = BOOT_LINUX64;
            else
                r = err_val(err, EINVAL, "--boot `%s`: expected linux64 or pvh", optarg);
            break;
        case O_RNG:
            cfg->rng = true;
            break;
        case 'd':
            x->detach = true;
            break;
        case O_NAME:
            x->name = optarg;
            break;
        case O_RESTART:
            x->restart = optarg;
            break;
        case O_STOP_TIMEOUT: {
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || errno != 0 || n < 0 || n > 86400)
                r = err_val(err, EINVAL, "--stop-timeout `%s`: expected seconds", optarg);
            else
                x->stop_timeout = (int)n;
            break;
        }
        case O_IMAGE:
            x->image = optarg;
            break;
        case O_CONTROL:
            x->control = optarg;
            free(cfg->control);
            cfg->control = strdup(optarg);
            break;
        case O_RESTORE:
            x->restore = optarg;
            break;
        case 'h':
            return 1;
        default:
            return err_val(err, EINVAL, "%s", "bad usage (see --help)");
        }
        if (r < 0)
            return -1;
    }
    if (optind < argc)
        return err_val(err, EINVAL, "unexpected argument `%s`", argv[optind]);
    x->managed = x->detach || x->name || x->restart || x->image || x->stop_timeout >= 0;
    return 0;
}

/* --restore: the snapshot's config replaces cfg, but for what belongs to
 * this run (console, control socket, KVM device knobs). */
static int vm_restore_config(const struct vm_run_extra *x, struct vm_config *cfg, struct err **err)
{
    struct vm_config snap;

    vm_config_init(&snap);
    if (snapshot_check(x->restore, x->memory_set ? cfg->memory : 0, &snap, err) < 0) {
        vm_config_free(&snap);
        return -1;
    }
    free(snap.console_file);
    snap.console_file = cfg->console_file;
    cfg->console_file = NULL;
    snap.console_none = cfg->console_none;
    free(snap.control);
    snap.control = cfg->control;
    cfg->control = NULL;
    snap.kvm_dev = cfg->kvm_dev;
    snap.no_ioeventfd = cfg->no_ioeventfd;
    vm_config_free(cfg);
    *cfg = snap;
    return 0;
}

static int vm_run(int argc, char **argv)
{
    _cleanup_err_ struct err *err = NULL;
    struct vm_config cfg;
    struct vm_run_extra x;
    struct vm_machine m;
    struct console con = {0};
    struct termios saved;
    _cleanup_close_ int log_fd = -1;
    int out_fd = STDOUT_FILENO, in_fd = -1, status;

    vm_config_init(&cfg);
    /* The monitor's environment knobs (docs/vm.md): read here, passed down. */
    const char *kvm_dev = getenv("ISOLA_KVM_DEV"), *no_ioev = getenv("ISOLA_VMM_NO_IOEVENTFD");
    cfg.kvm_dev = kvm_dev && *kvm_dev ? kvm_dev : NULL;
    cfg.no_ioeventfd = no_ioev && *no_ioev && strcmp(no_ioev, "0") != 0;
    int pr = vm_run_parse(argc, argv, &cfg, &x, &err);
    if (pr == 1) {
        vm_usage(stdout);
        vm_config_free(&cfg);
        return 0;
    }
    if (pr == 0 && x.managed)
        pr = err_val(&err, ENOTSUP, "%s",
                     "-d, --name, --restart, --stop-timeout and --image need `isola vm run` "
                     "(isola-vmm runs one VM in the foreground)");
    if (pr < 0) {
        err_print(err, "isola vm run", stderr);
        vm_config_free(&cfg);
        return 2;
    }

    if (x.restore != NULL && vm_restore_config(&x, &cfg, &err) < 0) {
        err_print(err, "isola vm run --restore", stderr);
        vm_config_free(&cfg);
        return VM_STATUS_ERROR;
    }
    if (cfg.console_none) {
        out_fd = -1;
    } else if (cfg.console_file != NULL) {
        log_fd = open(cfg.console_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log_fd < 0) {
            err_sys(&err, "console file `%s`", cfg.console_file);
            err_print(err, "isola vm run", stderr);
            vm_config_free(&cfg);
            return VM_STATUS_ERROR;
        }
        out_fd = log_fd;
    } else {
        in_fd = STDIN_FILENO;
    }

    if (builder_build(&cfg, out_fd, &m, &con.serial, &err) < 0) {
        err_print(err, "isola vm run", stderr);
        machine_destroy(&m);
        vm_config_free(&cfg);
        return VM_STATUS_ERROR;
    }
    if (x.restore != NULL && snapshot_restore(&m, x.restore, &err) < 0) {
        err_print(err, "isola vm run --restore", stderr);
        machine_destroy(&m);
        vm_config_free(&cfg);
        return VM_STATUS_ERROR;
    }
    con.m = &m;
    con.tty = in_fd >= 0 && isatty(in_fd) && tcgetattr(in_fd, &saved) == 0;
    if (con.tty) {
        struct termios raw = saved;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR;
        tcsetattr(in_fd, TCSANOW, &raw);
    }
    if (machine_run(&m, in_fd, console_input, &con, &err) < 0)
        err_print(err, "isola vm run", stderr);
    if (con.tty)
        tcsetattr(in_fd, TCSANOW, &saved);
    status = builder_exit_status(&m);
    const char *stats = getenv("ISOLA_VMM_STATS");
    if (stats != NULL && *stats != '\0' && strcmp(stats, "0") != 0) {
        uint64_t all = 0, mmio = 0, pio = 0;
        for (unsigned int i = 0; i < m.ncpus; i++) {
            all += m.vcpus[i].exits;
            mmio += m.vcpus[i].mmio_exits;
            pio += m.vcpus[i].pio_exits;
        }
        fprintf(stderr, "isola vm run: exits to the monitor: %llu (MMIO %llu, PIO %llu)\n",
                (unsigned long long)all, (unsigned long long)mmio, (unsigned long long)pio);
    }
    if (m.end != VM_END_POWEROFF && m.end != VM_END_EXIT_CODE)
        fprintf(stderr, "isola vm run: guest ended: %s%s%s (exit status %d)\n",
                machine_end_name(m.end), m.end_msg[0] ? ": " : "", m.end_msg, status);
    machine_destroy(&m);
    vm_config_free(&cfg);
    return status;
}

static int vm_extract(int argc, char **argv)
{
    _cleanup_err_ struct err *err = NULL;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        vm_usage(stdout);
        return 0;
    }
    if (argc != 3) {
        vm_usage(stderr);
        return 2;
    }
    if (extract_kernel(argv[1], argv[2], &err) < 0) {
        err_print(err, "isola vm extract-kernel", stderr);
        return 1;
    }
    return 0;
}

int cmd_vm_here(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        vm_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return vm_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "extract-kernel") == 0)
        return vm_extract(argc - 1, argv + 1);
    fprintf(
        stderr,
        "isola vm: unknown subcommand `%s` (run, extract-kernel, ls, start, stop, kill, rm, logs, "
        "console, inspect, pause, resume, snapshot, restore)\n",
        argv[1]);
    return 2;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A virtual machine: KVM objects, guest RAM, buses of devices, vCPU threads,
 * and how the guest ended. The builder (builder.c) assembles one from a config;
 * arch code (boot.c, acpi.c) fills guest memory and vCPU registers.
 */
#ifndef ISOLA_VM_MACHINE_H
#define ISOLA_VM_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/reaper.h"
#include "vm/bus.h"
#include "vm/kvm.h"
#include "vm/mem.h"

/* How a guest run ended; the CLI maps these to exit statuses (docs/vm.md). */
enum vm_end {
    VM_END_NONE = 0,
    VM_END_POWEROFF,     /* ACPI S5 / port 0x604 */
    VM_END_REBOOT,       /* i8042 0xfe, ACPI reset, KVM reset event */
    VM_END_TRIPLE_FAULT, /* KVM_EXIT_SHUTDOWN */
    VM_END_PANIC,        /* pvpanic port 0x505 */
    VM_END_EXIT_CODE,    /* debug exit port 0x501: the guest's own code */
    VM_END_INTERNAL,     /* KVM_EXIT_INTERNAL_ERROR / FAIL_ENTRY: KVM gave up */
    VM_END_SIGNAL,       /* the monitor was told to stop (SIGTERM, SIGINT) */
    VM_END_ERROR,        /* the monitor failed (message in end_msg) */
};

/* Standard windows (x86 PC layout). */
#define VM_PORT_COM1       0x3f8
#define VM_IRQ_COM1        4
#define VM_PORT_I8042      0x60  /* 0x60..0x64; 0x64 write 0xfe resets */
#define VM_PORT_PM         0x600 /* ACPI sleep control/status, hardware-reduced */
#define VM_PORT_SLEEP_CTL  0x604
#define VM_PORT_SLEEP_STS  0x605
#define VM_PORT_DEBUG_EXIT 0x501
#define VM_PORT_PVPANIC    0x505
#define VM_MMIO_VIRTIO     0xd0000000ULL /* virtio-mmio windows, 4 KiB apart */
#define VM_MMIO_VIRTIO_SZ  0x1000ULL
#define VM_MMIO_HOLE       0xc0000000ULL /* RAM above this moves to 4 GiB */
#define VM_IOAPIC_ADDR     0xfec00000ULL
#define VM_LAPIC_ADDR      0xfee00000ULL

#define VM_MAX_CPUS 64

struct vm_vcpu {
    struct vm_machine *m;
    unsigned int id;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool started;
    /* Exits to the monitor, written by the vCPU thread (read after the join). */
    uint64_t exits, mmio_exits, pio_exits;
};

struct vm_config;

struct vm_machine {
    struct vm_kvm kvm;
    struct vm_mem mem;
    struct vm_bus bus;
    struct vm_vcpu vcpus[VM_MAX_CPUS];
    unsigned int ncpus;
    uint64_t ram_size;
    uint32_t next_gsi_index;
    /* The ACPI Generic Event Device's GSI (power button), 0: none. */
    uint32_t ged_gsi;
    /* Pause (machine_pause.c): vCPU threads park while pause_req is set. */
    pthread_mutex_t pause_lock;
    pthread_cond_t pause_cond;
    atomic_bool pause_req;
    unsigned int parked; /* vCPU threads parked (under pause_lock) */
    bool paused;         /* every vCPU parked, devices quiesced (main thread) */
    /* The control socket (control.c): listening fd, -1 when none, and path. */
    int ctl_fd;
    char *ctl_path;
    /* The config the machine was built from (not owned), for snapshots. */
    const struct vm_config *config;
    uint64_t next_virtio_mmio;
    /* Queue notifications complete in the kernel (KVM_IOEVENTFD); off when KVM
     * lacks it or no_ioeventfd is set (docs/virtio.md). */
    bool ioeventfd;
    /* Set between machine_init() and machine_create(): the KVM device node
     * (NULL: /dev/kvm), and MMIO exits for queue notifications even where
     * KVM has ioeventfd (benchmarks). */
    const char *kvm_dev;
    bool no_ioeventfd;
    /* Files of the devices (vsock sockets), removed by a watcher process if
     * the monitor dies without removing them (SIGKILL); see util/reaper.h. */
    struct reaper reaper;

    /* The end, written once by whoever ends the run first. */
    pthread_mutex_t end_lock;
    enum vm_end end;
    int end_code;      /* VM_END_EXIT_CODE: the guest's code */
    char end_msg[512]; /* a sentence for the user, may be empty */
    int end_efd;       /* eventfd, readable once the run has ended */
    atomic_bool stopping;
};

/* An empty machine that machine_destroy() accepts. */
void machine_init(struct vm_machine *m);

/* Create (on a machine_init()ed m) the KVM VM, its irqchip, ncpus vCPUs and ram_size bytes of RAM
 * (split around the 3-4 GiB hole). */
int machine_create(struct vm_machine *m, unsigned int ncpus, uint64_t ram_size, struct err **err);
void machine_destroy(struct vm_machine *m);

/* Install a device, giving it the next free GSI when want_irq (ISA-style GSIs
 * 5..23, skipping those the PC platform uses). */
int machine_add_device(struct vm_machine *m, struct vm_dev *dev, bool want_irq, struct err **err);
/* Take the next free device GSI. */
int machine_alloc_gsi(struct vm_machine *m, uint32_t *gsi, struct err **err);
/* The next free virtio-mmio window base. */
uint64_t machine_next_mmio(struct vm_machine *m);
/* An irq that drives GSI gsi of the in-kernel irqchip. */
struct vm_irq machine_irq(struct vm_machine *m, uint32_t gsi);

/* The ioeventfd registrar for a device whose window is at base (set == NULL
 * when m->ioeventfd is off). */
struct vm_ioevent machine_ioevent(struct vm_machine *m, uint64_t base);

/* Record how the run ended (first caller wins) and wake the main loop. */
void machine_end(struct vm_machine *m, enum vm_end end, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Start the vCPU threads, serve console input from in_fd (-1: none) until the
 * guest ends or a stop signal (SIGTERM, SIGINT, SIGHUP) arrives, stop the vCPUs.
 * The result is in m->end. */
int machine_run(struct vm_machine *m, int in_fd,
                void (*on_input)(void *ctx, const uint8_t *buf, size_t len), void *input_ctx,
                struct err **err);

const char *machine_end_name(enum vm_end end);

/* Pause (machine_pause.c): kick every vCPU out of KVM_RUN and park it (an
 * exit in progress is completed by the kernel first, so the registers are
 * consistent), then quiesce the devices (vm_dev_ops.pause); guest memory
 * stays. EALREADY when paused, ESRCH when the run is ending. From the main
 * thread only. */
int machine_pause(struct vm_machine *m, struct err **err);
/* Let the devices and vCPUs run again; EALREADY when not paused. */
int machine_resume(struct vm_machine *m, struct err **err);
/* Release parked vCPUs and quiesced devices whatever the state (the end of
 * a run: the threads must be joined, the devices destroyed). */
void machine_unpark(struct vm_machine *m);
/* In a vCPU thread whose KVM_RUN returned EINTR: wait while a pause is asked. */
void machine_vcpu_park(struct vm_machine *m);

/* Press the ACPI power button: an edge on the Generic Event Device's GSI, whose
 * _EVT method notifies the PNP0C0C button (acpi.c). A guest with an ACPI
 * button driver and someone listening (systemd-logind, acpid) shuts down.
 * -1 (ENODEV) when the machine has no GED. */
int machine_power_button(struct vm_machine *m, struct err **err);

#endif

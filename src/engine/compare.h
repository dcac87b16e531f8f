/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola compare (docs/compare.md): one workload run in each model (a
 * container, a container in a microVM, a full VM), measured the same way, and
 * a report as JSON (docs/compare.schema.json) that the front end prints as a
 * table, markdown or charts.
 *
 * Every model is run through the engine (ctr_create/ctr_start/ctr_remove with
 * the model's isolation); none has a launcher of its own. A model is an entry
 * of a const table (compare.c) whose availability check returns the reason it
 * cannot run here, which the report keeps ("not run: REASON").
 */
#ifndef ISOLA_ENGINE_COMPARE_H
#define ISOLA_ENGINE_COMPARE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/container.h"
#include "engine/db.h"
#include "image/store.h"
#include "util/err.h"

#define COMPARE_SCHEMA_VERSION 1

enum compare_ready_kind {
    COMPARE_READY_OUTPUT, /* the workload's first output line */
    COMPARE_READY_CMD,    /* a command exec'd in the instance exits 0 */
    COMPARE_READY_TCP,    /* a TCP connect to 127.0.0.1:PORT in its network namespace */
    COMPARE_READY_HTTP,   /* an HTTP GET there answers with a status line */
};

struct compare_ready {
    enum compare_ready_kind kind;
    char **cmd;    /* COMPARE_READY_CMD: argv */
    uint16_t port; /* TCP, HTTP */
    char *path;    /* HTTP: the request path ("/") */
    char *host;    /* HTTP: the Host header */
};

/* What the front end reports as the comparison goes (progress on a tty). */
struct compare_progress {
    void (*step)(void *arg, const char *model, const char *what);
    void *arg;
};

struct compare_opts {
    const char *image;
    char *const *args;   /* the workload's command (NULL: the image's) */
    const char **models; /* NULL-terminated names, NULL: every model */
    unsigned runs;       /* >= 1 */
    struct compare_ready ready;
    int64_t density_budget; /* bytes, 0: no density test */
    unsigned density_max;   /* at most this many instances (0: 50) */
    bool cold;              /* drop the page cache before the first run */
    int timeout_ms;         /* for one instance to be ready */
    const char *kvm_dev;    /* /dev/kvm */
    /* set (by a signal handler) to stop: what was started is removed */
    volatile sig_atomic_t *interrupted;
    struct compare_progress progress;
};

/* The model names, in report order. */
extern const char *const compare_model_names[];

/* Run the comparison and build the report (docs/compare.schema.json). A model
 * that cannot run or fails is marked so in the report; -1 only when no report
 * can be made (bad options, an unknown image, an interrupt). Every instance
 * started is removed before it returns, whatever happened. */
int compare_run(struct db *db, const struct ctr_env *env, struct store *s,
                const struct compare_opts *o, json_t **report, struct err **err);

/* Parse --ready CMD|tcp:PORT|http:URL into r (free with compare_ready_release). */
int compare_ready_parse(const char *spec, struct compare_ready *r, struct err **err);
void compare_ready_release(struct compare_ready *r);

/* Helpers of compare_probe.c, shared with compare.c. */
/* Proportional set size of pid (smaps_rollup), bytes; 0 when it is gone. */
uint64_t compare_pss(pid_t pid);
/* Bytes on disk under path (st_blocks), each inode once, not crossing into
 * other file systems. */
uint64_t compare_du(const char *path);
/* The lower directories of the overlay mounted at path (mountinfo), as a
 * NULL-terminated vector; NULL when it is not an overlay. */
char **compare_overlay_lowers(const char *path);
/* The machine: CPU, cores, memory, kernel, virtualization, KVM. */
json_t *compare_machine(const char *kvm_dev);
/* 0 when kvm_dev can create a VM; else -1 and why in reason. */
int compare_kvm_usable(const char *kvm_dev, char *reason, size_t len);
/* echo 3 > /proc/sys/vm/drop_caches (only whether it may be when !drop); -1
 * and why in reason when it may not. */
int compare_drop_caches(bool drop, char *reason, size_t len);
/* Probe 127.0.0.1:port in the network namespace of pid: 1 connected (and,
 * with http, an HTTP status line came back), 0 not yet, -1 error. */
int compare_probe_tcp(pid_t pid, uint16_t port, const char *http_host, const char *http_path,
                      struct err **err);
/* Round trips of one byte over TCP on 127.0.0.1 in the network namespace of
 * pid: the median round trip in ns over n. */
int compare_tcp_rtt(pid_t pid, unsigned n, uint64_t *median_ns, struct err **err);
/* compare_vm.c (the vm-container model): 0 when env names a guest kernel,
 * agent and VM monitor that exist, else -1 and why in reason. */
int compare_vm_available(const struct ctr_env *env, char *reason, size_t len);
/* PSS of pid and all its descendants, bytes (a VM monitor's covers the guest
 * RAM it touched). */
uint64_t compare_pss_tree(pid_t pid);
/* Bytes of the kernel, initramfs and disks of the isola-vmm below monitor. */
uint64_t compare_vm_shared(pid_t monitor);
/* Bytes of instance id's microVM state directory (console and VMM logs). */
uint64_t compare_vm_unique(const struct ctr_env *env, const char *id);
/* The claims of the articles, judged from the report's models. */
json_t *compare_claims(json_t *models);
/* {"median", "min", "max", "n"} of v[0..n) (sorted in place); null when n = 0. */
json_t *compare_stat(double *v, size_t n);

#endif

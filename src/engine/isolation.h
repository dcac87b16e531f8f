/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The isolation table of operations: how the engine and the monitor drive one
 * workload, whatever isolates it. Two implementations exist or will:
 *
 *   linux    (iso_linux.c)  the workload is a container made by src/runtime/ in
 *                           this host's kernel; its init is a child of the caller.
 *   microvm  (issue 14)     the workload's processes run in a guest; the caller
 *                           talks to the guest agent over vsock and the guest's
 *                           VM monitor process is the caller's child.
 *
 * So that both fit without changing the callers:
 * - Everything is an explicit parameter (no environment variables); every
 *   fallible operation follows the error contract (struct err **err last,
 *   <0 and a message naming the workload and the operation).
 * - The workload is named by an opaque handle (struct iso_workload) that the
 *   implementation fills at create time.
 * - Stdio is given as file descriptors the caller owns and keeps reading or
 *   writing (pipes, /dev/null), or as a pty request: the implementation then
 *   returns the pty master in iso_stdio.pty_master. A microvm relays its vsock
 *   streams into exactly these fds, so the caller's loop is the same.
 * - The caller learns that the workload ended from one pollable fd
 *   (iso_ops.exit_fd: a pidfd for linux, the VM monitor's pidfd or the agent
 *   connection for microvm) and then collects the status with iso_ops.reap.
 *   Nothing assumes that the workload's pid is visible in the caller's pid
 *   namespace: pid fields are informative only (0 when there is none).
 * - Exec returns an iso_exec handle with its own exit fd, for the same reason.
 */
#ifndef ISOLA_ENGINE_ISOLATION_H
#define ISOLA_ENGINE_ISOLATION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/* The stdio given to a workload or an exec'd process. */
struct iso_stdio {
    int in, out, err;          /* fds the process gets (dup'd, the caller keeps its own);
                                  -1: /dev/null. Ignored for the streams a pty carries. */
    bool tty;                  /* allocate a pty: stdin, stdout and stderr are its slave */
    unsigned short rows, cols; /* initial pty size (0: leave the default) */
    int pty_master;            /* out: the pty master when tty (caller closes), else -1 */
};

/* Exit of a workload or an exec'd process. */
struct iso_exit {
    int code;   /* shell-style: exit code, or 128 + signal */
    int signal; /* the signal that killed it, 0 if it exited */
    bool oom;   /* the kernel's OOM killer killed a process of the workload
                   during this run (memory events oom_kill grew) */
};

/* Resource usage; UINT64_MAX where the isolation cannot tell. */
struct iso_stats {
    uint64_t cpu_ns;      /* CPU time of all processes, user + system */
    uint64_t mem_current; /* bytes charged now */
    uint64_t mem_peak;    /* highest charge seen (cgroup v1 max_usage, v2 memory.peak) */
    uint64_t mem_limit;
    uint64_t pids;                /* processes now */
    uint64_t oom_kills;           /* OOM kills since create */
    uint64_t net_rx, net_tx;      /* bytes; UINT64_MAX when not known */
    uint64_t blk_read, blk_write; /* bytes; UINT64_MAX when not known */
};

/* One workload. Filled by create, used by every other operation; the fields
 * below `impl` are the implementation's. */
struct iso_workload {
    const struct iso_ops *ops;
    char *id;    /* unique among the workloads of one state root */
    pid_t pid;   /* informative (the init, or the VM monitor); 0 if none */
    int exit_fd; /* pollable: readable once the workload has ended; -1 before start */
    void *impl;
};

/* An exec'd process in a running workload. */
struct iso_exec {
    pid_t pid;   /* informative, 0 if none */
    int exit_fd; /* pollable: readable once the process has ended */
    void *impl;
};

/* A process to exec (a subset of the OCI process object; NULL/0 fields fall
 * back to the workload's own process). */
struct iso_process {
    char **args; /* NULL-terminated, required */
    char **env;  /* NULL-terminated "K=V", replaces the workload's env when set */
    const char *cwd;
    const char *user; /* "uid[:gid]", NULL: the workload's */
};

struct iso_create_opts {
    const char *id;
    const char *bundle; /* OCI bundle directory (config.json + rootfs) */
    struct iso_stdio *stdio;
    /* The workload is killed when the calling process dies (even by SIGKILL):
     * linux: the init's parent-death signal, kept past start; microvm: the
     * same on the VM monitor process, the caller's child. */
    bool die_with_caller;
    /* microvm: the cache key of the bundle's root file system (the image's
     * manifest digest, hex) so that its root image is built once; NULL: a
     * root image of this workload's own. */
    const char *root_key;
};

/* Implementation-wide parameters (a state root, a kernel...). */
struct iso_ctx {
    const char *state_root; /* linux: the runtime's private --root */
    /* microvm (docs/microvm.md): a prepared guest kernel directory (vmlinuz,
     * lib/modules/KVER), the static guest agent, the VM monitor (isola-vmm)
     * and the cache of initramfs and root images. */
    const char *kernel_dir, *agent, *vmm, *cache_dir;
};

struct iso_ops {
    const char *name; /* "linux", "microvm" */
    /* Make the workload ready to start (runtime-spec `create`): its processes
     * exist but the user's program has not run. *w is filled. */
    int (*create)(const struct iso_ctx *c, const struct iso_create_opts *o, struct iso_workload *w,
                  struct err **err);
    /* Run the user's program; w->exit_fd becomes valid. */
    int (*start)(struct iso_workload *w, struct err **err);
    /* Send sig to the workload's first process, or to all of them. */
    int (*kill)(struct iso_workload *w, int sig, bool all, struct err **err);
    /* Collect the exit once exit_fd is readable (once per start). */
    int (*reap)(struct iso_workload *w, struct iso_exit *out, struct err **err);
    /* Remove everything the workload holds (mounts, cgroup, state); kills what
     * still runs when force. Frees w's implementation data. */
    int (*delete)(struct iso_workload *w, bool force, struct err **err);
    /* runtime-spec status: "created", "running", "paused", "stopped". */
    int (*state)(struct iso_workload *w, char *status, size_t len, struct err **err);
    int (*stats)(struct iso_workload *w, struct iso_stats *out, struct err **err);
    /* Freeze (pause) or thaw (resume) every process. */
    int (*pause)(struct iso_workload *w, bool pause, struct err **err);
    /* New window size of a pty that create or exec returned. */
    int (*resize)(struct iso_workload *w, int pty_master, unsigned short rows, unsigned short cols,
                  struct err **err);
    /* Start p in the running workload with the given stdio. */
    int (*exec)(struct iso_workload *w, const struct iso_process *p, struct iso_stdio *stdio,
                struct iso_exec *x, struct err **err);
    /* Collect an exec'd process's exit once x->exit_fd is readable; frees x. */
    int (*exec_reap)(struct iso_workload *w, struct iso_exec *x, struct iso_exit *out,
                     struct err **err);
};

/* The implementations. */
extern const struct iso_ops iso_linux_ops;
extern const struct iso_ops iso_vm_ops;      /* a whole VM under isola-vmm (iso_vm.c) */
extern const struct iso_ops iso_microvm_ops; /* iso_microvm.c */

/* By name ("linux"); NULL when unknown. */
const struct iso_ops *iso_find(const char *name);

#endif

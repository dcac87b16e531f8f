/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/seccomp.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/js.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (j == NULL)
        printf("# bad test JSON: %s\n", e.text);
    return j;
}

/* Compile `json` and expect the error message `msg`. */
static void bad(const char *json, const char *msg)
{
    struct err *e = NULL;
    struct seccomp_filter *f = NULL;
    json_t *j = J(json);

    ok(seccomp_compile(j, &f, &e) < 0 && f == NULL, "rejected: %s", msg);
    is_str(e ? e->msg : NULL, msg, "error names the field");
    err_free(&e);
    json_decref(j);
}

/* Fork, install the filter, run `probe`; return the wait status. */
static int run_filtered(const char *json, int (*probe)(int notify_fd))
{
    struct err *e = NULL;
    struct seccomp_filter *f = NULL;
    json_t *j = J(json);

    if (seccomp_compile(j, &f, &e) < 0) {
        printf("# compile: %s\n", e->msg);
        err_free(&e);
        json_decref(j);
        return -1;
    }
    json_decref(j);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int nfd = -1;
        struct err *ce = NULL;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(f, &nfd, &ce) < 0) {
            fprintf(stderr, "# install: %s\n", ce ? ce->msg : "no_new_privs");
            _exit(100);
        }
        _exit(probe(nfd));
    }
    int st = -1;
    waitpid(pid, &st, 0);
    seccomp_filter_free(f);
    return st;
}

static int probe_uname(int nfd)
{
    struct utsname u;
    return uname(&u) < 0 ? errno : 0;
}

static int probe_dup(int nfd)
{
    int a = dup(1000) < 0 ? errno : 0; /* filtered: arg0 == 1000 */
    int b = dup(0) < 0 ? errno : 0;    /* not filtered */
    return a == E2BIG && b == 0 ? 0 : 1;
}

static int probe_masked(int nfd)
{
    /* personality(0x0000ff00 masked == 0x100) is refused, others pass */
    int a = syscall(SYS_personality, 0x100UL) < 0 ? errno : 0;
    int b = syscall(SYS_personality, 0xffffffffUL) < 0 ? errno : 0;
    return a == EACCES && b == 0 ? 0 : 1;
}

static int probe_notify(int nfd)
{
    return nfd >= 0 ? 0 : 1;
}

/* SCMP_ACT_NOTIFY end to end: the child installs the filter and calls uname;
 * the parent takes the listener fd (pidfd_getfd), receives the notification
 * and answers ENOTTY, which the child's uname returns. */
static void test_notify_roundtrip(void)
{
    const char *prof = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\","
                       "\"syscalls\":[{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}";
    struct err *e = NULL;
    struct seccomp_filter *f = NULL;
    json_t *j = J(prof);
    int p[2];

    if (seccomp_compile(j, &f, &e) < 0 || pipe2(p, O_CLOEXEC) < 0) {
        ok(0, "notify setup");
        err_free(&e);
        json_decref(j);
        return;
    }
    json_decref(j);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int nfd = -1;
        struct utsname u;
        close(p[0]);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(f, &nfd, NULL) < 0)
            _exit(100);
        if (write(p[1], &nfd, sizeof(nfd)) != sizeof(nfd))
            _exit(101);
        _exit(uname(&u) < 0 ? errno : 0);
    }
    close(p[1]);
    int child_fd = -1, nfd = -1, st = -1;
    bool got = false, answered = false;
    if (read(p[0], &child_fd, sizeof(child_fd)) == sizeof(child_fd)) {
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        nfd = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, child_fd, 0) : -1;
        if (pidfd >= 0)
            close(pidfd);
    }
    if (nfd >= 0) {
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        memset(&req, 0, sizeof(req));
        if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
            got = req.data.nr == SYS_uname && req.pid == (uint32_t)pid;
            memset(&resp, 0, sizeof(resp));
            resp.id = req.id;
            resp.error = -ENOTTY;
            answered = ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0;
        }
        close(nfd);
    }
    if (!answered) /* the child would wait in uname forever */
        kill(pid, SIGKILL);
    close(p[0]);
    waitpid(pid, &st, 0);
    seccomp_filter_free(f);
    ok(got, "notification received for uname from the child");
    ok(WIFEXITED(st) && WEXITSTATUS(st) == ENOTTY, "the agent's answer (ENOTTY) reached the child");
}

static int count_files(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

static void test_cache(void)
{
    const char *prof = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                       "[\"uname\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}";
    char dir[] = "/tmp/isola-test-seccomp-XXXXXX", sub[64], entry[4096] = "";
    struct err *e = NULL;
    struct seccomp_filter *a = NULL, *b = NULL, *c = NULL;
    json_t *j = J(prof);
    DIR *d;
    struct dirent *de;

    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return;
    }
    snprintf(sub, sizeof(sub), "%s/cache", dir);
    ok(seccomp_compile_cached(j, sub, &a, &e) == 0 && a, "cached compile (miss)");
    ok(count_files(sub) == 1, "one cache entry written");
    ok(seccomp_compile_cached(j, sub, &b, &e) == 0 && b, "cached compile (hit)");
    ok(a && b && seccomp_filter_len(a) == seccomp_filter_len(b) && seccomp_filter_len(a) > 0,
       "same program length (%zu)", seccomp_filter_len(a));
    /* Corrupt the entry: it is recompiled, not trusted. */
    d = opendir(sub);
    while (d != NULL && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            snprintf(entry, sizeof(entry), "%s/%s", sub, de->d_name);
    if (d != NULL)
        closedir(d);
    FILE *f = fopen(entry, "we");
    if (f != NULL) {
        fputs("garbage", f);
        fclose(f);
    }
    ok(seccomp_compile_cached(j, sub, &c, &e) == 0 && c &&
           seccomp_filter_len(c) == seccomp_filter_len(a),
       "corrupt entry: compiled again");
    if (e)
        printf("# %s\n", e->msg);
    err_free(&e);
    chmod(sub, 0755);
    seccomp_filter_free(c);
    c = NULL;
    ok(seccomp_compile_cached(j, sub, &c, &e) == 0 && c,
       "non-private cache dir: not used, still compiles");
    seccomp_filter_free(a);
    seccomp_filter_free(b);
    seccomp_filter_free(c);
    json_decref(j);
    unlink(entry);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    struct err *e = NULL;
    struct seccomp_filter *f = NULL;

    ok(seccomp_compile(NULL, &f, &e) == 0 && f == NULL, "no seccomp: no filter");
    ok(seccomp_install(NULL, NULL, &e) == 0, "installing no filter is a no-op");

    bad("{}", "linux.seccomp.defaultAction: required field is missing");
    bad("{\"defaultAction\":\"SCMP_ACT_FOO\"}",
        "linux.seccomp.defaultAction: unknown action `SCMP_ACT_FOO`");
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],"
        "\"action\":\"SCMP_ACT_BOGUS\"}]}",
        "linux.seccomp.syscalls[0].action: unknown action `SCMP_ACT_BOGUS`");
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
        "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_ERRNO\","
        "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}",
        "linux.seccomp.syscalls[1].args[0].op: unknown operator `SCMP_CMP_XX`");
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],"
        "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":7,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}"
        "]}",
        "linux.seccomp.syscalls[0].args[0].index: 7 is out of range [0, 5]");
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]}",
        "linux.seccomp.flags[0]: unknown flag `SECCOMP_FILTER_FLAG_NOPE`");
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}",
        "linux.seccomp.architectures[0]: unknown architecture `SCMP_ARCH_Z80`");
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":\"x\"}",
        "linux.seccomp.defaultErrnoRet: expected an integer, got string");
    {
        /* runtime-spec config.md: unknown properties are ignored. */
        struct seccomp_filter *fu = NULL;
        json_t *ju = J("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"sycalls\":[]}");
        ok(seccomp_compile(ju, &fu, &e) == 0 && fu != NULL, "unknown field ignored");
        seccomp_filter_free(fu);
        err_free(&e);
        json_decref(ju);
    }
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],"
        "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
        "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],"
        "\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":1}]}",
        "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[7],"
        "\"action\":\"SCMP_ACT_ERRNO\"}]}",
        "linux.seccomp.syscalls[0].names[0]: expected a string, got integer");

    /* Unknown syscall names are skipped (runc), every action compiles. */
    json_t *j = J("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                  "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
                  "\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
                  "\"syscalls\":[{\"names\":[\"no_such_syscall_xyz\",\"read\"],"
                  "\"action\":\"SCMP_ACT_ALLOW\"},"
                  "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_LOG\"},"
                  "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_TRAP\"},"
                  "{\"names\":[\"tkill\"],\"action\":\"SCMP_ACT_KILL\"},"
                  "{\"names\":[\"tgkill\"],\"action\":\"SCMP_ACT_KILL_THREAD\"},"
                  "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
                  "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":5},"
                  "{\"names\":[\"umount2\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
    ok(seccomp_compile(j, &f, &e) == 0 && f != NULL, "all actions, 3 arches, unknown name skipped");
    if (e)
        printf("# %s\n", e->msg);
    err_free(&e);
    ok(!seccomp_needs_notify(f), "no notify");
    seccomp_filter_free(f);
    f = NULL;
    json_decref(j);

    j = J("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"name\":\"uname\","
          "\"action\":\"SCMP_ACT_ERRNO\"}]}");
    ok(seccomp_compile(j, &f, &e) == 0 && f && seccomp_filter_len(f) > 4,
       "pre-1.0 \"name\" accepted");
    err_free(&e);
    seccomp_filter_free(f);
    f = NULL;
    json_decref(j);

    int st = run_filtered("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                          "[\"uname\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}",
                          probe_uname);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 42, "installed filter: uname fails with errno 42 (%d)",
       WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    st = run_filtered("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":"
                      "[{\"names\":[\"exit_group\",\"exit\",\"write\",\"read\",\"mmap\","
                      "\"munmap\",\"mprotect\",\"madvise\",\"brk\",\"futex\",\"getpid\","
                      "\"gettid\",\"sigaltstack\",\"rt_sigaction\",\"rt_sigprocmask\","
                      "\"prctl\",\"openat\",\"close\",\"fstat\",\"newfstatat\"],"
                      "\"action\":\"SCMP_ACT_ALLOW\"}]}",
                      probe_uname);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == ENOSYS, "default action errno: uname gets ENOSYS (%d)",
       WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    st = run_filtered("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup\"],"
                      "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":7,\"args\":[{\"index\":0,"
                      "\"value\":1000,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                      probe_dup);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "argument filter: dup(1000) refused, dup(0) not");

    st = run_filtered("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                      "[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":"
                      "[{\"index\":0,\"value\":65280,\"valueTwo\":256,\"op\":"
                      "\"SCMP_CMP_MASKED_EQ\"}]}]}",
                      probe_masked);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SCMP_CMP_MASKED_EQ: value is the mask");

    st = run_filtered("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                      "[\"uname\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
                      probe_uname);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "SCMP_ACT_KILL_PROCESS kills with SIGSYS");

    st = run_filtered("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x.sock\","
                      "\"listenerMetadata\":\"meta\",\"syscalls\":[{\"names\":[\"uname\"],"
                      "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                      probe_notify);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SCMP_ACT_NOTIFY: install returns a listener fd");

    j = J("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x.sock\","
          "\"listenerMetadata\":\"meta\",\"syscalls\":[{\"names\":[\"uname\"],"
          "\"action\":\"SCMP_ACT_NOTIFY\"}]}");
    ok(seccomp_compile(j, &f, &e) == 0 && seccomp_needs_notify(f), "notify detected");
    is_str(seccomp_listener_path(f), "/run/x.sock", "listenerPath kept");
    is_str(seccomp_listener_metadata(f), "meta", "listenerMetadata kept");
    seccomp_filter_free(f);
    json_decref(j);
    test_cache();
    test_notify_roundtrip();
    return done_testing();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The monitor's health probes (monitor_health.h). */
#include "engine/monitor_health.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/duration.h"
#include "util/fs.h"
#include "util/js.h"

static int64_t mh_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void mh_arm(struct mon_health *h, int64_t ns)
{
    struct itimerspec it = {
        .it_value = {.tv_sec = (time_t)(ns / 1000000000LL), .tv_nsec = (long)(ns % 1000000000LL)}};
    if (ns <= 0)
        it.it_value.tv_nsec = 1; /* 0 would disarm */
    timerfd_settime(h->tfd, 0, &it, NULL);
}

static void mh_disarm(struct mon_health *h)
{
    struct itimerspec it = {0};
    timerfd_settime(h->tfd, 0, &it, NULL);
}

static void mh_write(struct mon_health *h)
{
    _cleanup_json_ json_t *doc = health_state_json(&h->st);
    _cleanup_free_ char *text = doc ? js_dump(doc) : NULL;
    struct err *e = NULL;

    if (text && fs_write_atomic(h->path, text, strlen(text), 0644, &e) < 0)
        err_free(&e);
}

int mon_health_init(struct mon_health *h, const char *json, const char *dir, int ep,
                    uint64_t tag_timer, uint64_t tag_out, uint64_t tag_exit,
                    const struct iso_ops *iso, struct iso_workload *w, struct err **err)
{
    *h = (struct mon_health){.ep = ep,
                             .tfd = -1,
                             .out = -1,
                             .tag_timer = tag_timer,
                             .tag_out = tag_out,
                             .tag_exit = tag_exit,
                             .iso = iso,
                             .w = w,
                             .x = {.exit_fd = -1}};
    snprintf(h->path, sizeof(h->path), "%s/health", dir);
    /* an earlier life's file is not this one's */
    unlink(h->path);
    if (!json)
        return 0;
    if (health_config_parse(json, &h->cfg, err) < 0)
        return -1;
    if (!h->cfg.args)
        return 0;
    h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag_timer};
    if (h->tfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, h->tfd, &ev) < 0)
        return err_sys(err, "monitor: health check timer");
    h->on = true;
    return 0;
}

void mon_health_started(struct mon_health *h)
{
    if (!h->on)
        return;
    health_state_reset(&h->st);
    h->started_ns = mh_now();
    mh_write(h);
    mh_arm(h, h->cfg.interval_ns);
}

static void mh_close_out(struct mon_health *h)
{
    if (h->out >= 0) {
        epoll_ctl(h->ep, EPOLL_CTL_DEL, h->out, NULL);
        close(h->out);
        h->out = -1;
    }
}

/* Read what the probe wrote; the first HEALTH_OUTPUT_MAX bytes are kept. */
static void mh_read(struct mon_health *h)
{
    char tmp[4096];

    while (h->out >= 0) {
        ssize_t n = read(h->out, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            mh_close_out(h);
            return;
        }
        size_t room = HEALTH_OUTPUT_MAX - h->len;
        size_t k = (size_t)n < room ? (size_t)n : room;
        memcpy(h->buf + h->len, tmp, k);
        h->len += k;
        if ((size_t)n > room)
            h->truncated = true;
    }
}

/* Record a result and plan the next probe. */
static void mh_result(struct mon_health *h, int code, const char *output)
{
    struct health_result r = {.start_ns = h->probe_start_ns, .end_ns = mh_now(), .exit_code = code};
    size_t n = strlen(output);

    /* moby's limitedBuffer: the first 4 KiB, then "..." */
    r.output = malloc(n + 4);
    if (r.output) {
        memcpy(r.output, output, n + 1);
        health_output_clean(r.output, n);
        if (h->truncated)
            strcat(r.output, "...");
    }
    health_state_add(&h->st, &h->cfg, h->started_ns, &r);
    free(r.output);
    mh_write(h);
    h->len = 0;
    h->truncated = false;
    h->probing = false;
    h->timed_out = false;
    mh_arm(h, h->cfg.interval_ns);
}

/* Start a probe; true when it ended at once (it could not run). */
static bool mh_probe(struct mon_health *h)
{
    int p[2];
    struct err *e = NULL;
    struct iso_process proc = {.args = h->cfg.args};
    struct iso_stdio io = {.in = -1, .pty_master = -1};

    h->probe_start_ns = mh_now();
    h->len = 0;
    h->truncated = false;
    if (pipe2(p, O_CLOEXEC) < 0) {
        mh_result(h, -1, "health check: pipe2 failed");
        return true;
    }
    io.out = io.err = p[1]; /* one buffer for both, as Docker's */
    if (h->iso->exec(h->w, &proc, &io, &h->x, &e) < 0) {
        close(p[0]);
        close(p[1]);
        mh_result(h, -1, e->msg);
        err_free(&e);
        return true;
    }
    close(p[1]);
    h->out = p[0];
    fcntl(h->out, F_SETFL, O_NONBLOCK);
    struct epoll_event eo = {.events = EPOLLIN, .data.u64 = h->tag_out};
    struct epoll_event ex = {.events = EPOLLIN, .data.u64 = h->tag_exit};
    epoll_ctl(h->ep, EPOLL_CTL_ADD, h->out, &eo);
    epoll_ctl(h->ep, EPOLL_CTL_ADD, h->x.exit_fd, &ex);
    h->probing = true;
    mh_arm(h, h->cfg.timeout_ns);
    return false;
}

/* The probe's process ended: its result. */
static void mh_exited(struct mon_health *h)
{
    struct iso_exit x = {0};
    struct err *e = NULL;
    char msg[128];

    mh_read(h);
    mh_close_out(h);
    epoll_ctl(h->ep, EPOLL_CTL_DEL, h->x.exit_fd, NULL);
    int code = h->iso->exec_reap(h->w, &h->x, &x, &e) < 0 ? -1 : x.code;
    err_free(&e);
    h->x = (struct iso_exec){.exit_fd = -1};
    if (h->timed_out) {
        char d[64];
        duration_format(h->cfg.timeout_ns, d, sizeof(d));
        snprintf(msg, sizeof(msg), "Health check exceeded timeout (%s)", d);
        h->truncated = false;
        mh_result(h, -1, msg);
        return;
    }
    h->buf[h->len] = '\0';
    mh_result(h, code, h->buf);
}

bool mon_health_event(struct mon_health *h, uint64_t tag)
{
    if (tag == h->tag_timer) {
        uint64_t n;
        if (read(h->tfd, &n, sizeof(n)) < 0)
            return false;
        if (h->probing) {
            /* timed out: killed, its exit gives the result */
            h->timed_out = true;
            if (h->x.pid > 0)
                kill(h->x.pid, SIGKILL);
            return false;
        }
        return mh_probe(h);
    }
    if (tag == h->tag_out) {
        mh_read(h);
        return false;
    }
    if (tag == h->tag_exit && h->probing) {
        mh_exited(h);
        return true;
    }
    return false;
}

int mon_health_run_now(struct mon_health *h, bool running)
{
    if (!h->on || !running)
        return -1;
    if (h->probing)
        return 0;
    return mh_probe(h) ? 1 : 0;
}

bool mon_health_owns(const struct mon_health *h, pid_t pid)
{
    return h->probing && h->x.pid == pid;
}

void mon_health_stopped(struct mon_health *h)
{
    if (!h->on)
        return;
    mh_disarm(h);
    if (h->probing) {
        struct iso_exit x;
        struct err *e = NULL;
        mh_close_out(h);
        epoll_ctl(h->ep, EPOLL_CTL_DEL, h->x.exit_fd, NULL);
        if (h->x.pid > 0)
            kill(h->x.pid, SIGKILL);
        if (h->iso->exec_reap(h->w, &h->x, &x, &e) < 0)
            err_free(&e);
        h->x = (struct iso_exec){.exit_fd = -1};
        h->probing = false;
    }
}

void mon_health_release(struct mon_health *h)
{
    mon_health_stopped(h);
    if (h->tfd >= 0)
        close(h->tfd);
    h->tfd = -1;
    health_config_release(&h->cfg);
    health_state_release(&h->st);
}

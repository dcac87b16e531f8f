/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker stats' numbers: the monitor's `stats` reply (monitor.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "engine/container.h"
#include "engine/monitor.h"
#include "util/cleanup.h"
#include "util/js.h"

int ctr_stats_fetch(const struct ctr_env *env, const struct db_container *c, json_t **out,
                    struct err **err)
{
    _cleanup_free_ char *dir = ctr_run_dir(env, c->id);
    _cleanup_free_ char *buf = malloc(MONITOR_MSG_MAX);

    if (!dir || !buf)
        return err_set(err, ENOMEM, "stats of container %s", c->id);
    _cleanup_close_ int fd = ctr_monitor_connect(dir, "stats", 5);
    if (fd < 0)
        return err_sys(err, "stats of container %s: the monitor's socket in %s", c->id, dir);
    ssize_t n;
    do
        n = recv(fd, buf, MONITOR_MSG_MAX, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return err_val(err, EPIPE, "stats of container %s: no reply from the monitor", c->id);
    if (buf[0] == 'E')
        return err_val(err, EIO, "stats of container %s: %.*s", c->id, (int)n - 1, buf + 1);
    if (buf[0] != 's')
        return err_val(err, EPROTO, "stats of container %s: unexpected reply", c->id);
    return js_load_buf(buf + 1, (size_t)n - 1, "stats", out, err);
}

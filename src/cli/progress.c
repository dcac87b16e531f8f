/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress bars and lines for registry transfers (see progress.h). */
#include "cli/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"

static void human(double v, char *buf, size_t len)
{
    const char *u[] = {"B", "kB", "MB", "GB"};
    size_t i = 0;
    while (v >= 1000 && i + 1 < ARRAY_SIZE(u)) {
        v /= 1000;
        i++;
    }
    snprintf(buf, len, "%.1f%s", v, u[i]);
}

void progress_finish(struct progress *p)
{
    if (p->drawn)
        fputc('\n', stderr);
    p->drawn = false;
    p->current[0] = '\0';
}

static void draw(struct progress *p, const char *digest, int64_t done, int64_t total, time_t now)
{
    char a[16], b[16], c[16];

    human((double)done, a, sizeof(a));
    human((double)total, b, sizeof(b));
    human((double)done / (double)(now - p->start > 0 ? now - p->start : 1), c, sizeof(c));
    fprintf(stderr, "\r%-20.19s %9s / %-9s %9s/s", digest, a, b, c);
    p->drawn = true;
}

static void on_transfer(void *ud, const char *digest, int64_t done, int64_t total)
{
    struct progress *p = ud;
    time_t now = time(NULL);

    if (strcmp(p->current, digest) != 0) {
        progress_finish(p);
        snprintf(p->current, sizeof(p->current), "%s", digest);
        p->start = now;
        p->last = 0;
    }
    /* One redraw a second is enough for a human. */
    if (now == p->last)
        return;
    p->last = now;
    draw(p, digest, done, total, now);
}

static void on_event(void *ud, enum registry_event ev, const char *digest, int64_t size)
{
    struct progress *p = ud;

    /* The bar of a finished blob shows its whole size. */
    if (p->drawn && (ev == REG_BLOB_FETCHED || ev == REG_BLOB_PUSHED) &&
        strcmp(p->current, digest) == 0)
        draw(p, digest, size, size, time(NULL));
    progress_finish(p);
    if (ev == REG_PUSHED) {
        printf("Pushed %s (%s)\n", p->pushed ? p->pushed : "image", digest);
        return;
    }
    if (p->bars)
        return;
    switch (ev) {
    case REG_BLOB_PRESENT:
        printf("Blob %.19s: present\n", digest);
        break;
    case REG_BLOB_FETCHED:
        printf("Blob %.19s: fetched %lld bytes\n", digest, (long long)size);
        break;
    case REG_BLOB_EXISTS:
        printf("Blob %.19s: exists\n", digest);
        break;
    case REG_BLOB_PUSHED:
        printf("Blob %.19s: pushed %lld bytes\n", digest, (long long)size);
        break;
    default:
        break;
    }
    fflush(stdout);
}

void progress_init(struct progress *p, bool want_bars)
{
    memset(p, 0, sizeof(*p));
    p->bars = want_bars && isatty(STDERR_FILENO);
    p->cb.ud = p;
    p->cb.transfer = p->bars ? on_transfer : NULL;
    p->cb.event = on_event;
}

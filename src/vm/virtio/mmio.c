/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The virtio-mmio transport, version 2: virtio 1.2 §4.2.2. See mmio.h. */
#include "vm/virtio/mmio.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/js.h"
#include "util/log.h"

/* Register offsets (§4.2.2, table "MMIO Device Register Layout"). */
enum {
    R_MAGIC = 0x000,
    R_VERSION = 0x004,
    R_DEVICE_ID = 0x008,
    R_VENDOR_ID = 0x00c,
    R_DEV_FEATURES = 0x010,
    R_DEV_FEATURES_SEL = 0x014,
    R_DRV_FEATURES = 0x020,
    R_DRV_FEATURES_SEL = 0x024,
    R_QUEUE_SEL = 0x030,
    R_QUEUE_NUM_MAX = 0x034,
    R_QUEUE_NUM = 0x038,
    R_QUEUE_READY = 0x044,
    R_QUEUE_NOTIFY = 0x050,
    R_INT_STATUS = 0x060,
    R_INT_ACK = 0x064,
    R_STATUS = 0x070,
    R_QUEUE_DESC_LO = 0x080,
    R_QUEUE_DESC_HI = 0x084,
    R_QUEUE_DRIVER_LO = 0x090,
    R_QUEUE_DRIVER_HI = 0x094,
    R_QUEUE_DEVICE_LO = 0x0a0,
    R_QUEUE_DEVICE_HI = 0x0a4,
    R_SHM_SEL = 0x0ac,
    R_SHM_LEN_LO = 0x0b0,
    R_SHM_LEN_HI = 0x0b4,
    R_SHM_BASE_LO = 0x0b8,
    R_SHM_BASE_HI = 0x0bc,
    R_CONFIG_GEN = 0x0fc,
};

#define MAGIC 0x74726976 /* "virt" */

/* Device status bits (§2.1). */
#define S_ACKNOWLEDGE 1u
#define S_DRIVER      2u
#define S_DRIVER_OK   4u
#define S_FEATURES_OK 8u
#define S_NEEDS_RESET 64u
#define S_FAILED      128u

#define INT_VRING  1u
#define INT_CONFIG 2u

struct virtio_mmio {
    pthread_mutex_t lock;
    pthread_cond_t unpaused; /* signalled when paused goes false */
    bool paused;             /* quiesced (mmio_pause): virtio_mmio_lock() waits */
    const struct virtio_dev_ops *ops;
    void *dev;
    const struct vm_mem *mem;
    struct vm_irq irq;

    uint32_t status;
    uint32_t dev_features_sel, drv_features_sel, queue_sel;
    uint64_t offered, driver_features;
    uint32_t isr;
    uint32_t config_generation;
    struct virtqueue queues[VIRTIO_MMIO_MAX_QUEUES];

    /* ioeventfd notifications (mmio.h); ioev.set == NULL: MMIO exits only. */
    struct vm_ioevent ioev;
    int kick_fd[VIRTIO_MMIO_MAX_QUEUES];  /* eventfds, -1 when none */
    bool kick_on[VIRTIO_MMIO_MAX_QUEUES]; /* registered with the hypervisor */
    bool ioev_failed;                     /* registering failed once: stop trying */
    int stop_fd;                          /* eventfd: the notify thread exits */
    pthread_t thread;
    bool thread_started;
    uint64_t kicks; /* wake-ups served by the notify thread */
};

void virtio_mmio_lock(struct virtio_mmio *t)
{
    pthread_mutex_lock(&t->lock);
    /* a paused device's threads wait here: no queue work, no interrupt */
    while (t->paused)
        pthread_cond_wait(&t->unpaused, &t->lock);
}

/* Quiesce: taking the lock waits for the work in progress to end; the flag
 * then holds every later taker (the notify thread, net rx, vsock) until the
 * device runs again. The machine parks the vCPUs first, so no MMIO access
 * comes meanwhile, and lets the device run again before destroying it. */
static void mmio_pause(void *state, bool pause)
{
    struct virtio_mmio *t = state;

    pthread_mutex_lock(&t->lock);
    t->paused = pause;
    if (!pause)
        pthread_cond_broadcast(&t->unpaused);
    pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
    pthread_mutex_unlock(&t->lock);
}

struct virtqueue *virtio_mmio_queue(struct virtio_mmio *t, unsigned int q)
{
    return q < t->ops->nqueues ? &t->queues[q] : NULL;
}

bool virtio_mmio_active(struct virtio_mmio *t)
{
    return (t->status & (S_DRIVER_OK | S_NEEDS_RESET | S_FAILED)) == S_DRIVER_OK;
}

uint64_t virtio_mmio_features(struct virtio_mmio *t)
{
    return t->driver_features;
}

void virtio_mmio_config_copy(const void *cfg, size_t cfg_len, uint32_t off, uint8_t *data,
                             uint32_t len)
{
    memset(data, 0, len);
    if (off >= cfg_len)
        return;
    memcpy(data, (const uint8_t *)cfg + off, cfg_len - off < len ? cfg_len - off : len);
}

static void raise_irq(struct virtio_mmio *t, uint32_t why)
{
    t->isr |= why;
    vm_irq_set(&t->irq, 1);
}

void virtio_mmio_notify(struct virtio_mmio *t, unsigned int q)
{
    if (q < t->ops->nqueues && virtqueue_should_notify(&t->queues[q]))
        raise_irq(t, INT_VRING);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why)
{
    if (t->status & S_NEEDS_RESET)
        return;
    log_warn("%s: guest error, device needs reset: %s", t->ops->name, why);
    t->status |= S_NEEDS_RESET;
    for (unsigned int i = 0; i < t->ops->nqueues; i++)
        t->queues[i].broken = true;
    /* §2.1.2: with DRIVER_OK set, tell the driver by a config change. */
    if (t->status & S_DRIVER_OK)
        raise_irq(t, INT_CONFIG);
}

/* Make the hypervisor's registrations match the state: a queue's eventfd is
 * registered exactly while the queue is ready and the device active. Called
 * with the lock held after anything that may change either. */
static void ioevent_sync(struct virtio_mmio *t)
{
    bool active;

    if (t->ioev.set == NULL)
        return;
    active = virtio_mmio_active(t);
    for (unsigned int i = 0; i < t->ops->nqueues; i++) {
        bool want = active && t->queues[i].ready && !t->ioev_failed;
        if (want == t->kick_on[i])
            continue;
        /* §4.2.2: without VIRTIO_F_NOTIFICATION_DATA the driver writes the
         * queue index, 32 bits wide, at QueueNotify. */
        if (t->ioev.set(t->ioev.ctx, t->ioev.base + R_QUEUE_NOTIFY, 4, i, t->kick_fd[i], want) <
            0) {
            if (want) {
                log_warn("%s: ioeventfd for queue %u at 0x%llx: %s; queue notifications "
                         "exit to the monitor",
                         t->ops->name, i, (unsigned long long)(t->ioev.base + R_QUEUE_NOTIFY),
                         strerror(errno));
                t->ioev_failed = true;
                ioevent_sync(t); /* remove the ones registered so far */
                return;
            }
            log_debug("%s: remove ioeventfd of queue %u: %s", t->ops->name, i, strerror(errno));
        }
        t->kick_on[i] = want;
    }
}

static void device_reset(struct virtio_mmio *t)
{
    t->status = 0;
    t->dev_features_sel = t->drv_features_sel = t->queue_sel = 0;
    t->driver_features = 0;
    for (unsigned int i = 0; i < t->ops->nqueues; i++)
        virtqueue_reset(&t->queues[i]);
    if (t->ops->reset != NULL)
        t->ops->reset(t->dev);
    t->isr = 0;
    vm_irq_set(&t->irq, 0);
}

/* Status writes (§2.1.1, §3.1.1): bits are only ever added; FEATURES_OK is
 * refused for features we do not offer or without VERSION_1; DRIVER_OK needs
 * FEATURES_OK. */
static void write_status(struct virtio_mmio *t, uint32_t v)
{
    if (v == 0) {
        device_reset(t);
        return;
    }
    v &= 0xff;
    if ((v & t->status) != (t->status & ~S_NEEDS_RESET)) {
        log_debug("%s: status write %#x clears bits of %#x, ignored", t->ops->name, v, t->status);
        return;
    }
    uint32_t added = v & ~t->status;
    if (added & S_FEATURES_OK) {
        if ((t->driver_features & ~t->offered) != 0 ||
            !(t->driver_features & (1ull << VIRTIO_F_VERSION_1))) {
            log_debug("%s: driver features %#llx refused", t->ops->name,
                      (unsigned long long)t->driver_features);
            v &= ~S_FEATURES_OK;
        }
    }
    if ((added & S_DRIVER_OK) && !(v & S_FEATURES_OK)) {
        virtio_mmio_needs_reset(t, "DRIVER_OK without FEATURES_OK");
        return;
    }
    t->status = v | (t->status & S_NEEDS_RESET);
    if ((added & S_DRIVER_OK) && t->ops->activate != NULL && !(t->status & S_NEEDS_RESET))
        t->ops->activate(t->dev, t->driver_features);
}

static void queue_ready(struct virtio_mmio *t, struct virtqueue *q, uint32_t v)
{
    const char *why = NULL;

    if (v == 0) {
        virtqueue_reset(q);
        return;
    }
    if (q->ready)
        return;
    if (!(t->status & S_FEATURES_OK)) {
        virtio_mmio_needs_reset(t, "QueueReady before FEATURES_OK");
        return;
    }
    if (virtqueue_start(q, t->mem, t->driver_features & (1ull << VIRTIO_F_EVENT_IDX),
                        t->driver_features & (1ull << VIRTIO_F_INDIRECT_DESC), &why) < 0)
        virtio_mmio_needs_reset(t, why);
}

static void set_lo(uint64_t *r, uint32_t v)
{
    *r = (*r & ~0xffffffffull) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
    *r = (*r & 0xffffffffull) | ((uint64_t)v << 32);
}

static void write_reg(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
    struct virtqueue *q = t->queue_sel < t->ops->nqueues ? &t->queues[t->queue_sel] : NULL;
    bool q_writable = q != NULL && !q->ready;

    switch (off) {
    case R_DEV_FEATURES_SEL:
        t->dev_features_sel = v;
        break;
    case R_DRV_FEATURES:
        /* Only while negotiating (§3.1.1 steps 4-5). */
        if ((t->status & (S_DRIVER | S_FEATURES_OK)) != S_DRIVER)
            break;
        if (t->drv_features_sel == 0)
            set_lo(&t->driver_features, v);
        else if (t->drv_features_sel == 1)
            set_hi(&t->driver_features, v);
        break;
    case R_DRV_FEATURES_SEL:
        t->drv_features_sel = v;
        break;
    case R_QUEUE_SEL:
        t->queue_sel = v;
        break;
    case R_QUEUE_NUM:
        if (q_writable)
            q->size = v > 0xffff ? 0 : (uint16_t)v; /* checked at QueueReady */
        break;
    case R_QUEUE_READY:
        if (q != NULL)
            queue_ready(t, q, v);
        break;
    case R_QUEUE_NOTIFY:
        /* Without VIRTIO_F_NOTIFICATION_DATA the value is the queue index. */
        if (v < t->ops->nqueues && t->queues[v].ready && virtio_mmio_active(t))
            t->ops->queue_notify(t->dev, v);
        break;
    case R_INT_ACK:
        t->isr &= ~v;
        if (t->isr == 0)
            vm_irq_set(&t->irq, 0);
        break;
    case R_STATUS:
        write_status(t, v);
        break;
    case R_QUEUE_DESC_LO:
        if (q_writable)
            set_lo(&q->desc_gpa, v);
        break;
    case R_QUEUE_DESC_HI:
        if (q_writable)
            set_hi(&q->desc_gpa, v);
        break;
    case R_QUEUE_DRIVER_LO:
        if (q_writable)
            set_lo(&q->avail_gpa, v);
        break;
    case R_QUEUE_DRIVER_HI:
        if (q_writable)
            set_hi(&q->avail_gpa, v);
        break;
    case R_QUEUE_DEVICE_LO:
        if (q_writable)
            set_lo(&q->used_gpa, v);
        break;
    case R_QUEUE_DEVICE_HI:
        if (q_writable)
            set_hi(&q->used_gpa, v);
        break;
    default:
        break; /* read-only or reserved: ignored */
    }
}

static uint32_t read_reg(struct virtio_mmio *t, uint64_t off)
{
    struct virtqueue *q = t->queue_sel < t->ops->nqueues ? &t->queues[t->queue_sel] : NULL;

    switch (off) {
    case R_MAGIC:
        return MAGIC;
    case R_VERSION:
        return 2;
    case R_DEVICE_ID:
        return t->ops->device_id;
    case R_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR_ID;
    case R_DEV_FEATURES:
        if (t->dev_features_sel == 0)
            return (uint32_t)t->offered;
        if (t->dev_features_sel == 1)
            return (uint32_t)(t->offered >> 32);
        return 0;
    case R_QUEUE_NUM_MAX:
        return q != NULL ? q->max_size : 0;
    case R_QUEUE_NUM:
        return q != NULL ? q->size : 0;
    case R_QUEUE_READY:
        return q != NULL && q->ready;
    case R_INT_STATUS:
        return t->isr;
    case R_STATUS:
        return t->status;
    case R_QUEUE_DESC_LO:
        return q != NULL ? (uint32_t)q->desc_gpa : 0;
    case R_QUEUE_DESC_HI:
        return q != NULL ? (uint32_t)(q->desc_gpa >> 32) : 0;
    case R_QUEUE_DRIVER_LO:
        return q != NULL ? (uint32_t)q->avail_gpa : 0;
    case R_QUEUE_DRIVER_HI:
        return q != NULL ? (uint32_t)(q->avail_gpa >> 32) : 0;
    case R_QUEUE_DEVICE_LO:
        return q != NULL ? (uint32_t)q->used_gpa : 0;
    case R_QUEUE_DEVICE_HI:
        return q != NULL ? (uint32_t)(q->used_gpa >> 32) : 0;
    case R_SHM_LEN_LO:
    case R_SHM_LEN_HI:
    case R_SHM_BASE_LO:
    case R_SHM_BASE_HI:
        return 0xffffffff; /* no shared memory regions (§4.2.2) */
    case R_CONFIG_GEN:
        return t->config_generation;
    default:
        return 0;
    }
}

static void mmio_read(void *state, uint64_t off, uint8_t *data, uint32_t len)
{
    struct virtio_mmio *t = state;

    memset(data, 0, len);
    if (len > 8)
        return;
    virtio_mmio_lock(t);
    if (off >= VIRTIO_MMIO_CONFIG && off < VIRTIO_MMIO_WINDOW) {
        if (t->ops->config_read != NULL && off + len <= VIRTIO_MMIO_WINDOW)
            t->ops->config_read(t->dev, (uint32_t)(off - VIRTIO_MMIO_CONFIG), data, len);
    } else if (len == 4 && off % 4 == 0) {
        /* §4.2.2: registers are accessed 32 bits wide only. */
        uint32_t v = read_reg(t, off);
        memcpy(data, &v, 4);
    }
    virtio_mmio_unlock(t);
}

static void mmio_write(void *state, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct virtio_mmio *t = state;

    if (len > 8)
        return;
    virtio_mmio_lock(t);
    if (off >= VIRTIO_MMIO_CONFIG && off < VIRTIO_MMIO_WINDOW) {
        if (t->ops->config_write != NULL && off + len <= VIRTIO_MMIO_WINDOW)
            t->ops->config_write(t->dev, (uint32_t)(off - VIRTIO_MMIO_CONFIG), data, len);
    } else if (len == 4 && off % 4 == 0) {
        uint32_t v;
        memcpy(&v, data, 4);
        write_reg(t, off, v);
        ioevent_sync(t);
    }
    virtio_mmio_unlock(t);
}

static json_t *mmio_save(void *state)
{
    struct virtio_mmio *t = state;
    json_t *queues = json_array();

    /* not virtio_mmio_lock(), which waits while paused: a snapshot saves a
     * paused device (its workers wait for the flag, not holding the lock) */
    pthread_mutex_lock(&t->lock);
    for (unsigned int i = 0; i < t->ops->nqueues; i++) {
        const struct virtqueue *q = &t->queues[i];
        json_array_append_new(
            queues, json_pack("{s:i, s:b, s:I, s:I, s:I, s:i, s:i}", "size", q->size, "ready",
                              q->ready, "desc", (json_int_t)q->desc_gpa, "driver",
                              (json_int_t)q->avail_gpa, "device", (json_int_t)q->used_gpa,
                              "last_avail", q->last_avail, "used_idx", q->used_idx));
    }
    json_t *j =
        json_pack("{s:s, s:i, s:I, s:I, s:i, s:i, s:i, s:i, s:i, s:o}", "device", t->ops->name,
                  "status", t->status, "offered", (json_int_t)t->offered, "driver_features",
                  (json_int_t)t->driver_features, "dev_features_sel", t->dev_features_sel,
                  "drv_features_sel", t->drv_features_sel, "queue_sel", t->queue_sel, "isr", t->isr,
                  "config_generation", t->config_generation, "queues", queues);
    if (j != NULL && t->ops->save != NULL) {
        json_t *d = t->ops->save(t->dev);
        if (d != NULL)
            json_object_set_new(j, "state", d);
    }
    virtio_mmio_unlock(t);
    return j;
}

static int restore_queue(struct virtio_mmio *t, unsigned int i, json_t *jq, struct err **err)
{
    struct virtqueue *q = &t->queues[i];
    uint32_t size = 0, last_avail = 0, used_idx = 0;
    bool ready = false;
    const char *why = NULL;

    virtqueue_reset(q);
    if (js_get_u32(jq, "queues[]", "size", true, &size, err) < 0 ||
        js_get_bool(jq, "queues[]", "ready", true, &ready, err) < 0 ||
        js_get_u64(jq, "queues[]", "desc", true, &q->desc_gpa, err) < 0 ||
        js_get_u64(jq, "queues[]", "driver", true, &q->avail_gpa, err) < 0 ||
        js_get_u64(jq, "queues[]", "device", true, &q->used_gpa, err) < 0 ||
        js_get_u32(jq, "queues[]", "last_avail", true, &last_avail, err) < 0 ||
        js_get_u32(jq, "queues[]", "used_idx", true, &used_idx, err) < 0)
        return -1;
    if (size > 0xffff || last_avail > 0xffff || used_idx > 0xffff)
        return err_val(err, ERANGE, "queue %u: size or index out of range", i);
    q->size = (uint16_t)size;
    if (ready && virtqueue_start(q, t->mem, t->driver_features & (1ull << VIRTIO_F_EVENT_IDX),
                                 t->driver_features & (1ull << VIRTIO_F_INDIRECT_DESC), &why) < 0)
        return err_val(err, EINVAL, "queue %u: %s", i, why);
    q->last_avail = (uint16_t)last_avail;
    q->used_idx = (uint16_t)used_idx;
    return 0;
}

static int mmio_restore(void *state, json_t *j, struct err **err)
{
    struct virtio_mmio *t = state;
    const char *name = NULL;
    json_t *queues = NULL, *dev = NULL;
    int r = -1;

    virtio_mmio_lock(t);
    device_reset(t);
    if (js_get_str(j, "", "device", true, &name, err) < 0)
        goto out;
    if (strcmp(name, t->ops->name) != 0) {
        err_val(err, EINVAL, "snapshot is of a %s, not a %s", name, t->ops->name);
        goto out;
    }
    if (js_get_u32(j, "", "status", true, &t->status, err) < 0 ||
        js_get_u64(j, "", "driver_features", true, &t->driver_features, err) < 0 ||
        js_get_u32(j, "", "dev_features_sel", true, &t->dev_features_sel, err) < 0 ||
        js_get_u32(j, "", "drv_features_sel", true, &t->drv_features_sel, err) < 0 ||
        js_get_u32(j, "", "queue_sel", true, &t->queue_sel, err) < 0 ||
        js_get_u32(j, "", "isr", true, &t->isr, err) < 0 ||
        js_get_u32(j, "", "config_generation", true, &t->config_generation, err) < 0 ||
        js_get_arr(j, "", "queues", true, &queues, err) < 0 ||
        js_get_obj(j, "", "state", false, &dev, err) < 0)
        goto out;
    if ((t->driver_features & ~t->offered) != 0) {
        err_val(err, EINVAL, "snapshot features %#llx are not offered by this device",
                (unsigned long long)t->driver_features);
        goto out;
    }
    if (json_array_size(queues) != t->ops->nqueues) {
        err_val(err, EINVAL, "snapshot has %zu queues, device has %u", json_array_size(queues),
                t->ops->nqueues);
        goto out;
    }
    for (unsigned int i = 0; i < t->ops->nqueues; i++)
        if (restore_queue(t, i, json_array_get(queues, i), err) < 0)
            goto out;
    if (dev != NULL && t->ops->restore != NULL && t->ops->restore(t->dev, dev, err) < 0)
        goto out;
    vm_irq_set(&t->irq, t->isr != 0);
    r = 0;
out:
    if (r < 0) {
        device_reset(t);
        err_wrap(err, "restore %s", t->ops->name);
    }
    ioevent_sync(t);
    virtio_mmio_unlock(t);
    return r;
}

static void mmio_destroy(void *state)
{
    struct virtio_mmio *t = state;

    if (t == NULL)
        return;
    if (t->thread_started) {
        uint64_t one = 1;
        if (write(t->stop_fd, &one, sizeof(one)) < 0)
            log_debug("%s: stop notify thread: %s", t->ops->name, strerror(errno));
        pthread_join(t->thread, NULL);
    }
    virtio_mmio_lock(t);
    t->ioev_failed = true; /* ioevent_sync() now removes every registration */
    ioevent_sync(t);
    virtio_mmio_unlock(t);
    for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
        cleanup_closep(&t->kick_fd[i]);
    cleanup_closep(&t->stop_fd);
    if (t->ops->destroy != NULL)
        t->ops->destroy(t->dev);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->unpaused);
    free(t);
}

const struct vm_dev_ops virtio_mmio_dev_ops = {
    .name = "virtio-mmio",
    .read = mmio_read,
    .write = mmio_write,
    .save = mmio_save,
    .restore = mmio_restore,
    .pause = mmio_pause,
    .destroy = mmio_destroy,
};

int virtio_mmio_create(const struct virtio_dev_ops *ops, void *dev, const struct vm_mem *mem,
                       struct vm_irq irq, struct vm_dev *out, struct err **err)
{
    struct virtio_mmio *t;

    if (ops->nqueues == 0 || ops->nqueues > VIRTIO_MMIO_MAX_QUEUES || ops->queue_max == 0 ||
        ops->queue_max > VIRTQUEUE_MAX_SIZE || (ops->queue_max & (ops->queue_max - 1)) != 0) {
        if (ops->destroy != NULL)
            ops->destroy(dev);
        return err_val(err, EINVAL, "%s: bad queue layout", ops->name);
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        if (ops->destroy != NULL)
            ops->destroy(dev);
        return err_set(err, ENOMEM, "%s: allocate transport", ops->name);
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->unpaused, NULL);
    t->ops = ops;
    t->dev = dev;
    t->mem = mem;
    t->irq = irq;
    t->offered = ops->features | (1ull << VIRTIO_F_VERSION_1);
    t->stop_fd = -1;
    for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
        t->kick_fd[i] = -1;
    for (unsigned int i = 0; i < ops->nqueues; i++)
        virtqueue_init(&t->queues[i], ops->queue_max);
    memset(out, 0, sizeof(*out));
    out->ops = &virtio_mmio_dev_ops;
    out->state = t;
    out->kind = VM_DEV_MMIO;
    out->size = VIRTIO_MMIO_WINDOW;
    out->irq = irq;
    out->acpi_virtio_mmio = true;
    return 0;
}

/* The notify thread: each signalled queue eventfd is one or more QueueNotify
 * writes the hypervisor completed; serve them as write_reg() serves the MMIO
 * exit. */
static void *notify_thread(void *arg)
{
    struct virtio_mmio *t = arg;
    struct pollfd p[VIRTIO_MMIO_MAX_QUEUES + 1];
    unsigned int n = t->ops->nqueues;

    for (unsigned int i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = t->kick_fd[i], .events = POLLIN};
    p[n] = (struct pollfd){.fd = t->stop_fd, .events = POLLIN};
    pthread_setname_np(pthread_self(), t->ops->name);
    for (;;) {
        if (poll(p, n + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_warn("%s: notify thread: poll: %s", t->ops->name, strerror(errno));
            break;
        }
        if (p[n].revents != 0)
            break;
        for (unsigned int i = 0; i < n; i++) {
            uint64_t cnt;
            if (!(p[i].revents & POLLIN) || read(t->kick_fd[i], &cnt, sizeof(cnt)) < 0)
                continue;
            virtio_mmio_lock(t);
            if (t->queues[i].ready && virtio_mmio_active(t))
                t->ops->queue_notify(t->dev, i);
            ioevent_sync(t); /* the device may have needed a reset */
            t->kicks++;
            virtio_mmio_unlock(t);
        }
    }
    return NULL;
}

uint64_t virtio_mmio_ioevent_count(struct virtio_mmio *t)
{
    uint64_t n;

    virtio_mmio_lock(t);
    n = t->kicks;
    virtio_mmio_unlock(t);
    return n;
}

int virtio_mmio_set_ioevent(struct vm_dev *dev, struct vm_ioevent ev, struct err **err)
{
    struct virtio_mmio *t = dev->state;
    int r;

    if (ev.set == NULL || t->thread_started)
        return 0;
    for (unsigned int i = 0; i < t->ops->nqueues; i++) {
        t->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (t->kick_fd[i] < 0)
            return err_sys(err, "%s: eventfd for queue %u", t->ops->name, i);
    }
    t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t->stop_fd < 0)
        return err_sys(err, "%s: eventfd", t->ops->name);
    r = vm_dev_thread_start(&t->thread, notify_thread, t);
    if (r != 0)
        return err_set(err, r, "%s: start notify thread", t->ops->name);
    t->thread_started = true;
    virtio_mmio_lock(t);
    t->ioev = ev;
    ioevent_sync(t);
    virtio_mmio_unlock(t);
    return 0;
}

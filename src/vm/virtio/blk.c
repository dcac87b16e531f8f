/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-blk: virtio 1.2 §5.2. See blk.h. */
#include "vm/virtio/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/js.h"
#include "vm/virtio/mmio.h"

#define SECTOR            512u
#define QUEUE_SIZE        256
#define SEG_MAX           (VIRTQUEUE_MAX_SEGS - 2) /* minus header and status */
#define MAX_RANGES        32u                      /* discard/write-zeroes segments */
#define MAX_RANGE_SECTORS (1u << 22)               /* 2 GiB per discard segment */

struct blk {
    struct virtio_mmio *t;
    int fd;
    bool readonly;
    uint64_t capacity; /* sectors */
    char path[4096];
    char serial[VIRTIO_BLK_ID_BYTES];
    struct virtio_blk_config cfg;
    struct virtqueue_chain chain; /* scratch, used under the transport lock */
};

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
    struct blk *b = dev;

    virtio_mmio_config_copy(&b->cfg, sizeof(b->cfg), off, data, len);
}

/* Read or write `len` bytes at byte offset pos, to/from the chain's part in
 * (write to guest) or out (read from guest) starting at chain offset coff. */
static int blk_io(struct blk *b, const struct virtqueue_chain *c, bool to_guest, uint32_t coff,
                  uint32_t len, uint64_t pos)
{
    struct iovec iov[VIRTQUEUE_MAX_SEGS];
    unsigned int n = virtqueue_chain_slice(c, to_guest, coff, len, iov, VIRTQUEUE_MAX_SEGS);
    unsigned int i = 0;

    while (i < n) {
        ssize_t r = to_guest ? preadv(b->fd, iov + i, (int)(n - i), (off_t)pos)
                             : pwritev(b->fd, iov + i, (int)(n - i), (off_t)pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            if (!to_guest)
                return -1;
            /* Past the end of a file that shrank: the guest reads zeros. */
            for (; i < n; i++)
                memset(iov[i].iov_base, 0, iov[i].iov_len);
            return 0;
        }
        pos += (uint64_t)r;
        while (i < n && (size_t)r >= iov[i].iov_len) {
            r -= (ssize_t)iov[i].iov_len;
            i++;
        }
        if (i < n) {
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + r;
            iov[i].iov_len -= (size_t)r;
        }
    }
    return 0;
}

static bool in_range(const struct blk *b, uint64_t sector, uint64_t nsectors)
{
    return sector <= b->capacity && nsectors <= b->capacity - sector;
}

static uint8_t blk_ranges(struct blk *b, const struct virtqueue_chain *c, uint32_t type)
{
    uint32_t bytes = c->out_len - 16;

    if (b->readonly)
        return VIRTIO_BLK_S_IOERR;
    if (bytes == 0 || bytes % sizeof(struct virtio_blk_discard_write_zeroes) != 0 ||
        bytes / sizeof(struct virtio_blk_discard_write_zeroes) > MAX_RANGES)
        return VIRTIO_BLK_S_IOERR;
    for (uint32_t off = 16; off < c->out_len;
         off += sizeof(struct virtio_blk_discard_write_zeroes)) {
        struct virtio_blk_discard_write_zeroes r;
        virtqueue_chain_read(c, off, &r, sizeof(r));
        if (r.num_sectors > MAX_RANGE_SECTORS || !in_range(b, r.sector, r.num_sectors))
            return VIRTIO_BLK_S_IOERR;
        /* §5.2.6.2: for DISCARD flags must be 0; for WRITE_ZEROES only UNMAP. */
        if ((type == VIRTIO_BLK_T_DISCARD && r.flags != 0) || (r.flags & ~1u) != 0)
            return VIRTIO_BLK_S_UNSUPP;
        int mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
        if (fallocate(b->fd, mode, (off_t)(r.sector * SECTOR), (off_t)r.num_sectors * SECTOR) < 0) {
            if (type == VIRTIO_BLK_T_DISCARD)
                continue; /* discard is advisory */
            /* Punching holes unsupported: write zeroes the slow way. */
            static const uint8_t zero[65536];
            uint64_t pos = r.sector * SECTOR, left = (uint64_t)r.num_sectors * SECTOR;
            while (left > 0) {
                size_t n = left < sizeof(zero) ? left : sizeof(zero);
                ssize_t w = pwrite(b->fd, zero, n, (off_t)pos);
                if (w <= 0)
                    return VIRTIO_BLK_S_IOERR;
                pos += (uint64_t)w;
                left -= (uint64_t)w;
            }
        }
    }
    return VIRTIO_BLK_S_OK;
}

/* One request (§5.2.6): a 16-byte header (type, reserved, sector) readable,
 * data, then the status byte, the last writable byte. Returns the bytes
 * written to the guest, or -1 when the chain cannot carry a status. */
static int64_t blk_request(struct blk *b, const struct virtqueue_chain *c)
{
    struct virtio_blk_outhdr h;
    uint8_t status = VIRTIO_BLK_S_OK;
    uint32_t written = 0;

    if (c->in_len < 1)
        return -1;
    uint32_t data_in = c->in_len - 1; /* writable bytes before the status */
    if (c->out_len < sizeof(h)) {
        status = VIRTIO_BLK_S_IOERR;
        goto out;
    }
    virtqueue_chain_read(c, 0, &h, sizeof(h));
    uint32_t data_out = c->out_len - (uint32_t)sizeof(h);

    switch (h.type) {
    case VIRTIO_BLK_T_IN:
        if (data_in % SECTOR != 0 || !in_range(b, h.sector, data_in / SECTOR)) {
            status = VIRTIO_BLK_S_IOERR;
            break;
        }
        if (blk_io(b, c, true, 0, data_in, h.sector * SECTOR) < 0)
            status = VIRTIO_BLK_S_IOERR;
        else
            written = data_in;
        break;
    case VIRTIO_BLK_T_OUT:
        if (b->readonly || data_out % SECTOR != 0 || !in_range(b, h.sector, data_out / SECTOR) ||
            blk_io(b, c, false, sizeof(h), data_out, h.sector * SECTOR) < 0)
            status = VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_FLUSH:
        if (!b->readonly && fdatasync(b->fd) < 0)
            status = VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        uint32_t n = data_in < VIRTIO_BLK_ID_BYTES ? data_in : VIRTIO_BLK_ID_BYTES;
        written = virtqueue_chain_write(c, 0, b->serial, n);
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        status = blk_ranges(b, c, h.type);
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
out:
    virtqueue_chain_write(c, c->in_len - 1, &status, 1);
    return (int64_t)written + 1;
}

static void blk_queue_notify(void *dev, unsigned int qi)
{
    struct blk *b = dev;
    struct virtqueue *q = virtio_mmio_queue(b->t, 0);
    const char *why = NULL;
    bool pushed = false;

    if (qi != 0)
        return;
    do {
        int r;
        while ((r = virtqueue_pop(q, &b->chain, &why)) > 0) {
            int64_t n = blk_request(b, &b->chain);
            if (n < 0) {
                virtio_mmio_needs_reset(b->t, "block request without a status byte");
                return;
            }
            virtqueue_push(q, b->chain.head, (uint32_t)n);
            pushed = true;
        }
        if (r < 0) {
            virtio_mmio_needs_reset(b->t, why);
            return;
        }
    } while (virtqueue_has_avail(q));
    if (pushed)
        virtio_mmio_notify(b->t, 0);
}

static json_t *blk_save(void *dev)
{
    struct blk *b = dev;

    return json_pack("{s:s, s:b, s:I}", "path", b->path, "readonly", b->readonly, "capacity",
                     (json_int_t)b->capacity);
}

static int blk_restore(void *dev, json_t *state, struct err **err)
{
    struct blk *b = dev;
    uint64_t capacity = 0;

    if (js_get_u64(state, "state", "capacity", true, &capacity, err) < 0)
        return -1;
    if (capacity != b->capacity)
        return err_val(err, EINVAL, "disk `%s` has %llu sectors, the snapshot %llu", b->path,
                       (unsigned long long)b->capacity, (unsigned long long)capacity);
    return 0;
}

static void blk_destroy(void *dev)
{
    struct blk *b = dev;

    if (b == NULL)
        return;
    if (b->fd >= 0)
        close(b->fd);
    free(b);
}

static const struct virtio_dev_ops blk_ops_rw = {
    .name = "virtio-blk",
    .device_id = 2,
    .nqueues = 1,
    .queue_max = QUEUE_SIZE,
    .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |
                (1ull << VIRTIO_BLK_F_WRITE_ZEROES) | (1ull << VIRTIO_F_INDIRECT_DESC) |
                (1ull << VIRTIO_F_EVENT_IDX),
    .config_read = blk_config_read,
    .queue_notify = blk_queue_notify,
    .save = blk_save,
    .restore = blk_restore,
    .destroy = blk_destroy,
};

static const struct virtio_dev_ops blk_ops_ro = {
    .name = "virtio-blk",
    .device_id = 2,
    .nqueues = 1,
    .queue_max = QUEUE_SIZE,
    .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_RO) |
                (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
    .config_read = blk_config_read,
    .queue_notify = blk_queue_notify,
    .save = blk_save,
    .restore = blk_restore,
    .destroy = blk_destroy,
};

static int disk_size(int fd, const char *path, uint64_t *size, struct err **err)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return err_sys(err, "stat disk `%s`", path);
    if (S_ISREG(st.st_mode)) {
        *size = (uint64_t)st.st_size;
        return 0;
    }
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, size) < 0)
            return err_sys(err, "size of block device `%s`", path);
        return 0;
    }
    return err_val(err, EINVAL, "disk `%s` is neither a regular file nor a block device", path);
}

int virtio_blk_create(const struct virtio_blk_opts *o, const struct vm_mem *mem, struct vm_irq irq,
                      struct vm_dev *out, struct err **err)
{
    _cleanup_free_ struct blk *b = NULL;
    _cleanup_close_ int fd = -1;
    uint64_t size = 0;

    if (o->path == NULL || strlen(o->path) >= sizeof(b->path))
        return err_val(err, EINVAL, "disk path missing or too long");
    fd = open(o->path, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "open disk `%s`%s", o->path, o->readonly ? "" : " read-write");
    if (disk_size(fd, o->path, &size, err) < 0)
        return -1;
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return err_set(err, ENOMEM, "disk `%s`", o->path);
    b->readonly = o->readonly;
    b->capacity = size / SECTOR; /* a partial last sector is not visible */
    strcpy(b->path, o->path);
    const char *serial = o->serial;
    if (serial == NULL) {
        serial = strrchr(o->path, '/');
        serial = serial != NULL ? serial + 1 : o->path;
    }
    /* Not NUL-terminated when it is 20 bytes long (§5.2.6). */
    memcpy(b->serial, serial, strnlen(serial, sizeof(b->serial)));
    b->cfg.capacity = b->capacity;
    b->cfg.seg_max = SEG_MAX;
    b->cfg.blk_size = SECTOR;
    b->cfg.max_discard_sectors = MAX_RANGE_SECTORS;
    b->cfg.max_discard_seg = MAX_RANGES;
    b->cfg.discard_sector_alignment = 1;
    b->cfg.max_write_zeroes_sectors = MAX_RANGE_SECTORS;
    b->cfg.max_write_zeroes_seg = MAX_RANGES;
    b->cfg.write_zeroes_may_unmap = 1;
    b->fd = steal_fd(&fd);

    struct blk *dev = steal_ptr(&b);
    if (virtio_mmio_create(o->readonly ? &blk_ops_ro : &blk_ops_rw, dev, mem, irq, out, err) < 0)
        return err_wrap(err, "disk `%s`", o->path);
    dev->t = out->state;
    return 0;
}

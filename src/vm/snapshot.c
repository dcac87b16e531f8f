/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VM snapshots (snapshot.h; docs/vm.md, "Snapshot and restore"). */
#include "vm/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/cleanup.h"

#define PAGE 4096U

static const char *const snap_files[] = {"config.json", "state.json", "memory"};

/* ---- encoding ---- */

static json_t *hex_of(const void *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = buf;
    _cleanup_free_ char *s = malloc(len * 2 + 1);

    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    s[2 * len] = '\0';
    return json_string(s);
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int hex_to(json_t *j, const char *what, void *buf, size_t len, struct err **err)
{
    const char *s = json_string_value(j);
    uint8_t *b = buf;

    if (s == NULL || strlen(s) != len * 2)
        return err_val(err, EINVAL, "snapshot state: %s: missing or not %zu bytes", what, len);
    for (size_t i = 0; i < len; i++) {
        int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return err_val(err, EINVAL, "snapshot state: %s: not hex", what);
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* ---- files ---- */

static char *snap_path(const char *dir, const char *name, const char *suffix)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s%s", dir, name, suffix) < 0)
        return NULL;
    return p;
}

static int fsync_dir(const char *dir, struct err **err)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) < 0)
        return err_sys(err, "snapshot `%s`: fsync directory", dir);
    return 0;
}

/* fsync NAME.tmp and rename it to NAME. */
static int commit_file(const char *dir, const char *name, int fd, struct err **err)
{
    _cleanup_free_ char *tmp = snap_path(dir, name, ".tmp"), *dst = snap_path(dir, name, "");

    if (tmp == NULL || dst == NULL)
        return err_set(err, ENOMEM, "snapshot `%s`", dir);
    if (fsync(fd) < 0)
        return err_sys(err, "snapshot `%s`: fsync", tmp);
    if (rename(tmp, dst) < 0)
        return err_sys(err, "snapshot `%s`: rename to `%s`", tmp, dst);
    return 0;
}

static int open_tmp(const char *dir, const char *name, struct err **err)
{
    _cleanup_free_ char *tmp = snap_path(dir, name, ".tmp");

    if (tmp == NULL)
        return err_set(err, ENOMEM, "snapshot `%s`", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_sys(err, "snapshot: create `%s`", tmp);
    return fd;
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* Write j as NAME (through NAME.tmp); its size and CRC-32 into files. */
static int write_json(const char *dir, const char *name, json_t *j, json_t *files, struct err **err)
{
    _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    _cleanup_close_ int fd = -1;

    if (s == NULL)
        return err_set(err, ENOMEM, "snapshot `%s`: encode %s", dir, name);
    size_t len = strlen(s);
    if ((fd = open_tmp(dir, name, err)) < 0)
        return -1;
    if (write_all(fd, s, len, 0) < 0)
        return err_sys(err, "snapshot `%s`: write %s.tmp", dir, name);
    if (commit_file(dir, name, fd, err) < 0)
        return -1;
    if (files != NULL)
        json_object_set_new(files, name,
                            json_pack("{s:I, s:I}", "size", (json_int_t)len, "crc32",
                                      (json_int_t)crc32(0, (const Bytef *)s, (uInt)len)));
    return 0;
}

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;

    for (unsigned int i = 0; i < PAGE / 8; i++)
        if (q[i] != 0)
            return false;
    return true;
}

static int write_memory(const char *dir, const struct vm_machine *m, json_t *files,
                        struct err **err)
{
    _cleanup_close_ int fd = open_tmp(dir, "memory", err);
    uLong crc = crc32(0, NULL, 0);
    off_t off = 0;

    if (fd < 0)
        return -1;
    for (unsigned int r = 0; r < m->mem.nregions; r++) {
        const struct vm_mem_region *reg = &m->mem.regions[r];
        for (uint64_t o = 0; o < reg->size; o += PAGE, off += PAGE) {
            const uint8_t *p = reg->hva + o;
            crc = crc32(crc, p, PAGE);
            if (!page_is_zero(p) && write_all(fd, p, PAGE, off) < 0)
                return err_sys(err, "snapshot `%s`: write memory.tmp", dir);
        }
    }
    /* the zero pages at the end: a hole too */
    if (ftruncate(fd, off) < 0)
        return err_sys(err, "snapshot `%s`: truncate memory.tmp", dir);
    if (commit_file(dir, "memory", fd, err) < 0)
        return -1;
    json_object_set_new(files, "memory",
                        json_pack("{s:I, s:I}", "size", (json_int_t)off, "crc32", (json_int_t)crc));
    return 0;
}

/* ---- vCPU and VM state ---- */

/* The MSRs KVM names (KVM_GET_MSR_INDEX_LIST) that this vCPU can read. */
static int msr_list(struct vm_machine *m, struct kvm_msr_list **out, struct err **err)
{
    struct kvm_msr_list probe = {.nmsrs = 0};

    if (ioctl(m->kvm.sys_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
        return err_sys(err, "%s", "KVM_GET_MSR_INDEX_LIST");
    struct kvm_msr_list *l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(uint32_t));
    if (l == NULL)
        return err_set(err, ENOMEM, "%s", "KVM_GET_MSR_INDEX_LIST");
    l->nmsrs = probe.nmsrs;
    if (ioctl(m->kvm.sys_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
        free(l);
        return err_sys(err, "%s", "KVM_GET_MSR_INDEX_LIST");
    }
    *out = l;
    return 0;
}

union msr_one {
    struct kvm_msrs hdr;
    char buf[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
};

static json_t *vcpu_msrs_save(struct vm_vcpu *v, const struct kvm_msr_list *l)
{
    json_t *a = json_array();

    for (unsigned int i = 0; a != NULL && i < l->nmsrs; i++) {
        union msr_one one;
        char idx[16], val[24];
        memset(&one, 0, sizeof(one));
        one.hdr.nmsrs = 1;
        one.hdr.entries[0].index = l->indices[i];
        /* filtered: an MSR this vCPU cannot read (returns 0 entries) is skipped */
        if (ioctl(v->fd, KVM_GET_MSRS, &one) != 1)
            continue;
        snprintf(idx, sizeof(idx), "%x", l->indices[i]);
        snprintf(val, sizeof(val), "%llx", (unsigned long long)one.hdr.entries[0].data);
        json_array_append_new(a, json_pack("[s,s]", idx, val));
    }
    return a;
}

#define SAVE_STRUCT(obj, key, fd, req, type, what, optional)        \
    do {                                                            \
        type s_;                                                    \
        memset(&s_, 0, sizeof(s_));                                 \
        if (ioctl(fd, req, &s_) < 0) {                              \
            if (!(optional))                                        \
                return err_sys(err, "vCPU %u: %s", v->id, what);    \
        } else {                                                    \
            json_object_set_new(obj, key, hex_of(&s_, sizeof(s_))); \
        }                                                           \
    } while (0)

static int vcpu_save(struct vm_vcpu *v, const struct kvm_msr_list *l, json_t *out, struct err **err)
{
    SAVE_STRUCT(out, "regs", v->fd, KVM_GET_REGS, struct kvm_regs, "KVM_GET_REGS", false);
    SAVE_STRUCT(out, "sregs", v->fd, KVM_GET_SREGS, struct kvm_sregs, "KVM_GET_SREGS", false);
    SAVE_STRUCT(out, "fpu", v->fd, KVM_GET_FPU, struct kvm_fpu, "KVM_GET_FPU", false);
    SAVE_STRUCT(out, "xsave", v->fd, KVM_GET_XSAVE, struct kvm_xsave, "KVM_GET_XSAVE", true);
    SAVE_STRUCT(out, "xcrs", v->fd, KVM_GET_XCRS, struct kvm_xcrs, "KVM_GET_XCRS", true);
    SAVE_STRUCT(out, "debugregs", v->fd, KVM_GET_DEBUGREGS, struct kvm_debugregs,
                "KVM_GET_DEBUGREGS", true);
    SAVE_STRUCT(out, "lapic", v->fd, KVM_GET_LAPIC, struct kvm_lapic_state, "KVM_GET_LAPIC", false);
    SAVE_STRUCT(out, "events", v->fd, KVM_GET_VCPU_EVENTS, struct kvm_vcpu_events,
                "KVM_GET_VCPU_EVENTS", false);
    SAVE_STRUCT(out, "mp_state", v->fd, KVM_GET_MP_STATE, struct kvm_mp_state, "KVM_GET_MP_STATE",
                false);
    json_t *msrs = vcpu_msrs_save(v, l);
    if (msrs == NULL)
        return err_set(err, ENOMEM, "vCPU %u: MSRs", v->id);
    json_object_set_new(out, "msrs", msrs);
    return 0;
}

static int vm_state_save(struct vm_machine *m, json_t *out, struct err **err)
{
    static const char *const chips[] = {"pic_master", "pic_slave", "ioapic"};
    struct kvm_pit_state2 pit;
    struct kvm_clock_data clock;

    for (unsigned int i = 0; i < 3; i++) {
        struct kvm_irqchip c;
        memset(&c, 0, sizeof(c));
        c.chip_id = i;
        if (ioctl(m->kvm.vm_fd, KVM_GET_IRQCHIP, &c) < 0)
            return err_sys(err, "KVM_GET_IRQCHIP %s", chips[i]);
        json_object_set_new(out, chips[i], hex_of(&c, sizeof(c)));
    }
    memset(&pit, 0, sizeof(pit));
    if (ioctl(m->kvm.vm_fd, KVM_GET_PIT2, &pit) < 0)
        return err_sys(err, "%s", "KVM_GET_PIT2");
    json_object_set_new(out, "pit2", hex_of(&pit, sizeof(pit)));
    memset(&clock, 0, sizeof(clock));
    if (ioctl(m->kvm.vm_fd, KVM_GET_CLOCK, &clock) < 0)
        return err_sys(err, "%s", "KVM_GET_CLOCK");
    json_object_set_new(out, "clock", hex_of(&clock, sizeof(clock)));
    return 0;
}

static json_t *devices_save(struct vm_machine *m, bool with_state)
{
    json_t *a = json_array();

    for (unsigned int i = 0; a != NULL && i < m->bus.ndevs; i++) {
        const struct vm_dev *d = &m->bus.devs[i];
        json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "name", d->ops->name, "kind",
                              d->kind == VM_DEV_MMIO ? "mmio" : "pio", "base", (json_int_t)d->base,
                              "size", (json_int_t)d->size);
        if (j != NULL && with_state && d->ops->save != NULL)
            json_object_set_new(j, "state", d->ops->save(d->state) ?: json_null());
        json_array_append_new(a, j);
    }
    return a;
}

static json_t *disks_identity(const struct vm_config *c, struct err **err)
{
    json_t *a = json_array();

    for (unsigned int i = 0; a != NULL && i < c->ndisks; i++) {
        struct stat st;
        if (stat(c->disks[i].path, &st) < 0) {
            json_decref(a);
            err_sys(err, "disk `%s`: stat", c->disks[i].path);
            return NULL;
        }
        json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "path",
                                           c->disks[i].path, "size", (json_int_t)st.st_size, "dev",
                                           (json_int_t)st.st_dev, "inode", (json_int_t)st.st_ino,
                                           "mtime_s", (json_int_t)st.st_mtim.tv_sec, "mtime_ns",
                                           (json_int_t)st.st_mtim.tv_nsec));
    }
    if (a == NULL)
        err_set(err, ENOMEM, "%s", "disks");
    return a;
}

static uint32_t header_crc(json_t *h)
{
    json_t *copy = json_deep_copy(h);
    uint32_t crc = 0;

    if (copy == NULL)
        return 0;
    json_object_del(copy, "header_crc32");
    char *s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    if (s != NULL)
        crc = (uint32_t)crc32(0, (const Bytef *)s, (uInt)strlen(s));
    free(s);
    json_decref(copy);
    return crc;
}

int snapshot_save(struct vm_machine *m, const struct vm_config *c, const char *dir,
                  struct err **err)
{
    _cleanup_free_ struct kvm_msr_list *msrs = NULL;
    json_t *cfg = NULL, *state = NULL, *vcpus = NULL, *files = NULL, *hdr = NULL;
    int ret = -1;

    if (!m->paused)
        return err_val(err, EINVAL, "snapshot `%s`: the VM is not paused", dir);
    if (c == NULL)
        return err_val(err, ENOTSUP, "snapshot `%s`: the VM's config is unknown", dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return err_sys(err, "snapshot `%s`: mkdir", dir);
    /* an older snapshot there stops being one first: no mix of old and new */
    _cleanup_free_ char *old = snap_path(dir, "header.json", "");
    if (old == NULL)
        return err_set(err, ENOMEM, "snapshot `%s`", dir);
    if (unlink(old) < 0 && errno != ENOENT)
        return err_sys(err, "snapshot: remove the old `%s`", old);
    if (msr_list(m, &msrs, err) < 0)
        goto out;
    state = json_object();
    vcpus = json_array();
    files = json_object();
    if (state == NULL || vcpus == NULL || files == NULL) {
        err_set(err, ENOMEM, "snapshot `%s`", dir);
        goto out;
    }
    for (unsigned int i = 0; i < m->ncpus; i++) {
        json_t *v = json_object();
        if (v == NULL || json_array_append_new(vcpus, v) < 0 ||
            vcpu_save(&m->vcpus[i], msrs, v, err) < 0)
            goto out;
    }
    json_object_set(state, "vcpus", vcpus);
    if (vm_state_save(m, state, err) < 0)
        goto out;
    json_object_set_new(state, "devices", devices_save(m, true));
    if (vm_config_to_json(c, &cfg, err) < 0)
        goto out;
    if (write_json(dir, "config.json", cfg, files, err) < 0 ||
        write_json(dir, "state.json", state, files, err) < 0 ||
        write_memory(dir, m, files, err) < 0)
        goto out;
    json_t *disks = disks_identity(c, err);
    if (disks == NULL)
        goto out;
    hdr = json_pack("{s:s, s:i, s:s, s:I, s:i, s:o, s:o, s:O}", "magic", SNAPSHOT_MAGIC,
                    "format_version", SNAPSHOT_VERSION, "isola_version", ISOLA_VERSION,
                    "memory_bytes", (json_int_t)m->ram_size, "vcpus", (int)m->ncpus, "devices",
                    devices_save(m, false), "disks", disks, "files", files);
    if (hdr == NULL) {
        err_set(err, ENOMEM, "snapshot `%s`: header", dir);
        goto out;
    }
    json_object_set_new(hdr, "header_crc32", json_integer(header_crc(hdr)));
    if (write_json(dir, "header.json", hdr, NULL, err) < 0 || fsync_dir(dir, err) < 0)
        goto out;
    ret = 0;
out:
    if (ret < 0) {
        for (unsigned int i = 0; i < ARRAY_SIZE(snap_files); i++) {
            _cleanup_free_ char *t = snap_path(dir, snap_files[i], ".tmp");
            if (t != NULL)
                unlink(t);
        }
    }
    json_decref(cfg);
    json_decref(state);
    json_decref(vcpus);
    json_decref(files);
    json_decref(hdr);
    return ret;
}

/* ---- checking ---- */

static int read_file(const char *dir, const char *name, char **out, size_t *len, struct err **err)
{
    _cleanup_free_ char *p = snap_path(dir, name, "");
    _cleanup_close_ int fd = -1;
    struct stat st;

    if (p == NULL)
        return err_set(err, ENOMEM, "snapshot `%s`", dir);
    if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT)
            return err_set(err, ENOENT, "snapshot `%s`: no %s (not a snapshot, or one cut short)",
                           dir, name);
        return err_sys(err, "snapshot: open `%s`", p);
    }
    if (fstat(fd, &st) < 0)
        return err_sys(err, "snapshot: stat `%s`", p);
    if (st.st_size > (64 << 20))
        return err_val(err, EFBIG, "snapshot `%s`: %s is larger than 64 MiB", dir, name);
    _cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        return err_set(err, ENOMEM, "snapshot: read `%s`", p);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return err_sys(err, "snapshot: read `%s`", p);
        got += (size_t)n;
    }
    buf[got] = '\0';
    *len = got;
    *out = steal_ptr(&buf);
    return 0;
}

/* The size and CRC-32 of dir/name against what the header says. */
static int check_file(const char *dir, const char *name, json_t *files, struct err **err)
{
    json_t *f = json_object_get(files, name);
    json_int_t want_size = json_integer_value(json_object_get(f, "size"));
    json_int_t want_crc = json_integer_value(json_object_get(f, "crc32"));
    _cleanup_free_ char *p = snap_path(dir, name, "");
    _cleanup_close_ int fd = -1;
    struct stat st;
    static uint8_t buf[1 << 20];
    uLong crc = crc32(0, NULL, 0);

    if (f == NULL || p == NULL)
        return err_val(err, EINVAL, "snapshot `%s`: the header lists no %s", dir, name);
    if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
        return err_sys(err, "snapshot: open `%s`", p);
    if (fstat(fd, &st) < 0)
        return err_sys(err, "snapshot: stat `%s`", p);
    if (st.st_size != want_size)
        return err_val(err, EINVAL,
                       "snapshot `%s`: %s is %lld bytes, the header says %lld "
                       "(truncated or not this snapshot's)",
                       dir, name, (long long)st.st_size, (long long)want_size);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_sys(err, "snapshot: read `%s`", p);
        if (n == 0)
            break;
        crc = crc32(crc, buf, (uInt)n);
    }
    if ((json_int_t)crc != want_crc)
        return err_val(err, EINVAL,
                       "snapshot `%s`: %s is corrupt (CRC-32 %08lx, the header says %08llx)", dir,
                       name, crc, (unsigned long long)want_crc);
    return 0;
}

static int check_disks(const char *dir, json_t *disks, struct err **err)
{
    size_t i;
    json_t *d;

    json_array_foreach (disks, i, d) {
        const char *path = json_string_value(json_object_get(d, "path"));
        struct stat st;
        if (path == NULL)
            return err_val(err, EINVAL, "snapshot `%s`: disk %zu has no path", dir, i);
        if (stat(path, &st) < 0)
            return err_sys(err, "snapshot `%s`: disk `%s`", dir, path);
#define DISK_SAME(field, key, what)                                                             \
    if ((json_int_t)(field) != json_integer_value(json_object_get(d, key)))                     \
        return err_val(err, ESTALE,                                                             \
                       "snapshot `%s`: disk `%s` is not the file the snapshot was taken with: " \
                       "its %s changed (%lld, was %lld)",                                       \
                       dir, path, what, (long long)(field),                                     \
                       (long long)json_integer_value(json_object_get(d, key)));
        DISK_SAME(st.st_dev, "dev", "device");
        DISK_SAME(st.st_ino, "inode", "inode");
        DISK_SAME(st.st_size, "size", "size");
        DISK_SAME(st.st_mtim.tv_sec, "mtime_s", "modification time");
        DISK_SAME(st.st_mtim.tv_nsec, "mtime_ns", "modification time (ns)");
#undef DISK_SAME
    }
    return 0;
}

int snapshot_check(const char *dir, uint64_t want_memory, struct vm_config *c, struct err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    json_error_t je;

    if (read_file(dir, "header.json", &text, &len, err) < 0)
        return -1;
    json_t *h = json_loadb(text, len, 0, &je);
    if (h == NULL || !json_is_object(h)) {
        json_decref(h);
        return err_val(err, EINVAL, "snapshot `%s`: header.json is corrupt (%s)", dir, je.text);
    }
    int ret = -1;
    const char *magic = json_string_value(json_object_get(h, "magic"));
    json_int_t version = json_integer_value(json_object_get(h, "format_version"));
    const char *made_by = json_string_value(json_object_get(h, "isola_version"));
    json_int_t mem = json_integer_value(json_object_get(h, "memory_bytes"));
    json_int_t vcpus = json_integer_value(json_object_get(h, "vcpus"));
    json_t *crc = json_object_get(h, "header_crc32");
    json_t *files = json_object_get(h, "files");

    if (magic == NULL || strcmp(magic, SNAPSHOT_MAGIC) != 0) {
        err_val(err, EINVAL, "snapshot `%s`: header.json is not an isola VM snapshot header", dir);
    } else if (version != SNAPSHOT_VERSION) {
        err_val(err, ENOTSUP,
                "snapshot `%s`: format version %lld (isola %s), this isola (%s) reads version %d",
                dir, (long long)version, made_by ? made_by : "?", ISOLA_VERSION, SNAPSHOT_VERSION);
    } else if (!json_is_integer(crc) || (uint32_t)json_integer_value(crc) != header_crc(h)) {
        err_val(err, EINVAL, "snapshot `%s`: header.json is corrupt (checksum mismatch)", dir);
    } else if (mem <= 0 || vcpus <= 0 || vcpus > VM_MAX_CPUS) {
        err_val(err, EINVAL, "snapshot `%s`: header.json: bad memory size or vCPU count", dir);
    } else if (want_memory != 0 && want_memory != (uint64_t)mem) {
        err_val(err, EINVAL,
                "snapshot `%s`: the guest has %lld MiB of memory, restore asks for %llu MiB "
                "(a restored guest needs exactly the memory it was snapshotted with)",
                dir, (long long)(mem >> 20), (unsigned long long)(want_memory >> 20));
    } else if (check_file(dir, "config.json", files, err) == 0 &&
               check_file(dir, "state.json", files, err) == 0 &&
               check_file(dir, "memory", files, err) == 0 &&
               check_disks(dir, json_object_get(h, "disks"), err) == 0) {
        _cleanup_free_ char *cp = snap_path(dir, "config.json", "");
        if (cp == NULL)
            err_set(err, ENOMEM, "snapshot `%s`", dir);
        else if (vm_config_load_file(c, cp, err) == 0) {
            if (c->memory != (uint64_t)mem || c->cpus != (unsigned int)vcpus)
                err_val(err, EINVAL, "snapshot `%s`: config.json disagrees with the header", dir);
            else
                ret = 0;
        }
    }
    json_decref(h);
    return ret;
}

/* ---- restore ---- */

static int read_memory(struct vm_machine *m, const char *dir, struct err **err)
{
    _cleanup_free_ char *p = snap_path(dir, "memory", "");
    _cleanup_close_ int fd = -1;
    off_t off = 0;

    if (p == NULL)
        return err_set(err, ENOMEM, "snapshot `%s`", dir);
    if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
        return err_sys(err, "snapshot: open `%s`", p);
    for (unsigned int r = 0; r < m->mem.nregions; r++) {
        const struct vm_mem_region *reg = &m->mem.regions[r];
        uint64_t got = 0;
        while (got < reg->size) {
            ssize_t n = pread(fd, reg->hva + got, reg->size - got, off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return err_val(err, EINVAL, "snapshot: `%s` is shorter than guest memory", p);
            got += (uint64_t)n;
            off += n;
        }
    }
    return 0;
}

#define LOAD_STRUCT(obj, key, fd, req, type, what, optional) \
    do {                                                     \
        type s_;                                             \
        json_t *j_ = json_object_get(obj, key);              \
        if (j_ == NULL && (optional))                        \
            break;                                           \
        if (hex_to(j_, key, &s_, sizeof(s_), err) < 0)       \
            return -1;                                       \
        if (ioctl(fd, req, &s_) < 0)                         \
            return err_sys(err, "vCPU %u: %s", v->id, what); \
    } while (0)

static int vcpu_msrs_load(struct vm_vcpu *v, json_t *a, struct err **err)
{
    size_t i;
    json_t *e;

    json_array_foreach (a, i, e) {
        const char *idx = json_string_value(json_array_get(e, 0));
        const char *val = json_string_value(json_array_get(e, 1));
        union msr_one one;
        if (idx == NULL || val == NULL)
            return err_val(err, EINVAL, "vCPU %u: MSR %zu: bad entry", v->id, i);
        memset(&one, 0, sizeof(one));
        one.hdr.nmsrs = 1;
        one.hdr.entries[0].index = (uint32_t)strtoul(idx, NULL, 16);
        one.hdr.entries[0].data = strtoull(val, NULL, 16);
        /* an MSR KVM lists and reads but does not let a monitor write
         * (read-only ones) is left as KVM has it */
        if (ioctl(v->fd, KVM_SET_MSRS, &one) < 0)
            return err_sys(err, "vCPU %u: KVM_SET_MSRS 0x%s", v->id, idx);
    }
    return 0;
}

/* The order of Firecracker's restore: mp_state, regs, sregs, FPU/XSAVE, XCRs,
 * debug regs, LAPIC, MSRs, events (pending exceptions last). */
static int vcpu_load(struct vm_vcpu *v, json_t *j, struct err **err)
{
    LOAD_STRUCT(j, "mp_state", v->fd, KVM_SET_MP_STATE, struct kvm_mp_state, "KVM_SET_MP_STATE",
                false);
    LOAD_STRUCT(j, "regs", v->fd, KVM_SET_REGS, struct kvm_regs, "KVM_SET_REGS", false);
    LOAD_STRUCT(j, "sregs", v->fd, KVM_SET_SREGS, struct kvm_sregs, "KVM_SET_SREGS", false);
    LOAD_STRUCT(j, "fpu", v->fd, KVM_SET_FPU, struct kvm_fpu, "KVM_SET_FPU", false);
    LOAD_STRUCT(j, "xsave", v->fd, KVM_SET_XSAVE, struct kvm_xsave, "KVM_SET_XSAVE", true);
    LOAD_STRUCT(j, "xcrs", v->fd, KVM_SET_XCRS, struct kvm_xcrs, "KVM_SET_XCRS", true);
    LOAD_STRUCT(j, "debugregs", v->fd, KVM_SET_DEBUGREGS, struct kvm_debugregs, "KVM_SET_DEBUGREGS",
                true);
    LOAD_STRUCT(j, "lapic", v->fd, KVM_SET_LAPIC, struct kvm_lapic_state, "KVM_SET_LAPIC", false);
    if (vcpu_msrs_load(v, json_object_get(j, "msrs"), err) < 0)
        return -1;
    LOAD_STRUCT(j, "events", v->fd, KVM_SET_VCPU_EVENTS, struct kvm_vcpu_events,
                "KVM_SET_VCPU_EVENTS", false);
    return 0;
}

static int vm_state_load(struct vm_machine *m, json_t *j, struct err **err)
{
    static const char *const chips[] = {"pic_master", "pic_slave", "ioapic"};
    struct kvm_pit_state2 pit;
    struct kvm_clock_data clock;

    for (unsigned int i = 0; i < 3; i++) {
        struct kvm_irqchip c;
        if (hex_to(json_object_get(j, chips[i]), chips[i], &c, sizeof(c), err) < 0)
            return -1;
        if (ioctl(m->kvm.vm_fd, KVM_SET_IRQCHIP, &c) < 0)
            return err_sys(err, "KVM_SET_IRQCHIP %s", chips[i]);
    }
    if (hex_to(json_object_get(j, "pit2"), "pit2", &pit, sizeof(pit), err) < 0)
        return -1;
    if (ioctl(m->kvm.vm_fd, KVM_SET_PIT2, &pit) < 0)
        return err_sys(err, "%s", "KVM_SET_PIT2");
    if (hex_to(json_object_get(j, "clock"), "clock", &clock, sizeof(clock), err) < 0)
        return -1;
    /* only the guest's clock value: the host-side fields are this host's */
    struct kvm_clock_data set = {.clock = clock.clock};
    if (ioctl(m->kvm.vm_fd, KVM_SET_CLOCK, &set) < 0)
        return err_sys(err, "%s", "KVM_SET_CLOCK");
    return 0;
}

static int devices_load(struct vm_machine *m, json_t *a, struct err **err)
{
    if (json_array_size(a) != m->bus.ndevs)
        return err_val(err, EINVAL, "snapshot: %zu devices saved, the rebuilt machine has %u",
                       json_array_size(a), m->bus.ndevs);
    for (unsigned int i = 0; i < m->bus.ndevs; i++) {
        const struct vm_dev *d = &m->bus.devs[i];
        json_t *j = json_array_get(a, i);
        const char *name = json_string_value(json_object_get(j, "name"));
        if (name == NULL || strcmp(name, d->ops->name) != 0 ||
            (uint64_t)json_integer_value(json_object_get(j, "base")) != d->base)
            return err_val(err, EINVAL, "snapshot: device %u is %s, the rebuilt machine has %s", i,
                           name ? name : "?", d->ops->name);
        json_t *st = json_object_get(j, "state");
        if (st != NULL && !json_is_null(st) && d->ops->restore != NULL &&
            d->ops->restore(d->state, st, err) < 0)
            return err_wrap(err, "restore device %s at 0x%llx", d->ops->name,
                            (unsigned long long)d->base);
    }
    return 0;
}

int snapshot_restore(struct vm_machine *m, const char *dir, struct err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    json_error_t je;
    int ret = -1;

    if (read_file(dir, "state.json", &text, &len, err) < 0)
        return -1;
    json_t *s = json_loadb(text, len, 0, &je);
    if (s == NULL)
        return err_val(err, EINVAL, "snapshot `%s`: state.json is corrupt (%s)", dir, je.text);
    json_t *vcpus = json_object_get(s, "vcpus");
    if (json_array_size(vcpus) != m->ncpus) {
        err_val(err, EINVAL, "snapshot `%s`: %zu vCPUs saved, the machine has %u", dir,
                json_array_size(vcpus), m->ncpus);
        goto out;
    }
    if (read_memory(m, dir, err) < 0 || vm_state_load(m, s, err) < 0)
        goto out;
    for (unsigned int i = 0; i < m->ncpus; i++)
        if (vcpu_load(&m->vcpus[i], json_array_get(vcpus, i), err) < 0)
            goto out;
    if (devices_load(m, json_object_get(s, "devices"), err) < 0)
        goto out;
    ret = 0;
out:
    if (ret < 0)
        err_wrap(err, "restore `%s`", dir);
    json_decref(s);
    return ret;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* The guest's kernel, initramfs and root image (guest_kernel.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/guest_kernel.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"

/* What the agent needs: the virtio-mmio transport (devices come from the
 * ACPI DSDT), the root disk, its file systems, vsock. Optional ones may be
 * built in. */
static const struct {
    const char *name;
    bool optional;
} guest_modules[] = {
    {"virtio_mmio", false}, {"virtio_blk", false}, {"crc32c_generic", true},
    {"ext4", false},        {"overlay", false},    {"vmw_vsock_virtio_transport", false},
};

int guest_kernel_open(const char *dir, struct guest_kernel *k, struct err **err)
{
    char mods[PATH_MAX];
    struct dirent *de;

    memset(k, 0, sizeof(*k));
    if (strlen(dir) > PATH_MAX - 300)
        return err_val(err, ENAMETOOLONG, "guest kernel `%s`: path too long", dir);
    snprintf(k->vmlinuz, sizeof(k->vmlinuz), "%s/vmlinuz", dir);
    if (access(k->vmlinuz, R_OK) < 0)
        return err_sys(err, "guest kernel `%s`", k->vmlinuz);
    snprintf(mods, sizeof(mods), "%s/lib/modules", dir);
    _cleanup_closedir_ DIR *d = opendir(mods);
    if (d == NULL)
        return err_sys(err, "guest kernel modules `%s`", mods);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (k->kver[0] != 0)
            return err_val(err, EINVAL, "guest kernel modules `%s`: more than one version", mods);
        memcpy(k->kver, de->d_name, strnlen(de->d_name, sizeof(k->kver) - 1));
    }
    if (k->kver[0] == 0)
        return err_val(err, ENOENT, "guest kernel modules `%s`: empty", mods);
    if ((size_t)snprintf(k->moddir, sizeof(k->moddir), "%.*s/%s", PATH_MAX - 300, mods, k->kver) >=
        sizeof(k->moddir))
        return err_val(err, ENAMETOOLONG, "guest kernel `%s`: path too long", dir);
    return 0;
}

/* --- newc cpio (the kernel's initramfs format, Documentation/driver-api/early-userspace) */

struct cpio {
    FILE *f;
    unsigned ino;
};

static int cpio_entry(struct cpio *c, const char *name, mode_t mode, unsigned rmaj, unsigned rmin,
                      const void *data, size_t len, struct err **err)
{
    size_t nlen = strlen(name) + 1;
    static const char zero[4];

    if (fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ++c->ino,
                (unsigned)mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, len, 0u, 0u, rmaj, rmin, nlen,
                0u) < 0 ||
        fwrite(name, 1, nlen, c->f) != nlen ||
        fwrite(zero, 1, (4 - (110 + nlen) % 4) % 4, c->f) != (4 - (110 + nlen) % 4) % 4 ||
        (len > 0 && fwrite(data, 1, len, c->f) != len) ||
        fwrite(zero, 1, (4 - len % 4) % 4, c->f) != (4 - len % 4) % 4)
        return err_sys(err, "write initramfs entry `%s`", name);
    return 0;
}

static int cpio_file(struct cpio *c, const char *name, const char *src, mode_t mode,
                     struct err **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len;

    if (fs_read_file(src, &buf, &len, err) < 0)
        return -1;
    return cpio_entry(c, name, S_IFREG | mode, 0, 0, buf, len, err);
}

/* --- modules.dep: "kernel/x/a.ko: kernel/y/b.ko ..." */

struct moddep {
    char *buf;
    char **order; /* relative paths, dependencies first */
    size_t n;
};

/* The modules.dep line of the module named name ('-' and '_' alike). */
static char *dep_line(char *buf, const char *name)
{
    size_t nl = strlen(name);

    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char *colon = strchr(l, ':');
        char *eol = strchr(l, '\n');
        if (colon == NULL || (eol && colon > eol))
            continue;
        char *base = l;
        for (char *p = l; p < colon; p++)
            if (*p == '/')
                base = p + 1;
        if ((size_t)(colon - base) != nl + 3 || strncmp(colon - 3, ".ko", 3) != 0)
            continue;
        bool same = true;
        for (size_t i = 0; i < nl && same; i++) {
            char a = base[i] == '-' ? '_' : base[i], b = name[i] == '-' ? '_' : name[i];
            same = a == b;
        }
        if (same)
            return l;
    }
    return NULL;
}

static bool dep_has(const struct moddep *m, const char *path, size_t len)
{
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->order[i]) == len && strncmp(m->order[i], path, len) == 0)
            return true;
    return false;
}

/* Add the module at path (relative, len bytes) after its dependencies. */
static int dep_add(struct moddep *m, const char *path, size_t len, int depth, struct err **err)
{
    if (dep_has(m, path, len))
        return 0;
    if (depth > 16)
        return err_val(err, ELOOP, "modules.dep: dependencies of `%.*s` too deep", (int)len, path);
    /* its line */
    for (char *l = m->buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, path, len) != 0 || l[len] != ':')
            continue;
        char *p = l + len + 1;
        for (;;) {
            while (*p == ' ')
                p++;
            size_t dl = strcspn(p, " \n");
            if (dl == 0)
                break;
            if (dep_add(m, p, dl, depth + 1, err) < 0)
                return -1;
            p += dl;
        }
        break;
    }
    char **o = realloc(m->order, (m->n + 1) * sizeof(*o));
    if (o == NULL)
        return err_set(err, ENOMEM, "modules.dep");
    m->order = o;
    if ((m->order[m->n] = strndup(path, len)) == NULL)
        return err_set(err, ENOMEM, "modules.dep");
    m->n++;
    return 0;
}

static void moddep_free(struct moddep *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->order[i]);
    free(m->order);
    free(m->buf);
}

static int write_initrd(const struct guest_kernel *k, const char *agent, const char *path,
                        struct err **err)
{
    struct moddep m = {0};
    char dep[PATH_MAX + 16];
    size_t len, llen = 0;
    int rc = -1;
    _cleanup_fclose_ FILE *f = NULL;
    _cleanup_free_ char *list = NULL;

    snprintf(dep, sizeof(dep), "%s/modules.dep", k->moddir);
    if (fs_read_file(dep, &m.buf, &len, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(guest_modules) / sizeof(guest_modules[0]); i++) {
        char *l = dep_line(m.buf, guest_modules[i].name);
        if (l == NULL) {
            if (guest_modules[i].optional)
                continue;
            err_val(err, ENOENT, "guest kernel `%s`: module %s is not in modules.dep", k->moddir,
                    guest_modules[i].name);
            goto out;
        }
        if (dep_add(&m, l, strcspn(l, ":"), 0, err) < 0)
            goto out;
    }
    if ((f = fopen(path, "wxe")) == NULL) {
        err_sys(err, "create `%s`", path);
        goto out;
    }
    struct cpio c = {.f = f};
    static const char *const dirs[] = {"dev", "proc", "sys", "run",
                                       "tmp", "etc",  "lib", "lib/modules"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (cpio_entry(&c, dirs[i], S_IFDIR | 0755, 0, 0, NULL, 0, err) < 0)
            goto out;
    /* the kernel opens /dev/console as init's stdio */
    if (cpio_entry(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0, err) < 0 ||
        cpio_file(&c, "init", agent, 0755, err) < 0)
        goto out;
    for (size_t i = 0; i < m.n; i++) {
        char src[PATH_MAX * 2], dst[PATH_MAX];
        const char *base = strrchr(m.order[i], '/') ? strrchr(m.order[i], '/') + 1 : m.order[i];
        snprintf(src, sizeof(src), "%s/%s", k->moddir, m.order[i]);
        snprintf(dst, sizeof(dst), "lib/modules/%s", base);
        if (cpio_file(&c, dst, src, 0644, err) < 0)
            goto out;
        char *nl = realloc(list, llen + strlen(base) + 2);
        if (nl == NULL) {
            err_set(err, ENOMEM, "module list");
            goto out;
        }
        list = nl;
        llen += (size_t)sprintf(list + llen, "%s\n", base);
    }
    if (cpio_entry(&c, "etc/modules.load", S_IFREG | 0644, 0, 0, list, llen, err) < 0 ||
        cpio_entry(&c, "TRAILER!!!", 0, 0, 0, NULL, 0, err) < 0)
        goto out;
    if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
        err_sys(err, "write `%s`", path);
        goto out;
    }
    rc = 0;
out:
    moddep_free(&m);
    return rc;
}

int guest_initrd_get(const struct guest_kernel *k, const char *agent, const char *cache_dir,
                     char *out, size_t len, struct err **err)
{
    struct stat st;
    char tmp[PATH_MAX + 32];

    if (stat(agent, &st) < 0)
        return err_sys(err, "guest agent `%s`", agent);
    if (fs_mkdir_p(cache_dir, 0700, err) < 0)
        return -1;
    if ((size_t)snprintf(out, len, "%s/initrd-%s-%jx-%jx.cpio", cache_dir, k->kver,
                         (uintmax_t)st.st_size, (uintmax_t)st.st_mtime) >= len)
        return err_val(err, ENAMETOOLONG, "initramfs path in `%s`", cache_dir);
    if (access(out, R_OK) == 0)
        return 0;
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", out, (int)getpid());
    if (write_initrd(k, agent, tmp, err) < 0) {
        unlink(tmp);
        return err_wrap(err, "initramfs for kernel %s", k->kver);
    }
    if (rename(tmp, out) < 0) {
        unlink(tmp);
        return err_sys(err, "rename `%s`", tmp);
    }
    return 0;
}

/* --- root image */

static uint64_t tree_bytes, tree_inodes;

static int tree_count(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)p;
    (void)type;
    (void)f;
    tree_bytes += ((uint64_t)st->st_size + 4095) / 4096 * 4096;
    tree_inodes++;
    return 0;
}

static int make_rootimg(const char *rootfs, const char *path, struct err **err)
{
    char size[32], inodes[32];

    tree_bytes = tree_inodes = 0;
    if (nftw(rootfs, tree_count, 64, FTW_PHYS) < 0)
        return err_sys(err, "walk `%s`", rootfs);
    /* ext4 metadata and slack: a quarter more, 16 MiB at least */
    uint64_t kib = (tree_bytes + tree_bytes / 4 + tree_inodes * 512) / 1024 + 16384;
    snprintf(size, sizeof(size), "%" PRIu64 "k", kib);
    snprintf(inodes, sizeof(inodes), "%" PRIu64, tree_inodes + 1024);
    char *const argv[] = {"mke2fs",       "-q",         "-F",   "-t", "ext4",       "-O",
                          "^has_journal", "-N",         inodes, "-L", "isola-root", "-d",
                          (char *)rootfs, (char *)path, size,   NULL};
    _cleanup_free_ char *output = NULL;
    if (proc_run(argv, 300000, &output, err) < 0)
        return err_wrap(err, "root image of `%s` (e2fsprogs' mke2fs)", rootfs);
    if (chmod(path, 0444) < 0)
        return err_sys(err, "chmod `%s`", path);
    return 0;
}

int guest_rootimg_get(const char *rootfs, const char *key, const char *cache_dir,
                      const char *fallback, char *out, size_t len, struct err **err)
{
    char tmp[PATH_MAX + 32];

    if (key == NULL) {
        if ((size_t)snprintf(out, len, "%s", fallback) >= len)
            return err_val(err, ENAMETOOLONG, "root image `%s`", fallback);
        return make_rootimg(rootfs, out, err);
    }
    for (const char *p = key; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return err_val(err, EINVAL, "root image key `%s`: expected hex digits", key);
    if (fs_mkdir_p(cache_dir, 0700, err) < 0)
        return -1;
    if ((size_t)snprintf(out, len, "%s/rootfs-%s.ext4", cache_dir, key) >= len)
        return err_val(err, ENAMETOOLONG, "root image in `%s`", cache_dir);
    if (access(out, R_OK) == 0)
        return 0;
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", out, (int)getpid());
    unlink(tmp);
    if (make_rootimg(rootfs, tmp, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, out) < 0) {
        unlink(tmp);
        return err_sys(err, "rename `%s`", tmp);
    }
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: layer extraction (hostile tar/gzip/zstd input) into a scratch directory.
 * Nothing may appear outside it; the directory is emptied after every input. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layer.h"
#include "util/fs.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char base[] = "/tmp/isola-fuzz-layer-XXXXXX";
    static bool made;
    char dir[64];
    struct err *e = NULL;
    int fd, rootfd;

    log_set_level(LOGL_ERROR);
    if (!made)
        made = mkdtemp(base) != NULL;
    snprintf(dir, sizeof(dir), "%s/r", base);
    fs_rm_rf(dir, NULL);
    if (mkdir(dir, 0755) < 0)
        return 0;
    fd = memfd_create("layer", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0) {
        rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd >= 0) {
            struct layer_opts o = {.flatten = size % 2 == 0, .allow_devices = false};
            if (layer_extract_fd(fd, "fuzz", rootfd, &o, &e) < 0)
                err_free(&e);
            close(rootfd);
        }
    }
    close(fd);
    fs_rm_rf(dir, NULL);
    return 0;
}

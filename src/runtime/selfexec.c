/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Re-exec from a sealed memfd (see selfexec.h; runc's libcontainer/dmz did this). */
#include "runtime/selfexec.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

int selfexec_ensure_sealed(char **argv, struct err **err)
{
    _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int mfd = -1;
    struct stat st;

    if (exe < 0)
        return err_sys(err, "open /proc/self/exe");
    int seals = fcntl(exe, F_GET_SEALS);
    if (seals >= 0 && (seals & SEALS) == SEALS)
        return 0;
    if (fstat(exe, &st) < 0)
        return err_sys(err, "stat /proc/self/exe");
    mfd = memfd_create("isola-oci", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return err_sys(err, "memfd_create");
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = sendfile(mfd, exe, NULL, (size_t)(st.st_size - done));
        if (n <= 0)
            return err_sys(err, "copy the runtime binary into a memfd");
        done += n;
    }
    if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
        return err_sys(err, "seal the runtime memfd");
    fexecve(mfd, argv, environ);
    return err_sys(err, "re-execute the runtime from its sealed memfd");
}

static char **saved_argv;

void selfexec_init(char **argv)
{
    saved_argv = argv;
}

int selfexec_reexec(struct err **err)
{
    if (saved_argv == NULL)
        return err_val(err, ENOTSUP,
                       "this container shares a pid namespace: the runtime must re-execute "
                       "itself from a sealed copy, which this program cannot do");
    return selfexec_ensure_sealed(saved_argv, err);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char dir[] = "/tmp/isola-test-fs-XXXXXX";

static char *P(const char *rel)
{
    static char buf[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, rel);
    return buf[i];
}

static void put(const char *rel, const char *content)
{
    struct err *e = NULL;
    fs_write_atomic(P(rel), content, strlen(content), 0644, &e);
    err_free(&e);
}

static char *read_in_root(int rootfd, const char *path, struct err **e)
{
    _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_RDONLY, 0, e);
    char *buf = NULL;
    if (fd < 0 || fs_read_fd(fd, path, &buf, NULL, e) < 0)
        return NULL;
    return buf;
}

int main(void)
{
    struct err *e = NULL;
    char *buf = NULL;
    size_t len = 0;
    struct stat st;

    ok(mkdtemp(dir) != NULL, "temp dir %s", dir);

    /* Atomic writes. */
    ok(fs_write_atomic(P("a"), "one", 3, 0640, &e) == 0, "atomic write");
    ok(fs_read_file(P("a"), &buf, &len, &e) == 0 && len == 3, "read back");
    is_str(buf, "one", "content");
    free(buf);
    ok(stat(P("a"), &st) == 0 && (st.st_mode & 0777) == 0640, "mode applied");
    ok(fs_write_atomic(P("a"), "two!", 4, 0600, &e) == 0, "replace");
    ok(fs_read_file(P("a"), &buf, &len, &e) == 0, "read replaced");
    is_str(buf, "two!", "replaced content");
    free(buf);
    /* No temp files are left next to the target. */
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        entries += de->d_name[0] != '.';
    closedir(d);
    ok(entries == 1, "no temporary files left behind (%d entries)", entries);
    ok(fs_write_atomic(P("nodir/x"), "x", 1, 0644, &e) < 0 && e->code == ENOENT,
       "write into missing directory fails");
    ok(strstr(e->msg, "nodir/x") != NULL, "error names the path: %s", e->msg);
    err_free(&e);

    /* A crash between write and rename leaves the old content: simulate by
     * killing a child that has written a temp file but not renamed. */
    pid_t pid = fork();
    if (pid == 0) {
        char tmp[600];
        snprintf(tmp, sizeof(tmp), "%s.tmp-crash", P("a"));
        int fd = open(tmp, O_WRONLY | O_CREAT, 0644);
        (void)!write(fd, "half", 4);
        _exit(0); /* "crash" before rename */
    }
    waitpid(pid, NULL, 0);
    ok(fs_read_file(P("a"), &buf, &len, &e) == 0, "target readable after crash");
    is_str(buf, "two!", "target still holds the last complete write");
    free(buf);
    unlink(P("a.tmp-crash"));

    /* mkdir -p and rm -rf. */
    ok(fs_mkdir_p(P("x/y/z"), 0755, &e) == 0 && fs_exists(P("x/y/z")), "mkdir -p");
    ok(fs_mkdir_p(P("x/y/z"), 0755, &e) == 0, "mkdir -p is idempotent");
    ok(fs_mkdir_p(P("a/b"), 0755, &e) < 0, "mkdir -p through a file fails");
    err_free(&e);
    ok(symlink(dir, P("x/y/escape")) == 0, "symlink to outside the tree");
    put("x/keep", "k");
    ok(fs_rm_rf(P("x"), &e) == 0 && !fs_exists(P("x")), "rm -rf");
    ok(fs_exists(P("a")), "rm -rf did not follow a symlink out");
    ok(fs_rm_rf(P("missing"), &e) == 0, "rm -rf of a missing path succeeds");

    /* Resolution inside a root: build root/ with hostile links. */
    fs_mkdir_p(P("root/etc"), 0755, &e);
    fs_mkdir_p(P("root/sub/deeper"), 0755, &e);
    put("secret", "HOST");               /* outside the root */
    put("root/etc/secret", "CONTAINER"); /* inside */
    put("root/sub/deeper/f", "F");
    char abs_target[600];
    snprintf(abs_target, sizeof(abs_target), "%s/secret", dir);
    ok(symlink(abs_target, P("root/abs-host")) == 0, "absolute symlink naming a host path");
    ok(symlink("/etc/secret", P("root/abs")) == 0, "absolute symlink (container view)");
    ok(symlink("../../../../../../secret", P("root/sub/rel")) == 0, "relative ../ symlink");
    ok(symlink("/sub", P("root/dirlink")) == 0, "absolute directory symlink");

    _cleanup_close_ int root = open(P("root"), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ok(root >= 0, "open root");

    buf = read_in_root(root, "../secret", &e);
    ok(buf == NULL || strcmp(buf, "HOST") != 0, "`../secret` does not reach the host file");
    free(buf);
    err_free(&e);
    buf = read_in_root(root, "../../etc/secret", &e);
    is_str(buf, "CONTAINER", "`../../etc/secret` is clamped to the root");
    free(buf);
    err_free(&e);
    buf = read_in_root(root, "abs", &e);
    is_str(buf, "CONTAINER", "absolute symlink resolves inside the root");
    free(buf);
    err_free(&e);
    buf = read_in_root(root, "abs-host", &e);
    ok(buf == NULL, "absolute symlink to a host path is not followed out");
    ok(e && e->code == ENOENT, "...it names a path missing in the root");
    free(buf);
    err_free(&e);
    buf = read_in_root(root, "sub/rel", &e);
    ok(buf == NULL || strcmp(buf, "HOST") != 0, "relative ../ symlink cannot escape");
    free(buf);
    err_free(&e);
    buf = read_in_root(root, "dirlink/deeper/f", &e);
    is_str(buf, "F", "symlinked directory inside the root is followed");
    free(buf);
    err_free(&e);
    ok(fs_open_in_root(root, "/proc/self/root/etc/passwd", O_RDONLY, 0, &e) < 0,
       "magic links are refused");
    err_free(&e);

    /* RESOLVE_BENEATH refuses instead of clamping. */
    ok(fs_open_beneath(root, "../secret", O_RDONLY, 0, &e) < 0 && e->code == EXDEV,
       "beneath: `../` refused with EXDEV");
    ok(e && strstr(e->msg, "outside its root"), "beneath: message says why");
    err_free(&e);
    ok(fs_open_beneath(root, "abs", O_RDONLY, 0, &e) < 0 && e->code == EXDEV,
       "beneath: absolute symlink refused");
    err_free(&e);
    int fd = fs_open_beneath(root, "sub/deeper/f", O_RDONLY, 0, &e);
    ok(fd >= 0, "beneath: plain path opens");
    if (fd >= 0)
        close(fd);

    /* mkdir inside the root through hostile components stays inside. */
    fd = fs_mkdir_in_root(root, "/dirlink/new/one", 0755, &e);
    ok(fd >= 0 && fs_exists(P("root/sub/new/one")), "mkdir through a symlink lands in the root");
    if (fd >= 0)
        close(fd);
    err_free(&e);
    ok(symlink("/..", P("root/up")) == 0, "symlink to /..");
    fd = fs_mkdir_in_root(root, "up/../../made", 0755, &e);
    ok(fd >= 0 && fs_exists(P("root/made")) && !fs_exists(P("made")),
       "mkdir with `..` and a symlink up is created inside the root");
    if (fd >= 0)
        close(fd);
    err_free(&e);

    ok(fs_rm_rf(dir, &e) == 0 && !fs_exists(dir), "cleanup");
    return done_testing();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spec composer (engine/compose.c): each option's effect on config.json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/compose.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static char root[] = "/tmp/isola-test-compose-XXXXXX";

static json_t *image(void)
{
    return json_pack(
        "{s:{s:[s], s:[s,s], s:[s,s], s:s, s:s, s:{s:{}}, s:{s:{}}, s:{s:s}, s:s, s:{s:[s,s]}}}",
        "config", "Entrypoint", "/entry", "Cmd", "arg1", "arg2", "Env", "A=image", "B=image",
        "WorkingDir", "/work", "User", "app", "ExposedPorts", "80/tcp", "Volumes", "/data",
        "Labels", "l1", "image", "StopSignal", "SIGQUIT", "Healthcheck", "Test", "CMD", "true");
}

static json_t *compose(json_t *img, const struct compose_opts *o)
{
    json_t *spec = NULL;
    struct err *e = NULL;

    if (compose_spec(img, "example:1", root, o, &spec, &e) < 0) {
        printf("# compose: %s\n", e->msg);
        err_free(&e);
        return NULL;
    }
    return spec;
}

static char *dump_at(json_t *spec, const char *a, const char *b, const char *c)
{
    json_t *j = json_object_get(spec, a);
    if (b)
        j = json_object_get(j, b);
    if (c)
        j = json_object_get(j, c);
    return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(none)");
}

#define IS_AT(spec, a, b, c, want, ...)                     \
    do {                                                    \
        _cleanup_free_ char *got_ = dump_at(spec, a, b, c); \
        is_str(got_, want, __VA_ARGS__);                    \
    } while (0)

static bool has_str(json_t *arr, const char *s)
{
    json_t *v;
    size_t i;

    json_array_foreach (arr, i, v)
        if (strcmp(json_string_value(v) ?: "", s) == 0)
            return true;
    return false;
}

static json_t *mount_at(json_t *spec, const char *dest)
{
    json_t *m;
    size_t i;

    json_array_foreach (json_object_get(spec, "mounts"), i, m)
        if (strcmp(json_string_value(json_object_get(m, "destination")), dest) == 0)
            return m;
    return NULL;
}

static json_t *bounding(json_t *spec)
{
    return json_object_get(json_object_get(json_object_get(spec, "process"), "capabilities"),
                           "bounding");
}

static void test_image_defaults(void)
{
    _cleanup_json_ json_t *img = image();
    struct compose_opts o = {0};
    _cleanup_json_ json_t *s = compose(img, &o);

    ok(s != NULL, "an image config composes");
    IS_AT(s, "process", "args", NULL, "[\"/entry\",\"arg1\",\"arg2\"]", "Entrypoint then Cmd");
    IS_AT(s, "process", "env", NULL,
          "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"A=image\","
          "\"B=image\"]",
          "image Env, PATH by default");
    IS_AT(s, "process", "cwd", NULL, "\"/work\"", "WorkingDir");
    IS_AT(s, "process", "user", NULL, "{\"uid\":1000,\"gid\":1001,\"additionalGids\":[50]}",
          "User name from the rootfs's /etc/passwd, groups from /etc/group");
    IS_AT(s, "process", "terminal", NULL, "false", "no terminal");
    IS_AT(s, "root", NULL, NULL, "{\"path\":\"rootfs\",\"readonly\":false}", "root");
    IS_AT(s, "hostname", NULL, NULL, "\"isola\"", "default hostname");
    IS_AT(s, "annotations", "l1", NULL, "\"image\"", "Labels are annotations");
    IS_AT(s, "annotations", "org.opencontainers.image.exposedPorts", NULL, "\"80/tcp\"",
          "ExposedPorts");
    IS_AT(s, "annotations", COMPOSE_ANN_STOP_SIGNAL, NULL, "\"SIGQUIT\"", "StopSignal");
    IS_AT(s, "annotations", COMPOSE_ANN_HEALTHCHECK, NULL,
          "\"{\\\"Test\\\":[\\\"CMD\\\",\\\"true\\\"]}\"", "Healthcheck kept for the engine");
    IS_AT(s, "annotations", "org.opencontainers.image.ref.name", NULL, "\"example:1\"", "ref name");
    ok(json_object_get(json_object_get(s, "linux"), "seccomp") != NULL, "default seccomp profile");
    ok(json_array_size(json_object_get(json_object_get(s, "linux"), "maskedPaths")) > 0,
       "masked paths");
    ok(json_array_size(bounding(s)) == 14 && has_str(bounding(s), "CAP_NET_RAW") &&
           !has_str(bounding(s), "CAP_SYS_ADMIN"),
       "Docker's default capability set");
    ok(json_object_get(json_object_get(json_object_get(s, "linux"), "resources"), "devices") ==
           NULL,
       "no deny-all device list (the runtime's defaults)");
    struct stat st;
    char p[128];
    snprintf(p, sizeof(p), "%s/data", root);
    ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "Volumes made in the rootfs");
}

static void test_process_options(void)
{
    _cleanup_json_ json_t *img = image();
    char *args[] = {"echo", "hi", NULL};
    char *envf[] = {"A=file", "C=file", NULL};
    char *env[] = {"C=flag", "D=flag", NULL};
    struct compose_opts o = {.args = args,
                             .env_file = envf,
                             .env = env,
                             .workdir = "/elsewhere",
                             .user = "7:8",
                             .hostname = "box",
                             .terminal = true};
    _cleanup_json_ json_t *s = compose(img, &o);

    IS_AT(s, "process", "args", NULL, "[\"/entry\",\"echo\",\"hi\"]", "args replace Cmd");
    IS_AT(s, "process", "env", NULL,
          "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"A=file\","
          "\"B=image\",\"C=flag\",\"D=flag\",\"TERM=xterm\"]",
          "image < --env-file < -e, TERM with a terminal");
    IS_AT(s, "process", "cwd", NULL, "\"/elsewhere\"", "-w");
    IS_AT(s, "process", "user", NULL, "{\"uid\":7,\"gid\":8}", "-u uid:gid");
    IS_AT(s, "process", "terminal", NULL, "true", "-t");
    IS_AT(s, "hostname", NULL, NULL, "\"box\"", "--hostname");

    struct compose_opts o2 = {.entrypoint = "", .args = args, .user = "app:staff"};
    _cleanup_json_ json_t *s2 = compose(img, &o2);
    IS_AT(s2, "process", "args", NULL, "[\"echo\",\"hi\"]", "--entrypoint \"\" clears it");
    IS_AT(s2, "process", "user", NULL, "{\"uid\":1000,\"gid\":50}", "-u name:group");

    struct compose_opts o2b = {.args = args, .user = "1000"};
    _cleanup_json_ json_t *s2b = compose(img, &o2b);
    IS_AT(s2b, "process", "user", NULL, "{\"uid\":1000,\"gid\":1001,\"additionalGids\":[50]}",
          "-u uid: the passwd entry's group and the user's groups");
    struct compose_opts o2c = {.args = args, .user = "app"};
    _cleanup_json_ json_t *s2c = compose(img, &o2c);
    IS_AT(s2c, "process", "user", NULL, "{\"uid\":1000,\"gid\":1001,\"additionalGids\":[50]}",
          "-u name: supplementary groups from /etc/group");
    struct compose_opts o2d = {.args = args, .user = "4242"};
    _cleanup_json_ json_t *s2d = compose(img, &o2d);
    IS_AT(s2d, "process", "user", NULL, "{\"uid\":4242,\"gid\":0}",
          "-u uid without an entry: gid 0");

    struct compose_opts o3 = {.entrypoint = "/bin/sh"};
    _cleanup_json_ json_t *s3 = compose(img, &o3);
    IS_AT(s3, "process", "args", NULL, "[\"/bin/sh\"]", "--entrypoint drops the image's Cmd");

    struct compose_opts o4 = {.user = "nobody-here"};
    json_t *out = NULL;
    struct err *e = NULL;
    ok(compose_spec(img, "x", root, &o4, &out, &e) < 0 && e && strstr(e->msg, "nobody-here"),
       "an unknown user is an error naming it");
    err_free(&e);

    struct compose_opts o5 = {.args = args, .init = "/usr/bin/tini"};
    _cleanup_json_ json_t *s5 = compose(NULL, &o5);
    IS_AT(s5, "process", "args", NULL, "[\"/dev/init\",\"--\",\"echo\",\"hi\"]", "--init is PID 1");
    ok(mount_at(s5, "/dev/init") &&
           strcmp(json_string_value(json_object_get(mount_at(s5, "/dev/init"), "source")),
                  "/usr/bin/tini") == 0,
       "--init's binary is mounted");
    IS_AT(s5, "process", "user", NULL, "{\"uid\":0,\"gid\":0}", "no image: root");
}

static void test_mounts(void)
{
    struct compose_mount m[] = {
        {.type = COMPOSE_MOUNT_BIND, .source = "/srv", .destination = "/srv", .readonly = true},
        {.type = COMPOSE_MOUNT_BIND,
         .source = "/var/lib/isola/volumes/v1",
         .destination = "/data",
         .propagation = "rslave"},
        {.type = COMPOSE_MOUNT_TMPFS, .destination = "/run", .options = "size=1.5m,mode=1777"},
    };
    char *args[] = {"true", NULL};
    struct compose_opts o = {
        .args = args, .mounts = m, .n_mounts = 3, .read_only = true, .shm_size = 1 << 20};
    _cleanup_json_ json_t *s = compose(NULL, &o);

    IS_AT(s, "root", "readonly", NULL, "true", "--read-only");
    _cleanup_free_ char *a = json_dumps(mount_at(s, "/srv"), JSON_COMPACT | JSON_SORT_KEYS);
    is_str(a,
           "{\"destination\":\"/srv\",\"options\":[\"rbind\",\"ro\",\"rprivate\"],\"source\":\"/"
           "srv\",\"type\":\"bind\"}",
           "-v /srv:/srv:ro");
    _cleanup_free_ char *b = json_dumps(json_object_get(mount_at(s, "/data"), "options"), 0);
    is_str(b, "[\"rbind\", \"rw\", \"rslave\"]", "a volume's directory, with propagation");
    _cleanup_free_ char *c = json_dumps(json_object_get(mount_at(s, "/run"), "options"), 0);
    is_str(c, "[\"noexec\", \"nosuid\", \"nodev\", \"size=1572864\", \"mode=1777\"]",
           "--tmpfs: Docker's flags, size in bytes");
    ok(has_str(json_object_get(mount_at(s, "/dev/shm"), "options"), "size=1048576") &&
           !has_str(json_object_get(mount_at(s, "/dev/shm"), "options"), "size=65536k"),
       "--shm-size");

    struct compose_mount bad = {.type = COMPOSE_MOUNT_BIND, .source = "rel", .destination = "/x"};
    struct compose_opts o2 = {.args = args, .mounts = &bad, .n_mounts = 1};
    json_t *out = NULL;
    struct err *e = NULL;
    ok(compose_spec(NULL, NULL, root, &o2, &out, &e) < 0 && strstr(e->msg, "rel"),
       "a relative bind source is refused");
    err_free(&e);
    struct compose_mount badsz = {
        .type = COMPOSE_MOUNT_TMPFS, .destination = "/t", .options = "size=lots"};
    struct compose_opts o3 = {.args = args, .mounts = &badsz, .n_mounts = 1};
    ok(compose_spec(NULL, NULL, root, &o3, &out, &e) < 0 && strstr(e->msg, "lots"),
       "a bad tmpfs size is refused");
    err_free(&e);
}

static void test_resources(void)
{
    char *args[] = {"true", NULL};
    struct compose_ulimit ul[2];
    struct err *e = NULL;
    ok(compose_parse_ulimit("nofile=1024:2048", &ul[0], &e) == 0 && ul[0].soft == 1024 &&
           ul[0].hard == 2048,
       "--ulimit nofile=1024:2048");
    ok(compose_parse_ulimit("nproc=50", &ul[1], &e) == 0 && ul[1].soft == 50 && ul[1].hard == 50,
       "--ulimit nproc=50");
    struct compose_ulimit x;
    ok(compose_parse_ulimit("nofile=9:1", &x, &e) < 0, "soft above hard refused");
    err_free(&e);
    struct compose_opts o = {.args = args,
                             .memory = 64 << 20,
                             .memory_swap = 128 << 20,
                             .cpus = 1.5,
                             .cpu_shares = 512,
                             .cpuset_cpus = "0-1",
                             .pids_limit = 100,
                             .ulimits = ul,
                             .n_ulimits = 2,
                             .nofile = 4096};
    _cleanup_json_ json_t *s = compose(NULL, &o);
    IS_AT(s, "linux", "resources", "memory", "{\"limit\":67108864,\"swap\":134217728}",
          "-m, --memory-swap");
    IS_AT(s, "linux", "resources", "cpu",
          "{\"quota\":150000,\"period\":100000,\"shares\":512,\"cpus\":\"0-1\"}",
          "--cpus, --cpu-shares, --cpuset-cpus");
    IS_AT(s, "linux", "resources", "pids", "{\"limit\":100}", "--pids-limit");
    IS_AT(s, "process", "rlimits", NULL,
          "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":2048},{\"type\":\"RLIMIT_NPROC\","
          "\"soft\":50,\"hard\":50}]",
          "--ulimit over the default RLIMIT_NOFILE");

    struct compose_opts o2 = {
        .args = args, .memory = 64 << 20, .memory_swap = -1, .pids_limit = -1};
    _cleanup_json_ json_t *s2 = compose(NULL, &o2);
    IS_AT(s2, "linux", "resources", "memory", "{\"limit\":67108864,\"swap\":-1}",
          "--memory-swap -1: unlimited");
    IS_AT(s2, "linux", "resources", "pids", "{\"limit\":-1}", "--pids-limit -1: unlimited");

    struct compose_opts o3 = {.args = args, .memory = 64 << 20, .memory_swap = 32 << 20};
    json_t *out = NULL;
    ok(compose_spec(NULL, NULL, root, &o3, &out, &e) < 0 && strstr(e->msg, "memory-swap"),
       "--memory-swap below --memory refused");
    err_free(&e);
}

static void test_security(void)
{
    char *args[] = {"true", NULL};
    char *add[] = {"sys_admin", "CAP_NET_ADMIN", NULL};
    char *drop[] = {"NET_RAW", "chown", NULL};
    struct compose_opts o = {.args = args, .cap_add = add, .cap_drop = drop};
    _cleanup_json_ json_t *s = compose(NULL, &o);
    json_t *b = bounding(s);
    ok(has_str(b, "CAP_SYS_ADMIN") && has_str(b, "CAP_NET_ADMIN") && !has_str(b, "CAP_NET_RAW") &&
           !has_str(b, "CAP_CHOWN") && json_array_size(b) == 14,
       "--cap-add, --cap-drop");
    IS_AT(s, "process", "noNewPrivileges", NULL, "true", "no_new_privs by default");

    char *all[] = {"ALL", NULL};
    char *net[] = {"NET_ADMIN", NULL};
    struct compose_opts o2 = {.args = args, .cap_drop = all, .cap_add = net};
    _cleanup_json_ json_t *s2 = compose(NULL, &o2);
    IS_AT(s2, "process", "capabilities", "bounding", "[\"CAP_NET_ADMIN\"]",
          "--cap-drop ALL --cap-add NET_ADMIN");
    struct compose_opts o3 = {.args = args, .cap_add = all, .cap_drop = net};
    _cleanup_json_ json_t *s3 = compose(NULL, &o3);
    ok(has_str(bounding(s3), "CAP_SYS_ADMIN") && !has_str(bounding(s3), "CAP_NET_ADMIN") &&
           json_array_size(bounding(s3)) > 30,
       "--cap-add ALL --cap-drop NET_ADMIN");
    char *bogus[] = {"CAP_FLY", NULL};
    struct compose_opts o4 = {.args = args, .cap_add = bogus};
    json_t *out = NULL;
    struct err *e = NULL;
    ok(compose_spec(NULL, NULL, root, &o4, &out, &e) < 0 && strstr(e->msg, "CAP_FLY"),
       "an unknown capability is refused");
    err_free(&e);

    struct compose_opts o5 = {.args = args, .privileged = true};
    _cleanup_json_ json_t *s5 = compose(NULL, &o5);
    json_t *l5 = json_object_get(s5, "linux");
    ok(json_array_size(bounding(s5)) > 30 && has_str(bounding(s5), "CAP_SYS_ADMIN"),
       "--privileged: all capabilities");
    ok(json_object_get(l5, "seccomp") == NULL && json_object_get(l5, "maskedPaths") == NULL &&
           json_object_get(l5, "readonlyPaths") == NULL,
       "--privileged: no seccomp, masked or read-only paths");
    IS_AT(s5, "linux", "resources", "devices", "[{\"allow\":true,\"access\":\"rwm\"}]",
          "--privileged: every device allowed");
    bool null_dev = false;
    json_t *d;
    size_t i;
    json_array_foreach (json_object_get(l5, "devices"), i, d)
        null_dev |= strcmp(json_string_value(json_object_get(d, "path")), "/dev/null") == 0;
    ok(null_dev, "--privileged: the host's devices are in linux.devices");
    ok(has_str(json_object_get(mount_at(s5, "/sys"), "options"), "rw"), "--privileged: /sys rw");
    IS_AT(s5, "process", "noNewPrivileges", NULL, "false", "--privileged: no no_new_privs");

    struct compose_opts o6 = {.args = args, .seccomp = "unconfined", .no_new_privileges = true};
    _cleanup_json_ json_t *s6 = compose(NULL, &o6);
    IS_AT(s6, "linux", "seccomp", NULL, "(none)", "seccomp=unconfined");
    IS_AT(s6, "process", "noNewPrivileges", NULL, "true", "no-new-privileges");

    char prof[128];
    snprintf(prof, sizeof(prof), "%s.seccomp.json", root);
    const char *text =
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"architecture\":"
        "\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\"]}],\"syscalls\":["
        "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
        "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":["
        "\"CAP_SYS_ADMIN\"]}},"
        "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":["
        "\"CAP_SYS_PTRACE\"]}},"
        "{\"names\":[\"arm_only\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":["
        "\"arm64\"]}}]}";
    fs_write_atomic(prof, text, strlen(text), 0644, NULL);
    struct compose_opts o7 = {.args = args, .seccomp = prof};
    _cleanup_json_ json_t *s7 = compose(NULL, &o7);
    IS_AT(s7, "linux", "seccomp", NULL,
          "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
          "\"SCMP_ACT_ALLOW\"},{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\"}],"
          "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"]}",
          "seccomp=PROFILE in Docker's format, filtered for the capabilities and amd64");
    unlink(prof);

    struct compose_device dev = {.host = "/dev/null", .container = "/dev/mynull"};
    struct compose_opts o8 = {.args = args, .devices = &dev, .n_devices = 1};
    _cleanup_json_ json_t *s8 = compose(NULL, &o8);
    IS_AT(s8, "linux", "devices", NULL,
          "[{\"path\":\"/dev/mynull\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":438,"
          "\"uid\":0,\"gid\":0}]",
          "--device /dev/null:/dev/mynull");
    struct compose_device nodev = {.host = "/etc/passwd"};
    struct compose_opts o9 = {.args = args, .devices = &nodev, .n_devices = 1};
    ok(compose_spec(NULL, NULL, root, &o9, &out, &e) < 0 && strstr(e->msg, "/etc/passwd"),
       "--device on a regular file is refused");
    err_free(&e);
}

static void test_labels_and_signals(void)
{
    _cleanup_json_ json_t *img = image();
    char *labels[] = {"l1=flag", "l2=two", NULL};
    struct compose_opts o = {.labels = labels, .stop_signal = "SIGINT", .host_network = true};
    _cleanup_json_ json_t *s = compose(img, &o);
    IS_AT(s, "annotations", "l1", NULL, "\"flag\"", "--label over the image's Labels");
    IS_AT(s, "annotations", "l2", NULL, "\"two\"", "--label");
    IS_AT(s, "annotations", COMPOSE_ANN_STOP_SIGNAL, NULL, "\"SIGINT\"", "--stop-signal");
    json_t *ns;
    size_t i;
    bool net = false;
    json_array_foreach (json_object_get(json_object_get(s, "linux"), "namespaces"), i, ns)
        net |= strcmp(json_string_value(json_object_get(ns, "type")), "network") == 0;
    ok(!net, "host network: no network namespace");

    struct compose_opts o2 = {0};
    json_t *noimg = json_pack("{s:{}}", "config");
    json_t *out = NULL;
    struct err *e = NULL;
    ok(compose_spec(noimg, "x", root, &o2, &out, &e) < 0 && strstr(e->msg, "no command"),
       "no Entrypoint, Cmd or args: an error");
    err_free(&e);
    json_decref(noimg);
}

static void test_env_file(void)
{
    char path[128];
    char **v = NULL;
    struct err *e = NULL;
    const char *text = "# comment\n\nA=1\n  B=two words\r\nFROMENV\nMISSING\n";

    snprintf(path, sizeof(path), "%s.env", root);
    fs_write_atomic(path, text, strlen(text), 0644, NULL);
    ok(compose_read_env_file(path, getenv, &v, &e) == 0 && v && strcmp(v[0], "A=1") == 0 &&
           strcmp(v[1], "B=two words") == 0 && strcmp(v[2], "FROMENV=yes") == 0 && v[3] == NULL,
       "--env-file: comments, CRLF, names from the environment");
    strv_free(v);
    unlink(path);
}

int main(void)
{
    char p[128];

    if (mkdtemp(root) == NULL)
        return 1;
    setenv("FROMENV", "yes", 1);
    unsetenv("MISSING");
    snprintf(p, sizeof(p), "%s/etc", root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/etc/passwd", root);
    fs_write_atomic(p, "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n", 58, 0644,
                    NULL);
    snprintf(p, sizeof(p), "%s/etc/group", root);
    fs_write_atomic(p, "root:x:0:\nstaff:x:50:app\n", 25, 0644, NULL);
    test_image_defaults();
    test_process_options();
    test_mounts();
    test_resources();
    test_security();
    test_labels_and_signals();
    test_env_file();
    fs_rm_rf(root, NULL);
    return done_testing();
}

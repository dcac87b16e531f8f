/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vm_config: command-line forms and the JSON file. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util/fs.h"
#include "vm/vm_config.h"

int main(void)
{
    struct vm_config c;
    struct err *e = NULL;
    uint64_t b = 0;
    char path[] = "/tmp/test-vm-config-XXXXXX";
    int fd;

    ok(vm_config_parse_memory("512M", &b, &e) == 0 && b == 512ULL << 20, "512M");
    ok(vm_config_parse_memory("2G", &b, &e) == 0 && b == 2ULL << 30, "2G");
    ok(vm_config_parse_memory("64", &b, &e) == 0 && b == 64ULL << 20, "bare number is MiB");
    ok(vm_config_parse_memory("1GiB", &b, &e) == 0 && b == 1ULL << 30, "1GiB");
    ok(vm_config_parse_memory("lots", &b, &e) < 0 && strstr(e->msg, "lots"), "bad size named");
    err_free(&e);
    ok(vm_config_parse_memory("-1G", &b, &e) < 0, "negative size refused");
    err_free(&e);

    vm_config_init(&c);
    ok(c.cpus == 1 && c.memory == 256ULL << 20, "defaults: 1 vCPU, 256 MiB");
    ok(vm_config_add_disk(&c, "a.img", &e) == 0 && vm_config_add_disk(&c, "b.img,ro", &e) == 0 &&
           c.ndisks == 2 && !c.disks[0].readonly && c.disks[1].readonly &&
           strcmp(c.disks[1].path, "b.img") == 0,
       "disks with and without ro");
    ok(vm_config_add_disk(&c, "c.img,rx", &e) < 0 && strstr(e->msg, "rx"), "unknown disk option");
    err_free(&e);
    ok(vm_config_add_net(&c, "tap=tap0,mac=52:54:00:00:00:01", &e) == 0 && c.nnets == 1 &&
           strcmp(c.nets[0].tap, "tap0") == 0 && c.nets[0].mac != NULL,
       "net with tap and mac");
    ok(vm_config_add_net(&c, "mac=52:54:00:00:00:01", &e) < 0, "net without tap refused");
    err_free(&e);
    ok(vm_config_set_console(&c, "file=/tmp/x.log", &e) == 0 && c.console_file &&
           strcmp(c.console_file, "/tmp/x.log") == 0,
       "console file");
    ok(vm_config_set_console(&c, "speaker", &e) < 0, "bad console refused");
    err_free(&e);
    c.cpus = 0;
    c.kernel = strdup("k");
    ok(vm_config_validate(&c, &e) < 0 && strstr(e->msg, "at least 1"), "0 vCPUs refused");
    err_free(&e);
    vm_config_free(&c);

    fd = mkstemp(path);
    {
        const char *doc = "{\"kernel\":\"/k\",\"cpus\":4,\"memory_mib\":128,\"boot\":\"pvh\","
                          "\"disks\":[{\"path\":\"/d\",\"readonly\":true}],"
                          "\"nets\":[{\"tap\":\"t0\"}],\"vsock\":{\"cid\":5,\"uds\":\"/v\"},"
                          "\"rng\":true,\"console\":{\"file\":\"/c\"}}";
        ok(write(fd, doc, strlen(doc)) == (ssize_t)strlen(doc), "write config file");
        close(fd);
    }
    vm_config_init(&c);
    ok(vm_config_load_file(&c, path, &e) == 0, "load config file: %s", e ? e->msg : "");
    ok(c.kernel && strcmp(c.kernel, "/k") == 0 && c.cpus == 4 && c.memory == 128ULL << 20 &&
           c.boot == BOOT_PVH && c.ndisks == 1 && c.disks[0].readonly && c.nnets == 1 &&
           c.vsock_cid == 5 && c.rng && c.console_file && strcmp(c.console_file, "/c") == 0,
       "every field read");
    vm_config_free(&c);
    fs_write_atomic(path, "{\"kernel\":\"/k\",\"cpu\":2}", 23, 0644, &e);
    vm_config_init(&c);
    ok(vm_config_load_file(&c, path, &e) < 0 && strstr(e->msg, "cpu") && strstr(e->msg, path),
       "unknown key refused, file named: %s", e ? e->msg : "");
    err_free(&e);
    vm_config_free(&c);
    unlink(path);
    return done_testing();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/manifest.h"
#include "image/store.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

int main(void)
{
    char tmpl[] = "/tmp/isola-store-XXXXXX";
    char *root = mkdtemp(tmpl);
    struct store *s = NULL;
    struct err *e = NULL;
    char d[DIGEST_LEN + 1], d2[DIGEST_LEN + 1];
    char *buf = NULL, **problems = NULL;
    size_t len = 0;

    ok(root != NULL, "temporary root");
    ok(store_open(root, &s, &e) == 0, "open a new store");
    ok(store_blob_put_buf(s, "hello", 5, NULL, d, &e) == 0, "put a blob");
    is_str(d, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
           "blob digest is sha256");
    ok(store_blob_read(s, d, 5, &buf, &len, &e) == 0 && len == 5 && memcmp(buf, "hello", 5) == 0,
       "read it back");
    free(buf);
    ok(store_blob_read(s, d, 6, &buf, &len, &e) < 0 && strstr(e->msg, "size mismatch"),
       "wrong size refused");
    err_free(&e);
    ok(store_blob_put_buf(s, "hellp", 5, d, d2, &e) < 0 && strstr(e->msg, "digest mismatch"),
       "digest mismatch on write refused");
    err_free(&e);

    /* Corrupt the blob on disk: reads fail, check reports it. */
    {
        _cleanup_free_ char *p = store_blob_path(s, d);
        chmod(p, 0644);
        fs_write_atomic(p, "HELLO", 5, 0444, NULL);
    }
    ok(store_blob_read(s, d, -1, &buf, &len, &e) < 0 && strstr(e->msg, "digest mismatch"),
       "corrupt blob refused on read");
    err_free(&e);
    ok(store_check(s, &problems, &e) == 1, "check finds the corrupt blob");
    strv_free(problems);

    /* A manifest, tags, resolve, untag, prune. */
    char cfg[DIGEST_LEN + 1], man[DIGEST_LEN + 1];
    const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                         "\"layers\",\"diff_ids\":[]}}";
    ok(store_blob_put_buf(s, config, strlen(config), NULL, cfg, &e) == 0, "put config");
    json_t *m =
        json_pack("{s:i, s:s, s:o, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
                  "config", desc_new(MT_OCI_CONFIG, cfg, (int64_t)strlen(config)), "layers");
    char *ms = js_dump(m);
    ok(store_blob_put_buf(s, ms, strlen(ms), NULL, man, &e) == 0, "put manifest");
    json_t *desc = desc_new(MT_OCI_MANIFEST, man, (int64_t)strlen(ms));
    ok(store_tag(s, "example/a", desc, &e) == 0, "tag example/a");
    ok(store_tag(s, "example/a:v1", desc, &e) == 0, "tag example/a:v1");
    json_t *got = NULL;
    ok(store_resolve(s, "example/a", &got, &e) == 0, "resolve by name");
    json_decref(got);
    got = NULL;
    ok(store_resolve(s, digest_hex(cfg), &got, &e) == 0, "resolve by image ID");
    json_decref(got);
    got = NULL;
    ok(store_resolve(s, "nope", &got, &e) < 0 && strstr(e->msg, "nope"), "unknown name");
    err_free(&e);
    struct store_gc_stats st;
    ok(store_prune(s, &st, &e) == 0 && st.blobs_removed == 1, "prune removes the loose blob");
    ok(store_blob_exists(s, man) && store_blob_exists(s, cfg), "prune keeps tagged blobs");
    ok(store_check(s, &problems, &e) == 0, "store is consistent");
    strv_free(problems);
    ok(store_untag(s, "example/a", &e) == 1, "untag one");
    ok(store_prune(s, &st, &e) == 0 && st.blobs_removed == 0, "still referenced by v1");
    ok(store_untag(s, "example/a:v1", &e) == 1, "untag last");
    ok(store_prune(s, &st, &e) == 0 && st.blobs_removed == 2, "prune removes the image");
    json_decref(desc);
    json_decref(m);
    free(ms);
    store_close(s);
    fs_rm_rf(root, NULL);
    return done_testing();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/ref.h"
#include "image/curl_dl.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/registry.h"
#include "util/cleanup.h"
#include "util/js.h"

#define MANIFEST_MAX (8 << 20) /* distribution-spec: registries may refuse > 4 MiB */
#define ACCEPT_MANIFESTS \
    "Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST

/* ---- references ---- */

void registry_ref_release(struct reg_ref *r)
{
    free(r->host);
    free(r->repo);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

int registry_parse_ref(const char *s, struct reg_ref *r, struct err **err)
{
    _cleanup_free_ char *copy = strdup(s);
    char *at, *slash, *colon, *rest;

    memset(r, 0, sizeof(*r));
    if (copy == NULL)
        return err_set(err, ENOMEM, "reference `%s`", s);
    if (ref_check(s, err) < 0)
        return -1;
    at = strchr(copy, '@');
    if (at) {
        *at++ = '\0';
        if (digest_check(at, "reference", err) < 0)
            return err_wrap(err, "reference `%s`", s);
        r->digest = strdup(at);
    }
    rest = copy;
    if (ref_domain_len(copy) > 0) {
        slash = copy + ref_domain_len(copy);
        *slash = '\0';
        r->host = strdup(copy);
        rest = slash + 1;
    } else {
        r->host = strdup("registry-1.docker.io");
    }
    colon = strrchr(rest, ':');
    if (colon && strchr(colon, '/') == NULL) {
        *colon++ = '\0';
        r->tag = strdup(colon);
    } else if (r->digest == NULL) {
        r->tag = strdup("latest");
    }
    if (strcmp(r->host, "registry-1.docker.io") == 0 && strchr(rest, '/') == NULL) {
        if (asprintf(&r->repo, "library/%s", rest) < 0)
            r->repo = NULL;
    } else {
        r->repo = strdup(rest);
    }
    if (r->host == NULL || r->repo == NULL) {
        registry_ref_release(r);
        return err_set(err, ENOMEM, "reference `%s`", s);
    }
    return 0;
}

/* ---- HTTP ---- */

struct client {
    CURL *curl;
    const struct registry_opts *o;
    const struct reg_ref *ref;
    char *base; /* scheme://host */
    char *auth; /* "Authorization: ..." */
    const char *scope;
};

struct resp {
    long status;
    char *body;
    size_t len;
    bool too_big;
    bool sink_off;            /* this response's body is not the blob (an error) */
    struct blob_writer *sink; /* body to a blob instead of memory */
    int sink_err;
    struct err *sink_e;
    char *content_type, *location, *www_auth, *docker_digest, *content_range;
    long hstatus;       /* status of the response being received */
    bool body_started;  /* its first body byte was seen */
    int64_t range_from; /* bytes of the sink asked to be skipped (Range) */
    bool net_fail;      /* the transfer itself failed (a retry may help) */
    /* progress: the blob being moved, reported to the caller's callback */
    const char *label;
    const struct registry_progress *pr;
};

static void resp_release(struct resp *r)
{
    free(r->body);
    free(r->content_type);
    free(r->location);
    free(r->www_auth);
    free(r->docker_digest);
    free(r->content_range);
    err_free(&r->sink_e);
    memset(r, 0, sizeof(*r));
}

/* A 206 that continues exactly where the partial blob ends (RFC 9110 14.4). */
static bool range_ok(const struct resp *r)
{
    long long first;

    return r->hstatus == 206 && r->content_range &&
           sscanf(r->content_range, "bytes %lld-", &first) == 1 && first == r->range_from;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = sz * n;

    if (r->sink && !r->body_started) {
        r->body_started = true;
        if (r->hstatus < 200 || r->hstatus >= 300) {
            /* An error's body is for the message, not the blob. */
            r->sink_off = true;
        } else if (r->range_from > 0 && !range_ok(r)) {
            /* The server ignored Range (200): start the blob again from zero. */
            if (r->hstatus != 200) {
                err_val(&r->sink_e, EBADMSG, "HTTP %ld with Content-Range `%s` for bytes %lld-",
                        r->hstatus, r->content_range ? r->content_range : "",
                        (long long)r->range_from);
                r->sink_err = 1;
                return 0;
            }
            if (store_blob_writer_reset(r->sink, &r->sink_e) < 0) {
                r->sink_err = 1;
                return 0;
            }
            r->range_from = 0;
        }
    }
    if (r->sink && !r->sink_off) {
        if (store_blob_writer_write(r->sink, p, len, &r->sink_e) < 0) {
            r->sink_err = 1;
            return 0;
        }
        return len;
    }
    if (r->len + len > MANIFEST_MAX) {
        r->too_big = true;
        return 0;
    }
    char *nb = realloc(r->body, r->len + len + 1);
    if (nb == NULL)
        return 0;
    memcpy(nb + r->len, p, len);
    r->body = nb;
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

static void set_header(char **dst, const char *v, size_t len)
{
    while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    while (len > 0 && *v == ' ') {
        v++;
        len--;
    }
    free(*dst);
    *dst = strndup(v, len);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = sz * n;
    static const struct {
        const char *name;
        size_t off;
    } want[] = {
        {"content-type:", offsetof(struct resp, content_type)},
        {"location:", offsetof(struct resp, location)},
        {"www-authenticate:", offsetof(struct resp, www_auth)},
        {"docker-content-digest:", offsetof(struct resp, docker_digest)},
        {"content-range:", offsetof(struct resp, content_range)},
    };

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a redirect): forget the last one's headers. */
        free(r->content_type);
        free(r->location);
        free(r->www_auth);
        free(r->docker_digest);
        free(r->content_range);
        r->content_type = r->location = r->www_auth = r->docker_digest = NULL;
        r->content_range = NULL;
        r->body_started = r->sink_off = false;
        r->hstatus = 0;
        sscanf(p, "HTTP/%*s %ld", &r->hstatus);
        return len;
    }
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        size_t k = strlen(want[i].name);
        if (len > k && strncasecmp(p, want[i].name, k) == 0)
            set_header((char **)((char *)r + want[i].off), p + k, len - k);
    }
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct resp *r = ud;

    if (dltotal)
        r->pr->transfer(r->pr->ud, r->label, r->range_from + (int64_t)dlnow,
                        r->range_from + (int64_t)dltotal);
    else if (ultotal)
        r->pr->transfer(r->pr->ud, r->label, (int64_t)ulnow, (int64_t)ultotal);
    return 0;
}

struct upload {
    int fd;
};

static size_t on_read(char *buf, size_t sz, size_t n, void *ud)
{
    struct upload *u = ud;
    ssize_t r;

    do
        r = read(u->fd, buf, sz * n);
    while (r < 0 && errno == EINTR);
    return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

static bool loopback(const char *host)
{
    return strncmp(host, "localhost", 9) == 0 || strncmp(host, "127.", 4) == 0 ||
           strncmp(host, "[::1]", 5) == 0;
}

struct req {
    const char *method; /* GET HEAD POST PUT */
    const char *url;    /* absolute, or a path below base */
    const char *accept;
    const char *ctype;
    const void *body; /* PUT body from memory */
    size_t body_len;
    int body_fd; /* PUT body from a file (-1: none) */
    int64_t body_size;
};

static int do_once(struct client *c, const struct req *q, struct resp *r, struct err **err)
{
    struct curl_slist *h = NULL;
    _cleanup_free_ char *url = NULL;
    char cerr[CURL_ERROR_SIZE] = "";
    struct upload up = {.fd = q->body_fd};
    CURLcode rc;

    if (strncmp(q->url, "http://", 7) == 0 || strncmp(q->url, "https://", 8) == 0)
        url = strdup(q->url);
    else if (asprintf(&url, "%s%s", c->base, q->url) < 0)
        url = NULL;
    if (url == NULL)
        return err_set(err, ENOMEM, "request");
    sym_curl_easy_reset(c->curl);
    sym_curl_easy_setopt(c->curl, CURLOPT_URL, url);
    sym_curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, cerr);
    sym_curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "isola/" ISOLA_VERSION);
    sym_curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    sym_curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A dropped or stalled connection ends the request instead of hanging. */
    sym_curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    sym_curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, 60L);
    sym_curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    sym_curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (c->o->ca_file)
        sym_curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->o->ca_file);
    if (c->o->insecure) {
        sym_curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
        sym_curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    sym_curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    sym_curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, r);
    sym_curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    sym_curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
    r->pr = c->o->progress;
    if (r->label && r->pr && r->pr->transfer) {
        sym_curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
        sym_curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        sym_curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, r);
    }
    if (q->accept)
        h = sym_curl_slist_append(h, q->accept);
    if (q->ctype) {
        char line[256];
        snprintf(line, sizeof(line), "Content-Type: %s", q->ctype);
        h = sym_curl_slist_append(h, line);
    }
    if (c->auth)
        h = sym_curl_slist_append(h, c->auth);
    sym_curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    if (strcmp(q->method, "GET") == 0) {
        /* Blobs may redirect to a storage backend; curl drops our Authorization
         * header when the redirect leaves the host. */
        sym_curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
        sym_curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
        if (r->range_from > 0) {
            /* RFC 9110 14.2: the rest of a blob whose start we have. */
            char range[32];
            snprintf(range, sizeof(range), "%lld-", (long long)r->range_from);
            sym_curl_easy_setopt(c->curl, CURLOPT_RANGE, range);
        }
    } else if (strcmp(q->method, "HEAD") == 0) {
        sym_curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(q->method, "POST") == 0) {
        sym_curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        sym_curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
        sym_curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (strcmp(q->method, "PUT") == 0) {
        sym_curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
        if (q->body_fd >= 0) {
            if (lseek(q->body_fd, 0, SEEK_SET) < 0) {
                sym_curl_slist_free_all(h);
                return err_sys(err, "seek upload");
            }
            sym_curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, on_read);
            sym_curl_easy_setopt(c->curl, CURLOPT_READDATA, &up);
            sym_curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_size);
        } else {
            sym_curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 0L);
            sym_curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, "PUT");
            sym_curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, q->body ? q->body : "");
            sym_curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
        }
    }
    rc = sym_curl_easy_perform(c->curl);
    sym_curl_slist_free_all(h);
    sym_curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->sink_err) {
        struct err *e = r->sink_e;
        r->sink_e = NULL;
        *err = e;
        return -1;
    }
    if (r->too_big)
        return err_val(err, EFBIG, "%s %s: response larger than %d bytes", q->method, url,
                       MANIFEST_MAX);
    r->net_fail = rc != CURLE_OK;
    if (rc != CURLE_OK)
        return err_set(err, rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO, "%s %s: %s",
                       q->method, url, cerr[0] ? cerr : sym_curl_easy_strerror(rc));
    return 0;
}

/* Value of key="..." in a WWW-Authenticate challenge. */
static char *challenge_param(const char *ch, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = ch; (p = strstr(p, key)) != NULL; p += k) {
        if (p != ch && !(p[-1] == ' ' || p[-1] == ','))
            continue;
        if (p[k] != '=')
            continue;
        const char *v = p + k + 1;
        if (*v == '"') {
            const char *e = strchr(v + 1, '"');
            return e ? strndup(v + 1, (size_t)(e - v - 1)) : NULL;
        }
        return strndup(v, strcspn(v, ", "));
    }
    return NULL;
}

static char *basic_header(const char *creds)
{
    size_t n = strlen(creds);
    _cleanup_free_ unsigned char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    char *out = NULL;

    if (b64 == NULL)
        return NULL;
    EVP_EncodeBlock(b64, (const unsigned char *)creds, (int)n);
    if (asprintf(&out, "Authorization: Basic %s", b64) < 0)
        return NULL;
    return out;
}

/* Answer a 401's challenge (distribution token auth or basic). */
/* Strings from libcurl go back to libcurl (curl_free(3)), not to free(). */
static void curl_freep(char **p)
{
    if (*p)
        sym_curl_free(*p);
    *p = NULL;
}

static int authenticate(struct client *c, const char *challenge, struct err **err)
{
    if (challenge == NULL)
        return err_val(err, EACCES, "%s: 401 Unauthorized without a challenge", c->ref->host);
    if (strncasecmp(challenge, "Basic", 5) == 0) {
        if (c->o->creds == NULL)
            return err_val(err, EACCES, "%s: authentication required (give --creds USER:PASS)",
                           c->ref->host);
        free(c->auth);
        c->auth = basic_header(c->o->creds);
        return c->auth ? 0 : err_set(err, ENOMEM, "auth");
    }
    if (strncasecmp(challenge, "Bearer", 6) != 0)
        return err_val(err, ENOTSUP, "%s: unsupported authentication `%.40s`", c->ref->host,
                       challenge);
    _cleanup_free_ char *realm = challenge_param(challenge, "realm");
    _cleanup_free_ char *service = challenge_param(challenge, "service");
    _cleanup_free_ char *scope = challenge_param(challenge, "scope");
    _cleanup_free_ char *url = NULL;
    __attribute__((cleanup(curl_freep))) char *es = NULL, *esc = NULL;
    _cleanup_json_ json_t *tok = NULL;
    struct resp r = {0};
    const char *t = NULL;
    char *saved;
    int rc;

    if (realm == NULL)
        return err_val(err, EACCES, "%s: bearer challenge without a realm", c->ref->host);
    es = sym_curl_easy_escape(c->curl, service ? service : "", 0);
    esc = sym_curl_easy_escape(c->curl, scope ? scope : c->scope, 0);
    if (es == NULL || esc == NULL ||
        asprintf(&url, "%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?", es, esc) <
            0)
        return err_set(err, ENOMEM, "auth");
    /* The token request carries the user's credentials (basic), if any. */
    saved = c->auth;
    c->auth = c->o->creds ? basic_header(c->o->creds) : NULL;
    struct req q = {.method = "GET", .url = url, .body_fd = -1};
    rc = do_once(c, &q, &r, err);
    free(c->auth);
    c->auth = saved;
    if (rc < 0)
        goto out;
    if (r.status != 200) {
        rc = err_val(err, EACCES, "token from %s: HTTP %ld%s", realm, r.status,
                     r.status == 401 ? " (wrong credentials?)" : "");
        goto out;
    }
    if (js_load_buf(r.body ? r.body : "", r.len, "token response", &tok, err) < 0) {
        rc = -1;
        goto out;
    }
    js_get_str(tok, "token response", "token", false, &t, NULL);
    if (t == NULL)
        js_get_str(tok, "token response", "access_token", false, &t, NULL);
    if (t == NULL) {
        rc = err_val(err, EACCES, "token from %s: no token in the response", realm);
        goto out;
    }
    free(c->auth);
    if (asprintf(&c->auth, "Authorization: Bearer %s", t) < 0)
        c->auth = NULL;
    rc = c->auth ? 0 : err_set(err, ENOMEM, "auth");
out:
    resp_release(&r);
    return rc;
}

/* A request, answering one authentication challenge if the registry asks. */
static int do_req(struct client *c, const struct req *q, struct resp *r, struct err **err)
{
    for (int attempt = 0;; attempt++) {
        struct blob_writer *sink = r->sink;
        const char *label = r->label;
        int64_t from = r->range_from;
        if (do_once(c, q, r, err) < 0)
            return -1;
        if (r->status != 401 || attempt > 0)
            return 0;
        _cleanup_free_ char *ch = r->www_auth ? strdup(r->www_auth) : NULL;
        if (authenticate(c, ch, err) < 0)
            return -1;
        if (sink && store_blob_writer_size(sink) > 0)
            return err_val(err, EIO, "%s: authentication changed mid-download", q->url);
        resp_release(r);
        r->sink = sink;
        r->label = label;
        r->range_from = from;
    }
}

/* Registry error bodies: {"errors":[{"code":..,"message":..}]} (spec "Error Codes"). */
static int http_error(const char *what, const struct resp *r, struct err **err)
{
    _cleanup_json_ json_t *j = NULL;
    json_t *e0;
    const char *code = NULL, *msg = NULL;

    if (r->body && (j = json_loadb(r->body, r->len, 0, NULL)) != NULL &&
        (e0 = json_array_get(json_object_get(j, "errors"), 0)) != NULL) {
        code = json_string_value(json_object_get(e0, "code"));
        msg = json_string_value(json_object_get(e0, "message"));
    }
    return err_val(err,
                   r->status == 404   ? ENOENT
                   : r->status == 401 ? EACCES
                                      : EIO,
                   "%s: HTTP %ld%s%s%s%s", what, r->status, code ? " " : "", code ? code : "",
                   msg ? ": " : "", msg ? msg : "");
}

static int client_open(struct client *c, const struct reg_ref *ref, const struct registry_opts *o,
                       const char *scope, struct err **err)
{
    struct resp r = {0};
    struct req q = {.method = "GET", .url = "/v2/", .body_fd = -1};
    int rc;

    memset(c, 0, sizeof(*c));
    c->o = o;
    c->ref = ref;
    c->scope = scope;
    if (curl_dl_load(err) < 0)
        return err_wrap(err, "registry %s", ref->host);
    c->curl = sym_curl_easy_init();
    if (c->curl == NULL || asprintf(&c->base, "https://%s", ref->host) < 0)
        return err_set(err, ENOMEM, "registry %s", ref->host);
    /* distribution-spec "Determining support": GET /v2/. HTTPS first; plain
     * HTTP only for loopback hosts or when asked (--insecure). */
    rc = do_once(c, &q, &r, err);
    if (rc < 0 && (o->insecure || loopback(ref->host))) {
        err_free(err);
        resp_release(&r);
        free(c->base);
        if (asprintf(&c->base, "http://%s", ref->host) < 0)
            return err_set(err, ENOMEM, "registry");
        rc = do_once(c, &q, &r, err);
    }
    if (rc < 0)
        goto out;
    if (r.status == 401) {
        rc = authenticate(c, r.www_auth, err);
        goto out;
    }
    if (r.status != 200)
        rc = http_error(ref->host, &r, err);
out:
    resp_release(&r);
    return rc < 0 ? err_wrap(err, "registry %s", ref->host) : 0;
}

static void report(struct client *c, enum registry_event ev, const char *digest, int64_t size)
{
    if (c->o->progress && c->o->progress->event)
        c->o->progress->event(c->o->progress->ud, ev, digest, size);
}

static void client_close(struct client *c)
{
    if (c->curl)
        sym_curl_easy_cleanup(c->curl);
    free(c->base);
    free(c->auth);
}

/* ---- pull ---- */

static int get_manifest(struct client *c, const char *what, char **body, size_t *len, char **mt,
                        char digest[DIGEST_LEN + 1], const char *expect, struct err **err)
{
    _cleanup_free_ char *path = NULL;
    struct resp r = {0};
    struct req q = {.method = "GET", .accept = ACCEPT_MANIFESTS, .body_fd = -1};
    int rc = -1;

    if (asprintf(&path, "/v2/%s/manifests/%s", c->ref->repo, what) < 0)
        return err_set(err, ENOMEM, "manifest");
    q.url = path;
    if (do_req(c, &q, &r, err) < 0)
        goto out;
    if (r.status != 200) {
        http_error(path, &r, err);
        goto out;
    }
    digest_buf(r.body ? r.body : "", r.len, digest);
    if (expect && strcmp(expect, digest) != 0) {
        err_val(err, EBADMSG, "manifest %s: digest mismatch: got %s", expect, digest);
        goto out;
    }
    if (r.docker_digest && digest_valid(r.docker_digest) && strcmp(r.docker_digest, digest)) {
        err_val(err, EBADMSG, "manifest %s: the registry says %s, the content hashes to %s", what,
                r.docker_digest, digest);
        goto out;
    }
    *mt = r.content_type ? strndup(r.content_type, strcspn(r.content_type, ";")) : NULL;
    *body = r.body ? r.body : strdup("");
    r.body = NULL;
    *len = r.len;
    rc = 0;
out:
    resp_release(&r);
    return rc;
}

/* Attempts after the first to finish a blob whose connection dropped. */
#define RESUME_TRIES 4

static int get_blob(struct client *c, struct store *s, const struct desc *d, struct err **err)
{
    _cleanup_free_ char *path = NULL;
    struct resp r = {0};
    struct req q = {.method = "GET", .body_fd = -1};
    char got[DIGEST_LEN + 1];
    int rc = -1;

    if (store_blob_exists(s, d->digest)) {
        report(c, REG_BLOB_PRESENT, d->digest, d->size);
        return 0;
    }
    if (asprintf(&path, "/v2/%s/blobs/%s", c->ref->repo, d->digest) < 0)
        return err_set(err, ENOMEM, "blob");
    q.url = path;
    r.label = d->digest;
    if (store_blob_writer_new(s, d->digest, &r.sink, err) < 0)
        return -1;
    /* A dropped connection mid-blob resumes from the partial temp file with a
     * Range request (issue 5 "an interrupted pull resumes"); the digest is
     * checked on commit whichever way the bytes came. */
    for (int tries = 0;; tries++) {
        if (do_req(c, &q, &r, err) == 0)
            break;
        if (!r.net_fail || tries >= RESUME_TRIES)
            goto out;
        struct blob_writer *sink = r.sink;
        err_free(err);
        resp_release(&r);
        r.sink = sink;
        r.label = d->digest;
        r.range_from = store_blob_writer_size(sink);
    }
    if (r.status != 200 && r.status != 206) {
        http_error(path, &r, err);
        goto out;
    }
    rc = store_blob_writer_commit(r.sink, d->digest, d->size, got, err);
    r.sink = NULL;
    if (rc == 0)
        report(c, REG_BLOB_FETCHED, d->digest, d->size);
out:
    store_blob_writer_abort(r.sink);
    resp_release(&r);
    return rc < 0 ? err_wrap(err, "blob %s", d->digest) : 0;
}

static const char *body_media_type(const char *body, size_t len, const char *hdr)
{
    static char mt[128];
    json_t *j;

    if (hdr && (mt_is_index(hdr) || mt_is_manifest(hdr)))
        return hdr;
    j = json_loadb(body, len, 0, NULL);
    snprintf(mt, sizeof(mt), "%s", json_string_value(json_object_get(j, "mediaType")) ?: "");
    if (mt[0] == '\0')
        snprintf(mt, sizeof(mt), "%s",
                 json_object_get(j, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST);
    json_decref(j);
    return mt;
}

int registry_pull(struct store *s, const char *refstr, const struct registry_opts *o, char **name,
                  struct err **err)
{
    struct reg_ref ref;
    struct client c;
    _cleanup_free_ char *body = NULL, *mtype = NULL, *scope = NULL, *tagname = NULL;
    _cleanup_json_ json_t *top = NULL, *man = NULL, *entry = NULL;
    char topd[DIGEST_LEN + 1], md[DIGEST_LEN + 1], stored[DIGEST_LEN + 1];
    const char *mt;
    struct manifest m = {0};
    size_t len = 0;
    int rc = -1;

    if (registry_parse_ref(refstr, &ref, err) < 0)
        return -1;
    if (asprintf(&scope, "repository:%s:pull", ref.repo) < 0) {
        registry_ref_release(&ref);
        return err_set(err, ENOMEM, "pull");
    }
    if (client_open(&c, &ref, o, scope, err) < 0)
        goto out;
    if (get_manifest(&c, ref.digest ? ref.digest : ref.tag, &body, &len, &mtype, topd, ref.digest,
                     err) < 0)
        goto out;
    mt = body_media_type(body, len, mtype);
    if (store_blob_put_buf(s, body, len, topd, stored, err) < 0)
        goto out;
    entry = desc_new(mt, topd, (int64_t)len);
    if (mt_is_index(mt)) {
        json_t *child = NULL;
        struct desc cd;
        if (js_load_buf(body, len, topd, &top, err) < 0 ||
            index_select(top, topd, o->platform, &child, err) < 0 ||
            desc_parse(child, topd, &cd, err) < 0)
            goto out;
        free(body);
        free(mtype);
        body = mtype = NULL;
        if (get_manifest(&c, cd.digest, &body, &len, &mtype, md, cd.digest, err) < 0 ||
            store_blob_put_buf(s, body, len, cd.digest, stored, err) < 0)
            goto out;
    } else if (!mt_is_manifest(mt)) {
        err_val(err, ENOTSUP, "%s: media type `%s` is not an image", refstr, mt);
        goto out;
    }
    if (js_load_buf(body, len, "manifest", &man, err) < 0 ||
        manifest_parse(man, "manifest", &m, err) < 0)
        goto out;
    if (get_blob(&c, s, &m.config, err) < 0)
        goto out;
    for (size_t i = 0; i < m.n_layers; i++)
        if (get_blob(&c, s, &m.layers[i], err) < 0)
            goto out;
    /* Tag only now: every blob is in the store and checked. */
    tagname = store_ref_normalize(refstr);
    if (tagname == NULL || store_tag(s, tagname, entry, err) < 0)
        goto out;
    if (name)
        *name = steal_ptr(&tagname);
    rc = 0;
out:
    manifest_release(&m);
    if (c.curl || c.base)
        client_close(&c);
    registry_ref_release(&ref);
    return rc < 0 ? err_wrap(err, "pull %s", refstr) : 0;
}

/* ---- push ---- */

static int put_blob(struct client *c, struct store *s, const struct desc *d, struct err **err)
{
    _cleanup_free_ char *path = NULL, *url = NULL, *loc = NULL;
    _cleanup_close_ int fd = -1;
    struct resp r = {0};
    struct req q = {.method = "HEAD", .body_fd = -1};
    int rc = -1;

    if (asprintf(&path, "/v2/%s/blobs/%s", c->ref->repo, d->digest) < 0)
        return err_set(err, ENOMEM, "blob");
    q.url = path;
    if (do_req(c, &q, &r, err) < 0)
        goto out;
    if (r.status == 200) {
        report(c, REG_BLOB_EXISTS, d->digest, d->size);
        rc = 0;
        goto out;
    }
    resp_release(&r);
    /* distribution-spec "Pushing a blob monolithically": POST then PUT. */
    free(path);
    if (asprintf(&path, "/v2/%s/blobs/uploads/", c->ref->repo) < 0) {
        path = NULL;
        err_set(err, ENOMEM, "blob");
        goto out;
    }
    q.method = "POST";
    q.url = path;
    if (do_req(c, &q, &r, err) < 0)
        goto out;
    if (r.status != 202 || r.location == NULL) {
        http_error(path, &r, err);
        goto out;
    }
    loc = strdup(r.location);
    resp_release(&r);
    if (loc == NULL || asprintf(&url, "%s%s%sdigest=%s", loc[0] == '/' ? c->base : "", loc,
                                strchr(loc, '?') ? "&" : "?", d->digest) < 0) {
        url = NULL;
        err_set(err, ENOMEM, "blob");
        goto out;
    }
    fd = store_blob_open(s, d->digest, d->size, err);
    if (fd < 0)
        goto out;
    r.label = d->digest;
    q = (struct req){.method = "PUT",
                     .url = url,
                     .ctype = "application/octet-stream",
                     .body_fd = fd,
                     .body_size = d->size};
    if (do_req(c, &q, &r, err) < 0)
        goto out;
    if (r.status != 201) {
        http_error("blob upload", &r, err);
        goto out;
    }
    report(c, REG_BLOB_PUSHED, d->digest, d->size);
    rc = 0;
out:
    resp_release(&r);
    return rc < 0 ? err_wrap(err, "push blob %s", d->digest) : 0;
}

int registry_push(struct store *s, const char *image, const char *refstr,
                  const struct registry_opts *o, struct err **err)
{
    _cleanup_image_ struct image *img = NULL;
    _cleanup_free_ char *scope = NULL, *body = NULL, *path = NULL;
    struct reg_ref ref = {0};
    struct client c = {0};
    struct resp r = {0};
    const char *mt;
    size_t len = 0;
    int rc = -1;

    if (image_open(s, image, o->platform, &img, err) < 0)
        return -1;
    if (refstr == NULL)
        refstr = img->ref ? img->ref : image;
    if (registry_parse_ref(refstr, &ref, err) < 0)
        return -1;
    if (asprintf(&scope, "repository:%s:pull,push", ref.repo) < 0) {
        registry_ref_release(&ref);
        return err_set(err, ENOMEM, "push");
    }
    if (client_open(&c, &ref, o, scope, err) < 0)
        goto out;
    for (size_t i = 0; i < img->m.n_layers; i++)
        if (put_blob(&c, s, &img->m.layers[i], err) < 0)
            goto out;
    if (put_blob(&c, s, &img->m.config, err) < 0)
        goto out;
    if (store_blob_read(s, img->manifest_digest, -1, &body, &len, err) < 0)
        goto out;
    mt = json_string_value(json_object_get(img->manifest, "mediaType"));
    if (mt == NULL)
        mt = MT_OCI_MANIFEST;
    if (asprintf(&path, "/v2/%s/manifests/%s", ref.repo, ref.tag ? ref.tag : img->manifest_digest) <
        0) {
        path = NULL;
        err_set(err, ENOMEM, "push");
        goto out;
    }
    struct req q = {
        .method = "PUT", .url = path, .ctype = mt, .body = body, .body_len = len, .body_fd = -1};
    if (do_req(&c, &q, &r, err) < 0)
        goto out;
    if (r.status != 201) {
        http_error(path, &r, err);
        goto out;
    }
    report(&c, REG_PUSHED, img->manifest_digest, (int64_t)len);
    rc = 0;
out:
    resp_release(&r);
    client_close(&c);
    registry_ref_release(&ref);
    return rc < 0 ? err_wrap(err, "push %s", refstr) : 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image references, Docker's grammar (github.com/distribution/reference,
 * reference.go and normalize.go):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain '/'] path              (at most 255 characters)
 *   domain     := host [':' port]                (the first component, when it has
 *                                                 `.` or `:`, is `localhost` or
 *                                                 has upper case)
 *   host       := component ['.' component]*     component: [a-zA-Z0-9]
 *                 | '[' IPv6 ']'                  ([a-zA-Z0-9-]*[a-zA-Z0-9])?
 *   path       := path-component ['/' path-component]*
 *   path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator: [_.] | __ | -+
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ':' [0-9a-fA-F]{32,}     algorithm: [A-Za-z][A-Za-z0-9]*
 *                                                    joined by [+._-]
 */
#include "image/ref.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN  128

#define BAD(...) err_val(err, EINVAL, "reference `%s`: invalid reference format: " __VA_ARGS__)

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* One path component: [a-z0-9]+ ([_.] | __ | -+) [a-z0-9]+ ... */
static bool path_component_ok(const char *p, size_t n)
{
    size_t i = 0;

    if (n == 0 || !is_lower_alnum(p[0]) || !is_lower_alnum(p[n - 1]))
        return false;
    while (i < n) {
        if (is_lower_alnum(p[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !is_lower_alnum(p[j]))
            j++;
        size_t len = j - i;
        bool ok = (len == 1 && (p[i] == '.' || p[i] == '_')) ||
                  (len == 2 && p[i] == '_' && p[i + 1] == '_') || strspn(p + i, "-") >= len;
        if (!ok)
            return false;
        i = j;
    }
    return true;
}

static int check_path(const char *ref, const char *p, size_t n, struct err **err)
{
    bool upper = false;

    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        upper |= isupper((unsigned char)c) != 0;
        if (!isalnum((unsigned char)c) && !strchr("._-/", c))
            return BAD("`%c` is not allowed in the repository name `%.*s` (lowercase letters, "
                       "digits, `/` and the separators `.`, `_`, `__`, `-`)",
                       ref, c, (int)n, p);
    }
    if (upper)
        return BAD("repository name `%.*s` must be lowercase", ref, (int)n, p);
    for (size_t i = 0; i <= n;) {
        const char *slash = memchr(p + i, '/', n - i);
        size_t len = slash ? (size_t)(slash - (p + i)) : n - i;
        if (!path_component_ok(p + i, len))
            return BAD("path component `%.*s` of the repository name: letters and digits, "
                       "separated by single `.`, `_`, `__` or dashes, neither first nor last",
                       ref, (int)len, p + i);
        i += len + 1;
    }
    return 0;
}

static bool host_component_ok(const char *p, size_t n)
{
    if (n == 0 || !isalnum((unsigned char)p[0]) || !isalnum((unsigned char)p[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '-')
            return false;
    return true;
}

static int check_domain(const char *ref, const char *d, size_t n, struct err **err)
{
    size_t host = n;

    if (n > 0 && d[0] == '[') {
        const char *close = memchr(d, ']', n);
        if (close == NULL || close == d + 1)
            return BAD("registry host `%.*s`: unterminated IPv6 address", ref, (int)n, d);
        for (const char *c = d + 1; c < close; c++)
            if (!isxdigit((unsigned char)*c) && *c != ':')
                return BAD("registry host `%.*s`: not an IPv6 address", ref, (int)n, d);
        host = (size_t)(close - d) + 1;
    } else {
        const char *colon = memchr(d, ':', n);
        if (colon)
            host = (size_t)(colon - d);
        for (size_t i = 0; i <= host;) {
            const char *dot = memchr(d + i, '.', host - i);
            size_t len = dot ? (size_t)(dot - (d + i)) : host - i;
            if (!host_component_ok(d + i, len))
                return BAD("registry host `%.*s`: letters, digits and inner `-` in each "
                           "`.`-separated part",
                           ref, (int)host, d);
            i += len + 1;
        }
    }
    if (host < n) {
        if (d[host] != ':' || host + 1 == n)
            return BAD("registry host `%.*s`: expected HOST[:PORT]", ref, (int)n, d);
        for (size_t i = host + 1; i < n; i++)
            if (!isdigit((unsigned char)d[i]))
                return BAD("registry host `%.*s`: the port must be a number", ref, (int)n, d);
    }
    return 0;
}

static int check_digest(const char *ref, const char *dg, struct err **err)
{
    const char *colon = strchr(dg, ':');
    size_t hex;
    bool start = true;

    if (colon == NULL || colon == dg)
        return BAD("digest `%s`: expected ALGORITHM:HEX", ref, dg);
    for (const char *c = dg; c < colon; c++) {
        bool sep = strchr("+._-", *c) != NULL;
        bool ok = start ? isalpha((unsigned char)*c) : isalnum((unsigned char)*c) || sep;
        if (!ok)
            return BAD("digest `%s`: bad algorithm", ref, dg);
        start = sep;
    }
    if (start)
        return BAD("digest `%s`: bad algorithm", ref, dg);
    hex = strspn(colon + 1, "0123456789abcdefABCDEF");
    if (colon[1 + hex] != '\0' || hex < 32)
        return BAD("digest `%s`: expected at least 32 hex digits after `:`", ref, dg);
    return 0;
}

size_t ref_domain_len(const char *ref)
{
    const char *slash = strchr(ref, '/');
    size_t n = slash ? (size_t)(slash - ref) : 0;

    /* normalize.go splitDockerDomain: the first component is a registry host when
     * it has `.` or `:`, is `localhost`, or has upper case (a path cannot). */
    if (n == 0)
        return 0;
    if (memchr(ref, '.', n) || memchr(ref, ':', n) || (n == 9 && strncmp(ref, "localhost", 9) == 0))
        return n;
    for (size_t i = 0; i < n; i++)
        if (isupper((unsigned char)ref[i]))
            return n;
    return 0;
}

int ref_check(const char *ref, struct err **err)
{
    const char *at = strchr(ref, '@');
    size_t name_end = at ? (size_t)(at - ref) : strlen(ref);
    size_t path_start, tag_at = name_end;

    if (ref[0] == '\0')
        return err_val(err, EINVAL, "reference ``: empty reference");
    if (at && check_digest(ref, at + 1, err) < 0)
        return -1;
    /* The tag: after the last `:` that no `/` follows. */
    for (size_t i = name_end; i-- > 0;) {
        if (ref[i] == '/')
            break;
        if (ref[i] == ':') {
            tag_at = i;
            break;
        }
    }
    if (tag_at < name_end) {
        const char *t = ref + tag_at + 1;
        size_t n = name_end - tag_at - 1;
        bool ok = n > 0 && n <= TAG_MAX_LEN && is_word(t[0]);
        for (size_t i = 1; ok && i < n; i++)
            ok = is_word(t[i]) || t[i] == '.' || t[i] == '-';
        if (!ok)
            return BAD("tag `%.*s`: 1 to %d letters, digits, `_`, `.` and `-`, not starting with "
                       "`.` or `-`",
                       ref, (int)n, t, TAG_MAX_LEN);
    }
    if (tag_at == 0)
        return BAD("empty repository name", ref);
    if (tag_at > NAME_MAX_LEN)
        return BAD("repository name longer than %d characters", ref, NAME_MAX_LEN);
    path_start = ref_domain_len(ref);
    if (path_start > 0) {
        if (check_domain(ref, ref, path_start, err) < 0)
            return -1;
        path_start++;
    }
    return check_path(ref, ref + path_start, tag_at - path_start, err);
}

int ref_check_tag(const char *ref, struct err **err)
{
    if (ref_check(ref, err) < 0)
        return -1;
    if (strchr(ref, '@'))
        return err_val(err, EINVAL,
                       "reference `%s`: refusing to create a tag with a digest reference", ref);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ref_check: Docker's reference grammar (distribution/reference's own test table). */
#include <string.h>

#include "image/ref.h"
#include "tap.h"

static void good(const char *ref)
{
    struct err *e = NULL;

    ok(ref_check(ref, &e) == 0, "valid: %s", ref);
    if (e)
        printf("#   got: %s\n", e->msg);
    err_free(&e);
}

static void bad(const char *ref, const char *why)
{
    struct err *e = NULL;

    ok(ref_check(ref, &e) < 0 && e && strstr(e->msg, why) && strstr(e->msg, ref),
       "invalid: %s (%s)", ref, why);
    if (e && !strstr(e->msg, why))
        printf("#   got: %s\n", e->msg);
    err_free(&e);
}

int main(void)
{
    struct err *e = NULL;
    char long_name[300];

    good("test_com");
    good("test.com:tag");
    good("test.com:5000");
    good("test.com/repo:tag");
    good("test:5000/repo");
    good("test:5000/repo:tag");
    good("lowercase:Uppercase");
    good("sub-dom1.foo.com/bar/baz/quux");
    good("sub-dom1.foo.com/bar/baz/quux:some-long-tag");
    good("b.gcr.io/test.example.com/my-app:test.example.com");
    good("xn--n3h.com/myimage:xn--n3h.com");
    good("foo_bar.com:8080");
    good("foo/foo_bar.com:8080");
    good("a__b");
    good("a---b");
    good("Foo/bar"); /* upper case first component: a registry host */
    good("[::1]:5000/x");
    good("test:5000/repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    bad("", "empty");
    bad(":justtag", "empty repository name");
    bad("Uppercase:tag", "must be lowercase");
    bad("test:5000/Uppercase/lowercase:tag", "must be lowercase");
    bad("aa/asdf$$^/aa", "`$` is not allowed");
    bad("a___b", "path component");
    bad("a..b", "path component");
    bad("-a", "path component");
    bad("a/", "path component");
    bad("x:-y", "tag `-y`");
    bad("repo@sha256:ffff", "at least 32 hex digits");
    bad("repo@:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "ALGORITHM:HEX");
    bad("ex-.com/a", "registry host");
    bad("ex.com:x/a", "port");
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    bad(long_name, "longer than 255");
    ok(ref_check_tag("a@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                     &e) < 0 &&
           e && strstr(e->msg, "digest"),
       "no tag with a digest");
    err_free(&e);
    ok(ref_domain_len("localhost/a") == 9 && ref_domain_len("a/b") == 0 &&
           ref_domain_len("h.io:5/a") == 6 && ref_domain_len("noslash") == 0,
       "domain split as Docker's splitDockerDomain");
    return done_testing();
}

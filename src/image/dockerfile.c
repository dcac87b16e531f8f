/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/dockerfile.h"
#include "util/cleanup.h"
#include "util/js.h"

static const char *const known[] = {"FROM",       "RUN",         "COPY",    "ADD",   "ENV",
                                    "ARG",        "WORKDIR",     "USER",    "CMD",   "ENTRYPOINT",
                                    "EXPOSE",     "LABEL",       "VOLUME",  "SHELL", "STOPSIGNAL",
                                    "MAINTAINER", "HEALTHCHECK", "ONBUILD", NULL};

void dockerfile_release(struct dockerfile *df)
{
    for (size_t i = 0; i < df->n; i++) {
        free(df->insns[i].cmd);
        free(df->insns[i].rest);
        json_decref(df->insns[i].argv);
        json_decref(df->insns[i].flags);
    }
    free(df->insns);
    free(df->path);
    memset(df, 0, sizeof(*df));
}

static int add_insn(struct dockerfile *df, const char *path, char *logical, int line, int col,
                    struct err **err)
{
    char *p = logical, *word;
    struct df_insn in = {0};
    size_t wl;
    bool ok = false;

    while (*p == ' ' || *p == '\t')
        p++, col++;
    word = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    wl = (size_t)(p - word);
    in.cmd = strndup(word, wl);
    if (in.cmd == NULL)
        return err_set(err, ENOMEM, "%s", path);
    for (char *c = in.cmd; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    for (size_t i = 0; known[i]; i++)
        if (strcmp(in.cmd, known[i]) == 0)
            ok = true;
    if (!ok) {
        err_val(err, EINVAL, "%s:%d:%d: unknown instruction `%s`", path, line, col, in.cmd);
        free(in.cmd);
        return -1;
    }
    col += (int)wl;
    while (*p == ' ' || *p == '\t')
        p++, col++;
    in.flags = json_object();
    /* --name=value options of FROM/COPY/ADD/RUN. */
    while (strncmp(p, "--", 2) == 0) {
        char *eq, *end = p;
        while (*end && !isspace((unsigned char)*end))
            end++;
        eq = memchr(p, '=', (size_t)(end - p));
        if (eq == NULL) {
            err_val(err, EINVAL, "%s:%d:%d: option `%.*s` needs =VALUE", path, line, col,
                    (int)(end - p), p);
            goto fail;
        }
        json_object_setn_new(in.flags, p + 2, (size_t)(eq - p - 2),
                             json_stringn(eq + 1, (size_t)(end - eq - 1)));
        col += (int)(end - p);
        p = end;
        while (*p == ' ' || *p == '\t')
            p++, col++;
    }
    /* Trailing whitespace is not part of the arguments. */
    for (size_t n = strlen(p); n > 0 && isspace((unsigned char)p[n - 1]); n--)
        p[n - 1] = '\0';
    in.rest = strdup(p);
    in.line = line;
    in.col = col;
    if (*p == '\0' && strcmp(in.cmd, "RUN") != 0) {
        err_val(err, EINVAL, "%s:%d:%d: %s needs arguments", path, line, col, in.cmd);
        goto fail;
    }
    if (*p == '[' && (strcmp(in.cmd, "RUN") == 0 || strcmp(in.cmd, "CMD") == 0 ||
                      strcmp(in.cmd, "ENTRYPOINT") == 0 || strcmp(in.cmd, "COPY") == 0 ||
                      strcmp(in.cmd, "ADD") == 0 || strcmp(in.cmd, "VOLUME") == 0 ||
                      strcmp(in.cmd, "SHELL") == 0)) {
        json_error_t je;
        json_t *a = json_loads(p, JSON_REJECT_DUPLICATES, &je);
        size_t i;
        json_t *v;
        bool strings = json_is_array(a);
        json_array_foreach (a, i, v)
            strings = strings && json_is_string(v);
        if (a == NULL || !strings) {
            /* Docker treats an invalid JSON array as shell form; so do we for RUN/CMD,
             * but say where the JSON went wrong for the others. */
            json_decref(a);
            if (strcmp(in.cmd, "RUN") != 0 && strcmp(in.cmd, "CMD") != 0 &&
                strcmp(in.cmd, "ENTRYPOINT") != 0) {
                err_val(err, EINVAL, "%s:%d:%d: %s: expected a JSON array of strings: %s", path,
                        line, col + (a ? 0 : je.column), in.cmd, a ? "not all strings" : je.text);
                goto fail;
            }
        } else {
            in.argv = a;
        }
    }
    struct df_insn *n = realloc(df->insns, (df->n + 1) * sizeof(*n));
    if (n == NULL) {
        err_set(err, ENOMEM, "%s", path);
        goto fail;
    }
    df->insns = n;
    df->insns[df->n++] = in;
    return 0;
fail:
    free(in.cmd);
    free(in.rest);
    json_decref(in.flags);
    json_decref(in.argv);
    return -1;
}

int dockerfile_parse(const char *path, const char *text, struct dockerfile *df, struct err **err)
{
    _cleanup_free_ char *logical = NULL;
    size_t cap = 0, len = 0;
    int line = 0, start_line = 0, start_col = 1;
    const char *p = text;

    memset(df, 0, sizeof(*df));
    df->path = strdup(path);
    if (df->path == NULL)
        return err_set(err, ENOMEM, "%s", path);
    while (*p) {
        const char *eol = strchrnul(p, '\n');
        size_t n = (size_t)(eol - p);
        const char *s = p;
        line++;
        p = *eol ? eol + 1 : eol;
        while (n > 0 && (s[n - 1] == '\r'))
            n--;
        size_t lead = strspn(s, " \t");
        if (lead >= n || s[lead] == '#') {
            if (len == 0)
                continue;
            continue; /* comment or blank line inside a continuation */
        }
        bool cont = n > 0 && s[n - 1] == '\\';
        if (cont)
            n--;
        if (len == 0) {
            start_line = line;
            start_col = 1;
        }
        if (len + n + 2 > cap) {
            cap = (len + n + 2) * 2;
            char *nl = realloc(logical, cap);
            if (nl == NULL)
                return err_set(err, ENOMEM, "%s", path);
            logical = nl;
        }
        memcpy(logical + len, s, n);
        len += n;
        logical[len] = '\0';
        if (cont)
            continue;
        if (add_insn(df, path, logical, start_line, start_col, err) < 0) {
            dockerfile_release(df);
            return -1;
        }
        len = 0;
    }
    if (len > 0 && add_insn(df, path, logical, start_line, start_col, err) < 0) {
        dockerfile_release(df);
        return -1;
    }
    if (df->n == 0 || strcmp(df->insns[0].cmd, "FROM") != 0) {
        bool arg_only = true;
        for (size_t i = 0; i < df->n && strcmp(df->insns[i].cmd, "FROM") != 0; i++)
            arg_only = arg_only && strcmp(df->insns[i].cmd, "ARG") == 0;
        if (df->n == 0 || !arg_only) {
            int l = df->n ? df->insns[0].line : 1;
            dockerfile_release(df);
            return err_val(err, EINVAL, "%s:%d:1: the first instruction must be FROM", path, l);
        }
    }
    return 0;
}

int dockerfile_expand(const char *in, json_t *vars, char **out, const char *where, struct err **err)
{
    size_t cap = strlen(in) * 2 + 64, len = 0;
    char *o = malloc(cap);

    if (o == NULL)
        return err_set(err, ENOMEM, "%s", where);
#define PUT(s, n)                                         \
    do {                                                  \
        size_t n_ = (n);                                  \
        if (len + n_ + 1 > cap) {                         \
            cap = (len + n_ + 1) * 2;                     \
            char *t_ = realloc(o, cap);                   \
            if (t_ == NULL) {                             \
                free(o);                                  \
                return err_set(err, ENOMEM, "%s", where); \
            }                                             \
            o = t_;                                       \
        }                                                 \
        memcpy(o + len, (s), n_);                         \
        len += n_;                                        \
    } while (0)
    for (const char *p = in; *p;) {
        if (p[0] == '\\' && p[1] == '$') {
            PUT("$", 1);
            p += 2;
            continue;
        }
        if (*p != '$') {
            PUT(p, 1);
            p++;
            continue;
        }
        p++;
        char name[256];
        const char *mod = NULL, *word = NULL;
        size_t wl = 0, nl = 0;
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (end == NULL) {
                free(o);
                return err_val(err, EINVAL, "%s: missing `}` in `%s`", where, in);
            }
            const char *q = p + 1;
            while (q < end && (isalnum((unsigned char)*q) || *q == '_'))
                q++;
            nl = (size_t)(q - p - 1);
            if (nl == 0 || nl >= sizeof(name)) {
                free(o);
                return err_val(err, EINVAL, "%s: bad variable in `%s`", where, in);
            }
            memcpy(name, p + 1, nl);
            if (q < end) {
                if (q[0] != ':' || (q[1] != '-' && q[1] != '+')) {
                    free(o);
                    return err_val(err, EINVAL, "%s: unsupported modifier in `%s`", where, in);
                }
                mod = q + 1;
                word = q + 2;
                wl = (size_t)(end - word);
            }
            p = end + 1;
        } else {
            const char *q = p;
            while (isalnum((unsigned char)*q) || *q == '_')
                q++;
            nl = (size_t)(q - p);
            if (nl == 0 || nl >= sizeof(name)) {
                PUT("$", 1);
                continue;
            }
            memcpy(name, p, nl);
            p = q;
        }
        name[nl] = '\0';
        const char *val = json_string_value(json_object_get(vars, name));
        if (mod && *mod == '-') {
            if (val && *val)
                PUT(val, strlen(val));
            else
                PUT(word, wl);
        } else if (mod && *mod == '+') {
            if (val && *val)
                PUT(word, wl);
        } else if (val) {
            PUT(val, strlen(val));
        }
    }
#undef PUT
    o[len] = '\0';
    *out = o;
    return 0;
}

int dockerfile_words(const char *in, char ***out, struct err **err)
{
    size_t n = 0;
    char **v = calloc(strlen(in) + 2, sizeof(char *));
    const char *p = in;

    if (v == NULL)
        return err_set(err, ENOMEM, "words");
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        char *w = malloc(strlen(p) + 1), *o = w;
        char q = 0;
        if (w == NULL) {
            strv_free(v);
            return err_set(err, ENOMEM, "words");
        }
        while (*p && (q || !isspace((unsigned char)*p))) {
            if (q && *p == q) {
                q = 0;
                p++;
            } else if (!q && (*p == '"' || *p == '\'')) {
                q = *p++;
            } else if (*p == '\\' && p[1] && q != '\'') {
                *o++ = p[1];
                p += 2;
            } else {
                *o++ = *p++;
            }
        }
        *o = '\0';
        if (q) {
            free(w);
            strv_free(v);
            return err_val(err, EINVAL, "unterminated quote in `%s`", in);
        }
        v[n++] = w;
    }
    v[n] = NULL;
    *out = v;
    return 0;
}

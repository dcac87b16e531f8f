/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Docker's --format templates (cli_template.h). */
#include "cli/cli_template.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/js.h"

#define TOK_MAX 16

struct tpl_ctx {
    json_t *dot;
    const struct cli_header *headers;
    bool header;
    int line, col; /* of the action, for messages */
};

/* ---- printing values as Go's fmt %v ------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_value(FILE *m, json_t *v)
{
    size_t i, n;
    json_t *x;
    const char *k;

    switch (json_typeof(v)) {
    case JSON_STRING:
        fwrite(json_string_value(v), 1, json_string_length(v), m);
        break;
    case JSON_INTEGER:
        fprintf(m, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        fprintf(m, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("true", m);
        break;
    case JSON_FALSE:
        fputs("false", m);
        break;
    case JSON_NULL:
        fputs("<no value>", m);
        break;
    case JSON_ARRAY:
        fputc('[', m);
        json_array_foreach (v, i, x) {
            if (i)
                fputc(' ', m);
            print_value(m, x);
        }
        fputc(']', m);
        break;
    case JSON_OBJECT: {
        n = json_object_size(v);
        const char **keys = calloc(n ? n : 1, sizeof(char *));
        i = 0;
        json_object_foreach (v, k, x)
            if (keys)
                keys[i++] = k;
        if (keys)
            qsort(keys, i, sizeof(char *), key_cmp);
        fputs("map[", m);
        for (size_t j = 0; keys && j < i; j++) {
            fprintf(m, "%s%s:", j ? " " : "", keys[j]);
            print_value(m, json_object_get(v, keys[j]));
        }
        fputc(']', m);
        free(keys);
        break;
    }
    }
}

static char *value_str(json_t *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    if (m == NULL)
        return NULL;
    print_value(m, v);
    fclose(m);
    return buf;
}

/* ---- tokens -------------------------------------------------------------- */

enum tok_kind { T_FIELD, T_IDENT, T_STRING, T_NUMBER, T_PIPE };

struct tok {
    enum tok_kind kind;
    char *text; /* field path without the leading dot; a literal unquoted */
};

static void toks_free(struct tok *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].text);
}

__attribute__((format(printf, 3, 4))) static int tpl_error(const struct tpl_ctx *c,
                                                           struct err **err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_val(err, EINVAL, "template: :%d:%d: %s", c->line, c->col, msg);
}

static int tokenize(const struct tpl_ctx *c, const char *s, struct tok *t, size_t *nt,
                    struct err **err)
{
    size_t n = 0;

    while (*s) {
        if (isspace((unsigned char)*s)) {
            s++;
            continue;
        }
        if (n == TOK_MAX) {
            toks_free(t, n);
            return tpl_error(c, err, "%s", "too many words in one action");
        }
        const char *b = s;
        if (*s == '|') {
            t[n++] = (struct tok){T_PIPE, NULL};
            s++;
            continue;
        }
        if (*s == '"' || *s == '`') {
            char q = *s++;
            char *lit = malloc(strlen(s) + 1), *o = lit;
            if (lit == NULL) {
                toks_free(t, n);
                return err_set(err, ENOMEM, "template");
            }
            while (*s && *s != q) {
                if (q == '"' && *s == '\\' && s[1]) {
                    s++;
                    *o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
                    s++;
                } else
                    *o++ = *s++;
            }
            *o = '\0';
            if (*s != q) {
                free(lit);
                toks_free(t, n);
                return tpl_error(c, err, "%s", "unterminated quoted string");
            }
            s++;
            t[n++] = (struct tok){T_STRING, lit};
            continue;
        }
        enum tok_kind k;
        if (*s == '.') {
            k = T_FIELD;
            s++;
            while (isalnum((unsigned char)*s) || *s == '_' || *s == '.')
                s++;
        } else if (isdigit((unsigned char)*s) || *s == '-') {
            k = T_NUMBER;
            s++;
            while (isdigit((unsigned char)*s))
                s++;
        } else if (isalpha((unsigned char)*s) || *s == '_') {
            k = T_IDENT;
            while (isalnum((unsigned char)*s) || *s == '_')
                s++;
        } else {
            char bad[2] = {*s, '\0'};
            toks_free(t, n);
            return tpl_error(c, err, "unexpected \"%s\" in command", bad);
        }
        char *text = strndup(b + (k == T_FIELD), (size_t)(s - b - (k == T_FIELD)));
        if (text == NULL) {
            toks_free(t, n);
            return err_set(err, ENOMEM, "template");
        }
        t[n++] = (struct tok){k, text};
    }
    *nt = n;
    return 0;
}

/* ---- evaluation ------------------------------------------------------------ */

/* "CreatedAt" -> "CREATED AT" */
static json_t *auto_title(const char *field)
{
    char buf[256];
    size_t o = 0;

    for (const char *p = field; *p && o + 3 < sizeof(buf); p++) {
        if (p != field && isupper((unsigned char)*p) && !isupper((unsigned char)p[-1]))
            buf[o++] = ' ';
        buf[o++] = (char)toupper((unsigned char)*p);
    }
    buf[o] = '\0';
    return json_string(buf);
}

static json_t *labels_text(json_t *labels)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    const char *k;
    json_t *v;
    bool first = true;

    if (m == NULL)
        return NULL;
    json_object_foreach (labels, k, v) {
        fprintf(m, "%s%s=%s", first ? "" : ",", k, json_string_value(v) ?: "");
        first = false;
    }
    fclose(m);
    json_t *s = json_string(buf ? buf : "");
    free(buf);
    return s;
}

static int eval_field(const struct tpl_ctx *c, const char *path, json_t **out, struct err **err)
{
    if (*path == '\0') { /* `.` */
        *out = c->header ? json_string("") : json_incref(c->dot);
        return 0;
    }
    if (c->header) {
        for (const struct cli_header *h = c->headers; h && h->field; h++)
            if (strcmp(h->field, path) == 0) {
                *out = json_string(h->title);
                return 0;
            }
        const char *last = strrchr(path, '.');
        *out = auto_title(last ? last + 1 : path);
        return 0;
    }
    json_t *v = c->dot;
    _cleanup_free_ char *p = strdup(path);
    if (p == NULL)
        return err_set(err, ENOMEM, "template");
    for (char *s = p, *next; s; s = next) {
        next = strchr(s, '.');
        if (next)
            *next++ = '\0';
        json_t *x = json_is_object(v) ? json_object_get(v, s) : NULL;
        if (x == NULL) {
            char what[300];
            snprintf(what, sizeof(what), "executing \"\" at <.%s>: can't evaluate field %s", path,
                     s);
            return tpl_error(c, err, "%s", what);
        }
        v = x;
    }
    *out = json_incref(v);
    return 0;
}

static int eval_arg(const struct tpl_ctx *c, const struct tok *t, json_t **out, struct err **err)
{
    switch (t->kind) {
    case T_FIELD:
        return eval_field(c, t->text, out, err);
    case T_STRING:
        *out = json_string(t->text);
        return 0;
    case T_NUMBER:
        *out = json_integer(strtoll(t->text, NULL, 10));
        return 0;
    default:
        return tpl_error(c, err, "unexpected <%s> in operand", t->text ? t->text : "|");
    }
}

static json_t *str_map(json_t *v, int (*fn)(int), bool title)
{
    _cleanup_free_ char *s = value_str(v);
    bool start = true;

    if (s == NULL)
        return NULL;
    for (char *p = s; *p; p++) {
        if (title)
            *p = (char)(start ? toupper((unsigned char)*p) : *p);
        else
            *p = (char)fn((unsigned char)*p);
        start = isspace((unsigned char)*p);
    }
    return json_string(s);
}

static int call(const struct tpl_ctx *c, const char *fn, json_t **args, size_t na, json_t **out,
                struct err **err)
{
    static const struct {
        const char *name;
        size_t nargs;
    } fns[] = {{"json", 1},  {"lower", 1}, {"upper", 1},    {"title", 1},
               {"index", 2}, {"join", 2},  {"truncate", 2}, {"len", 1}};
    size_t want = 0;
    bool known = false;

    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (strcmp(fn, fns[i].name) == 0) {
            known = true;
            want = fns[i].nargs;
        }
    if (!known)
        return tpl_error(c, err, "function \"%s\" not defined", fn);
    if (na != want) {
        char what[128];
        snprintf(what, sizeof(what), "wrong number of args for %s: want %zu got %zu", fn, want, na);
        return tpl_error(c, err, "%s", what);
    }
    if (c->header) { /* Docker's HeaderFunctions: the title as it is */
        *out = json_incref(args[0]);
        return 0;
    }
    if (strcmp(fn, "json") == 0) {
        _cleanup_free_ char *s = json_dumps(args[0], JSON_COMPACT | JSON_ENCODE_ANY);
        *out = json_string(s ? s : "null");
    } else if (strcmp(fn, "lower") == 0) {
        *out = str_map(args[0], tolower, false);
    } else if (strcmp(fn, "upper") == 0) {
        *out = str_map(args[0], toupper, false);
    } else if (strcmp(fn, "title") == 0) {
        *out = str_map(args[0], NULL, true);
    } else if (strcmp(fn, "len") == 0) {
        json_t *v = args[0];
        size_t n = json_is_array(v)    ? json_array_size(v)
                   : json_is_object(v) ? json_object_size(v)
                   : json_is_string(v) ? json_string_length(v)
                                       : 0;
        if (!json_is_array(v) && !json_is_object(v) && !json_is_string(v))
            return tpl_error(c, err, "%s", "error calling len: len of a value without length");
        *out = json_integer((json_int_t)n);
    } else if (strcmp(fn, "index") == 0) {
        json_t *v = NULL;
        if (json_is_object(args[0]) && json_is_string(args[1]))
            v = json_object_get(args[0], json_string_value(args[1]));
        else if (json_is_array(args[0]) && json_is_integer(args[1])) {
            json_int_t i = json_integer_value(args[1]);
            if (i < 0 || (size_t)i >= json_array_size(args[0]))
                return tpl_error(c, err, "%s", "error calling index: index out of range");
            v = json_array_get(args[0], (size_t)i);
        } else
            return tpl_error(c, err, "%s", "error calling index: cannot index this value");
        *out = v ? json_incref(v) : json_string("<no value>");
    } else if (strcmp(fn, "join") == 0) {
        char *buf = NULL;
        size_t len = 0, i;
        json_t *x;
        FILE *m = open_memstream(&buf, &len);
        if (m == NULL)
            return err_set(err, ENOMEM, "template");
        json_array_foreach (args[0], i, x) {
            if (i)
                fputs(json_string_value(args[1]) ?: "", m);
            print_value(m, x);
        }
        fclose(m);
        *out = json_string(buf ? buf : "");
        free(buf);
    } else { /* truncate */
        _cleanup_free_ char *s = value_str(args[0]);
        json_int_t n = json_integer_value(args[1]);
        if (s && n >= 0 && strlen(s) > (size_t)n)
            s[n] = '\0';
        *out = json_string(s ? s : "");
    }
    return *out ? 0 : err_set(err, ENOMEM, "template");
}

/* One command of a pipeline, piped (NULL: none) appended to its arguments. */
static int eval_cmd(const struct tpl_ctx *c, const struct tok *t, size_t n, json_t *piped,
                    json_t **out, struct err **err)
{
    json_t *args[TOK_MAX + 1];
    size_t na = 0;
    int rc = 0;

    if (n == 0)
        return tpl_error(c, err, "%s", "missing value for command");
    if (t[0].kind == T_FIELD && strcmp(t[0].text, "Label") == 0 && n == 2 &&
        t[1].kind == T_STRING && !piped) {
        /* the list contexts' .Label "key" */
        if (c->header) {
            *out = auto_title("Label");
            return 0;
        }
        json_t *l = json_object_get(c->dot, "LabelsObj");
        if (l == NULL)
            l = json_object_get(c->dot, "Labels");
        json_t *v = json_is_object(l) ? json_object_get(l, t[1].text) : NULL;
        if (json_is_string(l)) { /* already k=v,k=v (ps) */
            size_t kl = strlen(t[1].text);
            for (const char *p = json_string_value(l); *p;) {
                size_t pl = strcspn(p, ",");
                if (pl > kl && strncmp(p, t[1].text, kl) == 0 && p[kl] == '=') {
                    *out = json_stringn(p + kl + 1, pl - kl - 1);
                    return *out ? 0 : err_set(err, ENOMEM, "template");
                }
                p += pl + (p[pl] == ',');
            }
        }
        *out = json_string(json_string_value(v) ?: "");
        return 0;
    }
    if (t[0].kind != T_IDENT) {
        if (n > 1 || piped)
            return tpl_error(c, err, "can't give argument to non-function %s",
                             t[0].kind == T_FIELD ? t[0].text : "value");
        return eval_arg(c, &t[0], out, err);
    }
    for (size_t i = 1; i < n && rc == 0; i++)
        rc = eval_arg(c, &t[i], &args[na++], err);
    if (rc == 0 && piped)
        args[na++] = json_incref(piped);
    if (rc == 0)
        rc = call(c, t[0].text, args, na, out, err);
    else
        na--; /* the failed one was not set */
    for (size_t i = 0; i < na; i++)
        json_decref(args[i]);
    return rc;
}

static int eval_action(const struct tpl_ctx *c, const char *action, FILE *m, struct err **err)
{
    struct tok t[TOK_MAX];
    size_t n = 0, start = 0;
    json_t *val = NULL;
    int rc = 0;

    if (tokenize(c, action, t, &n, err) < 0)
        return -1;
    if (n == 1 && t[0].kind == T_FIELD && strcmp(t[0].text, "Labels") == 0 && !c->header) {
        /* {{.Labels}} alone: the list contexts' k=v,k=v */
        json_t *l = json_object_get(c->dot, "LabelsObj");
        if (l == NULL)
            l = json_object_get(c->dot, "Labels");
        if (json_is_object(l) || json_is_null(l)) {
            toks_free(t, n);
            json_t *text = labels_text(l);
            if (text == NULL)
                return err_set(err, ENOMEM, "template");
            print_value(m, text);
            json_decref(text);
            return 0;
        }
    }
    if (n == 0) {
        toks_free(t, n);
        return tpl_error(c, err, "%s", "missing value for command");
    }
    for (size_t i = 0; i <= n && rc == 0; i++) {
        if (i < n && t[i].kind != T_PIPE)
            continue;
        json_t *next = NULL;
        rc = eval_cmd(c, t + start, i - start, val, &next, err);
        json_decref(val);
        val = next;
        start = i + 1;
    }
    if (rc == 0)
        print_value(m, val);
    json_decref(val);
    toks_free(t, n);
    return rc;
}

int cli_template_render(const char *tpl, json_t *obj, const struct cli_header *headers, bool header,
                        char **out, struct err **err)
{
    struct tpl_ctx c = {.dot = obj, .headers = headers, .header = header, .line = 1};
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    const char *p = tpl, *linestart = tpl;
    int rc = 0;

    if (m == NULL)
        return err_sys(err, "template");
    while (*p && rc == 0) {
        if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
            fputc(p[1] == 't' ? '\t' : '\n', m);
            p += 2;
            continue;
        }
        if (strncmp(p, "{{", 2) != 0) {
            if (*p == '\n') {
                c.line++;
                linestart = p + 1;
            }
            fputc(*p++, m);
            continue;
        }
        c.col = (int)(p - linestart) + 2;
        const char *end = strstr(p + 2, "}}");
        if (end == NULL) {
            rc = err_val(err, EINVAL, "template: :%d: unclosed action", c.line);
            break;
        }
        const char *a = p + 2, *b = end;
        if (*a == '-' && (a[1] == ' ' || a[1] == '\t')) /* {{- trims what came before */
            a++;
        if (b > a && b[-1] == '-' && (b - 1 == a || isspace((unsigned char)b[-2])))
            b--;
        _cleanup_free_ char *action = strndup(a, (size_t)(b - a));
        if (action == NULL) {
            rc = err_set(err, ENOMEM, "template");
            break;
        }
        rc = eval_action(&c, action, m, err);
        p = end + 2;
    }
    fclose(m);
    if (rc < 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

/* ---- --format ------------------------------------------------------------ */

void cli_format_init(struct cli_format *f, const char *format, const struct cli_header *headers)
{
    *f = (struct cli_format){.headers = headers};
    if (format == NULL || *format == '\0' || strcmp(format, "table") == 0)
        f->kind = CLI_FORMAT_DEFAULT;
    else if (strcmp(format, "json") == 0)
        f->kind = CLI_FORMAT_JSON;
    else {
        f->kind = CLI_FORMAT_TEMPLATE;
        f->table = strncmp(format, "table ", 6) == 0;
        f->tpl = f->table ? format + 6 : format;
    }
}

static int keep_line(struct cli_format *f, char *line)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        char **l = realloc(f->lines, cap * sizeof(char *));
        if (l == NULL)
            return -1;
        f->lines = l;
        f->cap = cap;
    }
    f->lines[f->n++] = line;
    return 0;
}

int cli_format_row(struct cli_format *f, const char *prog, json_t *obj)
{
    _cleanup_err_ struct err *e = NULL;
    char *line = NULL;

    if (f->kind == CLI_FORMAT_JSON || f->kind == CLI_FORMAT_DEFAULT) {
        _cleanup_free_ char *s = json_dumps(obj, JSON_COMPACT);
        printf("%s\n", s ? s : "{}");
        return 0;
    }
    if (f->table && f->n == 0) { /* the header goes first */
        if (cli_template_render(f->tpl, obj, f->headers, true, &line, &e) < 0 ||
            keep_line(f, line) < 0)
            goto fail;
        line = NULL;
    }
    if (cli_template_render(f->tpl, obj, f->headers, false, &line, &e) < 0)
        goto fail;
    if (f->table) {
        if (keep_line(f, line) < 0)
            goto fail;
        return 0;
    }
    printf("%s\n", line);
    free(line);
    return 0;
fail:
    free(line);
    fprintf(stderr, "%s: %s\n", prog, e ? e->msg : "out of memory");
    return -1;
}

int cli_format_end(struct cli_format *f, const char *prog)
{
    if (f->kind != CLI_FORMAT_TEMPLATE || !f->table)
        return 0;
    if (f->n == 0) { /* no rows: Docker still prints the header */
        _cleanup_json_ json_t *empty = json_object();
        _cleanup_err_ struct err *e = NULL;
        char *line = NULL;
        if (cli_template_render(f->tpl, empty, f->headers, true, &line, &e) < 0) {
            fprintf(stderr, "%s: %s\n", prog, e->msg);
            return -1;
        }
        if (keep_line(f, line) < 0) {
            free(line);
            return -1;
        }
    }
    cli_tabwrite(stdout, f->lines, f->n);
    return 0;
}

void cli_format_free(struct cli_format *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->lines[i]);
    free(f->lines);
    f->lines = NULL;
    f->n = f->cap = 0;
}

/* ---- tabwriter ----------------------------------------------------------- */

static size_t utf8_width(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

void cli_tabwrite(FILE *fp, char *const *lines, size_t n)
{
    size_t ncol = 0, *w;

    /* a line may hold several (from \n in the template): each is a row */
    for (size_t i = 0; i < n; i++) {
        size_t cells = 0;
        for (const char *p = lines[i]; *p; p++) {
            if (*p == '\t')
                cells++;
            if (*p == '\n')
                cells = 0;
            if (cells > ncol)
                ncol = cells;
        }
    }
    w = calloc(ncol + 1, sizeof(size_t));
    if (w == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        size_t col = 0;
        const char *cell = lines[i];
        for (const char *p = lines[i];; p++) {
            if (*p == '\t') {
                size_t cw = utf8_width(cell, (size_t)(p - cell)) + 3;
                if (cw > w[col])
                    w[col] = cw;
                col++;
                cell = p + 1;
            } else if (*p == '\n' || *p == '\0') {
                if (*p == '\0')
                    break;
                col = 0;
                cell = p + 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        size_t col = 0;
        const char *cell = lines[i];
        for (const char *p = lines[i];; p++) {
            if (*p == '\t') {
                size_t len = (size_t)(p - cell), cw = utf8_width(cell, len);
                size_t width = w[col] < 10 ? 10 : w[col];
                fwrite(cell, 1, len, fp);
                fprintf(fp, "%*s", (int)(width - cw), "");
                col++;
                cell = p + 1;
            } else if (*p == '\n' || *p == '\0') {
                fwrite(cell, 1, (size_t)(p - cell), fp);
                fputc('\n', fp);
                if (*p == '\0')
                    break;
                col = 0;
                cell = p + 1;
            }
        }
    }
    free(w);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --format template engine (src/cli/cli_template.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_template.h"
#include "tap.h"

static const char *doc =
    "{\"ID\":\"abc\",\"Names\":\"web\",\"Labels\":{\"b\":\"2\",\"a\":\"1\"},"
    "\"State\":{\"Status\":\"running\",\"Pid\":42,\"Running\":true},"
    "\"Cmd\":[\"sh\",\"-c\",\"x\"],\"Nil\":null,\"Env\":{\"Z\":\"z\",\"A\":\"a\"}}";

static void render(const char *tpl, bool header, const char *want)
{
    static const struct cli_header h[] = {{"ID", "CONTAINER ID"}, {NULL, NULL}};
    json_t *o = json_loads(doc, 0, NULL);
    struct err *e = NULL;
    char *out = NULL;
    int r = cli_template_render(tpl, o, h, header, &out, &e);

    ok(r == 0 && out && strcmp(out, want) == 0, "`%s`%s = `%s` (got `%s`%s%s)", tpl,
       header ? " (header)" : "", want, out ? out : "", e ? ": " : "", e ? e->msg : "");
    free(out);
    err_free(&e);
    json_decref(o);
}

static void refused(const char *tpl, const char *msg)
{
    json_t *o = json_loads(doc, 0, NULL);
    struct err *e = NULL;
    char *out = NULL;
    int r = cli_template_render(tpl, o, NULL, false, &out, &e);

    ok(r < 0 && out == NULL && e && strstr(e->msg, msg), "`%s` is refused: %s", tpl,
       e ? e->msg : "(no error)");
    free(out);
    err_free(&e);
    json_decref(o);
}

static void tab(const char *const *lines, size_t n, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    cli_tabwrite(m, (char *const *)lines, n);
    fclose(m);
    ok(strcmp(buf, want) == 0, "tabwriter: `%s` (got `%s`)", want, buf);
    free(buf);
}

int main(void)
{
    render("{{.ID}} {{ .Names }}", false, "abc web");
    render("{{.State.Status}}/{{.State.Pid}}/{{.State.Running}}", false, "running/42/true");
    render("{{json .State}}", false, "{\"Status\":\"running\",\"Pid\":42,\"Running\":true}");
    render("{{json .Names}}", false, "\"web\"");
    render("{{.Cmd}} {{.Env}} {{.Nil}}", false, "[sh -c x] map[A:a Z:z] <no value>");
    render("{{.Labels}} {{.Label \"b\"}}", false, "b=2,a=1 2");
    render("{{upper .Names}} {{.Names | upper | lower}} {{title \"hi there\"}}", false,
           "WEB web Hi There");
    render("{{index .Labels \"a\"}} {{index .Cmd 1}} {{join .Cmd \",\"}} {{len .Cmd}}", false,
           "1 -c sh,-c,x 3");
    render("{{truncate .ID 2}}", false, "ab");
    render("a\\tb\\n{{.ID}}", false, "a\tb\nabc");
    render("{{.ID}}\\t{{.Names}}\\t{{.CreatedAt}}\\t{{.State.Status}}", true,
           "CONTAINER ID\tNAMES\tCREATED AT\tSTATUS");
    render("{{lower .Names}}", true, "NAMES");
    refused("{{.Nope}}", "can't evaluate field Nope");
    refused("x {{.State.Nope}}",
            "template: :1:4: executing \"\" at <.State.Nope>: can't evaluate field Nope");
    refused("{{.Names.X}}", "can't evaluate field X");
    refused("{{.ID", "unclosed action");
    refused("{{frob .ID}}", "function \"frob\" not defined");
    refused("{{upper}}", "wrong number of args for upper");
    refused("{{.ID .Names}}", "can't give argument to non-function");
    refused("{{index .Cmd 9}}", "index out of range");
    refused("{{\"open}}", "unterminated quoted string");
    refused("{{}}", "missing value");
    const char *l1[] = {"CONTAINER ID\tNAMES\tSTATUS", "abc\tweb\tUp"};
    tab(l1, 2, "CONTAINER ID   NAMES     STATUS\nabc            web       Up\n");
    const char *l2[] = {"A\tB", "looooooooong\tx"};
    tab(l2, 2, "A              B\nlooooooooong   x\n");
    return done_testing();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * layer-check-NAME (src/meson.build): a library linked whole with only the
 * libraries below it. Nothing runs; the link itself is the check, failing on
 * a call into a library of the same or a higher layer.
 */
int main(void);

int main(void)
{
    return 0;
}

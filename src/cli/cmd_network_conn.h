/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola network connect|disconnect (cmd_network_conn.c), verbs of
 * cmd_network.c's table. */
#ifndef ISOLA_CLI_CMD_NETWORK_CONN_H
#define ISOLA_CLI_CMD_NETWORK_CONN_H

int network_connect_cmd(int argc, char **argv, const char *root);
int network_disconnect_cmd(int argc, char **argv, const char *root);

#endif

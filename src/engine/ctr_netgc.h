/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a command killed mid-way (kill -9 of `run -d`, `create`, `rm -f`, a
 * foreground run) can leave of containers' networks that the state does not
 * own (docs/networks.md, "State and crash safety"): a veth whose address
 * claim is gone, a published port's nftables element whose port claim is
 * gone, a netns file or run dir whose container row is gone, members'
 * /etc/hosts naming containers that left. Every path that makes one of these
 * makes its owner first (row, then claim, then the kernel object) and every
 * path that removes them removes the owner last, so the collector lists the
 * kernel objects first and the state second: what it sees unowned is a
 * leftover, never something a running command is making.
 */
#ifndef ISOLA_ENGINE_CTR_NETGC_H
#define ISOLA_ENGINE_CTR_NETGC_H

#include "engine/db.h"

/* Remove the leftovers in this network namespace and under run_root;
 * errors are ignored (what cannot go now stays for the next pass). */
void ctr_netgc_collect(struct db *db, const char *run_root);

#endif

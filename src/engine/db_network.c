/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network rows and their address claims: see db_network.h. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/db_network.h"
#include "engine/db_priv.h"
#include "net/cidr.h"
#include "util/cleanup.h"

#define NETWORK_COLUMNS                                                                  \
    "id, name, bridge, subnet, gateway, ip_range, internal, labels, created_ns, state, " \
    "owner_pid, owner_start_time"

static const char *const state_names[] = {"creating", "ready", "removing"};

const char *db_network_state_name(enum db_network_state s)
{
    return (size_t)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

void db_network_free(struct db_network *n)
{
    if (n == NULL)
        return;
    free(n->name);
    free(n->bridge);
    free(n->subnet);
    free(n->gateway);
    free(n->ip_range);
    free(n->labels);
    free(n);
}

void db_network_list_free(struct db_network **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        db_network_free(v[i]);
    free(v);
}

void db_network_ips_free(struct db_network_ip *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].container_name);
        free(v[i].addr);
    }
    free(v);
}

static int from_row(sqlite3_stmt *st, struct db_network **out, struct err **err)
{
    struct db_network *n = calloc(1, sizeof(*n));
    const unsigned char *id = sqlite3_column_text(st, 0);
    const unsigned char *state = sqlite3_column_text(st, 9);

    if (n == NULL)
        return err_set(err, ENOMEM, "read a network row");
    snprintf(n->id, sizeof(n->id), "%s", id ? (const char *)id : "");
    n->name = db_col_dup(st, 1);
    n->bridge = db_col_dup(st, 2);
    n->subnet = db_col_dup(st, 3);
    n->gateway = db_col_dup(st, 4);
    n->ip_range = db_col_dup(st, 5);
    n->internal = sqlite3_column_int(st, 6) != 0;
    n->labels = db_col_dup(st, 7);
    n->created_ns = sqlite3_column_int64(st, 8);
    for (size_t i = 0; i < ARRAY_SIZE(state_names); i++)
        if (state && strcmp((const char *)state, state_names[i]) == 0)
            n->state = (enum db_network_state)i;
    n->owner_pid = (pid_t)sqlite3_column_int64(st, 10);
    n->owner_start_time = (uint64_t)sqlite3_column_int64(st, 11);
    if (!n->name || !n->bridge || !n->subnet || !n->gateway || !n->ip_range || !n->labels) {
        db_network_free(n);
        return err_set(err, ENOMEM, "read a network row");
    }
    *out = n;
    return 0;
}

static int select_where(struct db *db, const char *where, const char *arg, struct db_network ***out,
                        size_t *count, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *sql = NULL;
    struct db_network **v = NULL;
    size_t n = 0;
    int rc;

    if (asprintf(&sql, "SELECT " NETWORK_COLUMNS " FROM networks %s ORDER BY name", where) < 0)
        return err_set(err, ENOMEM, "list networks");
    if (db_prepare(db, sql, &st, err) < 0)
        return -1;
    if (arg != NULL)
        db_bind_text(st, 1, arg, "");
    while ((rc = db_step(db, st, "list networks", err)) == SQLITE_ROW) {
        struct db_network **nv = realloc(v, (n + 1) * sizeof(*v));
        if (nv == NULL) {
            db_network_list_free(v, n);
            return err_set(err, ENOMEM, "list networks");
        }
        v = nv;
        if (from_row(st, &v[n], err) < 0) {
            db_network_list_free(v, n);
            return -1;
        }
        n++;
    }
    if (rc < 0) {
        db_network_list_free(v, n);
        return -1;
    }
    *out = v;
    *count = n;
    return 0;
}

int db_network_list(struct db *db, struct db_network ***out, size_t *n, struct err **err)
{
    return select_where(db, "", NULL, out, n, err);
}

int db_network_get(struct db *db, const char *ref, struct db_network **out, struct err **err)
{
    static const char *const wheres[] = {"WHERE name = ?1", "WHERE id = ?1",
                                         "WHERE id GLOB ?1 || '*'"};
    struct db_network **v = NULL;
    size_t n = 0;

    *out = NULL;
    if (ref == NULL || !*ref)
        return err_val(err, ENOENT, "network \"\" not found");
    for (size_t i = 0; i < ARRAY_SIZE(wheres); i++) {
        if (i == 2 && strspn(ref, "0123456789abcdef") != strlen(ref))
            break;
        if (select_where(db, wheres[i], ref, &v, &n, err) < 0)
            return err_wrap(err, "network \"%s\"", ref);
        if (n > 1) {
            db_network_list_free(v, n);
            return err_val(err, ENOTUNIQ, "network \"%s\" is ambiguous (%zu matches)", ref, n);
        }
        if (n == 1) {
            *out = v[0];
            free(v);
            return 0;
        }
        free(v);
    }
    return err_val(err, ENOENT, "network %s not found", ref);
}

static int parse_subnet(const char *s, const char *what, struct cidr *c, struct err **err)
{
    if (cidr_parse(s, true, c, err) < 0)
        return err_wrap(err, "%s", what);
    return 0;
}

int db_network_insert(struct db *db, const struct db_network *n, size_t pool_start,
                      const struct cidr *avoid, size_t navoid, struct db_network **out,
                      struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    struct db_network **all = NULL;
    _cleanup_free_ struct cidr *used = NULL;
    size_t count = 0, nused = 0;
    struct cidr sub, range;
    uint32_t gw;
    char id[DB_ID_LEN + 1], br[16], sbuf[CIDR_STR_LEN], gbuf[CIDR_STR_LEN], rbuf[CIDR_STR_LEN];
    int rc;

    if (db_name_check(n->name, "network", err) < 0)
        return -1;
    if (n->subnet && parse_subnet(n->subnet, "--subnet", &sub, err) < 0)
        return -1;
    if (db_txn_begin(db, &txn, err) < 0 || select_where(db, "", NULL, &all, &count, err) < 0)
        return err_wrap(err, "create network \"%s\"", n->name);
    used = calloc(count + 1, sizeof(*used));
    for (size_t i = 0; used && i < count; i++) {
        if (strcmp(all[i]->name, n->name) == 0) {
            db_network_list_free(all, count);
            return err_val(err, EEXIST, "network with name %s already exists", n->name);
        }
        if (cidr_parse(all[i]->subnet, true, &used[nused], NULL) == 0)
            nused++;
        if (n->subnet && nused && cidr_overlap(&sub, &used[nused - 1])) {
            rc = err_val(err, EEXIST,
                         "create network \"%s\": subnet %s overlaps with network \"%s\" (%s)",
                         n->name, n->subnet, all[i]->name, all[i]->subnet);
            db_network_list_free(all, count);
            return rc;
        }
    }
    db_network_list_free(all, count);
    if (used == NULL)
        return err_set(err, ENOMEM, "create network \"%s\"", n->name);
    if (n->subnet == NULL) {
        struct cidr c;
        bool found = false;
        for (size_t i = pool_start; !found && cidr_pool_nth(i, &c); i++) {
            found = true;
            for (size_t j = 0; j < nused && found; j++)
                found = !cidr_overlap(&c, &used[j]);
            for (size_t j = 0; j < navoid && found; j++)
                found = !cidr_overlap(&c, &avoid[j]);
        }
        if (!found)
            return err_val(err, ENOSPC,
                           "create network \"%s\": no free subnet left in the default pool "
                           "(172.17-31.0.0/16, 192.168.0-240.0/20, less this host's routes): "
                           "give one with --subnet",
                           n->name);
        sub = c;
    }
    if (n->gateway) {
        if (cidr_addr_parse(n->gateway, &gw, err) < 0)
            return err_wrap(err, "--gateway");
        if (!cidr_contains(&sub, gw) || gw == cidr_network(&sub) || gw == cidr_broadcast(&sub))
            return err_val(err, EINVAL, "--gateway %s: not a host address of subnet %s", n->gateway,
                           cidr_format(&sub, sbuf));
    } else {
        gw = cidr_network(&sub) + 1;
    }
    rbuf[0] = '\0';
    if (n->ip_range && *n->ip_range) {
        if (parse_subnet(n->ip_range, "--ip-range", &range, err) < 0)
            return -1;
        if (!cidr_within(&range, &sub))
            return err_val(err, EINVAL, "--ip-range %s: not inside subnet %s", n->ip_range,
                           cidr_format(&sub, sbuf));
        cidr_format(&range, rbuf);
    }
    if (db_random_id(id, err) < 0)
        return -1;
    snprintf(br, sizeof(br), "isola-%.9s", id);
    cidr_format(&sub, sbuf);
    cidr_addr_format(gw, gbuf);
    uint64_t start = 0;
    db_proc_start_time(getpid(), &start, NULL);
    if (db_prepare(db,
                   "INSERT INTO networks (id, name, bridge, subnet, gateway, ip_range, internal,"
                   " labels, created_ns, state, owner_pid, owner_start_time)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'creating', ?10, ?11)",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, id, "");
    db_bind_text(st, 2, n->name, "");
    db_bind_text(st, 3, n->bridge, br);
    db_bind_text(st, 4, sbuf, "");
    db_bind_text(st, 5, gbuf, "");
    db_bind_text(st, 6, rbuf, "");
    sqlite3_bind_int(st, 7, n->internal);
    db_bind_text(st, 8, n->labels, "{}");
    sqlite3_bind_int64(st, 9, n->created_ns ? n->created_ns : db_now_ns());
    sqlite3_bind_int64(st, 10, getpid());
    sqlite3_bind_int64(st, 11, (sqlite3_int64)start);
    if (db_step(db, st, "insert network", err) < 0 || db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "create network \"%s\"", n->name);
    return db_network_get(db, id, out, err);
}

static int first_user(struct db *db, const char *id, char **owner, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc;

    *owner = NULL;
    if (db_prepare(
            db,
            "SELECT owner_id FROM claims WHERE kind = 'ip' AND substr(key, 1, 65) = ?1 || '/'"
            " LIMIT 1",
            &st, err) < 0)
        return -1;
    db_bind_text(st, 1, id, "");
    rc = db_step(db, st, "look up the network's users", err);
    if (rc < 0)
        return -1;
    if (rc == SQLITE_ROW && (*owner = db_col_dup(st, 0)) == NULL)
        return err_set(err, ENOMEM, "network users");
    return 0;
}

int db_network_set_state(struct db *db, const char *id, enum db_network_state state,
                         bool only_unused, struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *user = NULL;
    _cleanup_db_network_ struct db_network *n = NULL;
    uint64_t start = 0;

    if (db_txn_begin(db, &txn, err) < 0 || db_network_get(db, id, &n, err) < 0)
        return -1;
    if (only_unused) {
        if (first_user(db, id, &user, err) < 0)
            return -1;
        if (user != NULL)
            return err_val(err, EBUSY, "network %s is in use by container \"%s\"", n->name, user);
    }
    db_proc_start_time(getpid(), &start, NULL);
    if (db_prepare(db,
                   "UPDATE networks SET state = ?2, owner_pid = ?3, owner_start_time = ?4"
                   " WHERE id = ?1",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, id, "");
    db_bind_text(st, 2, db_network_state_name(state), "");
    sqlite3_bind_int64(st, 3, state == DB_NETWORK_READY ? 0 : getpid());
    sqlite3_bind_int64(st, 4, state == DB_NETWORK_READY ? 0 : (sqlite3_int64)start);
    if (db_step(db, st, "update network", err) < 0 || db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "network %s", n->name);
    return 0;
}

int db_network_delete(struct db *db, const char *id, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;

    if (db_prepare(db, "DELETE FROM networks WHERE id = ?1", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, id, "");
    if (db_step(db, st, "delete network", err) < 0)
        return err_wrap(err, "network %s", id);
    return 0;
}

bool db_network_owner_dead(const struct db_network *n)
{
    uint64_t start;

    if (n->owner_pid <= 0 || db_proc_start_time(n->owner_pid, &start, NULL) < 0)
        return true;
    return start != n->owner_start_time;
}

static int claim_key(const struct db_network *n, uint32_t addr, char **key, struct err **err)
{
    char buf[CIDR_STR_LEN];

    if (asprintf(key, "%s/%s", n->id, cidr_addr_format(addr, buf)) < 0)
        return err_set(err, ENOMEM, "address claim");
    return 0;
}

/* The address ctr_id holds on n, 0 when none. */
static int held(struct db *db, const struct db_network *n, const char *ctr_id, uint32_t *addr,
                struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc;

    *addr = 0;
    if (db_prepare(db,
                   "SELECT substr(key, 66) FROM claims WHERE kind = 'ip' AND owner_id = ?2"
                   " AND substr(key, 1, 65) = ?1 || '/'",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, n->id, "");
    db_bind_text(st, 2, ctr_id, "");
    rc = db_step(db, st, "look up an address", err);
    if (rc < 0)
        return -1;
    if (rc == SQLITE_ROW)
        return cidr_addr_parse((const char *)sqlite3_column_text(st, 0), addr, err);
    return 0;
}

struct taken_ctx {
    struct db *db;
    sqlite3_stmt *st;
    const struct db_network *n;
};

static bool taken(uint32_t addr, void *p)
{
    struct taken_ctx *t = p;
    _cleanup_free_ char *key = NULL;
    bool hit;

    if (claim_key(t->n, addr, &key, NULL) < 0)
        return true;
    sqlite3_reset(t->st);
    db_bind_text(t->st, 1, key, "");
    hit = sqlite3_step(t->st) == SQLITE_ROW;
    sqlite3_reset(t->st);
    return hit;
}

int db_network_ip_claim(struct db *db, const struct db_network *n, const char *ctr_id,
                        uint32_t want, uint32_t *out, struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *q = NULL;
    _cleanup_free_ char *key = NULL;
    struct cidr sub, range;
    uint32_t gw, addr;
    char buf[CIDR_STR_LEN];

    if (cidr_parse(n->subnet, true, &sub, err) < 0 || cidr_addr_parse(n->gateway, &gw, err) < 0)
        return err_wrap(err, "network %s", n->name);
    range = sub;
    if (*n->ip_range && cidr_parse(n->ip_range, true, &range, err) < 0)
        return err_wrap(err, "network %s", n->name);
    if (db_txn_begin(db, &txn, err) < 0 || held(db, n, ctr_id, &addr, err) < 0)
        return err_wrap(err, "network %s: allocate an address", n->name);
    if (addr != 0 && (want == 0 || want == addr)) {
        *out = addr;
        return 0;
    }
    if (addr != 0)
        return err_val(err, EEXIST, "network %s: container %s already has address %s", n->name,
                       ctr_id, cidr_addr_format(addr, buf));
    if (db_prepare(db, "SELECT owner_id FROM claims WHERE kind = 'ip' AND key = ?1", &q, err) < 0)
        return -1;
    if (want != 0) {
        if (!cidr_contains(&sub, want) || want == gw || want == cidr_network(&sub) ||
            want == cidr_broadcast(&sub))
            return err_val(err, EINVAL,
                           "network %s: address %s is not a free host address of subnet %s",
                           n->name, cidr_addr_format(want, buf), n->subnet);
        struct taken_ctx t = {db, q, n};
        if (taken(want, &t))
            return err_val(err, EEXIST, "network %s: address %s is already in use", n->name,
                           cidr_addr_format(want, buf));
        addr = want;
    } else {
        struct taken_ctx t = {db, q, n};
        if (cidr_addr_pick(&sub, &range, gw, taken, &t, &addr, err) < 0)
            return err_wrap(err, "network %s", n->name);
    }
    if (claim_key(n, addr, &key, err) < 0 ||
        db_prepare(db, "INSERT INTO claims (kind, key, owner_id) VALUES ('ip', ?1, ?2)", &st, err) <
            0)
        return -1;
    db_bind_text(st, 1, key, "");
    db_bind_text(st, 2, ctr_id, "");
    if (db_step(db, st, "claim an address", err) < 0 || db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "network %s: claim %s for container %s", n->name,
                        cidr_addr_format(addr, buf), ctr_id);
    *out = addr;
    return 0;
}

int db_network_ip_release(struct db *db, const struct db_network *n, const char *ctr_id,
                          uint32_t *addr, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    uint32_t a;

    if (held(db, n, ctr_id, &a, err) < 0)
        return -1;
    if (addr)
        *addr = a;
    if (db_prepare(db,
                   "DELETE FROM claims WHERE kind = 'ip' AND owner_id = ?2"
                   " AND substr(key, 1, 65) = ?1 || '/'",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, n->id, "");
    db_bind_text(st, 2, ctr_id, "");
    if (db_step(db, st, "release an address", err) < 0)
        return err_wrap(err, "network %s", n->name);
    return 0;
}

int db_network_ips(struct db *db, const struct db_network *n, struct db_network_ip **out,
                   size_t *count, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    struct db_network_ip *v = NULL;
    size_t k = 0;
    int rc;

    if (db_prepare(db,
                   "SELECT c.id, c.name, substr(k.key, 66) FROM claims k JOIN containers c"
                   " ON c.id = k.owner_id WHERE k.kind = 'ip' AND substr(k.key, 1, 65) = ?1 || '/'"
                   " ORDER BY c.name",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, n->id, "");
    while ((rc = db_step(db, st, "list a network's addresses", err)) == SQLITE_ROW) {
        struct db_network_ip *nv = realloc(v, (k + 1) * sizeof(*v));
        if (nv == NULL) {
            db_network_ips_free(v, k);
            return err_set(err, ENOMEM, "network addresses");
        }
        v = nv;
        snprintf(v[k].container_id, sizeof(v[k].container_id), "%s",
                 (const char *)sqlite3_column_text(st, 0));
        v[k].container_name = db_col_dup(st, 1);
        v[k].addr = db_col_dup(st, 2);
        k++;
    }
    if (rc < 0) {
        db_network_ips_free(v, k);
        return -1;
    }
    *out = v;
    *count = k;
    return 0;
}

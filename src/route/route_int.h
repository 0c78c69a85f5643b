/*
 * route_int.h — what route.c, event.c and nonce.c share.
 */
#ifndef BT_ROUTE_ROUTE_INT_H
#define BT_ROUTE_ROUTE_INT_H

#include "route/route.h"

#include <pthread.h>
#include <stdatomic.h>

struct route {
    char *method, *path, *function;
    bool confirm, proxy, has_params;
    vtl_template *tpl; /* NULL: passthrough (or proxy) */
};

struct route_set {
    atomic_int refs;
    route **items;
    size_t len, cap;
};

struct route_table {
    pthread_mutex_t mu;
    route_set *set;
    uint8_t secret[32];
};

#endif

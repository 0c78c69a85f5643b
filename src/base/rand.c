/*
 * rand.c — xoshiro256** (public-domain algorithm by Blackman and Vigna) seeded through
 * splitmix64, plus unguessable bytes from OpenSSL's DRBG (RAND_bytes: seeded and reseeded from
 * the OS), drawn 4 KiB at a time into a per-thread pool — the server draws on every request.
 */
#include "base/rand.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void bt_rand_seed(bt_rand *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

void bt_rand_seed_os(bt_rand *r)
{
    uint64_t seed;
    bt_random_bytes(&seed, sizeof(seed));
    bt_rand_seed(r, seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t bt_rand_next(bt_rand *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double bt_rand_double(bt_rand *r)
{
    return (double)(bt_rand_next(r) >> 11) * 0x1.0p-53;
}

static void drbg(unsigned char *p, size_t len)
{
    while (len > 0) {
        int n = len > 1 << 20 ? 1 << 20 : (int)len;
        if (RAND_bytes(p, n) != 1) {
            fputs("baton: the random number generator failed\n", stderr);
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Small draws (ids, keys, tokens: 8–32 bytes, several per request) come from a per-thread
 * pool filled 4 KiB at a time: one DRBG call per hundred or so. A byte is handed out once
 * and wiped from the pool as it goes. */
#define POOL_BYTES 4096

static _Thread_local unsigned char pool[POOL_BYTES];
static _Thread_local size_t pool_left;

void bt_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    if (len > POOL_BYTES / 4) {
        drbg(p, len);
        return;
    }
    if (len > pool_left) {
        drbg(pool, POOL_BYTES);
        pool_left = POOL_BYTES;
    }
    unsigned char *from = pool + POOL_BYTES - pool_left;
    memcpy(p, from, len);
    memset(from, 0, len);
    pool_left -= len;
}

void bt_uuid_format(const uint8_t bytes[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    for (int i = 0; i < 16; i++)
        b[i] = bytes[i];
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void bt_uuid_from_rand(bt_rand *r, char out[37])
{
    uint8_t b[16];
    uint64_t a = bt_rand_next(r), c = bt_rand_next(r);
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(a >> (8 * i));
        b[8 + i] = (uint8_t)(c >> (8 * i));
    }
    bt_uuid_format(b, out);
}

/*
 * rand.h — random numbers. bt_rand is a small seeded generator (xoshiro256**) used where
 * determinism helps (virtual-clock runs, States.MathRandom with a seed); bt_random_bytes()
 * draws from a CSPRNG (OpenSSL's, seeded by the OS) for anything that must be unguessable.
 */
#ifndef BT_RAND_H
#define BT_RAND_H

#include <stddef.h>
#include <stdint.h>

typedef struct bt_rand {
    uint64_t s[4];
} bt_rand;

void bt_rand_seed(bt_rand *r, uint64_t seed);
/* Seeds from the OS. */
void bt_rand_seed_os(bt_rand *r);
uint64_t bt_rand_next(bt_rand *r);
/* Uniform double in [0, 1). */
double bt_rand_double(bt_rand *r);

/* Fills buf with cryptographically secure random bytes (OpenSSL's DRBG; aborts if it fails). */
void bt_random_bytes(void *buf, size_t len);

/* Formats a version-4 UUID from 16 random bytes into out (37 bytes). */
void bt_uuid_format(const uint8_t bytes[16], char out[37]);
/* A fresh v4 UUID drawn from r. */
void bt_uuid_from_rand(bt_rand *r, char out[37]);

#endif

/* SHA-256 (FIPS 180-4), small and allocation-free: only the socket address needs it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHIM_SHA256_SIZE 32

struct shim_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	size_t n_buf;
};

void shim_sha256_init(struct shim_sha256 *s);
void shim_sha256_update(struct shim_sha256 *s, const void *data, size_t len);
void shim_sha256_final(struct shim_sha256 *s, uint8_t out[SHIM_SHA256_SIZE]);

/* One-shot digest of data as 64 lowercase hex digits plus NUL. */
void shim_sha256_hex(const void *data, size_t len, char out[2 * SHIM_SHA256_SIZE + 1]);

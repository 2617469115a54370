#ifndef KINERJA_CLIBCRYPTO_SHIM_H
#define KINERJA_CLIBCRYPTO_SHIM_H
// SHA-256 from the system's OpenSSL libcrypto. Its low-level SHA256_Init/Update/Final hash in a
// context on the caller's stack (no allocation, the processor's SHA instructions where it has
// them); OpenSSL 3 marks them deprecated in favour of EVP, whose contexts are heap objects and
// whose one-shot SHA256() fetches the algorithm on every call (twice the time for a record).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stddef.h>

/// SHA-256 of `prefix ‖ data` into `out` (32 bytes).
static inline void kinerja_sha256(const void *prefix, size_t prefix_count, const void *data, size_t data_count, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, prefix, prefix_count);
    SHA256_Update(&context, data, data_count);
    SHA256_Final(out, &context);
}
#endif

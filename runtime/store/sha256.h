// SHA-256 (FIPS 180-4), for the identities the results store keeps: a run's hash is the SHA-256 of
// its canonical configuration, a study's script hash the SHA-256 of the script's bytes.
#pragma once

#include <string>

namespace scalelab::store {

// The digest of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(const std::string& bytes);

}  // namespace scalelab::store

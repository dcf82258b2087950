// Kernels behind featforge.compat.keras and featforge.compat.torcharrow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/arrow/view.h"

namespace featforge::hashing {

struct KerasHashingOptions {
  int64_t num_bins = 1;
  // Values equal to the mask (compared as the string Keras hashes) go to bin 0; others to
  // 1 + hash % (num_bins - 1).
  std::optional<std::string> mask_value;
  // Salted: SipHash-2-4 keyed by (salt[0], salt[1]) (tf.strings.to_hash_bucket_strong);
  // otherwise FarmHash Fingerprint64 (tf.strings.to_hash_bucket_fast).
  std::optional<std::pair<uint64_t, uint64_t>> salt;
};

// Keras' Hashing layer: int64 bins. Integer inputs are hashed as their decimal strings, as Keras
// does (tf.strings.as_string). Nulls stay null.
[[nodiscard]] arrow::OwnedArray keras_hashing(const arrow::ArrayView& values,
                                              const KerasHashingOptions& options);

// Keras' HashedCrossing (tf.sparse.cross_hashed with its default key 0xDECAFCAFFE): per row,
// h = key; for each column h = FingerprintCat64(h, feature), where a string's feature is its
// Fingerprint64 and an integer's is its value as uint64; bin = h % num_bins. Nulls give null.
[[nodiscard]] arrow::OwnedArray keras_hashed_crossing(const std::vector<arrow::ArrayView>& columns,
                                                      int64_t num_bins);

// TorchArrow's sigrid_hash: hash_128_to_64(salt, twang_mix64(value)) as a signed int64, then its
// floor modulo max_value (0 when max_value == 1). int64 or list<int64> input, same shape out.
[[nodiscard]] arrow::OwnedArray sigrid_hash(const arrow::ArrayView& values, int64_t salt,
                                            int64_t max_value);

}  // namespace featforge::hashing

// The shape of grouped-query attention and the key-chunk size every backend's attention
// is built on. Backend-neutral: the fixed chunking (keys in chunks of kAttentionKeyChunk
// from position 0, combined in a fixed order) is what makes prefill, decode and the
// trainer's forward give the same bits for the same (query, keys) on one backend.
#pragma once

namespace lockstep {

inline constexpr int kAttentionKeyChunk = 64;

struct AttentionShape {
  int num_heads = 0;     // query heads
  int num_kv_heads = 0;  // key/value heads; num_heads % num_kv_heads == 0
  int head_dim = 0;
  float scale = 0.0f;    // usually 1/sqrt(head_dim)
};

}  // namespace lockstep

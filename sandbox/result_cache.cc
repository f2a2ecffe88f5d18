#include "sandbox/result_cache.h"

#include <xxhash.h>

#include <cstdint>
#include <cstdio>

namespace lockstep::sandbox {

std::string CacheKey(std::initializer_list<std::string_view> fields) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  for (std::string_view field : fields) {
    const uint64_t size = field.size();
    XXH3_128bits_update(state, &size, sizeof(size));
    XXH3_128bits_update(state, field.data(), field.size());
  }
  const XXH128_hash_t hash = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  char hex[33];
  std::snprintf(hex, sizeof(hex), "%016llx%016llx",
                static_cast<unsigned long long>(hash.high64),
                static_cast<unsigned long long>(hash.low64));
  return hex;
}

}  // namespace lockstep::sandbox

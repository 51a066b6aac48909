#include "core/sort.h"

#include <algorithm>
#include <array>

namespace learnloop {

void SortKeys(std::vector<uint64_t>& keys) {
  // Below a few thousand keys the passes over the counts cost more than a comparison sort.
  if (keys.size() < 4096) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  // Least significant digit first, 16 bits a pass, only over the digits where keys differ.
  uint64_t any = 0, all = ~uint64_t{0};
  for (uint64_t k : keys) {
    any |= k;
    all &= k;
  }
  const uint64_t differ = any & ~all;
  std::vector<uint64_t> other(keys.size());
  std::array<size_t, 1 << 16> count;
  for (int shift = 0; shift < 64; shift += 16) {
    if (((differ >> shift) & 0xFFFF) == 0) continue;
    count.fill(0);
    for (uint64_t k : keys) ++count[(k >> shift) & 0xFFFF];
    size_t at = 0;
    for (auto& c : count) {
      size_t n = c;
      c = at;
      at += n;
    }
    for (uint64_t k : keys) other[count[(k >> shift) & 0xFFFF]++] = k;
    keys.swap(other);
  }
}

}  // namespace learnloop

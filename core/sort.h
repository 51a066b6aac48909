#pragma once
// Sorting the large arrays of integer keys analytics builds (pairs of people, of a message and a
// person): a radix sort, several times faster than a comparison sort at a million keys.
#include <cstdint>
#include <vector>

namespace learnloop {

// Sorts `keys` ascending (the same order as std::sort).
void SortKeys(std::vector<uint64_t>& keys);

}  // namespace learnloop

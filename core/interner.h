#pragma once
// Many strings to dense indexes, and the memory of large arrays (used by the store's bulk load
// and by analytics, which both look up millions of ids).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace learnloop {

// Memory for the large columns: blocks of 2 MiB and more are aligned so that the kernel can back
// them with huge pages (fewer page faults and TLB misses on random access).
void* AllocateBig(size_t bytes);
void FreeBig(void* p);
template <typename T>
struct BigAllocator {
  using value_type = T;
  BigAllocator() = default;
  template <typename U>
  BigAllocator(const BigAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(AllocateBig(n * sizeof(T))); }
  void deallocate(T* p, size_t) { FreeBig(p); }
  template <typename U>
  bool operator==(const BigAllocator<U>&) const {
    return true;
  }
};
template <typename T>
using Column = std::vector<T, BigAllocator<T>>;

// Strings to dense indexes, in an open-addressing table (an import looks up millions of ids);
// the strings stay put, so views of them remain valid.
class Interner {
 public:
  uint32_t Intern(std::string_view s);
  std::optional<uint32_t> Find(std::string_view s) const;
  const std::string_view& operator[](uint32_t i) const { return names_[i]; }
  uint32_t size() const { return static_cast<uint32_t>(names_.size()); }
  void Reserve(size_t n);
  // Keeps a copy of s, as long as the table, without giving it an index.
  std::string_view Keep(std::string_view s);

 private:
  // A slot holds where its string is, so that a probe reads one slot and the string's bytes.
  struct Entry {
    const char* bytes = nullptr;
    uint32_t index1 = 0;  // index + 1; 0: empty
    uint16_t size = 0;    // of the string, 0xFFFF when longer
    uint16_t tag = 0;     // 16 bits of the hash
  };
  static uint64_t Hash(std::string_view s);
  static uint16_t Tag(uint64_t h) { return static_cast<uint16_t>(h >> 48); }
  bool Matches(const Entry& e, std::string_view s, uint16_t tag) const;
  // The slot of s: where it is, or the empty slot where it would go.
  size_t Slot(std::string_view s, uint64_t h) const;
  uint32_t Insert(size_t slot, std::string_view s, uint64_t h);
  void Grow(size_t size = 0);  // 0: double
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, block_size_ = 0;
  Column<std::string_view> names_;
  Column<Entry> slots_;
};

}  // namespace learnloop

#pragma once
// Many strings to dense indexes, and the memory of large arrays (used by the store's bulk load
// and by analytics, which both look up millions of ids).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
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

// Strings to dense indexes, in open-addressing tables (an import looks up millions of ids); the
// strings stay put, so views of them remain valid. Ids of the usual shape — a prefix ending in
// ':' and a decimal number, as every Yammer id ("yammer:1234") — are kept as numbers: a probe
// compares one slot and never reads the string. Others are kept as strings.
class Interner {
 public:
  uint32_t Intern(std::string_view s);
  std::optional<uint32_t> Find(std::string_view s) const;
  const std::string_view& operator[](uint32_t i) const { return names_[i]; }
  uint32_t size() const { return static_cast<uint32_t>(names_.size()); }
  // Room for n ids of the numbered shape without growing.
  void Reserve(size_t n);
  // Asks the processor for the slot where s is or would go, so that an Intern or Find of s soon
  // after does not wait for memory: a caller about to look up several ids prefetches them all
  // first, and their waits overlap.
  void Prefetch(std::string_view s) const;
  // Keeps a copy of s, as long as the table, without giving it an index.
  std::string_view Keep(std::string_view s);

 private:
  // A slot of the string table holds where its string is, so that a probe reads one slot and
  // the string's bytes.
  struct Entry {
    const char* bytes = nullptr;
    uint32_t index1 = 0;  // index + 1; 0: empty
    uint16_t size = 0;    // of the string, 0xFFFF when longer
    uint16_t tag = 0;     // 16 bits of the hash
  };
  // A slot of the number table: the number and its prefix's index.
  struct NumberEntry {
    uint64_t number = 0;
    uint32_t index1 = 0;  // index + 1; 0: empty
    uint32_t prefix = 0;
  };
  struct Number {
    uint64_t number;
    uint32_t prefix;
  };
  // s as a prefix up to its last ':' and a number written the one way it is written (no
  // leading zero, at most 19 digits); nullopt for any other s.
  static std::optional<std::pair<std::string_view, uint64_t>> Split(std::string_view s);
  std::optional<uint32_t> FindPrefix(std::string_view prefix) const;
  static constexpr size_t kMaxPrefixes = 64;  // more: the ids are kept as strings
  static uint64_t Hash(std::string_view s);
  static uint64_t Hash(Number n);
  static uint16_t Tag(uint64_t h) { return static_cast<uint16_t>(h >> 48); }
  bool Matches(const Entry& e, std::string_view s, uint16_t tag) const;
  // The slot of s or n: where it is, or the empty slot where it would go.
  size_t Slot(std::string_view s, uint64_t h) const;
  size_t Slot(Number n) const;
  uint32_t Add(std::string_view s);  // to names_
  void Grow(size_t size = 0);        // 0: double
  void GrowNumbers(size_t size = 0);
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, block_size_ = 0;
  Column<std::string_view> names_;
  Column<Entry> slots_;
  Column<uint32_t> strings_;  // the indexes of those in slots_, in the order they came
  Column<NumberEntry> number_slots_;
  size_t numbers_ = 0;                      // in number_slots_
  std::vector<std::string_view> prefixes_;  // of numbers; few (one per network)
  uint32_t last_prefix_ = 0;                // the prefix found last
};

// Integer keys (1 to 2^32 - 2) to values, in an open-addressing table: a report maps the store's
// keys of the messages, people and groups it reads to its own dense indexes.
class KeyIndex {
 public:
  static constexpr uint32_t kAbsent = 0xFFFFFFFF;
  // The value of key; kAbsent when it has none.
  uint32_t Find(int64_t key) const {
    if (slots_.empty() || key <= 0 || key >= kAbsent) return kAbsent;
    const auto k = static_cast<uint32_t>(key);
    for (size_t i = Slot(k);; i = (i + 1) & mask_) {
      if (slots_[i].key == k) return slots_[i].value;
      if (slots_[i].key == 0) return kAbsent;
    }
  }
  // Asks the processor for the slot of key (a lookup soon after does not wait for memory).
  void Prefetch(int64_t key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Slot(static_cast<uint32_t>(key))]);
  }
  // Gives key the value unless it has one; returns the value it has.
  uint32_t Insert(int64_t key, uint32_t value);
  size_t size() const { return used_; }
  void Reserve(size_t n);

 private:
  struct Entry {
    uint32_t key = 0;  // 0: empty
    uint32_t value = kAbsent;
  };
  size_t Slot(uint32_t key) const {
    uint64_t h = static_cast<uint64_t>(key) * 0x9e3779b97f4a7c15ULL;
    return static_cast<size_t>(h >> 32) & mask_;
  }
  Column<Entry> slots_;
  size_t used_ = 0, mask_ = 0;
};

}  // namespace learnloop

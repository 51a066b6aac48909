#include "core/interner.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace learnloop {

namespace {
constexpr size_t kHugePage = 2 << 20;
}

void* AllocateBig(size_t bytes) {
  if (bytes < kHugePage) {
    void* p = std::malloc(bytes ? bytes : 1);
    if (!p) throw std::bad_alloc();
    return p;
  }
  size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (!p) throw std::bad_alloc();
  madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without it, ordinary pages
  return p;
}

void FreeBig(void* p) { std::free(p); }

std::string_view Interner::Keep(std::string_view s) {
  if (used_ + s.size() > block_size_) {
    block_size_ = std::max<size_t>(1 << 20, s.size());
    blocks_.push_back(std::make_unique<char[]>(block_size_));
    used_ = 0;
  }
  char* p = blocks_.back().get() + used_;
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  used_ += s.size();
  return {p, s.size()};
}

std::optional<std::pair<std::string_view, uint64_t>> Interner::Split(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == s.npos) return std::nullopt;
  std::string_view digits = s.substr(colon + 1);
  if (digits.empty() || digits.size() > 19 || (digits[0] == '0' && digits.size() > 1))
    return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return std::pair(s.substr(0, colon + 1), n);
}

std::optional<uint32_t> Interner::FindPrefix(std::string_view prefix) const {
  if (last_prefix_ < prefixes_.size() && prefixes_[last_prefix_] == prefix) return last_prefix_;
  for (uint32_t i = 0; i < prefixes_.size(); ++i)
    if (prefixes_[i] == prefix) return i;
  return std::nullopt;
}

uint64_t Interner::Hash(std::string_view s) {
  // FNV-1a, then a final mix so that both halves are well spread.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

uint64_t Interner::Hash(Number n) {
  uint64_t h = n.number ^ (static_cast<uint64_t>(n.prefix) * 0x9e3779b97f4a7c15ULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

bool Interner::Matches(const Entry& e, std::string_view s, uint16_t tag) const {
  if (e.tag != tag || e.size != std::min<size_t>(s.size(), 0xFFFF)) return false;
  if (e.size == 0xFFFF) return names_[e.index1 - 1] == s;
  return std::memcmp(e.bytes, s.data(), s.size()) == 0;
}

size_t Interner::Slot(std::string_view s, uint64_t h) const {
  const size_t mask = slots_.size() - 1;
  const uint16_t tag = Tag(h);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Entry& e = slots_[i];
    if (e.index1 == 0 || Matches(e, s, tag)) return i;
  }
}

size_t Interner::Slot(Number n) const {
  const size_t mask = number_slots_.size() - 1;
  for (size_t i = Hash(n) & mask;; i = (i + 1) & mask) {
    const NumberEntry& e = number_slots_[i];
    if (e.index1 == 0 || (e.number == n.number && e.prefix == n.prefix)) return i;
  }
}

uint32_t Interner::Add(std::string_view s) {
  auto index = static_cast<uint32_t>(names_.size());
  names_.push_back(Keep(s));
  return index;
}

void Interner::Reserve(size_t n) {
  names_.reserve(n);
  size_t want = 1024;
  while (want * 3 < n * 4) want *= 2;  // at most three quarters full
  if (want > number_slots_.size()) GrowNumbers(want);
}

void Interner::Grow(size_t size) {
  slots_.assign(size ? size : std::max<size_t>(1024, slots_.size() * 2), Entry{});
  const size_t mask = slots_.size() - 1;
  // The strings in the order they came (read one after the other, not wherever a slot points).
  for (uint32_t index : strings_) {
    std::string_view s = names_[index];
    const uint64_t h = Hash(s);
    size_t i = h & mask;
    while (slots_[i].index1 != 0) i = (i + 1) & mask;
    slots_[i] = {s.data(), index + 1, static_cast<uint16_t>(std::min<size_t>(s.size(), 0xFFFF)),
                 Tag(h)};
  }
}

void Interner::GrowNumbers(size_t size) {
  Column<NumberEntry> old = std::move(number_slots_);
  number_slots_.assign(size ? size : std::max<size_t>(1024, old.size() * 2), NumberEntry{});
  const size_t mask = number_slots_.size() - 1;
  for (const NumberEntry& e : old) {
    if (e.index1 == 0) continue;
    size_t i = Hash(Number{e.number, e.prefix}) & mask;
    while (number_slots_[i].index1 != 0) i = (i + 1) & mask;
    number_slots_[i] = e;
  }
}

void Interner::Prefetch(std::string_view s) const {
  if (auto split = Split(s)) {
    if (auto prefix = FindPrefix(split->first)) {
      if (!number_slots_.empty())
        __builtin_prefetch(
            &number_slots_[Hash(Number{split->second, *prefix}) & (number_slots_.size() - 1)]);
      return;
    }
  }
  if (!slots_.empty()) __builtin_prefetch(&slots_[Hash(s) & (slots_.size() - 1)]);
}

uint32_t Interner::Intern(std::string_view s) {
  if (auto split = Split(s)) {
    std::optional<uint32_t> prefix = FindPrefix(split->first);
    if (!prefix && prefixes_.size() < kMaxPrefixes) {
      prefix = static_cast<uint32_t>(prefixes_.size());
      prefixes_.push_back(Keep(split->first));
    }
    if (prefix) {
      last_prefix_ = *prefix;
      if ((numbers_ + 1) * 4 > number_slots_.size() * 3) GrowNumbers();
      const Number n{split->second, *prefix};
      NumberEntry& e = number_slots_[Slot(n)];
      if (e.index1) return e.index1 - 1;
      const uint32_t index = Add(s);
      e = {n.number, index + 1, n.prefix};
      ++numbers_;
      return index;
    }
  }
  if ((strings_.size() + 1) * 4 > slots_.size() * 3) Grow();  // at most three quarters full
  const uint64_t h = Hash(s);
  Entry& e = slots_[Slot(s, h)];
  if (e.index1) return e.index1 - 1;
  const uint32_t index = Add(s);
  e = {names_[index].data(), index + 1, static_cast<uint16_t>(std::min<size_t>(s.size(), 0xFFFF)),
       Tag(h)};
  strings_.push_back(index);
  return index;
}

std::optional<uint32_t> Interner::Find(std::string_view s) const {
  if (auto split = Split(s)) {
    if (auto prefix = FindPrefix(split->first)) {
      if (number_slots_.empty()) return std::nullopt;
      const NumberEntry& e = number_slots_[Slot(Number{split->second, *prefix})];
      if (e.index1 == 0) return std::nullopt;
      return e.index1 - 1;
    }
    // An unknown prefix: a string, if anything.
  }
  if (slots_.empty()) return std::nullopt;
  const Entry& e = slots_[Slot(s, Hash(s))];
  if (e.index1 == 0) return std::nullopt;
  return e.index1 - 1;
}

uint32_t KeyIndex::Insert(int64_t key, uint32_t value) {
  if (key <= 0 || key >= kAbsent) throw std::invalid_argument("a key is from 1 to 2^32 - 2");
  if (2 * (used_ + 1) > slots_.size()) Reserve(std::max<size_t>(slots_.size(), 512));
  const auto k = static_cast<uint32_t>(key);
  for (size_t i = Slot(k);; i = (i + 1) & mask_) {
    if (slots_[i].key == k) return slots_[i].value;
    if (slots_[i].key == 0) {
      slots_[i] = {k, value};
      ++used_;
      return value;
    }
  }
}

void KeyIndex::Reserve(size_t n) {
  size_t size = 1024;
  while (size < 2 * n) size *= 2;
  if (size <= slots_.size()) return;
  Column<Entry> old(size);
  old.swap(slots_);
  mask_ = size - 1;
  for (const Entry& e : old) {
    if (e.key == 0) continue;
    size_t i = Slot(e.key);
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = e;
  }
}

}  // namespace learnloop

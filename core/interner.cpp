#include "core/interner.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
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

uint64_t Interner::Hash(std::string_view s) {
  // FNV-1a, then a final mix so that both halves are well spread.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
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

uint32_t Interner::Insert(size_t slot, std::string_view s, uint64_t h) {
  auto index = static_cast<uint32_t>(names_.size());
  std::string_view kept = Keep(s);
  names_.push_back(kept);
  slots_[slot] = {kept.data(), index + 1, static_cast<uint16_t>(std::min<size_t>(s.size(), 0xFFFF)),
                  Tag(h)};
  return index;
}

void Interner::Reserve(size_t n) {
  names_.reserve(n);
  size_t want = 1024;
  while (want * 3 < n * 4) want *= 2;  // at most three quarters full
  if (want > slots_.size()) Grow(want);
}

void Interner::Grow(size_t size) {
  Column<Entry> old = std::move(slots_);
  slots_.assign(size ? size : std::max<size_t>(1024, old.size() * 2), Entry{});
  const size_t mask = slots_.size() - 1;
  for (const Entry& e : old) {
    if (e.index1 == 0) continue;
    size_t i = Hash(names_[e.index1 - 1]) & mask;
    while (slots_[i].index1 != 0) i = (i + 1) & mask;
    slots_[i] = e;
  }
}

uint32_t Interner::Intern(std::string_view s) {
  if ((names_.size() + 1) * 4 > slots_.size() * 3) Grow();  // at most three quarters full
  uint64_t h = Hash(s);
  size_t i = Slot(s, h);
  return slots_[i].index1 ? slots_[i].index1 - 1 : Insert(i, s, h);
}

std::optional<uint32_t> Interner::Find(std::string_view s) const {
  if (slots_.empty()) return std::nullopt;
  const Entry& e = slots_[Slot(s, Hash(s))];
  if (e.index1 == 0) return std::nullopt;
  return e.index1 - 1;
}

}  // namespace learnloop

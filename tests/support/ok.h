#pragma once
// What a store (or the bot on it) says, in a test: its value, or the test fails there with the
// store's own words.
#include <stdexcept>
#include <string>
#include <utility>

#include "core/result.h"

namespace learnloop::testing {

template <typename T>
T Ok(Result<T> r) {
  if (!r.ok()) throw std::runtime_error("unexpected error: " + r.error().message);
  return std::move(r.value());
}

inline void Ok(const Status& s) {
  if (!s.ok()) throw std::runtime_error("unexpected error: " + s.message());
}

}  // namespace learnloop::testing

#include "core/parallel.h"

#include <exception>
#include <thread>

namespace learnloop {

void InParallel(const std::function<void()>& first, const std::function<void()>& second) {
  std::exception_ptr failed_second;
  std::thread other([&] {
    try {
      second();
    } catch (...) {
      failed_second = std::current_exception();
    }
  });
  try {
    first();
  } catch (...) {
    other.join();
    throw;
  }
  other.join();
  if (failed_second) std::rethrow_exception(failed_second);
}

}  // namespace learnloop

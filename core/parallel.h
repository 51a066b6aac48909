#pragma once
// Two pieces of work at once: the second on a thread of its own, the first on the caller's.
#include <functional>

namespace learnloop {

// Returns when both are done; a failure of either is thrown (the first's when both fail).
void InParallel(const std::function<void()>& first, const std::function<void()>& second);

}  // namespace learnloop

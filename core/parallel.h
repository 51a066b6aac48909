#pragma once
// Work on both cores: two pieces at once, or batches handed from one thread to another.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace learnloop {

// Returns when both are done; a failure of either is thrown (the first's when both fail).
void InParallel(const std::function<void()>& first, const std::function<void()>& second);

// Batches handed from the caller's thread to a thread of its own, which consumes them in order
// while the caller fills the next (at most two wait: a fast caller waits for the consumer).
// Batches are reused once consumed, so their memory is allocated once. A Batch has empty() and
// clear(). A failure of the consumer is thrown by the next Hand() or Drain(); the batches after
// it are dropped. Destroying the handoff drops what was handed and not consumed yet (after the
// batch being consumed is done).
template <typename Batch>
class Handoff {
 public:
  explicit Handoff(std::function<void(Batch&)> consume)
      : consume_(std::move(consume)), thread_([this] { Run(); }) {}
  ~Handoff() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  // The batch the caller fills.
  Batch& Filling() { return filling_; }

  // Gives the filled batch to the consumer.
  void Hand() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return waiting_.size() < 2 || failed_; });
    if (failed_) std::rethrow_exception(failed_);
    waiting_.push_back(std::move(filling_));
    if (spare_.empty()) {
      filling_ = Batch{};
    } else {
      filling_ = std::move(spare_.back());
      spare_.pop_back();
    }
    changed_.notify_all();
  }

  // Hands what is filled, and returns when everything handed has been consumed.
  void Drain() {
    if (!filling_.empty()) Hand();
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return (waiting_.empty() && !busy_) || failed_; });
    if (failed_) std::rethrow_exception(failed_);
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      changed_.wait(lock, [&] { return stop_ || !waiting_.empty(); });
      if (stop_) return;
      Batch batch = std::move(waiting_.front());
      waiting_.pop_front();
      busy_ = true;
      if (!failed_) {
        lock.unlock();
        try {
          consume_(batch);
        } catch (...) {
          lock.lock();
          failed_ = std::current_exception();
          lock.unlock();
        }
        lock.lock();
      }
      batch.clear();
      spare_.push_back(std::move(batch));
      busy_ = false;
      changed_.notify_all();
    }
  }

  std::function<void(Batch&)> consume_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Batch> waiting_;
  std::vector<Batch> spare_;
  Batch filling_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr failed_;
  std::thread thread_;  // last: starts when everything else is ready
};

}  // namespace learnloop

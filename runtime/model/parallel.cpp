#include "model/parallel.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SCALELAB_PAUSE() _mm_pause()
#else
#define SCALELAB_PAUSE() std::this_thread::yield()
#endif

namespace scalelab::model {

namespace {

constexpr int kSpins = 2000;  // tens of µs of polling before sleeping

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void run(int count, const std::function<void(int, int)>& fn) {
    std::lock_guard<std::mutex> serial(run_mutex_);  // one job at a time
    grow(count - 1);
    pending_.store(count - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);  // workers take a consistent snapshot of the job
      job_ = &fn;
      count_ = count;
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_all();
    fn(0, count);
    for (int spin = 0; pending_.load(std::memory_order_acquire) > 0; ++spin) {
      if (spin < kSpins) SCALELAB_PAUSE();
      else std::this_thread::yield();
    }
  }

 private:
  void grow(int workers) {
    while (static_cast<int>(workers_.size()) < workers) {
      const int index = static_cast<int>(workers_.size()) + 1;
      const uint64_t seen = generation_.load();
      workers_.emplace_back([this, index, seen] { loop(index, seen); });
    }
  }

  void loop(int index, uint64_t seen) {
    for (;;) {
      uint64_t now = generation_.load(std::memory_order_acquire);
      for (int spin = 0; now == seen && spin < kSpins; ++spin) {
        SCALELAB_PAUSE();
        now = generation_.load(std::memory_order_acquire);
      }
      const std::function<void(int, int)>* job;
      int count;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (now == seen) {
          sleeping_.fetch_add(1);
          wake_.wait(lock, [&] { return generation_.load() != seen; });
          sleeping_.fetch_sub(1);
        }
        seen = generation_.load();
        if (stop_) return;
        job = job_;
        count = count_;
      }
      // A job's fields change only after all its participants finished, so a worker that is not
      // one of them (index >= count) never runs a job twice or late.
      if (index < count) {
        (*job)(index, count);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0}, sleeping_{0};
  const std::function<void(int, int)>* job_ = nullptr;
  int count_ = 1;
  bool stop_ = false;
};

thread_local bool inside_job = false;

}  // namespace

void parallel_run(int threads, const std::function<void(int, int)>& fn) {
  if (threads <= 1 || inside_job) {
    fn(0, 1);
    return;
  }
  static Pool pool;
  pool.run(threads, [&](int index, int count) {
    inside_job = true;
    fn(index, count);
    inside_job = false;
  });
}

}  // namespace scalelab::model

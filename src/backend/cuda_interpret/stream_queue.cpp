#include "stream_queue.h"

#include "options.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// An item of a stream's queue: work, or a wait until an event's record numbered `generation` has run.
struct Item {
  std::function<void()> work;
  cudaEvent_t event = nullptr;
  unsigned long long generation = 0;
};

}  // namespace

struct CUstream_st {
  unsigned long long id;
  std::deque<Item> queue;
};

struct CUevent_st {
  bool timed;
  unsigned long long recorded = 0;   // records made by the host
  unsigned long long completed = 0;  // records that have run
  std::chrono::steady_clock::time_point when;
};

namespace primer::interpret {
namespace {

struct Registry {
  std::recursive_mutex mutex;
  unsigned long long next_stream_id = 1;
  CUstream_st legacy_stream{0, {}};
  std::vector<CUstream_st*> streams{&legacy_stream};
  // Events destroyed while a record or a wait of theirs is still queued: freed once none is (CUDA lets
  // queued work that uses a destroyed event finish).
  std::vector<cudaEvent_t> orphans;
};

// Never destroyed: streams are destroyed by other static objects' destructors (the CUDA backend's).
Registry& registry() {
  static auto* instance = new Registry();
  return *instance;
}

CUstream_st* resolve(cudaStream_t stream) {
  return stream != nullptr ? stream : &registry().legacy_stream;
}

bool runnable(const Item& item) {
  return item.event == nullptr || item.event->completed >= item.generation;
}

bool still_used(cudaEvent_t event) {
  if (event->completed < event->recorded) return true;
  for (const CUstream_st* stream : registry().streams) {
    for (const Item& item : stream->queue) {
      if (item.event == event) return true;
    }
  }
  return false;
}

void free_finished_orphans() {
  std::erase_if(registry().orphans, [](cudaEvent_t event) {
    if (still_used(event)) return false;
    delete event;
    return true;
  });
}

// Runs queued items, in the adversarial order, until `done` holds.
template <class Done>
void drain_until(Done done) {
  std::lock_guard lock(registry().mutex);
  while (!done()) {
    CUstream_st* chosen = nullptr;
    for (CUstream_st* stream : registry().streams) {
      if (!stream->queue.empty() && runnable(stream->queue.front()) &&
          (chosen == nullptr || stream->id > chosen->id)) {
        chosen = stream;
      }
    }
    if (chosen == nullptr) {
      throw std::runtime_error(
          "CUDA interpret: the streams wait on events that nothing queued will record (a deadlock)");
    }
    Item item = std::move(chosen->queue.front());
    chosen->queue.pop_front();
    if (item.work) item.work();
    free_finished_orphans();
  }
}

}  // namespace

bool streams_deferred() {
  static const bool deferred = [] {
    const std::string mode = interpret_option("streams", "synchronous");
    if (mode == "synchronous") return false;
    if (mode == "deferred") return true;
    throw std::runtime_error("PRIMER_INTERPRET: streams=" + mode +
                             " is not a stream mode (synchronous, deferred)");
  }();
  return deferred;
}

void enqueue(cudaStream_t stream, std::function<void()> work) {
  if (!streams_deferred()) {
    work();
    return;
  }
  std::lock_guard lock(registry().mutex);
  resolve(stream)->queue.push_back(Item{std::move(work)});
}

void record_event(cudaEvent_t event, cudaStream_t stream) {
  const unsigned long long generation = ++event->recorded;
  enqueue(stream, [event, generation] {
    event->completed = generation;
    event->when = std::chrono::steady_clock::now();
  });
}

void wait_for_event(cudaStream_t stream, cudaEvent_t event) {
  if (!streams_deferred() || event->recorded == 0) return;
  std::lock_guard lock(registry().mutex);
  resolve(stream)->queue.push_back(Item{{}, event, event->recorded});
}

void synchronize_stream(cudaStream_t stream) {
  CUstream_st* s = resolve(stream);
  drain_until([s] { return s->queue.empty(); });
}

bool event_completed(cudaEvent_t event) {
  std::lock_guard lock(registry().mutex);
  return event->completed >= event->recorded;
}

bool stream_idle(cudaStream_t stream) {
  std::lock_guard lock(registry().mutex);
  return resolve(stream)->queue.empty();
}

void synchronize_event(cudaEvent_t event) {
  const unsigned long long generation = event->recorded;
  drain_until([event, generation] { return event->completed >= generation; });
}

void synchronize_device() {
  drain_until([] {
    for (const CUstream_st* stream : registry().streams) {
      if (!stream->queue.empty()) return false;
    }
    return true;
  });
}

cudaStream_t create_stream() {
  std::lock_guard lock(registry().mutex);
  auto* stream = new CUstream_st{registry().next_stream_id++, {}};
  registry().streams.push_back(stream);
  return stream;
}

void destroy_stream(cudaStream_t stream) {
  synchronize_stream(stream);  // CUDA lets queued work finish
  std::lock_guard lock(registry().mutex);
  std::erase(registry().streams, stream);
  delete stream;
}

cudaEvent_t create_event(bool timed) {
  return new CUevent_st{timed, 0, 0, {}};
}

void destroy_event(cudaEvent_t event) {
  std::lock_guard lock(registry().mutex);
  if (still_used(event)) {
    registry().orphans.push_back(event);
  } else {
    delete event;
  }
}

bool elapsed_ms(cudaEvent_t start, cudaEvent_t end, float& milliseconds) {
  if (!start->timed || !end->timed || start->completed == 0 || end->completed == 0) return false;
  milliseconds = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return true;
}

}  // namespace primer::interpret

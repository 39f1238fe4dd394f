#pragma once
// Streams and events of the interpret mode. By default work runs as it is queued, so every stream is
// always finished. With PRIMER_INTERPRET=streams=deferred, work waits in its stream's queue until the host
// synchronises, and then the queues run in an adversarial order that respects only stream order and
// events: the most recently created stream whose next item may run goes first. A missing
// cudaStreamWaitEvent between two streams then changes results, as it can on a GPU.
#include <cuda_runtime.h>

#include <functional>

namespace primer::interpret {

bool streams_deferred();
// Runs `work` now, or queues it on `stream` in the deferred mode.
void enqueue(cudaStream_t stream, std::function<void()> work);
void record_event(cudaEvent_t event, cudaStream_t stream);
void wait_for_event(cudaStream_t stream, cudaEvent_t event);
void synchronize_stream(cudaStream_t stream);
// Whether every record of the event made so far has run / nothing waits in the stream's queue.
bool event_completed(cudaEvent_t event);
bool stream_idle(cudaStream_t stream);
void synchronize_event(cudaEvent_t event);
void synchronize_device();
cudaStream_t create_stream();
void destroy_stream(cudaStream_t stream);
cudaEvent_t create_event(bool timed);
void destroy_event(cudaEvent_t event);
// Milliseconds between two events' last completed records; false if either is untimed or unrecorded.
bool elapsed_ms(cudaEvent_t start, cudaEvent_t end, float& milliseconds);

}  // namespace primer::interpret

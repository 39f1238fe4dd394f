#pragma once
// The interpret mode's settings, from one environment variable so that a test can set them all at once:
// PRIMER_INTERPRET="device=sm_80,order=warp,streams=deferred,census=FILE" (any subset, any order).
//   device   sm_90 (default), sm_80, sm_86, sm_89: the limits of that GPU (device_profile.h)
//   order    forward (default), reverse, warp: which waiting thread runs next (thread_scheduler.cpp)
//   streams  synchronous (default), deferred: when queued work runs (stream_queue.h)
//   census   a file: at exit, each kernel launched and how often is appended to it
#include <string>

namespace primer::interpret {

// The value of `key`, or `fallback` when it is not set; an unknown key is an error naming the variable.
std::string interpret_option(const std::string& key, const std::string& fallback);

}  // namespace primer::interpret

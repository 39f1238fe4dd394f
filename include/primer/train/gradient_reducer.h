#pragma once
// Averages gradients over the ranks of a data-parallel run, once per optimizer step, after the last
// micro-batch's backward: the parameters are packed in a fixed order into buckets of about bucket_bytes,
// every bucket's sum is started before the first is awaited (so buckets travel while others are packed
// and unpacked), and each rank ends with the same mean. With one rank it does nothing.
#include <cstdint>
#include <vector>

#include "primer/distributed/communicator.h"
#include "primer/nn/module.h"

namespace primer::train {

class GradientReducer {
 public:
  GradientReducer(distributed::Communicator& communicator, std::vector<nn::NamedParameter> parameters,
                  std::int64_t bucket_bytes);
  void average();
  std::size_t bucket_count() const { return buckets_.size(); }
  // Wall seconds the last average() spent waiting for the other ranks' data.
  double seconds_waiting() const { return seconds_waiting_; }

 private:
  struct Bucket {
    std::vector<std::size_t> members;  // indices into parameters_
    Tensor buffer;
  };
  distributed::Communicator& communicator_;
  std::vector<nn::NamedParameter> parameters_;
  std::vector<Bucket> buckets_;
  double seconds_waiting_ = 0.0;
};

}  // namespace primer::train

#pragma once
// `PRIMER_LAUNCH(kernel, grid, block, shared, stream, args...)` in the interpret mode: the arguments are
// converted to the kernel's parameter types as a CUDA launch converts them, each emulated thread gets its
// own copy, and pointer parameters are checked to point into device memory.
#include <tuple>
#include <type_traits>
#include <utility>

#include "primer_interpret/execution.h"

namespace primer::interpret {

template <class... Params>
class Launcher {
 public:
  Launcher(void (*kernel)(Params...), const KernelLaunch& site) : kernel_(kernel), site_(site) {}

  template <class... Args>
  void operator()(Args&&... args) const {
    std::tuple<Params...> arguments(std::forward<Args>(args)...);
    std::vector<PointerArgument> pointers;
    collect_pointers(arguments, pointers, std::index_sequence_for<Params...>{});
    auto* kernel = kernel_;
    launch(site_, pointers, [kernel, arguments] {
      std::tuple<Params...> own = arguments;
      std::apply(kernel, own);
    });
  }

 private:
  template <std::size_t... I>
  static void collect_pointers(const std::tuple<Params...>& arguments, std::vector<PointerArgument>& out,
                               std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (std::is_pointer_v<std::tuple_element_t<I, std::tuple<Params...>>>) {
            out.push_back({static_cast<int>(I), static_cast<const void*>(std::get<I>(arguments))});
          }
        }(),
        ...);
  }

  void (*kernel_)(Params...);
  KernelLaunch site_;
};

template <class... Params>
const void* kernel_identity(void (*kernel)(Params...)) {
  return reinterpret_cast<const void*>(kernel);
}

}  // namespace primer::interpret

# primer_target_defaults(target): warnings as errors, the CPU architecture and the sanitizers for our own code.
function(primer_target_defaults target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Werror -Wno-error=deprecated-declarations>)
  if(PRIMER_CPU_ARCH)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=${PRIMER_CPU_ARCH}>)
  endif()
endfunction()

if(PRIMER_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
# The race checker of the CUDA interpret mode (src/backend/cuda_interpret/race_check.h).
if(PRIMER_SANITIZE_THREAD)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

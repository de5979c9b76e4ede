# SPDX-License-Identifier: MIT
# pt_target_flags(target): warnings (as errors with PT_WERROR) and sanitizers, per target.
set(PT_WARNING_FLAGS
  -Wall -Wextra -Wshadow -Wundef -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wno-unused-parameter)

function(pt_target_flags target)
  target_compile_options(${target} PRIVATE ${PT_WARNING_FLAGS})
  if(PT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _FILE_OFFSET_BITS=64)
  if(PT_ASAN)
    target_compile_options(${target} PRIVATE -fsanitize=address -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address)
  endif()
  if(PT_UBSAN)
    target_compile_options(${target} PRIVATE -fsanitize=undefined -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=undefined)
  endif()
  if(PT_FUZZ)
    # coverage for libFuzzer everywhere; the fuzz_* programs add -fsanitize=fuzzer
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
      -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

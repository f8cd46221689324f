# Warnings as errors for our own code; third-party headers come from /usr/include
# and are system headers, so they stay quiet.
function(moolai_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
endfunction()

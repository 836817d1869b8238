# Warnings as an interface target: every first-party target links cpts_warnings.
add_library(cpts_warnings INTERFACE)
target_compile_options(cpts_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${CPTS_WERROR}>:-Werror>)

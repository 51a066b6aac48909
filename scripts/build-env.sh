# Sourced by the build scripts. Ninja: a library's users compile while the library itself is
# still being built (make waits for whole targets), which keeps both cores busy.
export CMAKE_GENERATOR=Ninja
# A build folder made with another generator is made again (CMake refuses to switch).
use_build_dir() {
  if [ -f "$1/CMakeCache.txt" ] && ! grep -qs "CMAKE_GENERATOR:INTERNAL=Ninja" "$1/CMakeCache.txt"; then
    rm -rf "$1"
  fi
}

# CMake toolchain file: Debian's aarch64 cross compiler (g++-aarch64-linux-gnu)
# with its sysroot /usr/aarch64-linux-gnu. tests/arm64 builds with it; its
# binaries run here under `qemu-aarch64 -L /usr/aarch64-linux-gnu`
# (qemu-user), which finds the aarch64 loader and libraries in the sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(ATTNC_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH
  "The aarch64 libraries qemu-aarch64 runs against (-L)")
find_program(ATTNC_AARCH64_CXX aarch64-linux-gnu-g++)
if(NOT ATTNC_AARCH64_CXX)
  message(FATAL_ERROR "aarch64-linux-gnu-g++ not found "
                      "(scripts/setup.sh installs g++-aarch64-linux-gnu)")
endif()
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Libraries, headers and packages come from the sysroot only, never from the
# host's /usr (whose x86-64 libraries would link into nothing that runs);
# programs (the host attnc) from the host.
set(CMAKE_FIND_ROOT_PATH ${ATTNC_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# try_run and the project's own ctest, if used, run aarch64 programs
# through qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L ${ATTNC_AARCH64_SYSROOT})

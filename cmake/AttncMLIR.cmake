# Finds LLVM/MLIR 14 from Debian and loads their CMake helpers (TableGen,
# AddLLVM, AddMLIR). Facts: ../shared/TOOLCHAIN.md. There is no
# MLIRConfigVersion.cmake, so no version is passed to find_package.
if(NOT MLIR_DIR)
  set(MLIR_DIR /usr/lib/llvm-14/lib/cmake/mlir)
endif()
find_package(MLIR REQUIRED CONFIG)
message(STATUS "MLIR: ${MLIR_DIR}; LLVM ${LLVM_PACKAGE_VERSION}")

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
set(LLVM_RUNTIME_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/bin)
set(LLVM_LIBRARY_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/lib)
set(MLIR_BINARY_DIR ${CMAKE_BINARY_DIR})
include(TableGen)
include(AddLLVM)
include(AddMLIR)

include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
separate_arguments(ATTNC_LLVM_DEFINITIONS NATIVE_COMMAND ${LLVM_DEFINITIONS})
add_definitions(${ATTNC_LLVM_DEFINITIONS})

# Tools that tests call by absolute path (only FileCheck-14 is on PATH).
set(ATTNC_LLVM_TOOLS_DIR ${LLVM_TOOLS_BINARY_DIR})
set(ATTNC_LIT ${LLVM_TOOLS_BINARY_DIR}/../build/utils/lit/lit.py)
if(NOT EXISTS ${ATTNC_LIT})
  set(ATTNC_LIT /usr/lib/llvm-14/build/utils/lit/lit.py)
endif()

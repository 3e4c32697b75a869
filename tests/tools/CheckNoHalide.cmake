# Fails if BINARY depends on libHalide or LLVM (its NEEDED entries, and
# everything ldd resolves).
execute_process(COMMAND ldd ${BINARY} OUTPUT_VARIABLE libs RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ldd ${BINARY} failed")
endif()
if(libs MATCHES "[Hh]alide" OR libs MATCHES "LLVM" OR libs MATCHES "MLIR")
  message(FATAL_ERROR "${BINARY} links libHalide, LLVM or MLIR:\n${libs}")
endif()
message(STATUS "no libHalide, LLVM or MLIR in:\n${libs}")

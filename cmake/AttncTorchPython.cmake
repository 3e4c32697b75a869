# ATTNC_TORCH_PYTHON: a Python interpreter with torch and numpy, for the
# tests and the example that compare attnc with PyTorch (tests/python,
# examples/pytorch-roundtrip). Debian's python3-torch belongs to
# /usr/bin/python3, which need not be the first python3 on PATH. Without
# one, ATTNC_TORCH_PYTHON is plain python3 and those tests print [SKIP].
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(ATTNC_TORCH_PYTHON "" CACHE FILEPATH
    "Python with torch and numpy for tests/python (found if empty)")
if(NOT ATTNC_TORCH_PYTHON)
  foreach(candidate ${Python3_EXECUTABLE} /usr/bin/python3)
    execute_process(COMMAND ${candidate} -c "import torch, numpy"
                    RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET)
    if(status EQUAL 0)
      set(ATTNC_TORCH_PYTHON ${candidate})
      break()
    endif()
  endforeach()
  if(NOT ATTNC_TORCH_PYTHON)
    message(STATUS "No Python with torch: PyTorch comparisons will [SKIP]")
    set(ATTNC_TORCH_PYTHON ${Python3_EXECUTABLE})
  endif()
endif()

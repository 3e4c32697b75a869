# attnc_add_library(<name> SOURCE <model.attn>
#                   [TARGETS <target>...]    host (default), x86_64_avx2,
#                                            x86_64_avx512, arm64, cuda,
#                                            opencl, or Halide target strings
#                   [TUNING_DB <file.json>]
#                   [SCHEDULE <family.knob=value>...]  attnc --schedule
#                   [WEIGHTS f32|bf16|f16|int8]  attnc --weights: every
#                                            linear weight stored so
#                   [DTYPE f32|bf16]         attnc --dtype: activations
#                   [ATTNC <path to attnc>]) defaults to the attnc target or
#                                            the one found by find_package
#
# Runs `attnc compile` at build time and defines the static library <name>
# with the first target's kernels, Halide runtime and registry
# (<name>_registry__<tag>; <name> is also the unit that prefixes symbols). The generated folder is
# ${CMAKE_CURRENT_BINARY_DIR}/<name>, and <name>_MANIFEST names its
# manifest.json. The library needs only libpthread and libdl, no libHalide.
function(attnc_add_library name)
  cmake_parse_arguments(ARG "" "SOURCE;TUNING_DB;ATTNC;WEIGHTS;DTYPE"
                        "TARGETS;SCHEDULE" ${ARGN})
  if(NOT ARG_SOURCE)
    message(FATAL_ERROR "attnc_add_library(${name}) needs SOURCE")
  endif()
  if(NOT ARG_TARGETS)
    set(ARG_TARGETS host)
  endif()
  if(NOT ARG_ATTNC)
    if(TARGET attnc)
      set(ARG_ATTNC $<TARGET_FILE:attnc>)
      set(attnc_dep attnc)
    elseif(TARGET attnc::attnc)
      set(ARG_ATTNC $<TARGET_FILE:attnc::attnc>)
      set(attnc_dep attnc::attnc)
    else()
      message(FATAL_ERROR "attnc_add_library: no attnc executable; pass ATTNC")
    endif()
  elseif(IS_ABSOLUTE "${ARG_ATTNC}" AND EXISTS "${ARG_ATTNC}")
    # An attnc given by path (e.g. tests/arm64, a project of its own): a
    # rebuilt attnc recompiles the kernels.
    set(attnc_dep ${ARG_ATTNC})
  endif()
  get_filename_component(source ${ARG_SOURCE} ABSOLUTE)
  string(MAKE_C_IDENTIFIER "${name}" unit)
  list(GET ARG_TARGETS 0 first)
  # The tag attnc gives the first target (see targetTag in Emit.cpp).
  if(first STREQUAL "host")
    set(tag host)
  elseif(first STREQUAL "x86_64_avx2")
    set(tag avx2)
  elseif(first STREQUAL "x86_64_avx512")
    set(tag avx512)
  elseif(first STREQUAL "arm64")
    set(tag arm64)
  elseif(first STREQUAL "cuda")
    set(tag cuda)
  elseif(first STREQUAL "opencl")
    set(tag opencl)
  else()
    message(FATAL_ERROR "attnc_add_library: use a named first target "
                        "(host, x86_64_avx2, x86_64_avx512, arm64, cuda, opencl)")
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name})
  set(archive ${out}/${tag}/lib${unit}_kernels.a)
  set(registry ${out}/${tag}/${unit}_registry.c)
  string(REPLACE ";" "," target_list "${ARG_TARGETS}")
  set(tuning)
  if(ARG_TUNING_DB)
    get_filename_component(db ${ARG_TUNING_DB} ABSOLUTE)
    set(tuning --tuning-db=${db})
  endif()
  set(schedule)
  if(ARG_SCHEDULE)
    string(REPLACE ";" "," schedule_list "${ARG_SCHEDULE}")
    set(schedule --schedule=${schedule_list})
  endif()
  set(weights)
  if(ARG_WEIGHTS)
    set(weights --weights=${ARG_WEIGHTS})
  endif()
  set(dtype)
  if(ARG_DTYPE)
    set(dtype --dtype=${ARG_DTYPE})
  endif()
  add_custom_command(
    OUTPUT ${archive} ${registry} ${out}/manifest.json
    COMMAND ${ARG_ATTNC} compile ${source} --unit=${unit}
            --target=${target_list} ${tuning} ${schedule} ${weights} ${dtype}
            -o ${out}
    DEPENDS ${source} ${attnc_dep} ${ARG_TUNING_DB}
    COMMENT "attnc: compiling ${ARG_SOURCE} for ${target_list}"
    VERBATIM)
  add_library(${name} STATIC ${registry})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${name} PUBLIC ${out}/${tag} ${ATTNC_REGISTRY_INCLUDE_DIR})
  target_link_libraries(${name} PUBLIC ${archive} Halide::Runtime Threads::Threads
                        ${CMAKE_DL_LIBS})
  set(${name}_MANIFEST ${out}/manifest.json PARENT_SCOPE)
endfunction()

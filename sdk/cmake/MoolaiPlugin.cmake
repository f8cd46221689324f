# moolai_add_plugin(<target> SOURCES <files...>)
#
# Builds a Moolai plugin shared object the way the host expects it:
# hidden visibility, exactly one exported symbol (moolai_plugin_entry),
# no undefined symbols left for load time (-z defs), and no STB_GNU_UNIQUE
# symbols that would pin the library in memory.
function(moolai_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE moolai::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-gnu-unique>)
  endif()
  set(_map "${CMAKE_CURRENT_BINARY_DIR}/${target}.exports.map")
  file(WRITE "${_map}" "{ global: moolai_plugin_entry; local: *; };\n")
  # Sanitizer runtimes resolve their symbols at load time, so -z defs is
  # left out when the plugin is built with -fsanitize.
  set(_defs "-Wl,-z,defs")
  get_directory_property(_opts COMPILE_OPTIONS)
  if("${_opts}" MATCHES "fsanitize" OR "${CMAKE_CXX_FLAGS}" MATCHES "fsanitize")
    set(_defs "")
  endif()
  target_link_options(${target} PRIVATE
    "-Wl,--version-script=${_map}" ${_defs} "-Wl,--exclude-libs,ALL" "-Wl,--as-needed")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${_map}")
endfunction()

# cmake -DNM=<nm> -DPLUGIN=<plugin.so> -P check_exports.cmake
# Fails unless the plugin's dynamic symbol table defines exactly one
# symbol, moolai_plugin_entry.
execute_process(COMMAND ${NM} -D --defined-only ${PLUGIN}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${PLUGIN} failed (${rc})")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(names "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^.* " "" name "${line}")
  list(APPEND names "${name}")
endforeach()
if(NOT names STREQUAL "moolai_plugin_entry")
  message(FATAL_ERROR "${PLUGIN} must export only moolai_plugin_entry; it exports: ${names}")
endif()
message(STATUS "${PLUGIN}: exports only moolai_plugin_entry")

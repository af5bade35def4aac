# TEST DOUBLE of the two ESP-IDF build functions the kerawasm component calls. Run as
#   cmake -DKW_INTERPRETER=... -DKW_INTERPRETER_COMPONENT=... -DCMAKE_BUILD_EARLY_EXPANSION=1|0 \
#         -DCOMPONENT=<component CMakeLists.txt> -P idf_stub.cmake
# Build properties are read from the -D variables of the same name, as ESP-IDF's early expansion
# does; idf_component_register prints what it received, one argument list per line.
function(idf_build_get_property var property)
  set(${var} "${${property}}" PARENT_SCOPE)
endfunction()

function(idf_component_register)
  cmake_parse_arguments(R "" "" "SRCS;INCLUDE_DIRS;PRIV_INCLUDE_DIRS;REQUIRES;PRIV_REQUIRES" ${ARGN})
  message("SRCS=${R_SRCS}")
  message("INCLUDE_DIRS=${R_INCLUDE_DIRS}")
  message("REQUIRES=${R_REQUIRES}")
  message("PRIV_REQUIRES=${R_PRIV_REQUIRES}")
endfunction()

include("${COMPONENT}")

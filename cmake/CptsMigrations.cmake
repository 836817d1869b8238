# cpts_embed_migrations(<target> COMPONENT <name> FUNCTION <qualified C++ function>
#                       FILES <dir>/0001_<what>.sql [<dir>/0002_<what>.sql ...])
#
# Embeds forward-only SQL migrations into <target> so that images need no SQL files. At build
# time (so that editing an .sql file rebuilds), a `cmake -P` script generates a .cc defining
#     cpts::platform::db::MigrationSet <FUNCTION>();
# returning {COMPONENT, {{version, name, sql}...}} in version order, and adds it to <target>.
# Declaring the function in a header is the caller's business, e.g.
#     namespace cpts::membership { platform::db::MigrationSet Migrations(); }
# Files are listed explicitly (no globbing), relative to the current source directory or
# absolute, named NNNN_<name>.sql with <name> in [a-z0-9_]; versions must be 1..n without gaps.
# <target> must be defined in the same directory; it is linked PRIVATE to cpts_platform_db (use
# the keyword form of target_link_libraries for that target).
include_guard(GLOBAL)

function(cpts_embed_migrations target)
  cmake_parse_arguments(PARSE_ARGV 1 A "" "COMPONENT;FUNCTION" "FILES")
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "cpts_embed_migrations: unexpected arguments ${A_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "cpts_embed_migrations: ${target} is not a target")
  endif()
  if(NOT A_COMPONENT MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "cpts_embed_migrations(${target}): COMPONENT '${A_COMPONENT}' must match [a-z][a-z0-9_]*")
  endif()
  if(NOT A_FUNCTION MATCHES "^(::)?([A-Za-z_][A-Za-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "cpts_embed_migrations(${target}): FUNCTION '${A_FUNCTION}' is not a qualified C++ name")
  endif()
  if(NOT A_FILES)
    message(FATAL_ERROR "cpts_embed_migrations(${target}): FILES is empty")
  endif()

  # Checked here too, so a misnamed file fails at configure time rather than at start-up.
  set(files)
  set(versions)
  foreach(file IN LISTS A_FILES)
    get_filename_component(path "${file}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(name "${path}" NAME)
    if(NOT name MATCHES "^([0-9]+)_([a-z0-9_]+)\\.sql$")
      message(FATAL_ERROR "cpts_embed_migrations(${target}): '${name}' is not named NNNN_<name>.sql")
    endif()
    if(NOT EXISTS "${path}")
      message(FATAL_ERROR "cpts_embed_migrations(${target}): ${path} does not exist")
    endif()
    string(REGEX REPLACE "^0+([0-9])" "\\1" version "${CMAKE_MATCH_1}")
    if(version IN_LIST versions)
      message(FATAL_ERROR "cpts_embed_migrations(${target}): version ${version} appears twice")
    endif()
    list(APPEND versions ${version})
    list(APPEND files "${path}")
  endforeach()
  list(LENGTH versions count)
  foreach(expected RANGE 1 ${count})
    if(NOT expected IN_LIST versions)
      message(FATAL_ERROR "cpts_embed_migrations(${target}): ${A_COMPONENT} version ${expected} is missing (versions must be 1..n)")
    endif()
  endforeach()

  set(output "${CMAKE_CURRENT_BINARY_DIR}/cpts_migrations/${target}_${A_COMPONENT}_migrations.cc")
  # A list would become several arguments of the command: pass it with another separator.
  string(REPLACE ";" "|" files_arg "${files}")
  set(script "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/CptsEmbedMigrationsScript.cmake")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" "-DOUTPUT=${output}" "-DCOMPONENT=${A_COMPONENT}"
            "-DFUNCTION=${A_FUNCTION}" "-DFILES=${files_arg}" -P "${script}"
    DEPENDS ${files} "${script}"
    COMMENT "Embedding ${A_COMPONENT} migrations into ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE "${output}")
  if(NOT target STREQUAL "cpts_platform_db")
    target_link_libraries(${target} PRIVATE cpts_platform_db)
  endif()
endfunction()

# DuckDB::duckdb: DuckDB's C API (duckdb.h + libduckdb.so) as fetched by scripts/bootstrap into
# .tools/duckdb. The version lives in cmake/duckdb-version.txt alone; the stamp .tools/duckdb/VERSION
# must match it, so a version bump fails configure until bootstrap has fetched the new release.
# Binaries that link the target find libduckdb.so at run time through their build rpath.

file(STRINGS ${PROJECT_SOURCE_DIR}/cmake/duckdb-version.txt _aidi_duckdb_version_line
     REGEX "^DUCKDB_VERSION=")
string(REGEX REPLACE "^DUCKDB_VERSION=" "" AIDI_DUCKDB_VERSION "${_aidi_duckdb_version_line}")

set(AIDI_DUCKDB_DIR ${PROJECT_SOURCE_DIR}/.tools/duckdb
    CACHE PATH "Where scripts/bootstrap put DuckDB's C API (include/duckdb.h, lib/libduckdb.so)")

set(_aidi_duckdb_stamp "")
if(EXISTS ${AIDI_DUCKDB_DIR}/VERSION)
  file(STRINGS ${AIDI_DUCKDB_DIR}/VERSION _aidi_duckdb_stamp LIMIT_COUNT 1)
endif()
if(NOT EXISTS ${AIDI_DUCKDB_DIR}/include/duckdb.h OR NOT EXISTS ${AIDI_DUCKDB_DIR}/lib/libduckdb.so
   OR NOT _aidi_duckdb_stamp STREQUAL AIDI_DUCKDB_VERSION)
  message(FATAL_ERROR
    "DuckDB ${AIDI_DUCKDB_VERSION} C API not found in ${AIDI_DUCKDB_DIR} "
    "(found version '${_aidi_duckdb_stamp}'): run scripts/bootstrap")
endif()

add_library(DuckDB::duckdb SHARED IMPORTED GLOBAL)
set_target_properties(DuckDB::duckdb PROPERTIES
  IMPORTED_LOCATION ${AIDI_DUCKDB_DIR}/lib/libduckdb.so
  IMPORTED_SONAME libduckdb.so
  INTERFACE_INCLUDE_DIRECTORIES ${AIDI_DUCKDB_DIR}/include)
# Consumers' BUILD_RPATH: CMake adds the directory of every linked shared library with a known
# location (IMPORTED_LOCATION above) to the build-tree rpath, so tests and aidi-worker run from the
# build tree without LD_LIBRARY_PATH. cuda-workers/duckdb's test checks it by running at all.
message(STATUS "DuckDB ${AIDI_DUCKDB_VERSION}: ${AIDI_DUCKDB_DIR}")

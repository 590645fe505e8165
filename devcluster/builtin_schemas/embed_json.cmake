# cmake -DINPUT=<file.json> -DOUTPUT=<file.cc> -P embed_json.cmake
#
# Writes a C++ source defining
#   namespace aidi::devcluster::builtin_schemas_internal {
#   extern const char* const kJsonChunks[]; extern const std::size_t kJsonChunkCount; }
# whose chunks, concatenated, are INPUT's bytes. Chunks are raw string literals of at most
# 16000 bytes (well under compilers' per-literal limits). INPUT must be ASCII (the generator
# escapes everything else) so that no chunk boundary splits a character.
if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "usage: cmake -DINPUT=in.json -DOUTPUT=out.cc -P embed_json.cmake")
endif()
file(READ "${INPUT}" content)
string(LENGTH "${content}" length)
if(content MATCHES "[^\t\n\r -~]")
  message(FATAL_ERROR "${INPUT}: only printable ASCII is supported")
endif()
set(delimiter "aidi_json")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter")
endif()
set(chunk_size 16000)
set(body "")
set(count 0)
set(offset 0)
while(offset LESS length)
  string(SUBSTRING "${content}" ${offset} ${chunk_size} chunk)
  string(APPEND body "    R\"${delimiter}(${chunk})${delimiter}\",\n")
  math(EXPR offset "${offset} + ${chunk_size}")
  math(EXPR count "${count} + 1")
endwhile()
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by embed_json.cmake. Do not edit.
#include <cstddef>

namespace aidi::devcluster::builtin_schemas_internal {

extern const char* const kJsonChunks[];
extern const std::size_t kJsonChunkCount;

const char* const kJsonChunks[] = {
${body}};
const std::size_t kJsonChunkCount = ${count};

}  // namespace aidi::devcluster::builtin_schemas_internal
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")

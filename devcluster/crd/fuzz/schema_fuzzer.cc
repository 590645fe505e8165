// Fuzzes StructuralSchema: input is "<schema JSON>\n<object JSON>". Parses both without
// exceptions, then runs Prune, ApplyDefaults and Validate as the apiserver does on a write, and
// evaluates a few printer-column JSONPaths. Nothing may crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "devcluster/crd/printer_columns.h"
#include "devcluster/crd/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::size_t nl = input.find('\n');
  std::string schema_text = input.substr(0, nl);
  std::string object_text = nl == std::string::npos ? "{}" : input.substr(nl + 1);
  auto schema_json = nlohmann::json::parse(schema_text, nullptr, /*allow_exceptions=*/false);
  auto object = nlohmann::json::parse(object_text, nullptr, /*allow_exceptions=*/false);
  if (schema_json.is_discarded() || object.is_discarded()) return 0;
  auto schema = aidi::devcluster::StructuralSchema::Parse(schema_json);
  if (!schema.ok()) return 0;
  schema->Prune(object);
  schema->ApplyDefaults(object);
  for (const auto& e : schema->Validate(object)) (void)e.ToString();
  for (const char* path :
       {".spec.a", ".spec.items[*].name", ".status.conditions[?(@.type==\"Ready\")].status"}) {
    (void)aidi::devcluster::EvalJsonPath(object, path);
  }
  return 0;
}

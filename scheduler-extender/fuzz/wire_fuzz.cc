// Fuzzes the extender's request decoding: the input is a request body, decoded as
// ExtenderArgs (filter, prioritize) and as ExtenderBindingArgs (bind). Any crash, sanitizer
// report or exception is a bug; errors are expected. Beyond that it checks:
//   - syntax agrees with nlohmann::json: JsonReader accepts what nlohmann accepts (aside from
//     a leading byte-order mark, which nlohmann skips, and a NUL byte, where nlohmann stops
//     reading), and nlohmann accepts a decoded body (or stops at a number too large for a
//     double, which JSON's grammar allows);
//   - every answer built from a decoded request (all candidates passed, a priority list, an
//     error body) is JSON, and a Nodes-form answer holds the request's node objects.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "scheduler-extender/json_reader.h"
#include "scheduler-extender/wire.h"

namespace {

using namespace aidi::extender;  // NOLINT: a fuzz driver

void Check(bool condition) {
  if (!condition) std::abort();
}

bool NlohmannAccepts(std::string_view text) {
  // nlohmann's accept() parses iteratively, so deep input cannot exhaust the stack.
  return nlohmann::json::accept(text.begin(), text.end());
}

// Accepts everything and remembers the parse error's id (406: a number overflows a double).
struct ErrorIdSax {
  using json = nlohmann::json;
  int error_id = 0;
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(json::string_t&) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    error_id = ex.id;
    return false;
  }
};

// True when nlohmann accepts `text` or stops only at a number overflowing a double.
bool NlohmannAcceptsSyntax(std::string_view text) {
  ErrorIdSax sax;
  if (nlohmann::json::sax_parse(text.begin(), text.end(), &sax)) return true;
  return sax.error_id == 406;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const bool bom = body.substr(0, 3) == "\xef\xbb\xbf";
  const bool nul = body.find('\0') != std::string_view::npos;

  const bool valid = JsonReader::Validate(body).ok();
  if (!bom && !nul && NlohmannAccepts(body)) {
    // JsonReader is stricter only in its depth limit.
    Check(valid ||
          JsonReader::Validate(body).message().find("exceeded max depth") != std::string::npos);
  }

  auto args = DecodeExtenderArgs(body);
  if (args.ok()) {
    Check(valid);
    Check(!bom && !nul && NlohmannAcceptsSyntax(body));
    ExtenderFilterResult all;
    all.passed = args->CandidateNames();
    for (const std::string& name : all.passed) all.failed_nodes[name] = name;
    auto encoded = EncodeFilterResult(all, *args);
    Check(encoded.ok());
    Check(NlohmannAcceptsSyntax(*encoded));  // echoed nodes may hold huge numbers
    if (args->form() == NodeForm::kNodes) {
      std::set<std::string_view> seen;  // a repeated name answers with its first object
      for (const ExtenderNode& node : *args->nodes) {
        Check(NlohmannAcceptsSyntax(node.raw_json));
        if (seen.insert(node.name).second) {
          Check(encoded->find(node.raw_json) != std::string::npos);
        }
      }
    }
    HostPriorityList priorities;
    for (const std::string& name : all.passed) priorities.push_back({name, kMaxExtenderPriority});
    Check(NlohmannAccepts(EncodeHostPriorityList(priorities)));
  } else {
    Check(args.status().code() == aidi::StatusCode::kInvalidArgument);
    Check(NlohmannAccepts(EncodeErrorBody(args.status().message())));
  }

  auto bind = DecodeExtenderBindingArgs(body);
  if (bind.ok()) {
    Check(valid);
    Check(!bind->pod_name.empty() && !bind->pod_namespace.empty() && !bind->node.empty());
  } else {
    Check(bind.status().code() == aidi::StatusCode::kInvalidArgument);
    Check(NlohmannAccepts(EncodeBindingResult(bind.status().message())));
  }
  return 0;
}

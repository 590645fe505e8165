// Params: reading an op's `params` JSON (exactly what a Pipeline stage writes) with errors that
// name the field: `params.where: required`, `params.by[1].column: must be a string`.
//
// A Params is a view of one JSON value plus its path from `params`; At() and Index() give views
// of members and elements. Objects keep the order the user wrote (nlohmann::ordered_json), so
// `derive` and `aggs` produce columns in that order. Views borrow the document: it must outlive
// them. Read-only; safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::worker {

using Json = nlohmann::ordered_json;

// Parses the --params text; InvalidArgument naming the byte where it breaks.
[[nodiscard]] StatusOr<Json> ParseParamsJson(std::string_view text);

class Params {
 public:
  Params(const Json& value, std::string path) : value_(&value), path_(std::move(path)) {}

  const Json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  bool is_null() const { return value_->is_null(); }

  // The member `key`; a view of null when it is absent (or this is not an object).
  Params At(std::string_view key) const;
  // Element i of an array.
  Params Index(size_t i) const;

  // An error about this value: "<path>: <message>".
  Status Error(std::string_view message) const;

  // Fails unless this is an object whose keys are all in `known` (a misspelt key is an error,
  // not silently ignored), or null.
  [[nodiscard]] Status ExpectKeys(std::initializer_list<std::string_view> known) const;

  // Typed readers: `fallback` when the value is null or absent; an error when it has another
  // type. Required() variants fail on null too.
  [[nodiscard]] StatusOr<std::string> String(std::optional<std::string> fallback = {}) const;
  [[nodiscard]] StatusOr<double> Number(std::optional<double> fallback = {}) const;
  [[nodiscard]] StatusOr<int64_t> Integer(std::optional<int64_t> fallback = {}) const;
  [[nodiscard]] StatusOr<bool> Bool(std::optional<bool> fallback = {}) const;
  // An array of non-empty strings (duplicates are an error); an empty list when absent unless
  // `required`.
  [[nodiscard]] StatusOr<std::vector<std::string>> Strings(bool required = false) const;

 private:
  const Json* value_;
  std::string path_;
};

}  // namespace aidi::worker

#include "tests/kube/manifest.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace aidi::kube::testing {
namespace {

using nlohmann::json;

bool Numeric(const std::string& s) {
  return !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-');
}

json Scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return s;
  if (s.empty() || s == "~" || s == "null") return nullptr;
  if (s == "true") return true;
  if (s == "false") return false;
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (*end == '\0' && errno == 0 && Numeric(s)) return i;
  double d = std::strtod(s.c_str(), &end);
  if (*end == '\0' && Numeric(s)) return d;
  return s;
}

}  // namespace

json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return Scalar(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    default:
      return nullptr;
  }
}

StatusOr<json> LoadManifest(const std::string& path) {
  if (!std::ifstream(path).good()) return Status::NotFound(path + ": cannot be read");
  try {
    return YamlToJson(YAML::LoadFile(path));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
}

}  // namespace aidi::kube::testing

#include "operator/api/pipeline.h"

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

namespace aidi::op {
namespace {

using nlohmann::json;

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

Status PathError(const std::string& path, std::string_view what) {
  return Status::Invalid(path + ": " + std::string(what));
}

// The value of `key` in `obj`, or nullptr when it is absent or JSON null (both mean "unset").
const json* Field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status ReadString(const json& obj, const char* key, const std::string& path,
                  std::optional<std::string>* out) {
  const json* v = Field(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return PathError(path + "." + key, "must be a string");
  *out = v->get<std::string>();
  return Status::Ok();
}

// "must be an integer >= min" or "must be an integer in [min, max]".
std::string IntRange(int64_t min, int64_t max) {
  if (max == kInt64Max) return "must be an integer >= " + std::to_string(min);
  return "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

Status ReadInt(const json& obj, const char* key, const std::string& path, int64_t min, int64_t max,
               std::optional<int64_t>* out) {
  const json* v = Field(obj, key);
  if (v == nullptr) return Status::Ok();
  const std::string where = path + "." + key;
  if (!v->is_number_integer()) return PathError(where, IntRange(min, max));
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(kInt64Max)) return PathError(where, IntRange(min, max));
    n = static_cast<int64_t>(u);
  } else {
    n = v->get<int64_t>();
  }
  if (n < min || n > max) return PathError(where, IntRange(min, max));
  *out = n;
  return Status::Ok();
}

// ReadInt for fields stored as int (their schema bounds fit in 32 bits).
Status ReadSmallInt(const json& obj, const char* key, const std::string& path, int64_t min,
                    int64_t max, std::optional<int>* out) {
  std::optional<int64_t> n;
  AIDI_RETURN_IF_ERROR(ReadInt(obj, key, path, min, max, &n));
  if (n) *out = static_cast<int>(*n);  // in range: max <= kInt32Max
  return Status::Ok();
}

Status ReadNumber(const json& obj, const char* key, const std::string& path, double min,
                  std::optional<double>* out) {
  const json* v = Field(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_number() || v->get<double>() < min) {
    return PathError(path + "." + key, "must be a number >= " + json(min).dump());
  }
  *out = v->get<double>();
  return Status::Ok();
}

Status ReadBool(const json& obj, const char* key, const std::string& path, bool* out) {
  const json* v = Field(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_boolean()) return PathError(path + "." + key, "must be a boolean");
  *out = v->get<bool>();
  return Status::Ok();
}

// The object at `key`, or nullptr when unset; an error when it is not an object.
Status ReadObject(const json& obj, const char* key, const std::string& path, const json** out) {
  *out = Field(obj, key);
  if (*out != nullptr && !(*out)->is_object()) {
    return PathError(path + "." + key, "must be an object");
  }
  return Status::Ok();
}

Status ReadArray(const json& obj, const char* key, const std::string& path, const json** out) {
  *out = Field(obj, key);
  if (*out != nullptr && !(*out)->is_array()) {
    return PathError(path + "." + key, "must be an array");
  }
  return Status::Ok();
}

std::string Index(const std::string& path, const char* key, size_t i) {
  return path + "." + key + "[" + std::to_string(i) + "]";
}

Status ReadStringList(const json& obj, const char* key, const std::string& path,
                      std::vector<std::string>* out) {
  const json* arr = nullptr;
  AIDI_RETURN_IF_ERROR(ReadArray(obj, key, path, &arr));
  if (arr == nullptr) return Status::Ok();
  for (size_t i = 0; i < arr->size(); ++i) {
    if (!(*arr)[i].is_string()) return PathError(Index(path, key, i), "must be a string");
    out->push_back((*arr)[i].get<std::string>());
  }
  return Status::Ok();
}

// Reads an enum spelled as one of `names` (indexed by the enum's value).
template <typename E, size_t N>
Status ReadEnum(const json& obj, const char* key, const std::string& path,
                const std::array<std::string_view, N>& names, E* out) {
  std::optional<std::string> s;
  AIDI_RETURN_IF_ERROR(ReadString(obj, key, path, &s));
  if (!s) return Status::Ok();
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == *s) {
      *out = static_cast<E>(i);
      return Status::Ok();
    }
  }
  std::string allowed;
  for (size_t i = 0; i < N; ++i) allowed += (i == 0 ? "" : ", ") + std::string(names[i]);
  return PathError(path + "." + key, "must be one of " + allowed + ", not \"" + *s + "\"");
}

constexpr std::array<std::string_view, 4> kPlacementModes = {"Auto", "Cloud", "Edge", "Sites"};
constexpr std::array<std::string_view, 3> kObjectives = {"MinCost", "MinTime", "Balanced"};
constexpr std::array<std::string_view, 5> kPodGCStrategies = {
    "OnPodCompletion", "OnPodSuccess", "OnPipelineCompletion", "OnPipelineSuccess", "Never"};
constexpr std::array<std::string_view, 5> kStagePhases = {"Pending", "Running", "Succeeded",
                                                          "Failed", "Skipped"};

// An int-or-string Kubernetes quantity, kept as its string.
Status ReadQuantity(const json& obj, const char* key, const std::string& path, std::string* out) {
  const json* v = Field(obj, key);
  if (v == nullptr) return Status::Ok();
  if (v->is_string()) {
    *out = v->get<std::string>();
  } else if (v->is_number_unsigned() || (v->is_number_integer() && v->get<int64_t>() >= 0)) {
    *out = v->dump();
  } else {
    return PathError(path + "." + key,
                     "must be a quantity (a string such as 500m, or an integer >= 0)");
  }
  return Status::Ok();
}

Status ParseInput(const json& in, const std::string& path, StageInput* out) {
  if (!in.is_object()) return PathError(path, "must be an object");
  AIDI_RETURN_IF_ERROR(ReadString(in, "stage", path, &out->stage));
  AIDI_RETURN_IF_ERROR(ReadString(in, "uri", path, &out->uri));
  AIDI_RETURN_IF_ERROR(ReadString(in, "site", path, &out->site));
  AIDI_RETURN_IF_ERROR(ReadInt(in, "bytes", path, 0, kInt64Max, &out->bytes));
  if (out->stage.has_value() == out->uri.has_value()) {
    return PathError(path, "exactly one of stage or uri must be set");
  }
  return Status::Ok();
}

Status ParseResources(const json& obj, const std::string& path, Resources* out) {
  AIDI_RETURN_IF_ERROR(ReadQuantity(obj, "cpu", path, &out->cpu));
  AIDI_RETURN_IF_ERROR(ReadQuantity(obj, "memory", path, &out->memory));
  const json* gpu = nullptr;
  AIDI_RETURN_IF_ERROR(ReadObject(obj, "gpu", path, &gpu));
  if (gpu == nullptr) return Status::Ok();
  const std::string gpath = path + ".gpu";
  std::optional<int> count;
  AIDI_RETURN_IF_ERROR(ReadSmallInt(*gpu, "count", gpath, 0, 64, &count));
  out->gpu.count = count.value_or(0);
  AIDI_RETURN_IF_ERROR(ReadString(*gpu, "model", gpath, &out->gpu.model));
  return ReadSmallInt(*gpu, "minMemoryGiB", gpath, 0, kInt32Max, &out->gpu.min_memory_gib);
}

Status ParsePlacement(const json& obj, const std::string& path, Placement* out) {
  AIDI_RETURN_IF_ERROR(ReadEnum(obj, "mode", path, kPlacementModes, &out->mode));
  AIDI_RETURN_IF_ERROR(ReadStringList(obj, "sites", path, &out->sites));
  AIDI_RETURN_IF_ERROR(ReadInt(obj, "maxLatencyMs", path, 0, kInt64Max, &out->max_latency_ms));
  const json* w = nullptr;
  AIDI_RETURN_IF_ERROR(ReadObject(obj, "weights", path, &w));
  if (w != nullptr) {
    const std::string wpath = path + ".weights";
    PlacementWeights weights;
    AIDI_RETURN_IF_ERROR(ReadNumber(*w, "cost", wpath, 0, &weights.cost));
    AIDI_RETURN_IF_ERROR(ReadNumber(*w, "time", wpath, 0, &weights.time));
    AIDI_RETURN_IF_ERROR(ReadNumber(*w, "latency", wpath, 0, &weights.latency));
    out->weights = weights;
  }
  if ((out->mode == PlacementMode::kSites) != !out->sites.empty()) {
    return PathError(path + ".sites", "must be set when mode is Sites, and only then");
  }
  return Status::Ok();
}

Status ParseRetry(const json& obj, const std::string& path, Retry* out) {
  std::optional<int> limit;
  AIDI_RETURN_IF_ERROR(ReadSmallInt(obj, "limit", path, 0, 100, &limit));
  out->limit = limit.value_or(0);
  const json* b = nullptr;
  AIDI_RETURN_IF_ERROR(ReadObject(obj, "backoff", path, &b));
  if (b == nullptr) return Status::Ok();
  const std::string bpath = path + ".backoff";
  std::optional<int64_t> initial, max;
  std::optional<double> factor;
  AIDI_RETURN_IF_ERROR(ReadInt(*b, "initialSeconds", bpath, 0, kInt64Max, &initial));
  AIDI_RETURN_IF_ERROR(ReadNumber(*b, "factor", bpath, 1, &factor));
  AIDI_RETURN_IF_ERROR(ReadInt(*b, "maxSeconds", bpath, 0, kInt64Max, &max));
  if (initial) out->backoff.initial_seconds = *initial;
  if (factor) out->backoff.factor = *factor;
  if (max) out->backoff.max_seconds = *max;
  if (out->backoff.max_seconds < out->backoff.initial_seconds) {
    return PathError(bpath + ".maxSeconds", "must be at least initialSeconds");
  }
  return Status::Ok();
}

Status ParseHostAccess(const json& obj, const std::string& path, HostAccess* out) {
  AIDI_RETURN_IF_ERROR(ReadBool(obj, "privileged", path, &out->privileged));
  AIDI_RETURN_IF_ERROR(ReadBool(obj, "hostNetwork", path, &out->host_network));
  AIDI_RETURN_IF_ERROR(ReadBool(obj, "hostPID", path, &out->host_pid));
  const json* arr = nullptr;
  AIDI_RETURN_IF_ERROR(ReadArray(obj, "hostPaths", path, &arr));
  for (size_t i = 0; arr != nullptr && i < arr->size(); ++i) {
    const std::string hpath = Index(path, "hostPaths", i);
    const json& h = (*arr)[i];
    if (!h.is_object()) return PathError(hpath, "must be an object");
    HostPathMount m;
    for (auto [key, field] : {std::pair{"path", &m.path}, {"mountPath", &m.mount_path}}) {
      std::optional<std::string> v;
      AIDI_RETURN_IF_ERROR(ReadString(h, key, hpath, &v));
      if (!v || v->empty() || (*v)[0] != '/') {
        return PathError(hpath + "." + key, "must be an absolute path");
      }
      *field = std::move(*v);
    }
    AIDI_RETURN_IF_ERROR(ReadBool(h, "readOnly", hpath, &m.read_only));
    out->host_paths.push_back(std::move(m));
  }
  return Status::Ok();
}

Status ParseStage(const json& s, const std::string& path, Stage* out) {
  if (!s.is_object()) return PathError(path, "must be an object");
  std::optional<std::string> name;
  AIDI_RETURN_IF_ERROR(ReadString(s, "name", path, &name));
  if (!name || name->empty()) return PathError(path + ".name", "must be a non-empty string");
  out->name = std::move(*name);
  AIDI_RETURN_IF_ERROR(ReadStringList(s, "dependsOn", path, &out->depends_on));
  AIDI_RETURN_IF_ERROR(ReadString(s, "op", path, &out->op));
  if (const json* params = Field(s, "params"); params != nullptr) {
    if (!params->is_object()) return PathError(path + ".params", "must be an object");
    out->params = *params;
  }
  AIDI_RETURN_IF_ERROR(ReadString(s, "image", path, &out->image));
  AIDI_RETURN_IF_ERROR(ReadStringList(s, "command", path, &out->command));
  AIDI_RETURN_IF_ERROR(ReadStringList(s, "args", path, &out->args));

  const json* arr = nullptr;
  AIDI_RETURN_IF_ERROR(ReadArray(s, "env", path, &arr));
  for (size_t i = 0; arr != nullptr && i < arr->size(); ++i) {
    const std::string epath = Index(path, "env", i);
    const json& e = (*arr)[i];
    if (!e.is_object()) return PathError(epath, "must be an object");
    std::optional<std::string> ename, value;
    AIDI_RETURN_IF_ERROR(ReadString(e, "name", epath, &ename));
    if (!ename || ename->empty()) return PathError(epath + ".name", "must be a non-empty string");
    AIDI_RETURN_IF_ERROR(ReadString(e, "value", epath, &value));
    out->env.push_back({std::move(*ename), value.value_or("")});
  }

  AIDI_RETURN_IF_ERROR(ReadArray(s, "inputs", path, &arr));
  for (size_t i = 0; arr != nullptr && i < arr->size(); ++i) {
    StageInput in;
    AIDI_RETURN_IF_ERROR(ParseInput((*arr)[i], Index(path, "inputs", i), &in));
    out->inputs.push_back(std::move(in));
  }

  const json* obj = nullptr;
  AIDI_RETURN_IF_ERROR(ReadObject(s, "resources", path, &obj));
  if (obj) AIDI_RETURN_IF_ERROR(ParseResources(*obj, path + ".resources", &out->resources));
  AIDI_RETURN_IF_ERROR(ReadObject(s, "placement", path, &obj));
  if (obj) AIDI_RETURN_IF_ERROR(ParsePlacement(*obj, path + ".placement", &out->placement));
  AIDI_RETURN_IF_ERROR(ReadObject(s, "work", path, &obj));
  if (obj) {
    const std::string wpath = path + ".work";
    AIDI_RETURN_IF_ERROR(ReadNumber(*obj, "gpuSeconds", wpath, 0, &out->work.gpu_seconds));
    AIDI_RETURN_IF_ERROR(ReadInt(*obj, "inputBytes", wpath, 0, kInt64Max, &out->work.input_bytes));
  }
  AIDI_RETURN_IF_ERROR(ReadObject(s, "retry", path, &obj));
  if (obj) AIDI_RETURN_IF_ERROR(ParseRetry(*obj, path + ".retry", &out->retry));
  AIDI_RETURN_IF_ERROR(ReadObject(s, "timeouts", path, &obj));
  if (obj) {
    const std::string tpath = path + ".timeouts";
    AIDI_RETURN_IF_ERROR(
        ReadInt(*obj, "activeSeconds", tpath, 1, kInt64Max, &out->timeouts.active_seconds));
    AIDI_RETURN_IF_ERROR(
        ReadInt(*obj, "pendingSeconds", tpath, 1, kInt64Max, &out->timeouts.pending_seconds));
  }
  AIDI_RETURN_IF_ERROR(ReadObject(s, "hostAccess", path, &obj));
  if (obj) AIDI_RETURN_IF_ERROR(ParseHostAccess(*obj, path + ".hostAccess", &out->host_access));
  if (out->op && out->host_access.Any()) {
    return PathError(path + ".hostAccess", "only stages with an image may ask for host access");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<HostAccessPolicy> HostAccessPolicy::FromNames(const std::vector<std::string>& names) {
  HostAccessPolicy p;
  for (const std::string& n : names) {
    if (n == "privileged") {
      p.privileged = true;
    } else if (n == "hostNetwork") {
      p.host_network = true;
    } else if (n == "hostPID") {
      p.host_pid = true;
    } else if (n == "hostPath") {
      p.host_path = true;
    } else {
      return Status::InvalidArgument("\"" + n +
                                     "\" is not a kind of host access (privileged, hostNetwork, "
                                     "hostPID, hostPath)");
    }
  }
  return p;
}

Status CheckHostAccess(const PipelineSpec& spec, const HostAccessPolicy& policy) {
  for (size_t i = 0; i < spec.stages.size(); ++i) {
    const HostAccess& h = spec.stages[i].host_access;
    const char* refused = h.privileged && !policy.privileged           ? "privileged"
                          : h.host_network && !policy.host_network     ? "hostNetwork"
                          : h.host_pid && !policy.host_pid             ? "hostPID"
                          : !h.host_paths.empty() && !policy.host_path ? "hostPaths"
                                                                       : nullptr;
    if (refused == nullptr) continue;
    const std::string kind = std::string(refused) == "hostPaths" ? "hostPath" : refused;
    return Status::Invalid("spec.stages[" + std::to_string(i) + "].hostAccess." + refused +
                           ": this operator does not allow " + kind +
                           " (an admin allows it with --allow-host-access=" + kind + ")");
  }
  return Status::Ok();
}

std::string_view PlacementModeName(PlacementMode mode) {
  return kPlacementModes[static_cast<size_t>(mode)];
}
std::string_view ObjectiveName(Objective objective) {
  return kObjectives[static_cast<size_t>(objective)];
}
std::string_view PodGCStrategyName(PodGCStrategy strategy) {
  return kPodGCStrategies[static_cast<size_t>(strategy)];
}
std::string_view StagePhaseName(StagePhase phase) {
  return kStagePhases[static_cast<size_t>(phase)];
}

StatusOr<PipelineSpec> ParsePipelineSpec(const nlohmann::json& spec) {
  const std::string path = "spec";
  if (!spec.is_object()) return PathError(path, "must be an object");
  PipelineSpec out;
  const json* stages = nullptr;
  AIDI_RETURN_IF_ERROR(ReadArray(spec, "stages", path, &stages));
  if (stages == nullptr || stages->empty()) {
    return PathError(path + ".stages", "must list at least 1 stage");
  }
  out.stages.reserve(stages->size());
  for (size_t i = 0; i < stages->size(); ++i) {
    Stage stage;
    AIDI_RETURN_IF_ERROR(ParseStage((*stages)[i], Index(path, "stages", i), &stage));
    out.stages.push_back(std::move(stage));
  }
  AIDI_RETURN_IF_ERROR(ReadSmallInt(spec, "parallelism", path, 1, kInt32Max, &out.parallelism));
  AIDI_RETURN_IF_ERROR(ReadBool(spec, "suspend", path, &out.suspend));
  AIDI_RETURN_IF_ERROR(ReadEnum(spec, "objective", path, kObjectives, &out.objective));
  AIDI_RETURN_IF_ERROR(ReadString(spec, "workspace", path, &out.workspace));
  AIDI_RETURN_IF_ERROR(ReadString(spec, "serviceAccountName", path, &out.service_account_name));
  AIDI_RETURN_IF_ERROR(ReadInt(spec, "ttlSecondsAfterFinished", path, 0, kInt64Max,
                               &out.ttl_seconds_after_finished));
  const json* gc = nullptr;
  AIDI_RETURN_IF_ERROR(ReadObject(spec, "podGC", path, &gc));
  if (gc != nullptr) {
    AIDI_RETURN_IF_ERROR(
        ReadEnum(*gc, "strategy", path + ".podGC", kPodGCStrategies, &out.pod_gc_strategy));
  }
  return out;
}

}  // namespace aidi::op

// Server-side Table output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`) for custom
// resources, from a CRD version's `additionalPrinterColumns`, the way apiextensions-apiserver's
// tableconvertor does it: a Name column first, then each column (jsonPath evaluated with the
// client-go JSONPath subset: fields, [n], [a:b], [*], ['key'], [?(@.f=="v")]; only the FIRST
// match fills a cell, a miss is null), `date` columns rendered server-side as HumanDuration
// ("3m30s", "<invalid>" for future times), priority carried through, and the default Age column
// when the CRD declares none. See printer_columns.cc for the exact cell rules.
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"

namespace aidi::devcluster {

// Evaluates a printer-column JSONPath (".status.phase", ".spec.stages[*].name") on `object`.
// Returns the matched values (empty when the path finds nothing, or on what upstream treats as
// an evaluation error: an index out of range, [n] on a non-list). InvalidArgument on a bad path.
StatusOr<std::vector<nlohmann::json>> EvalJsonPath(const nlohmann::json& object,
                                                   const std::string& path);

// The Table's columnDefinitions for a CRD version (`version` is one entry of spec.versions).
nlohmann::json TableColumnsFor(const nlohmann::json& version);

// One row's cells for `object`, matching TableColumnsFor(version). `now` renders ages.
nlohmann::json TableCellsFor(const nlohmann::json& version, const nlohmann::json& object,
                             Clock::WallTime now);

// "5s", "3m", "2d4h", ... as k8s.io/apimachinery/pkg/util/duration.HumanDuration.
std::string HumanDuration(std::chrono::seconds d);

}  // namespace aidi::devcluster

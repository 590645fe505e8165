// Small measuring helpers for the devcluster benchmark: percentiles and what /proc says about
// a server process (resident memory, CPU time) and the machine (load average).
//
// Thread safety: pure functions or reads of /proc; call from any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace aidi::bench {

// Nearest-rank percentile (p in [0, 100]) of `v`; 0 when empty. Sorts `v`.
double Percentile(std::vector<double>& v, double p);

// VmRSS of `pid` in bytes (from /proc/<pid>/status); 0 when unreadable.
long long RssBytes(pid_t pid);

// CPU seconds `pid` has used (from /proc/<pid>/stat); zeros when unreadable.
struct CpuTimes {
  double user = 0;
  double sys = 0;
  double Total() const { return user + sys; }
  CpuTimes operator-(const CpuTimes& o) const { return {user - o.user, sys - o.sys}; }
};
CpuTimes ProcessCpu(pid_t pid);

// The first three fields of /proc/loadavg, e.g. "3.10 2.95 2.40".
std::string LoadAverage();

}  // namespace aidi::bench

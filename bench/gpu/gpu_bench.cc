// gpu_bench: measures each GPU primitive's effective throughput (the bytes it must read and write
// per row, over its time) on device-resident columns of --rows rows, as a fraction of the
// device-to-device copy bandwidth measured in the same run, next to the goals of issue 6; checks
// each result against a plain CPU computation on the same data (reference.h); and runs the
// edge-case self-test (selftest.h). Prints a markdown table; with $OUT set, also writes it to
// $OUT/gpu_bench.md. Exit status 1 when a check fails (a throughput under its goal is reported,
// not failed: a benchmark measures).
//
//   gpu_bench [--rows N] [--reps N] [--selftest]   (--selftest: only the edge-case checks)
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/gpu/reference.h"
#include "bench/gpu/selftest.h"
#include "cuda-workers/expr/bind.h"
#include "cuda-workers/expr/eval.h"
#include "cuda-workers/expr/program.h"
#include "cuda-workers/gpu/device.h"
#include "cuda-workers/gpu/gpu.h"

namespace aidi::bench::gpu {
namespace {

namespace expr = worker::expr;
namespace dev = worker::gpu::device;
using dev::DeviceColumn;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "gpu_bench: %s\n", what.c_str());
  std::exit(2);
}

template <typename T>
T Must(StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(std::string(what) + ": " + v.status().ToString());
  return std::move(v).value();
}

void MustCuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess) Die(std::string(what) + ": " + cudaGetErrorString(err));
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Median milliseconds of `reps` runs of `f` after `warmup` runs, timed with CUDA events on the
// per-thread stream the primitives use (host syncs inside `f`, as in Filter, are included).
double MedianMs(const std::function<void()>& f, int reps, int warmup = 2) {
  cudaStream_t s = cudaStreamPerThread;
  for (int i = 0; i < warmup; ++i) f();
  MustCuda(cudaStreamSynchronize(s), "warm-up");
  cudaEvent_t start, stop;
  MustCuda(cudaEventCreate(&start), "event");
  MustCuda(cudaEventCreate(&stop), "event");
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    MustCuda(cudaEventRecord(start, s), "record");
    f();
    MustCuda(cudaEventRecord(stop, s), "record");
    MustCuda(cudaEventSynchronize(stop), "event sync");
    float t = 0;
    MustCuda(cudaEventElapsedTime(&t, start, stop), "elapsed");
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// xorshift64*: fast, deterministic data.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
};

struct Row {
  std::string primitive;
  double bytes_per_row = 0;  // 0: no bandwidth figure
  double ms = 0;
  double goal = 0;  // fraction of D2D; 0: none
  std::string check;
  std::string note;
};

struct Report {
  std::string device;
  size_t rows = 0;
  double d2d_gbps = 0;
  double d2d_ms = 0;
  size_t d2d_bytes = 0;
  std::vector<Row> rows_out;
  std::vector<CheckResult> selftest;
  int failures = 0;

  std::string Markdown() const {
    std::string md;
    char buf[512];
    md += "## gpu_bench on " + device + "\n\n";
    if (rows > 0) {
      std::snprintf(buf, sizeof buf,
                    "Device-to-device copy (cudaMemcpyAsync, %.2f GiB, read + write counted): "
                    "%.3f ms, **%.0f GB/s**. Columns of %zu rows; time = median of the runs after "
                    "warm-up (CUDA events); throughput = bytes the primitive must read and write "
                    "/ time.\n\n",
                    static_cast<double>(d2d_bytes) / (1 << 30), d2d_ms, d2d_gbps, rows);
      md += buf;
      md += "| primitive | bytes/row | time (ms) | GB/s | % of D2D | goal | check |\n";
      md += "|---|---:|---:|---:|---:|---:|---|\n";
      for (const Row& r : rows_out) {
        const double gbps =
            r.bytes_per_row > 0 ? r.bytes_per_row * static_cast<double>(rows) / r.ms / 1e6 : 0;
        const double frac = gbps / d2d_gbps;
        std::string goal = "—";
        if (r.goal > 0) {
          std::snprintf(buf, sizeof buf, "≥ %.0f%% %s", r.goal * 100,
                        frac >= r.goal ? "✅" : "❌ below");
          goal = buf;
        }
        std::string bw = "—", pct = "—", bpr = "—";
        if (r.bytes_per_row > 0) {
          std::snprintf(buf, sizeof buf, "%.1f", r.bytes_per_row);
          bpr = buf;
          std::snprintf(buf, sizeof buf, "%.0f", gbps);
          bw = buf;
          std::snprintf(buf, sizeof buf, "%.0f%%", frac * 100);
          pct = buf;
        }
        std::snprintf(buf, sizeof buf, "| %s | %s | %.3f | %s | %s | %s | %s |\n",
                      (r.primitive + (r.note.empty() ? "" : " (" + r.note + ")")).c_str(),
                      bpr.c_str(), r.ms, bw.c_str(), pct.c_str(), goal.c_str(), r.check.c_str());
        md += buf;
      }
      md += "\n";
    }
    int passed = 0;
    for (const CheckResult& c : selftest) passed += c.pass ? 1 : 0;
    std::snprintf(buf, sizeof buf, "Self-test (edge cases vs CPU): %d/%zu PASS\n", passed,
                  selftest.size());
    md += buf;
    for (const CheckResult& c : selftest) {
      if (!c.pass) md += "- FAIL " + c.name + ": " + c.detail + "\n";
    }
    return md;
  }
};

std::string Verdict(const std::string& detail, Report& report) {
  if (detail.empty()) return "PASS";
  ++report.failures;
  std::fprintf(stderr, "gpu_bench: check failed: %s\n", detail.c_str());
  return "FAIL: " + detail.substr(0, 120);
}

void RunBench(Report& report, size_t n, int reps) {
  auto t0 = std::chrono::steady_clock::now();
  // D2D copy bandwidth on a buffer as large as a 100M-row double column (or 1 GiB at least).
  {
    const size_t bytes = std::max<size_t>(n * 8, size_t{1} << 30);
    auto a = Must(dev::DeviceBuffer::Allocate(bytes), "alloc");
    auto b = Must(dev::DeviceBuffer::Allocate(bytes), "alloc");
    MustCuda(cudaMemsetAsync(a.data(), 1, bytes, cudaStreamPerThread), "memset");
    report.d2d_bytes = bytes;
    report.d2d_ms = MedianMs(
        [&] {
          MustCuda(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice,
                                   cudaStreamPerThread),
                   "memcpy");
        },
        reps + 4);
    report.d2d_gbps = 2.0 * static_cast<double>(bytes) / report.d2d_ms / 1e6;
  }
  std::fprintf(stderr, "gpu_bench: D2D %.0f GB/s; generating %zu rows\n", report.d2d_gbps, n);

  // Data: a (double, 1% NULL, uniform [0, 1000)), b (double, no NULL, uniform [-1, 1)),
  // k (int64 key, 16 values, 1% NULL).
  Rng rng{0x9e3779b97f4a7c15ull};
  std::vector<double> av(n), bv(n);
  std::vector<int64_t> kv(n);
  std::vector<uint8_t> aok(n), kok(n);
  for (size_t r = 0; r < n; ++r) {
    const uint64_t x = rng.Next();
    aok[r] = x % 100 != 0;
    kok[r] = (x >> 8) % 100 != 0;
    av[r] = aok[r] ? rng.Uniform() * 1000.0 : 0.0;
    bv[r] = rng.Uniform() * 2.0 - 1.0;
    kv[r] = kok[r] ? static_cast<int64_t>((x >> 20) % 16) : 0;
  }
  const Column a = Column::Double("a", std::move(av), std::move(aok));
  const Column b = Column::Double("b", std::move(bv));
  const Column k = Column::Int64("k", std::move(kv), std::move(kok));
  const DeviceColumn da = Must(dev::Upload(a), "upload a");
  const DeviceColumn db = Must(dev::Upload(b), "upload b");
  const DeviceColumn dk = Must(dev::Upload(k), "upload k");
  MustCuda(cudaStreamSynchronize(cudaStreamPerThread), "upload");
  std::fprintf(stderr, "gpu_bench: data ready after %.1f s\n", Seconds(t0));

  const expr::Schema schema = {
      {"a", expr::Type::kDouble}, {"b", expr::Type::kDouble}, {"k", expr::Type::kInt64}};
  std::vector<expr::ColumnView> views = {
      {expr::Type::kDouble, nullptr, a.doubles.data(), nullptr, nullptr, a.validity.data()},
      {expr::Type::kDouble, nullptr, b.doubles.data(), nullptr, nullptr, b.validity.data()},
      {expr::Type::kInt64, k.int64s.data(), nullptr, nullptr, nullptr, k.validity.data()}};
  const DeviceColumn* by_schema[] = {&da, &db, &dk};

  auto eval_row = [&](const char* text, double bytes_per_row) -> std::optional<DeviceColumn> {
    const expr::Program program = expr::Compile(Must(expr::ParseAndBind(text, schema), text));
    std::vector<const DeviceColumn*> slots;
    for (const int32_t c : program.columns) slots.push_back(by_schema[c]);
    Row row;
    row.primitive = std::string("Evaluate `") + text + "`";
    row.bytes_per_row = bytes_per_row;
    row.goal = 0.75;
    row.ms = MedianMs([&] { Must(dev::Evaluate(program, slots, n), "evaluate"); }, reps);
    DeviceColumn out = Must(dev::Evaluate(program, slots, n), "evaluate");
    const Column got = Must(dev::Download(out), "download");
    auto want = Must(expr::Evaluate(program, views, n), "cpu evaluate");
    Column w;
    w.validity = std::move(want.valid);
    if (want.type == expr::Type::kDouble) {
      w.type = ColumnType::kDouble;
      w.doubles = std::move(want.doubles);
    } else {
      w.type = ColumnType::kBool;
      w.bools = std::move(want.bools);
    }
    row.check = Verdict(CompareColumns(w, got, 1e-9), report);
    report.rows_out.push_back(row);
    return out;
  };
  // a, b: 8 + 1 + 8 read; 8 + 1 written.
  eval_row("a * 2.5 + b", 26);
  // a: 8 + 1 read; 1 + 1 written. Its result is the Filter mask below.
  DeviceColumn mask = *eval_row("a > 500.0", 11);
  std::fprintf(stderr, "gpu_bench: evaluate done after %.1f s\n", Seconds(t0));

  // Stats: 9 bytes read per row.
  {
    Row row{"Stats(a)", 9, 0, 0.75, "", ""};
    row.ms = MedianMs([&] { Must(dev::Stats(da), "stats"); }, reps);
    const auto got = Must(dev::Stats(da), "stats");
    row.check = Verdict(CompareStats(RefStats(a), got, false, 1e-9), report);
    report.rows_out.push_back(row);

    Row norm{"Normalize(a, zscore)", 18, 0, 0.75, "", ""};
    norm.ms = MedianMs(
        [&] {
          Must(dev::Normalize(da, worker::gpu::NormalizeMethod::kZScore, got,
                              worker::gpu::ZeroRange::kNull),
               "normalize");
        },
        reps);
    const DeviceColumn out = Must(dev::Normalize(da, worker::gpu::NormalizeMethod::kZScore, got,
                                                 worker::gpu::ZeroRange::kNull),
                                  "normalize");
    norm.check = Verdict(CompareColumns(RefNormalize(a, worker::gpu::NormalizeMethod::kZScore, got,
                                                     worker::gpu::ZeroRange::kNull),
                                        Must(dev::Download(out), "download"), 0),
                         report);
    report.rows_out.push_back(norm);
  }
  std::fprintf(stderr, "gpu_bench: stats/normalize done after %.1f s\n", Seconds(t0));

  // Filter a and k by `a > 500.0`: mask 2 bytes/row read, each column 9 read, kept rows written.
  {
    const Column host_mask = Must(dev::Download(mask), "download mask");
    size_t kept = 0;
    for (size_t r = 0; r < n; ++r) kept += host_mask.validity[r] && host_mask.bools[r];
    const double sel = static_cast<double>(kept) / static_cast<double>(std::max<size_t>(n, 1));
    const DeviceColumn* cols[] = {&da, &dk};
    Row row{"Filter(a, k)", 2 + 18 + 18 * sel, 0, 0.60, "", ""};
    char note[64];
    std::snprintf(note, sizeof note, "%.0f%% kept", sel * 100);
    row.note = note;
    row.ms = MedianMs([&] { Must(dev::Filter(mask, cols), "filter"); }, reps);
    const auto out = Must(dev::Filter(mask, cols), "filter");
    std::string detail =
        CompareColumns(RefFilter(host_mask, a), Must(dev::Download(out[0]), "dl"), 0);
    if (detail.empty()) {
      detail = CompareColumns(RefFilter(host_mask, k), Must(dev::Download(out[1]), "dl"), 0);
    }
    row.check = Verdict(detail, report);
    report.rows_out.push_back(row);
  }
  std::fprintf(stderr, "gpu_bench: filter done after %.1f s\n", Seconds(t0));

  // GroupBy k (17 groups with NULL): sum, mean, max of a and count(): k and a read once.
  {
    using K = worker::gpu::AggregateKind;
    const std::vector<worker::gpu::Aggregate> aggs = {{K::kSum, 0, "sum_a"},
                                                      {K::kMean, 0, "mean_a"},
                                                      {K::kMax, 0, "max_a"},
                                                      {K::kCount, -1, "n"}};
    const DeviceColumn* keys[] = {&dk};
    const DeviceColumn* values[] = {&da};
    Row row{"GroupBy(k; sum, mean, max of a, count)", 18, 0, 0.60, "", ""};
    row.ms = MedianMs([&] { Must(dev::GroupBy(keys, values, aggs), "groupby"); }, reps);
    const auto got = Must(dev::GroupBy(keys, values, aggs), "groupby");
    row.note =
        std::to_string(got.empty() ? 0 : got[0].size()) + " groups, " + dev::LastGroupByStrategy();
    const std::vector<Column> kk = {k}, vv = {a};
    const auto want = RefGroupBy(kk, vv, aggs);
    std::string detail = want ? "" : "reference overflow";
    for (size_t c = 0; detail.empty() && c < want->size(); ++c) {
      detail = CompareColumns((*want)[c], got[c], 1e-9);
    }
    row.check = Verdict(detail, report);
    report.rows_out.push_back(row);
  }
  std::fprintf(stderr, "gpu_bench: groupby done after %.1f s\n", Seconds(t0));

  // Histogram of a, 100 bins: 9 bytes read per row.
  {
    Row row{"Histogram(a, 100 bins)", 9, 0, 0, "", ""};
    row.ms = MedianMs([&] { Must(dev::Histogram(da, 100, 0, 1000), "histogram"); }, reps);
    const auto got = Must(dev::Histogram(da, 100, 0, 1000), "histogram");
    row.check = Verdict(CompareHistograms(RefHistogram(a, 100, 0, 1000), got), report);
    report.rows_out.push_back(row);
  }

  // SortIndices on (k, a desc) and the Gather of b by it.
  {
    using D = worker::gpu::SortDirection;
    const DeviceColumn* keys[] = {&dk, &da};
    const D dirs[] = {D::kAscending, D::kDescending};
    Row row{"SortIndices(k, a desc)", 0, 0, 0, "", "radix sort, 3 passes"};
    row.ms = MedianMs([&] { Must(dev::SortIndices(keys, dirs, std::nullopt), "sort"); },
                      std::max(3, reps / 2), 1);
    const auto order = Must(dev::SortIndices(keys, dirs, std::nullopt), "sort");
    const auto host_order = Must(dev::DownloadIndices(order), "download order");
    const std::vector<Column> kk = {k, a};
    row.check = Verdict(CheckSortOrder(kk, dirs, host_order, std::nullopt), report);
    char note[64];
    std::snprintf(note, sizeof note, "%.0f M rows/s", static_cast<double>(n) / row.ms / 1e3);
    row.note = note;
    report.rows_out.push_back(row);

    Row gather{"Gather(b by that order)", 4 + 8 + 8, 0, 0, "", "random reads"};
    gather.ms = MedianMs([&] { Must(dev::Gather(db, order), "gather"); }, reps);
    const DeviceColumn g = Must(dev::Gather(db, order), "gather");
    gather.check = Verdict(
        CompareColumns(RefGather(b, host_order), Must(dev::Download(g), "download"), 0), report);
    report.rows_out.push_back(gather);
  }
  std::fprintf(stderr, "gpu_bench: all measured after %.1f s\n", Seconds(t0));
}

}  // namespace
}  // namespace aidi::bench::gpu

int main(int argc, char** argv) {
  using namespace aidi::bench::gpu;
  size_t rows = 100'000'000;
  int reps = 7;
  bool selftest_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rows" && i + 1 < argc) {
      rows = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--selftest") {
      selftest_only = true;
    } else {
      std::fprintf(stderr, "usage: gpu_bench [--rows N] [--reps N] [--selftest]\n");
      return 2;
    }
  }
  if (!aidi::worker::gpu::Available()) {
    std::fprintf(stderr, "gpu_bench: %s\n", aidi::worker::gpu::DeviceDescription().c_str());
    return 2;
  }
  Report report;
  report.device = aidi::worker::gpu::DeviceDescription();
  report.selftest = RunSelfTest();
  for (const CheckResult& c : report.selftest) {
    std::fprintf(stderr, "%s %s%s%s\n", c.pass ? "PASS" : "FAIL", c.name.c_str(),
                 c.pass ? "" : ": ", c.detail.c_str());
    if (!c.pass) ++report.failures;
  }
  if (!selftest_only) {
    report.rows = rows;
    RunBench(report, rows, reps);
  }
  const std::string md = report.Markdown();
  std::fputs(md.c_str(), stdout);
  if (const char* out = std::getenv("OUT"); out != nullptr && *out != '\0') {
    std::ofstream(std::string(out) + "/gpu_bench.md") << md;
  }
  return report.failures == 0 ? 0 : 1;
}

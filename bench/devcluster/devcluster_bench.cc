// devcluster_bench: measures aidi-devcluster next to an anchor server in the same run and
// prints the figures as markdown tables for docs/benchmarks.md:
//   1. creates/s of ~1 KiB ConfigMaps over 1 and 8 keep-alive connections (in memory, with
//      --state-dir where every acknowledged write is fsynced, and over TLS);
//   2. a full LIST of 10,000 ConfigMaps (p50/p95, bytes) and the same list paged (limit=500);
//   3. watch fan-out: 100 watches, then N updates; events/s delivered and delivery latency;
//   4. resident memory per stored object at 10,000 and 50,000 objects, next to their JSON size.
// bench/devcluster/run.sh starts the servers (and the anchor, anchor_server.py) and calls it.
// It measures and records; it asserts nothing (see STYLE.md: a benchmark is not a test).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/devcluster/http_client.h"
#include "bench/devcluster/measure.h"
#include "bench/devcluster/workload.h"

namespace aidi::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

void Progress(const char* fmt, auto... args) {
  std::fprintf(stderr, "devcluster_bench: ");
  std::fprintf(stderr, fmt, args...);
  std::fprintf(stderr, "\n");
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "devcluster_bench: %s\n", what.c_str());
  std::exit(1);
}

// A server under test: where it listens, and its process for /proc readings.
struct Server {
  std::string label;
  Endpoint endpoint;
  pid_t pid = 0;
};

std::optional<Server> LoadServer(const std::string& label, const std::string& kubeconfig,
                                 pid_t pid) {
  if (kubeconfig.empty()) return std::nullopt;
  auto ep = LoadKubeconfig(kubeconfig);
  if (!ep.ok()) Die(ep.status().ToString());
  return Server{label, std::move(ep).value(), pid};
}

void EnsureNamespace(const Server& s, const std::string& ns) {
  HttpConnection c(s.endpoint);
  auto r = c.Do("POST", "/api/v1/namespaces", NamespaceJson(ns));
  if (!r.ok()) Die(s.label + ": creating namespace " + ns + ": " + r.status().ToString());
  if (r->status != 201 && r->status != 409) {
    Die(s.label + ": creating namespace " + ns + ": HTTP " + std::to_string(r->status) + " " +
        r->body.substr(0, 300));
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Creates.

struct CreateRun {
  std::string server;
  int conns = 0;
  std::size_t ok = 0;
  std::size_t failed = 0;
  double seconds = 0;
  std::vector<double> latency_ms;
  std::vector<double> rep_rates;  // creates/s of each repetition
  CpuTimes server_cpu;
  double request_bytes = 0;  // mean POST body
  double object_bytes = 0;   // mean stored object (the 201 response body)
  std::string first_error;

  double Rate() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
  // The median repetition's rate (the overall rate when there was one repetition).
  double MedianRate() const {
    std::vector<double> r = rep_rates;
    return r.empty() ? Rate() : Percentile(r, 50);
  }
};

// POSTs ConfigMaps index [first, first + count) over `conns` connections, stopping early after
// `max_seconds`. Connections are opened (and TLS handshakes done) before the clock starts.
CreateRun RunCreates(const Server& s, const std::string& ns, const std::string& prefix,
                     std::size_t first, std::size_t count, int conns, double max_seconds) {
  CreateRun run;
  run.server = s.label;
  run.conns = conns;
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::latch ready(conns + 1);
  std::latch go(1);
  Clock::time_point start;
  std::vector<std::thread> threads;
  const std::string path = ConfigMapsPath(ns);
  for (int t = 0; t < conns; ++t) {
    threads.emplace_back([&] {
      HttpConnection c(s.endpoint);
      Status connected = c.Connect();
      ready.count_down();
      go.wait();
      std::vector<double> lat;
      std::size_t ok = 0, failed = 0;
      double req_bytes = 0, obj_bytes = 0;
      std::string err = connected.ok() ? "" : connected.ToString();
      while (connected.ok()) {
        std::size_t i = next.fetch_add(1);
        if (i >= count) break;
        if (std::chrono::duration<double>(Clock::now() - start).count() > max_seconds) break;
        const std::string body = ConfigMapJson(ns, ConfigMapName(prefix, first + i), first + i);
        auto t0 = Clock::now();
        auto r = c.Do("POST", path, body);
        auto t1 = Clock::now();
        if (r.ok() && r->status == 201) {
          ++ok;
          lat.push_back(MsBetween(t0, t1));
          req_bytes += static_cast<double>(body.size());
          obj_bytes += static_cast<double>(r->body.size());
        } else {
          ++failed;
          if (err.empty()) {
            err = r.ok() ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200)
                         : r.status().ToString();
          }
        }
      }
      std::lock_guard lock(mu);
      run.ok += ok;
      run.failed += failed;
      run.request_bytes += req_bytes;
      run.object_bytes += obj_bytes;
      run.latency_ms.insert(run.latency_ms.end(), lat.begin(), lat.end());
      if (run.first_error.empty()) run.first_error = err;
    });
  }
  ready.arrive_and_wait();
  const CpuTimes cpu0 = ProcessCpu(s.pid);
  start = Clock::now();
  go.count_down();
  for (auto& t : threads) t.join();
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  run.server_cpu = ProcessCpu(s.pid) - cpu0;
  if (run.ok) {
    run.request_bytes /= static_cast<double>(run.ok);
    run.object_bytes /= static_cast<double>(run.ok);
  }
  Progress("%s: %zu creates over %d connection(s) in %.2f s: %.0f/s (%zu failed%s%s)",
           s.label.c_str(), run.ok, conns, run.seconds, run.Rate(), run.failed,
           run.first_error.empty() ? "" : ": ", run.first_error.c_str());
  return run;
}

// RunCreates `reps` times over consecutive slices of [first, first + count), so that a noisy
// moment on a shared machine shows as spread between repetitions rather than as the figure.
CreateRun RunCreatesRepeated(const Server& s, const std::string& ns, const std::string& prefix,
                             std::size_t first, std::size_t count, int conns, double max_seconds,
                             int reps) {
  CreateRun all;
  all.server = s.label;
  all.conns = conns;
  double req = 0, obj = 0;
  for (int k = 0; k < reps; ++k) {
    const std::size_t lo = count * static_cast<std::size_t>(k) / static_cast<std::size_t>(reps);
    const std::size_t hi = count * static_cast<std::size_t>(k + 1) / static_cast<std::size_t>(reps);
    CreateRun r = RunCreates(s, ns, prefix, first + lo, hi - lo, conns, max_seconds / reps);
    all.ok += r.ok;
    all.failed += r.failed;
    all.seconds += r.seconds;
    all.server_cpu = {all.server_cpu.user + r.server_cpu.user,
                      all.server_cpu.sys + r.server_cpu.sys};
    all.latency_ms.insert(all.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    all.rep_rates.push_back(r.Rate());
    req += r.request_bytes * static_cast<double>(r.ok);
    obj += r.object_bytes * static_cast<double>(r.ok);
    if (all.first_error.empty()) all.first_error = r.first_error;
  }
  if (all.ok) {
    all.request_bytes = req / static_cast<double>(all.ok);
    all.object_bytes = obj / static_cast<double>(all.ok);
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// 2. Lists.

struct ListRun {
  std::string server;
  std::size_t items = 0;
  std::vector<double> full_ms;
  std::vector<double> full_ttfb_ms;  // until the response headers arrived
  std::size_t full_bytes = 0;
  std::vector<double> paged_total_ms;  // one whole traversal
  std::vector<double> page_ms;         // each page
  std::size_t pages = 0;               // per traversal
  std::size_t paged_bytes = 0;         // per traversal
  std::string error;
};

ListRun RunLists(const Server& s, const std::string& ns, int full_runs, int paged_runs, int limit) {
  ListRun run;
  run.server = s.label;
  HttpConnection c(s.endpoint);
  if (Status st = c.Connect(); !st.ok()) Die(s.label + ": " + st.ToString());
  const std::string path = ConfigMapsPath(ns);
  // A first, untimed list checks the count and warms the path.
  auto first = c.Do("GET", path);
  if (!first.ok() || first->status != 200) {
    run.error = first.ok() ? "HTTP " + std::to_string(first->status) : first.status().ToString();
    return run;
  }
  run.items = nlohmann::json::parse(first->body)["items"].size();
  run.full_bytes = first->body.size();
  // One response buffer for every timed request, so the client does not fault in 13 MB of
  // fresh memory per LIST (expensive on a VM) and charge it to the server.
  HttpResponse resp;
  resp.body.reserve(run.full_bytes + 4096);
  for (int i = 0; i < full_runs; ++i) {
    auto t0 = Clock::now();
    Status st = c.Do("GET", path, {}, &resp);
    auto t1 = Clock::now();
    if (!st.ok() || resp.status != 200) {
      run.error = "full list failed";
      return run;
    }
    run.full_ms.push_back(MsBetween(t0, t1));
    run.full_ttfb_ms.push_back(MsBetween(t0, c.head_received()));
  }
  // Traversal 0 is untimed: it checks that the pages add up to the full list (parsing them is
  // not free) and warms the path; traversals 1..paged_runs are timed.
  for (int i = 0; i <= paged_runs; ++i) {
    std::string cont;
    std::size_t pages = 0, bytes = 0, items = 0;
    std::vector<double> page_ms;
    auto start = Clock::now();
    do {
      std::string url = path + "?limit=" + std::to_string(limit);
      if (!cont.empty()) url += "&continue=" + cont;  // tokens are URL-safe base64
      auto t0 = Clock::now();
      Status st = c.Do("GET", url, {}, &resp);
      auto t1 = Clock::now();
      if (!st.ok() || resp.status != 200) {
        run.error = "paged list failed: " + (st.ok() ? resp.body.substr(0, 200) : st.ToString());
        return run;
      }
      page_ms.push_back(MsBetween(t0, t1));
      ++pages;
      bytes += resp.body.size();
      if (i == 0) items += nlohmann::json::parse(resp.body)["items"].size();
      // Only the list's metadata precedes the items, so the first "continue" is the token.
      auto items_at = resp.body.find("\"items\"");
      cont =
          std::string(FindStringField(std::string_view(resp.body).substr(0, items_at), "continue"));
    } while (!cont.empty());
    if (i == 0) {
      if (items != run.items) {
        run.error = "paged list returned " + std::to_string(items) + " items, full list " +
                    std::to_string(run.items);
        return run;
      }
      continue;
    }
    run.paged_total_ms.push_back(MsBetween(start, Clock::now()));
    run.page_ms.insert(run.page_ms.end(), page_ms.begin(), page_ms.end());
    run.pages = pages;
    run.paged_bytes = bytes;
  }
  Progress("%s: LIST of %zu objects (%zu bytes): p50 %.1f ms; paged (%zu pages) p50 %.1f ms",
           s.label.c_str(), run.items, run.full_bytes, Percentile(run.full_ms, 50), run.pages,
           Percentile(run.paged_total_ms, 50));
  return run;
}

// ---------------------------------------------------------------------------------------------
// 3. Watch fan-out.

struct WatchPhase {
  std::size_t updates = 0;
  double write_seconds = 0;  // first write sent to last write acknowledged
  std::size_t expected = 0;  // updates x watchers
  std::size_t delivered = 0;
  double deliver_seconds = 0;         // first write sent to last event received
  std::vector<double> since_ack_ms;   // event received - write response received
  std::vector<double> since_sent_ms;  // event received - write request sent
  CpuTimes server_cpu;
  CpuTimes client_cpu;

  double EventsPerSecond() const {
    return deliver_seconds > 0 ? static_cast<double>(delivered) / deliver_seconds : 0;
  }
};

struct WatchRun {
  int watchers = 0;
  double event_bytes = 0;  // mean event line
  WatchPhase burst;        // updates as fast as one writer can send them
  WatchPhase paced;        // updates at a fixed rate
  double paced_rate = 0;
  std::size_t out_of_order = 0;  // events with a resourceVersion below the previous one
  std::size_t ended_early = 0;   // streams the server closed during the run
  std::string error;
};

// Everything one watch connection has received.
struct WatchStream {
  int fd = -1;
  ChunkedDecoder decoder;
  std::string payload;  // decoded, not yet split into lines
  std::vector<std::pair<std::uint64_t, Clock::time_point>> events;  // (resourceVersion, received)
  std::size_t bytes = 0;
  bool ended = false;
};

// Reads every watch stream on one epoll thread until `stop`; counts events into `delivered`.
void ReceiveWatchEvents(std::vector<WatchStream>& streams, std::atomic<bool>& stop,
                        std::atomic<std::size_t>& delivered) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, streams[i].fd, &ev);
  }
  std::vector<epoll_event> ready(streams.size());
  std::vector<char> buf(256 * 1024);
  auto take_lines = [&](WatchStream& w, Clock::time_point now) {
    std::size_t start = 0, nl;
    while ((nl = w.payload.find('\n', start)) != std::string::npos) {
      std::string_view line(w.payload.data() + start, nl - start);
      auto rv = FindStringField(line, "resourceVersion");
      if (!rv.empty()) {
        w.events.emplace_back(std::strtoull(std::string(rv).c_str(), nullptr, 10), now);
        w.bytes += line.size() + 1;
        delivered.fetch_add(1, std::memory_order_relaxed);
      }
      start = nl + 1;
    }
    w.payload.erase(0, start);
  };
  while (!stop.load()) {
    int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 50);
    for (int k = 0; k < n; ++k) {
      WatchStream& w = streams[ready[k].data.u64];
      for (;;) {
        ssize_t got = ::recv(w.fd, buf.data(), buf.size(), 0);
        if (got > 0) {
          auto now = Clock::now();
          if (!w.decoder.Feed(std::string_view(buf.data(), static_cast<std::size_t>(got)),
                              &w.payload)) {
            w.ended = true;
          }
          take_lines(w, now);
          continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          w.ended = true;
          ::epoll_ctl(ep, EPOLL_CTL_DEL, w.fd, nullptr);
        }
        break;
      }
    }
  }
  ::close(ep);
}

WatchRun RunWatchFanout(const Server& s, const std::string& ns, int watchers, std::size_t updates,
                        std::size_t paced_updates, double paced_rate) {
  WatchRun run;
  run.watchers = watchers;
  run.paced_rate = paced_rate;
  constexpr std::size_t kObjects = 10;  // updates cycle over these
  HttpConnection writer(s.endpoint);
  const std::string path = ConfigMapsPath(ns);
  for (std::size_t i = 0; i < kObjects; ++i) {
    auto r = writer.Do("POST", path, ConfigMapJson(ns, ConfigMapName("watch", i), i));
    if (!r.ok() || (r->status != 201 && r->status != 409))
      Die(s.label + ": creating watch objects");
  }
  auto listed = writer.Do("GET", path + "?limit=1");
  if (!listed.ok() || listed->status != 200) Die(s.label + ": listing before watch");
  const std::string from_rv(FindStringField(listed->body, "resourceVersion"));

  // Open every watch and wait for its response headers: devcluster registers the watcher
  // before it answers, so once all have answered, every later write reaches all of them.
  std::vector<std::unique_ptr<HttpConnection>> conns;
  std::vector<WatchStream> streams(static_cast<std::size_t>(watchers));
  for (int i = 0; i < watchers; ++i) {
    auto c = std::make_unique<HttpConnection>(s.endpoint);
    auto status =
        c->StartStream(path + "?watch=1&resourceVersion=" + from_rv + "&timeoutSeconds=600");
    if (!status.ok() || *status != 200) {
      run.error = "watch " + std::to_string(i) + " failed: " +
                  (status.ok() ? "HTTP " + std::to_string(*status) : status.status().ToString());
      return run;
    }
    WatchStream& w = streams[static_cast<std::size_t>(i)];
    w.fd = c->fd();
    ::fcntl(w.fd, F_SETFL, ::fcntl(w.fd, F_GETFL) | O_NONBLOCK);
    if (!w.decoder.Feed(c->TakeBuffered(), &w.payload)) Die("bad chunked data on a watch");
    conns.push_back(std::move(c));
  }
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> delivered{0};
  std::thread receiver([&] { ReceiveWatchEvents(streams, stop, delivered); });

  // rv -> (request sent, response received), written by this thread only.
  std::unordered_map<std::uint64_t, std::pair<Clock::time_point, Clock::time_point>> writes;
  writes.reserve(updates + paced_updates);
  std::uint64_t revision = 1;
  auto write_phase = [&](WatchPhase& phase, std::size_t n, double rate, std::uint64_t* lo,
                         std::uint64_t* hi) {
    phase.updates = n;
    phase.expected = n * static_cast<std::size_t>(watchers);
    const std::size_t delivered0 = delivered.load();
    const CpuTimes cpu0 = ProcessCpu(s.pid), self0 = ProcessCpu(::getpid());
    const auto start = Clock::now();
    Clock::time_point last_ack = start;
    *lo = ~0ULL;
    *hi = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (rate > 0) {
        std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(i / rate)));
      }
      const std::size_t obj = i % kObjects;
      const std::string name = ConfigMapName("watch", obj);
      auto t0 = Clock::now();
      auto r = writer.Do("PUT", path + "/" + name, ConfigMapJson(ns, name, obj, revision++));
      auto t1 = Clock::now();
      if (!r.ok() || r->status != 200) {
        run.error = "update failed: " + (r.ok() ? r->body.substr(0, 200) : r.status().ToString());
        break;
      }
      std::uint64_t rv = std::strtoull(
          std::string(FindStringField(r->body, "resourceVersion")).c_str(), nullptr, 10);
      writes[rv] = {t0, t1};
      *lo = std::min(*lo, rv);
      *hi = std::max(*hi, rv);
      last_ack = t1;
    }
    phase.write_seconds = std::chrono::duration<double>(last_ack - start).count();
    // Wait (bounded) for every watcher to have every event of this phase.
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (delivered.load() - delivered0 < phase.expected && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    phase.server_cpu = ProcessCpu(s.pid) - cpu0;
    phase.client_cpu = ProcessCpu(::getpid()) - self0;
    return start;
  };
  std::uint64_t burst_lo, burst_hi, paced_lo = 1, paced_hi = 0;
  const auto burst_start = write_phase(run.burst, updates, 0, &burst_lo, &burst_hi);
  if (run.error.empty() && paced_updates > 0) {
    write_phase(run.paced, paced_updates, paced_rate, &paced_lo, &paced_hi);
  }
  stop = true;
  receiver.join();
  conns.clear();  // closes the watch connections

  // Match every received event to its write by resourceVersion.
  Clock::time_point burst_last = burst_start;
  std::size_t bytes = 0, events = 0;
  for (const WatchStream& w : streams) {
    bytes += w.bytes;
    events += w.events.size();
    if (w.ended) ++run.ended_early;
    std::uint64_t prev_rv = 0;
    for (const auto& [rv, at] : w.events) {
      if (rv < prev_rv) ++run.out_of_order;
      prev_rv = rv;
      auto it = writes.find(rv);
      if (it == writes.end()) continue;
      WatchPhase& phase = rv >= burst_lo && rv <= burst_hi ? run.burst : run.paced;
      if (&phase == &run.paced && (rv < paced_lo || rv > paced_hi)) continue;
      ++phase.delivered;
      phase.since_sent_ms.push_back(MsBetween(it->second.first, at));
      phase.since_ack_ms.push_back(MsBetween(it->second.second, at));
      if (&phase == &run.burst) burst_last = std::max(burst_last, at);
    }
  }
  run.burst.deliver_seconds = std::chrono::duration<double>(burst_last - burst_start).count();
  run.event_bytes = events ? static_cast<double>(bytes) / static_cast<double>(events) : 0;
  Progress("%s: watch fan-out to %d: %zu/%zu events in %.2f s (%.0f/s); paced %zu/%zu",
           s.label.c_str(), watchers, run.burst.delivered, run.burst.expected,
           run.burst.deliver_seconds, run.burst.EventsPerSecond(), run.paced.delivered,
           run.paced.expected);
  return run;
}

// ---------------------------------------------------------------------------------------------
// 4. Memory.

struct MemoryPoint {
  std::string server;
  std::size_t objects = 0;
  long long rss_before = 0;
  long long rss_after = 0;
  double json_bytes = 0;  // mean stored object JSON
  double idle_cpu = 0;    // server CPU while idle afterwards, in cores

  double PerObject() const {
    return objects ? static_cast<double>(rss_after - rss_before) / static_cast<double>(objects) : 0;
  }
};

// ---------------------------------------------------------------------------------------------
// Report.

std::string Fmt(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), fmt, args...);
  return buf;
}

void PrintCreates(std::vector<CreateRun>& runs) {
  std::printf("#### Creates (POST ConfigMap, ~1 KiB)\n\n");
  std::printf(
      "| server | connections | objects | creates/s: median (min–max) of repetitions | latency p50 "
      "/ p99 (ms) | server CPU per create, user + sys (µs) |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (CreateRun& r : runs) {
    std::string objects = std::to_string(r.ok);
    if (r.failed)
      objects += " (+" + std::to_string(r.failed) + " failed: " + r.first_error.substr(0, 80) + ")";
    std::string rate = Fmt("%.0f", r.MedianRate());
    if (r.rep_rates.size() > 1) {
      rate += Fmt(" (%.0f–%.0f)", *std::min_element(r.rep_rates.begin(), r.rep_rates.end()),
                  *std::max_element(r.rep_rates.begin(), r.rep_rates.end()));
    }
    const double per = r.ok ? 1e6 / static_cast<double>(r.ok) : 0.0;
    std::printf("| %s | %d | %s | %s | %.2f / %.2f | %.0f + %.0f |\n", r.server.c_str(), r.conns,
                objects.c_str(), rate.c_str(), Percentile(r.latency_ms, 50),
                Percentile(r.latency_ms, 99), r.server_cpu.user * per, r.server_cpu.sys * per);
  }
  if (!runs.empty()) {
    std::printf("\nMean POST body %.0f bytes; mean stored object (the 201 response) %.0f bytes.\n",
                runs.front().request_bytes, runs.front().object_bytes);
  }
  std::printf("\n");
}

void PrintLists(std::vector<ListRun>& runs, int limit) {
  std::printf("#### LIST of 10,000 ConfigMaps\n\n");
  std::printf(
      "| server | objects | full LIST p50 / p95 (ms) | of which until headers p50 (ms) | bytes | "
      "paged (limit=%d): whole list p50 / p95 (ms) | per page p50 / p95 (ms) | pages | bytes |\n",
      limit);
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (ListRun& r : runs) {
    if (!r.error.empty()) {
      std::printf("| %s | error: %s ||||||||\n", r.server.c_str(), r.error.c_str());
      continue;
    }
    std::printf(
        "| %s | %zu | %.1f / %.1f (%zu runs) | %.1f | %zu | %.1f / %.1f (%zu runs) | %.2f / %.2f | "
        "%zu | %zu |\n",
        r.server.c_str(), r.items, Percentile(r.full_ms, 50), Percentile(r.full_ms, 95),
        r.full_ms.size(), Percentile(r.full_ttfb_ms, 50), r.full_bytes,
        Percentile(r.paged_total_ms, 50), Percentile(r.paged_total_ms, 95), r.paged_total_ms.size(),
        Percentile(r.page_ms, 50), Percentile(r.page_ms, 95), r.pages, r.paged_bytes);
  }
  std::printf("\n");
}

void PrintWatch(const std::string& label, WatchRun& r) {
  std::printf("#### Watch fan-out (%s, %d watches on configmaps, one writer sending PUTs)\n\n",
              label.c_str(), r.watchers);
  if (!r.error.empty()) std::printf("Error: %s\n\n", r.error.c_str());
  std::printf(
      "| phase | updates | writes/s | events delivered | events/s delivered | latency after write "
      "response p50 / p99 (ms) | after request sent p50 / p99 (ms) | server CPU user + sys (s) | "
      "bench CPU (s) |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  auto row = [&](const std::string& name, WatchPhase& p) {
    const double wps = p.write_seconds > 0 ? static_cast<double>(p.updates) / p.write_seconds : 0;
    std::printf(
        "| %s | %zu | %.0f | %zu / %zu | %s | %.2f / %.2f | %.2f / %.2f | %.2f + %.2f | %.2f |\n",
        name.c_str(), p.updates, wps, p.delivered, p.expected,
        p.deliver_seconds > 0 ? Fmt("%.0f", p.EventsPerSecond()).c_str() : "—",
        Percentile(p.since_ack_ms, 50), Percentile(p.since_ack_ms, 99),
        Percentile(p.since_sent_ms, 50), Percentile(p.since_sent_ms, 99), p.server_cpu.user,
        p.server_cpu.sys, p.client_cpu.Total());
  };
  row("burst (writer unpaced)", r.burst);
  if (r.paced.updates) row(Fmt("paced (%.0f writes/s)", r.paced_rate), r.paced);
  std::printf(
      "\nMean event size on the wire (JSON line): %.0f bytes. Events out of resourceVersion "
      "order within a watch: %zu. Watches the server ended early: %zu.\n\n",
      r.event_bytes, r.out_of_order, r.ended_early);
}

void PrintMemory(std::vector<MemoryPoint>& points, double idle_seconds) {
  std::printf("#### Memory per stored object (VmRSS)\n\n");
  std::printf(
      "| server | objects | RSS before (MiB) | RSS after (MiB) | RSS per object (bytes) | object "
      "JSON (bytes) | RSS / JSON | idle CPU after (%% of a core, %.0f s) |\n",
      idle_seconds);
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const MemoryPoint& m : points) {
    std::printf("| %s | %zu | %.1f | %.1f | %.0f | %.0f | %.1fx | %.1f |\n", m.server.c_str(),
                m.objects, static_cast<double>(m.rss_before) / 1048576.0,
                static_cast<double>(m.rss_after) / 1048576.0, m.PerObject(), m.json_bytes,
                m.json_bytes > 0 ? m.PerObject() / m.json_bytes : 0.0, m.idle_cpu * 100);
  }
  std::printf("\n");
}

// Server CPU (in cores) over `seconds` of no requests: background work such as GC passes.
double IdleCpu(const Server& s, double seconds) {
  const CpuTimes before = ProcessCpu(s.pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return (ProcessCpu(s.pid) - before).Total() / seconds;
}

}  // namespace
}  // namespace aidi::bench

int main(int argc, char** argv) {
  using namespace aidi::bench;
  CLI::App app{
      "devcluster_bench: creates/s, LIST, watch fan-out and memory of aidi-devcluster "
      "next to an anchor server; prints markdown. Run via bench/devcluster/run.sh."};
  std::string mem_kc, disk_kc, tls_kc, anchor_kc;
  pid_t mem_pid = 0, disk_pid = 0, tls_pid = 0, anchor_pid = 0;
  std::size_t list_objects = 10000, memory_objects = 50000, single_conn_objects = 3000;
  std::size_t watch_updates = 2000, paced_updates = 500;
  int conns = 8, reps = 3, list_runs = 20, paged_runs = 10, page_limit = 500, watchers = 100;
  double paced_rate = 200, max_seconds = 30, disk_seconds = 4, idle_seconds = 3;
  app.add_option("--devcluster", mem_kc, "kubeconfig of a --plain-http devcluster, in memory")
      ->required();
  app.add_option("--devcluster-pid", mem_pid, "its process id")->required();
  app.add_option("--devcluster-disk", disk_kc,
                 "kubeconfig of a --plain-http devcluster with --state-dir");
  app.add_option("--devcluster-disk-pid", disk_pid, "its process id");
  app.add_option("--devcluster-tls", tls_kc, "kubeconfig of an HTTPS devcluster, in memory");
  app.add_option("--devcluster-tls-pid", tls_pid, "its process id");
  app.add_option("--anchor", anchor_kc, "kubeconfig of the anchor server (anchor_server.py)");
  app.add_option("--anchor-pid", anchor_pid, "its process id");
  app.add_option("--list-objects", list_objects, "objects in the listed namespace")
      ->capture_default_str();
  app.add_option("--memory-objects", memory_objects, "objects stored for the second memory reading")
      ->capture_default_str();
  app.add_option("--single-conn-objects", single_conn_objects,
                 "of --list-objects, created over one connection")
      ->capture_default_str();
  app.add_option("--conns", conns, "concurrent connections for the concurrent creates")
      ->capture_default_str();
  app.add_option("--reps", reps, "repetitions each create figure is split into")
      ->capture_default_str();
  app.add_option("--list-runs", list_runs, "timed full LISTs")->capture_default_str();
  app.add_option("--paged-runs", paged_runs, "timed paged traversals")->capture_default_str();
  app.add_option("--page-limit", page_limit, "limit= for the paged list")->capture_default_str();
  app.add_option("--watchers", watchers, "concurrent watches")->capture_default_str();
  app.add_option("--watch-updates", watch_updates, "updates sent as fast as possible")
      ->capture_default_str();
  app.add_option("--watch-paced-updates", paced_updates, "updates sent at --watch-paced-rate")
      ->capture_default_str();
  app.add_option("--watch-paced-rate", paced_rate, "writes per second in the paced phase")
      ->capture_default_str();
  app.add_option("--max-seconds", max_seconds,
                 "cap on each in-memory create figure (all repetitions)")
      ->capture_default_str();
  app.add_option("--disk-seconds", disk_seconds,
                 "cap on each --state-dir create figure (all repetitions)")
      ->capture_default_str();
  app.add_option("--idle-seconds", idle_seconds, "how long idle server CPU is sampled")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (single_conn_objects > list_objects || memory_objects < list_objects || reps < 1) {
    Die("need --single-conn-objects <= --list-objects <= --memory-objects and --reps >= 1");
  }

  const std::string load_before = LoadAverage();
  const auto started = std::chrono::steady_clock::now();
  auto mem = LoadServer("devcluster", mem_kc, mem_pid);
  auto disk = LoadServer("devcluster --state-dir (fsync)", disk_kc, disk_pid);
  auto tls = LoadServer("devcluster over TLS", tls_kc, tls_pid);
  auto anchor = LoadServer("anchor: Python http.server", anchor_kc, anchor_pid);

  std::vector<CreateRun> creates;
  std::vector<ListRun> lists;
  std::vector<MemoryPoint> memory;
  const std::size_t rest = list_objects - single_conn_objects;

  // The listed namespace is filled by the 1- and N-connection create runs, and memory is read
  // around them; the devcluster then grows to --memory-objects for the second reading.
  auto fill_and_list = [&](const Server& s, bool grow) {
    EnsureNamespace(s, "bench-list");
    EnsureNamespace(s, "bench-grow");
    const long long rss0 = RssBytes(s.pid);
    CreateRun one =
        RunCreatesRepeated(s, "bench-list", "list", 0, single_conn_objects, 1, max_seconds, reps);
    CreateRun many = RunCreatesRepeated(s, "bench-list", "list", single_conn_objects, rest, conns,
                                        max_seconds, reps);
    const std::size_t stored = one.ok + many.ok;
    const double json_bytes = stored ? (one.object_bytes * static_cast<double>(one.ok) +
                                        many.object_bytes * static_cast<double>(many.ok)) /
                                           static_cast<double>(stored)
                                     : 0;
    MemoryPoint at_list{s.label, stored, rss0, RssBytes(s.pid), json_bytes};
    at_list.idle_cpu = IdleCpu(s, idle_seconds);
    memory.push_back(at_list);
    creates.push_back(std::move(one));
    creates.push_back(std::move(many));
    lists.push_back(RunLists(s, "bench-list", list_runs, paged_runs, page_limit));
    if (grow) {
      CreateRun more = RunCreatesRepeated(s, "bench-grow", "grow", 0, memory_objects - list_objects,
                                          conns, max_seconds * 4, reps);
      MemoryPoint at_grow{s.label, stored + more.ok, rss0, RssBytes(s.pid), json_bytes};
      at_grow.idle_cpu = IdleCpu(s, idle_seconds);
      memory.push_back(at_grow);
      more.server += Fmt(" (store growing %zu→%zu)", stored, stored + more.ok);
      creates.push_back(std::move(more));
    }
  };

  fill_and_list(*mem, true);
  EnsureNamespace(*mem, "bench-watch");
  WatchRun watch =
      RunWatchFanout(*mem, "bench-watch", watchers, watch_updates, paced_updates, paced_rate);
  if (anchor) fill_and_list(*anchor, false);
  if (disk) {
    EnsureNamespace(*disk, "bench-disk");
    creates.push_back(RunCreatesRepeated(*disk, "bench-disk", "disk1", 0, single_conn_objects, 1,
                                         disk_seconds, reps));
    creates.push_back(
        RunCreatesRepeated(*disk, "bench-disk", "diskn", 0, rest, conns, disk_seconds, reps));
  }
  if (tls) {
    EnsureNamespace(*tls, "bench-tls");
    creates.push_back(RunCreatesRepeated(*tls, "bench-tls", "tls1", 0, single_conn_objects, 1,
                                         max_seconds, reps));
    creates.push_back(
        RunCreatesRepeated(*tls, "bench-tls", "tlsn", 0, rest, conns, max_seconds, reps));
  }
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  PrintCreates(creates);
  PrintLists(lists, page_limit);
  PrintWatch(mem->label, watch);
  PrintMemory(memory, idle_seconds);
  std::printf("Load average (1/5/15 min) before: %s; after: %s. Benchmark time: %.0f s.\n",
              load_before.c_str(), LoadAverage().c_str(), total_s);
  return 0;
}

// Wal: devcluster's durability (`--state-dir`): a write-ahead log of every committed change
// plus a periodic snapshot, so every acknowledged write survives kill -9.
//
// Layout in the state directory: `snapshot.jsonl` (one stored object per line, written to a
// temporary file, fsynced and renamed) and `wal.log` (one record per line: a checksum, then
// "P" + the stored object, or "D" + the deleted key, each with its resourceVersion). Append
// fsyncs before returning, so the store acknowledges a write only once it is on disk. Recovery
// loads the snapshot, replays the log, and drops a torn final record (a crash mid-append).
//
// Thread safety: none of its own; the Store calls it under its write lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "devcluster/store.h"

namespace aidi::devcluster {

class Wal {
 public:
  struct Recovered {
    std::vector<ObjectPtr> objects;
    std::uint64_t max_rv = 0;
    std::size_t records_replayed = 0;
    bool dropped_torn_record = false;
  };

  // Opens (creating) `dir`, recovers its contents into `out`, and prepares to append.
  static StatusOr<std::unique_ptr<Wal>> Open(const std::string& dir, Recovered* out);
  ~Wal();

  Status AppendPut(const StoredObject& obj);
  Status AppendDelete(const std::string& storage_key, const std::string& ns,
                      const std::string& name, std::uint64_t rv);

  // True once the log has grown enough that a snapshot should replace it.
  bool WantsSnapshot() const { return records_since_snapshot_ >= snapshot_every_; }
  // Writes every object as the new snapshot and starts an empty log.
  Status Snapshot(const std::vector<ObjectPtr>& all, std::uint64_t rv);

  void set_snapshot_every(std::size_t n) { snapshot_every_ = n; }

 private:
  Wal(std::string dir, int fd) : dir_(std::move(dir)), fd_(fd) {}
  Status AppendLine(const std::string& line);

  std::string dir_;
  int fd_ = -1;
  std::size_t records_since_snapshot_ = 0;
  std::size_t snapshot_every_ = 20000;
};

}  // namespace aidi::devcluster

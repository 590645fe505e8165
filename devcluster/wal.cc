#include "devcluster/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/log.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

std::uint32_t Fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string Hex8(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

Status Errno(const std::string& what) {
  return Status::Internal(what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("open " + dir);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync " + dir);
}

// A record body: "P\t<key>\t<json>" or "D\t<key>\t<ns>\t<name>\t<rv>". A line is
// "<fnv1a hex>\t<body>\n".
std::string Frame(const std::string& body) { return Hex8(Fnv1a(body)) + "\t" + body + "\n"; }

bool Unframe(const std::string& line, std::string* body) {
  if (line.size() < 10 || line[8] != '\t') return false;
  *body = line.substr(9);
  return Hex8(Fnv1a(*body)) == line.substr(0, 8);
}

using Key = std::tuple<std::string, std::string, std::string>;

// Records at or below `floor_rv` are already in the snapshot (a crash between writing the
// snapshot and truncating the log leaves them behind) and are skipped.
bool ApplyPut(const std::string& rest, std::map<Key, ObjectPtr>& objects, std::uint64_t& max_rv,
              std::uint64_t floor_rv = 0) {
  auto tab = rest.find('\t');
  if (tab == std::string::npos) return false;
  std::string key = rest.substr(0, tab);
  json obj = json::parse(rest.substr(tab + 1), nullptr, false);
  if (!obj.is_object()) return false;
  const json& meta = obj["metadata"];
  if (!meta.is_object() || !meta.contains("resourceVersion") ||
      !meta["resourceVersion"].is_string()) {
    return false;
  }
  std::uint64_t rv = std::strtoull(meta["resourceVersion"].get<std::string>().c_str(), nullptr, 10);
  if (rv <= floor_rv) return true;
  // Selectable fields are recomputed once resource types are known (see ApiServer::Restore).
  ObjectPtr o = MakeStoredObject(key, std::move(obj), rv, nullptr);
  max_rv = std::max(max_rv, rv);
  objects[{key, o->ns, o->name}] = o;
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<Wal>> Wal::Open(const std::string& dir, Recovered* out) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("creating state dir " + dir + ": " + ec.message());

  std::map<Key, ObjectPtr> objects;
  std::uint64_t max_rv = 0;
  std::uint64_t snapshot_rv = 0;
  {
    std::ifstream snap(dir + "/snapshot.jsonl");
    std::string line, body;
    while (std::getline(snap, line)) {
      if (line.rfind("#rv\t", 0) == 0) {
        snapshot_rv = std::strtoull(line.c_str() + 4, nullptr, 10);
        max_rv = std::max(max_rv, snapshot_rv);
        continue;
      }
      if (!Unframe(line, &body) || body.rfind("P\t", 0) != 0 ||
          !ApplyPut(body.substr(2), objects, max_rv)) {
        return Status::Internal("corrupt snapshot record in " + dir + "/snapshot.jsonl");
      }
    }
  }
  const std::string wal_path = dir + "/wal.log";
  std::size_t good_bytes = 0;
  {
    std::ifstream wal(wal_path, std::ios::binary);
    std::string line, body;
    while (std::getline(wal, line)) {
      bool complete = !wal.eof();  // getline hit '\n'
      bool ok = complete && Unframe(line, &body);
      if (ok && body.rfind("P\t", 0) == 0) {
        ok = ApplyPut(body.substr(2), objects, max_rv, snapshot_rv);
      } else if (ok && body.rfind("D\t", 0) == 0) {
        std::vector<std::string> parts;
        std::size_t start = 2;
        for (std::size_t pos; (pos = body.find('\t', start)) != std::string::npos;
             start = pos + 1) {
          parts.push_back(body.substr(start, pos - start));
        }
        parts.push_back(body.substr(start));
        ok = parts.size() == 4;
        if (ok) {
          std::uint64_t rv = std::strtoull(parts[3].c_str(), nullptr, 10);
          if (rv > snapshot_rv) objects.erase({parts[0], parts[1], parts[2]});
          max_rv = std::max(max_rv, rv);
        }
      } else {
        ok = false;
      }
      if (!ok) {
        // Only the last record can be torn by a crash; anything after it is unreachable.
        out->dropped_torn_record = true;
        log::Warn("dropping torn record at the end of the WAL", {{"path", wal_path}});
        break;
      }
      good_bytes += line.size() + 1;
      ++out->records_replayed;
    }
  }
  int fd = ::open(wal_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open " + wal_path);
  if (::ftruncate(fd, static_cast<off_t>(good_bytes)) != 0 || ::lseek(fd, 0, SEEK_END) < 0) {
    ::close(fd);
    return Errno("truncate " + wal_path);
  }
  std::unique_ptr<Wal> wal(new Wal(dir, fd));
  wal->records_since_snapshot_ = out->records_replayed;
  for (auto& [k, o] : objects) out->objects.push_back(o);
  out->max_rv = max_rv;
  AIDI_RETURN_IF_ERROR(FsyncDir(dir));
  return wal;
}

Wal::~Wal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Wal::AppendLine(const std::string& line) {
  AIDI_RETURN_IF_ERROR(WriteAll(fd_, line));
  if (::fdatasync(fd_) != 0) return Errno("fdatasync wal.log");
  ++records_since_snapshot_;
  return Status::Ok();
}

Status Wal::AppendPut(const StoredObject& obj) {
  return AppendLine(Frame("P\t" + obj.storage_key + "\t" + obj.json));
}

Status Wal::AppendDelete(const std::string& storage_key, const std::string& ns,
                         const std::string& name, std::uint64_t rv) {
  return AppendLine(
      Frame("D\t" + storage_key + "\t" + ns + "\t" + name + "\t" + std::to_string(rv)));
}

Status Wal::Snapshot(const std::vector<ObjectPtr>& all, std::uint64_t rv) {
  const std::string tmp = dir_ + "/snapshot.jsonl.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open " + tmp);
  std::string buf = "#rv\t" + std::to_string(rv) + "\n";
  Status s;
  for (const auto& o : all) {
    buf += Frame("P\t" + o->storage_key + "\t" + o->json);
    if (buf.size() > (1 << 20)) {
      s = WriteAll(fd, buf);
      if (!s.ok()) break;
      buf.clear();
    }
  }
  if (s.ok()) s = WriteAll(fd, buf);
  if (s.ok() && ::fsync(fd) != 0) s = Errno("fsync " + tmp);
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(tmp.c_str(), (dir_ + "/snapshot.jsonl").c_str()) != 0)
    return Errno("rename snapshot");
  AIDI_RETURN_IF_ERROR(FsyncDir(dir_));
  // The snapshot now holds everything the log did; start the log afresh.
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) < 0) return Errno("truncate wal.log");
  if (::fdatasync(fd_) != 0) return Errno("fdatasync wal.log");
  records_since_snapshot_ = 0;
  return Status::Ok();
}

}  // namespace aidi::devcluster

#include "cuda-workers/ops/csv_pieces.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <system_error>

#include "base/log.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBlock = 1 << 20;  // bytes read at a time while planning
// 2^40 rows per piece and 2^23 pieces before the ordinal overflows a BIGINT.
constexpr char kPieceStride[] = "1099511627776";

// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status ErrnoError(const std::string& what) {
  return Status::Internal(what + ": " + std::strerror(errno));
}

// Calls `visit(data, n)` on the bytes [begin, end) of `fd` a block at a time while it returns
// true.
template <typename Visit>
Status ForEachBlock(int fd, uint64_t begin, uint64_t end, Visit visit) {
  std::vector<char> buffer(kBlock);
  while (begin < end) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kBlock, end - begin));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(begin));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read");
    if (n == 0) break;
    if (!visit(buffer.data(), static_cast<size_t>(n))) break;
    begin += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// sniff_csv's text for "no such character".
std::string Unset(std::string value) { return value == "(empty)" ? std::string() : value; }

std::string SqlBool(bool v) { return v ? "true" : "false"; }

// How the pieces of a file are scanned: DuckDB's reading of the whole file, spelled out.
struct PieceScan {
  std::string options;  // for read_csv, after the path, without the header
  bool header = false;  // whether the first piece starts with one
  char quote = 0;       // 0: nothing is quoted
};

// The dialect DuckDB detects for `file` (with the plain scan's options) and the columns the plain
// scan has, as PieceScan; nullopt when they disagree or the file cannot be cut safely
// (see csv_pieces.h), and then the whole-file scan reports whatever is wrong with the file.
std::optional<PieceScan> PieceScanOf(duckdb::Connection& db, const CsvFile& file) {
  // One row per sniffed column, the dialect repeated on each: one sniff for both.
  auto sniffed = StringRows(
      db,
      "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, CAST(SkipRows AS VARCHAR), "
      "CAST(HasHeader AS VARCHAR), coalesce(DateFormat, ''), coalesce(TimestampFormat, ''), "
      "c.name, c.type FROM (SELECT *, unnest(Columns) AS c FROM sniff_csv(" +
          QuoteString(file.path) + file.options + "))");
  auto described = StringRows(
      db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " + file.Scan() + ")");
  if (!sniffed.ok() || !described.ok() || described->empty() ||
      sniffed->size() != described->size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < described->size(); ++i) {
    const std::vector<std::string>& row = (*sniffed)[i];
    if (row[9] != (*described)[i][0] || row[10] != (*described)[i][1]) return std::nullopt;
  }
  const std::vector<std::string>& d = (*sniffed)[0];
  const std::string quote = Unset(d[1]);
  const std::string escape = Unset(d[2]);
  const std::string newline = d[3];
  // Lines DuckDB skips at the top are not parsed, so their quotes would upset the count.
  if (quote.size() > 1 || (!escape.empty() && escape != quote) || !Unset(d[4]).empty() ||
      d[5] != "0" || (newline != "\\n" && newline != "\\r\\n")) {
    return std::nullopt;
  }
  PieceScan scan;
  scan.quote = quote.empty() ? 0 : quote[0];
  scan.header = d[6] == "true";
  std::string columns;
  for (const auto& c : *described) {
    columns += (columns.empty() ? "" : ", ") + QuoteString(c[0]) + ": " + QuoteString(c[1]);
  }
  scan.options = ", auto_detect = false, delim = " + QuoteString(d[0]) +
                 ", quote = " + QuoteString(quote) + ", escape = " + QuoteString(escape) +
                 ", new_line = " + QuoteString(newline) + ", columns = {" + columns + "}" +
                 file.null_option;
  if (!d[7].empty()) scan.options += ", dateformat = " + QuoteString(d[7]);
  if (!d[8].empty()) scan.options += ", timestampformat = " + QuoteString(d[8]);
  scan.options += kCsvRejectOptions;  // bad rows kept and counted as the plain scan's are
  return scan;
}

}  // namespace

std::string CsvFile::Scan() const { return "read_csv(" + QuoteString(path) + options + ")"; }

StatusOr<std::vector<uint64_t>> CsvCutPoints(int fd, uint64_t size, size_t pieces, char quote) {
  std::vector<uint64_t> cuts;
  if (pieces < 2 || size < 2) return cuts;
  std::vector<uint64_t> nominal;
  for (size_t i = 1; i < pieces; ++i) nominal.push_back(size / pieces * i);

  // Quote characters before each nominal point, each range counted by its own thread.
  std::vector<uint64_t> quotes_before(nominal.size(), 0);
  if (quote != 0) {
    std::vector<uint64_t> counts(nominal.size(), 0);
    std::vector<Status> statuses(nominal.size());
    std::vector<std::thread> counters;
    for (size_t i = 0; i < nominal.size(); ++i) {
      counters.emplace_back([&, i] {
        const uint64_t begin = i == 0 ? 0 : nominal[i - 1];
        statuses[i] = ForEachBlock(fd, begin, nominal[i], [&](const char* data, size_t n) {
          counts[i] += static_cast<uint64_t>(std::count(data, data + n, quote));
          return true;
        });
      });
    }
    for (std::thread& t : counters) t.join();
    for (size_t i = 0; i < nominal.size(); ++i) {
      if (!statuses[i].ok()) return statuses[i];
      quotes_before[i] = counts[i] + (i == 0 ? 0 : quotes_before[i - 1]);
    }
  }

  for (size_t i = 0; i < nominal.size(); ++i) {
    bool quoted = quotes_before[i] % 2 == 1;
    uint64_t position = nominal[i];
    std::optional<uint64_t> cut;
    Status s = ForEachBlock(fd, nominal[i], size, [&](const char* data, size_t n) {
      for (size_t j = 0; j < n; ++j) {
        if (data[j] == quote && quote != 0) {
          quoted = !quoted;
        } else if (data[j] == '\n' && !quoted) {
          cut = position + j + 1;
          return false;
        }
      }
      position += n;
      return true;
    });
    if (!s.ok()) return s;
    if (cut && *cut < size && (cuts.empty() || *cut > cuts.back())) cuts.push_back(*cut);
  }
  return cuts;
}

StatusOr<int64_t> CsvLinesBefore(int fd, uint64_t offset, char quote) {
  int64_t lines = 0;
  bool quoted = false;
  Status s = ForEachBlock(fd, 0, offset, [&](const char* data, size_t n) {
    if (quote == 0) {
      lines += std::count(data, data + n, '\n');
      return true;
    }
    for (size_t j = 0; j < n; ++j) {
      if (data[j] == quote) {
        quoted = !quoted;
      } else if (data[j] == '\n' && !quoted) {
        ++lines;
      }
    }
    return true;
  });
  if (!s.ok()) return s;
  return lines;
}

StatusOr<std::unique_ptr<CsvPieces>> CsvPieces::Open(duckdb::Connection& db,
                                                     const std::vector<CsvFile>& files,
                                                     const CsvPieceOptions& options) {
  std::unique_ptr<CsvPieces> self(new CsvPieces());
  for (size_t f = 0; f < files.size(); ++f) {
    const CsvFile& file = files[f];
    FileInfo& info = self->files_.emplace_back();
    info.path = file.path;
    auto whole_piece = [&] { self->pieces_.push_back({f, 0, 0, file.path, file.Scan()}); };

    std::error_code ec;
    const uint64_t size = fs::file_size(file.path, ec);
    if (ec || options.pieces_per_file < 2 || size < 2 * options.min_piece_bytes) {
      whole_piece();
      continue;
    }
    const std::optional<PieceScan> scan = PieceScanOf(db, file);
    if (!scan) {
      whole_piece();
      continue;
    }
    info.quote = scan->quote;

    const size_t wanted = static_cast<size_t>(
        std::min<uint64_t>(options.pieces_per_file, size / options.min_piece_bytes));
    info.fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);  // the feeders read it too
    if (info.fd < 0) return ErrnoError("--input " + file.path);
    auto cuts = CsvCutPoints(info.fd, size, wanted, info.quote);
    if (!cuts.ok())
      return Status(cuts.status().code(), "--input " + file.path + ": " + cuts.status().message());
    if (cuts->empty()) {
      whole_piece();
      continue;
    }
    if (self->directory_.empty()) {
      std::string pattern = (fs::temp_directory_path(ec) / "aidi-worker-XXXXXX").string();
      if (ec || ::mkdtemp(pattern.data()) == nullptr) {
        log::Info("cannot make a directory for CSV pieces; reading files whole",
                  {{"error", ec ? ec.message() : std::strerror(errno)}});
        whole_piece();
        continue;
      }
      self->directory_ = pattern;
    }

    std::vector<uint64_t> bounds = {0};
    bounds.insert(bounds.end(), cuts->begin(), cuts->end());
    bounds.push_back(size);
    std::vector<Piece> cut;
    for (size_t p = 0; p + 1 < bounds.size(); ++p) {
      const std::string pipe = (fs::path(self->directory_) /
                                ("piece-" + std::to_string(self->pieces_.size() + p) + ".csv"))
                                   .string();
      if (::mkfifo(pipe.c_str(), 0600) != 0) break;
      const bool first = p == 0;
      cut.push_back({f, bounds[p], bounds[p + 1], pipe,
                     "read_csv(" + QuoteString(pipe) + scan->options +
                         ", header = " + SqlBool(first && scan->header) + ")"});
    }
    if (cut.size() + 1 < bounds.size()) {  // a file system without named pipes, say
      log::Info("cannot make a named pipe for a CSV piece; reading the file whole",
                {{"directory", self->directory_}, {"error", std::strerror(errno)}});
      for (const Piece& piece : cut) fs::remove(piece.scanned, ec);
      whole_piece();
      continue;
    }
    std::move(cut.begin(), cut.end(), std::back_inserter(self->pieces_));
  }
  if (self->pieces_.size() < 2) return std::unique_ptr<CsvPieces>();
  log::Info(
      "numbering CSV rows in pieces, one thread each",
      {{"files", std::to_string(files.size())}, {"pieces", std::to_string(self->pieces_.size())}});
  for (const Piece& piece : self->pieces_) {
    if (piece.end > piece.begin) {
      self->feeders_.emplace_back([raw = self.get(), &piece] { raw->Feed(piece); });
    }
  }
  return self;
}

CsvPieces::~CsvPieces() {
  stop_ = true;
  for (std::thread& t : feeders_) t.join();
  for (const FileInfo& file : files_) {
    if (file.fd >= 0) ::close(file.fd);
  }
  if (!directory_.empty()) {
    std::error_code ec;
    fs::remove_all(directory_, ec);
  }
}

void CsvPieces::Fail(const Piece& piece, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.empty()) {
    error_ = "--input " + files_[piece.file].path + ": reading bytes " +
             std::to_string(piece.begin) + "-" + std::to_string(piece.end) + ": " + why;
  }
}

Status CsvPieces::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_.empty() ? Status::Ok() : Status::Internal(error_);
}

void CsvPieces::Feed(const Piece& piece) {
  // A pipe whose reader has gone raises SIGPIPE in the writing thread: keep it pending here,
  // where it dies with the thread, and take EPIPE instead.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

  // Wait for DuckDB to open the pipe (a non-blocking open fails with ENXIO until a reader has),
  // checking whether we are still wanted.
  int out = -1;
  while (!stop_) {
    out = ::open(piece.scanned.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (out >= 0 || errno != ENXIO) break;
    ::poll(nullptr, 0, 1);
  }
  if (out < 0) {
    if (!stop_) Fail(piece, std::string("opening its pipe: ") + std::strerror(errno));
    return;
  }
  Fd pipe(out);
  // Fewer, larger hand-overs than the default 64 KiB (best effort: capped by pipe-max-size).
  ::fcntl(pipe.get(), F_SETPIPE_SZ, 1 << 20);
  const int in = files_[piece.file].fd;

  // Waits until the pipe has room again; false when we should stop.
  auto wait_writable = [&] {
    pollfd p{pipe.get(), POLLOUT, 0};
    while (!stop_) {
      if (::poll(&p, 1, 100) > 0) return true;
    }
    return false;
  };
  loff_t offset = static_cast<loff_t>(piece.begin);
  const loff_t end = static_cast<loff_t>(piece.end);
  bool can_splice = true;
  std::vector<char> pending;  // read but not yet written (without splice)
  while (offset < end && !stop_) {
    const size_t want = static_cast<size_t>(std::min<loff_t>(end - offset, 1 << 20));
    ssize_t n;
    if (can_splice) {
      n = ::splice(in, &offset, pipe.get(), nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {  // a file system without splice
        can_splice = false;
        continue;
      }
    } else {
      if (pending.empty()) {
        pending.resize(want);
        const ssize_t got = ::pread(in, pending.data(), want, offset);
        if (got < 0 && errno == EINTR) {
          pending.clear();
          continue;
        }
        if (got < 0) return Fail(piece, std::strerror(errno));
        pending.resize(static_cast<size_t>(got));
        if (got == 0) return Fail(piece, "the file ended early: it changed while being read");
      }
      n = ::write(pipe.get(), pending.data(), pending.size());
      if (n > 0) {
        pending.erase(pending.begin(), pending.begin() + n);
        offset += n;
      }
    }
    if (n > 0) continue;
    if (n == 0) return Fail(piece, "the file ended early: it changed while being read");
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (wait_writable()) continue;
      return;
    }
    if (errno == EPIPE) return;  // the reader is done with the piece (a LIMIT, an error)
    return Fail(piece, std::strerror(errno));
  }
}

std::string CsvPieces::Numbered(std::string_view ordinal) const {
  const std::string name = QuoteIdentifier(ordinal);
  std::string relation;
  for (size_t f = 0; f < files_.size(); ++f) {
    std::string file_rows;
    for (size_t p = 0; p < pieces_.size(); ++p) {
      if (pieces_[p].file != f) continue;
      file_rows += std::string(file_rows.empty() ? "" : " UNION ALL ") + "SELECT *, " +
                   std::to_string(p) + " * " + kPieceStride + " + row_number() OVER () AS " + name +
                   " FROM " + pieces_[p].scan;
    }
    relation += (f == 0 ? "" : " UNION ALL BY NAME ") + ("(" + file_rows + ")");
  }
  return "(" + relation + ")";
}

StatusOr<std::optional<CsvPieces::Place>> CsvPieces::Locate(std::string_view scanned,
                                                            int64_t line) const {
  for (const Piece& piece : pieces_) {
    if (piece.scanned != scanned) continue;
    const FileInfo& file = files_[piece.file];
    Place place{piece.file, file.path, line};
    if (piece.begin > 0) {
      auto before = CsvLinesBefore(file.fd, piece.begin, file.quote);
      if (!before.ok()) return before.status();
      place.line += *before;
    }
    return std::optional<Place>(place);
  }
  return std::optional<Place>();
}

}  // namespace aidi::worker

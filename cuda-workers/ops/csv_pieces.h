// CsvPieces: CSV files scanned by DuckDB in several pieces at once, every row numbered in input
// order.
//
// Why: clean's dedupe keeps each key's first row in input order, so it needs every row's
// position. For CSV DuckDB has only `row_number() OVER ()`, which makes it scan the whole file on
// one thread: dedupe over a 10M-row CSV ran 2.2x faster than pandas where every other op ran 3.5x
// faster and more. Cut at row boundaries, a file is scanned by one thread per piece, each piece
// numbered by its own row_number(), and (piece, row number) orders rows as the file does.
//
// How:
//  - Cuts: near every size/n bytes, just after the first newline outside a quoted field; whether
//    a byte is inside quotes follows from the count of quote characters before it, counted in
//    parallel. A file is cut only where that rule is exact: rows end in \n (or \r\n), there is
//    no comment character, no line DuckDB skips at the top (it does not parse their quotes),
//    and the escape character is the quote itself or none (a backslash escape would hide quotes
//    from the count). Other files, and files under 2 x min_piece_bytes, are one piece: the file
//    itself.
//  - DuckDB reads a local file only from its start, so each cut piece reaches it through a named
//    pipe in a private temporary directory, filled from the file by a thread of ours with
//    splice(2). A pipe gives its bytes once: the relation serves one query.
//  - Every piece of a file is scanned with the dialect (sniff_csv) and the column types (DESCRIBE)
//    DuckDB finds for the whole file, the header and skipped rows in the first piece only, so
//    the pieces give exactly the file's rows and types.
//  - DuckDB's rejects name the pipe and a line within the piece; Locate maps them back.
//
// Thread safety: one thread at a time. The feeding threads are its own and stop when it is
// destroyed, which must happen after the query that read the relation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/database.h"

namespace aidi::worker {

// read_csv options that keep bad rows in aidi_rejects and aidi_reject_scans (InputTable::BadRows
// reads them): every scan of a CSV input, whole or in pieces, uses them.
inline constexpr char kCsvRejectOptions[] =
    ", store_rejects = true, rejects_table = 'aidi_rejects', rejects_scan = 'aidi_reject_scans'";

// One CSV input as the plain scan reads it.
struct CsvFile {
  std::string path;
  // What follows the path inside read_csv(...) for the plain scan, starting with ", ".
  std::string options;
  // nullstr as the user set it (", nullstr = [...]") or "", for the pieces' scans.
  std::string null_option;

  // read_csv(path, options): the plain scan of the whole file.
  std::string Scan() const;
};

struct CsvPieceOptions {
  size_t pieces_per_file = 2;           // the DuckDB threads, usually
  uint64_t min_piece_bytes = 16 << 20;  // smaller pieces do not repay a thread
};

class CsvPieces {
 public:
  // Plans the pieces of `files` and starts the threads that will feed them. nullptr when there
  // would be one piece in all: then row_number() over the input numbers it as well.
  [[nodiscard]] static StatusOr<std::unique_ptr<CsvPieces>> Open(duckdb::Connection& db,
                                                                 const std::vector<CsvFile>& files,
                                                                 const CsvPieceOptions& options);
  ~CsvPieces();
  CsvPieces(const CsvPieces&) = delete;
  CsvPieces& operator=(const CsvPieces&) = delete;

  // A relation (a parenthesised query) of all rows of the files, columns matched by name across
  // files, plus the BIGINT column `ordinal` that grows with input order. `ordinal` must not name
  // an input column.
  std::string Numbered(std::string_view ordinal) const;

  // Whether the feeding threads read every byte DuckDB asked for: an error names the file and the
  // byte range that failed (a read error, or a file that shrank while being read), since DuckDB
  // would only see a piece end early. Check it after the query, as its bad rows.
  [[nodiscard]] Status status() const;

  // How many pieces there are (files read whole count one each).
  size_t size() const { return pieces_.size(); }

  struct Place {
    size_t file = 0;   // index in the files given to Open
    std::string path;  // that file
    int64_t line = 0;  // 1-based line in it, as DuckDB counts lines
  };
  // Where line `line` of what DuckDB scanned as `scanned` (a pipe of ours or a file read whole)
  // is in the input; nullopt when `scanned` is neither.
  [[nodiscard]] StatusOr<std::optional<Place>> Locate(std::string_view scanned, int64_t line) const;

 private:
  struct Piece {
    size_t file = 0;
    uint64_t begin = 0;  // byte range of the file
    uint64_t end = 0;
    std::string scanned;  // what DuckDB reads: a pipe, or the file when read whole
    std::string scan;     // read_csv(...) of it
  };
  struct FileInfo {
    std::string path;
    char quote = 0;  // 0: no quoting
    int fd = -1;     // open while the file is cut
  };

  CsvPieces() = default;
  void Feed(const Piece& piece);
  void Fail(const Piece& piece, const std::string& why);

  std::vector<FileInfo> files_;
  std::vector<Piece> pieces_;
  std::string directory_;  // holds the pipes; empty when no file was cut
  std::atomic<bool> stop_{false};
  std::vector<std::thread> feeders_;
  mutable std::mutex mu_;
  std::string error_;  // the first piece that could not be read; guarded by mu_
};

// The byte offsets after which a CSV of `size` bytes can be cut into about `pieces` parts: each
// just past a newline outside quoted fields (`quote` 0: nothing is quoted), strictly increasing,
// none at 0 or `size`. Reads `fd` with pread.
[[nodiscard]] StatusOr<std::vector<uint64_t>> CsvCutPoints(int fd, uint64_t size, size_t pieces,
                                                           char quote);

// Newlines outside quoted fields in the first `offset` bytes of `fd`: the lines before it.
[[nodiscard]] StatusOr<int64_t> CsvLinesBefore(int fd, uint64_t offset, char quote);

}  // namespace aidi::worker

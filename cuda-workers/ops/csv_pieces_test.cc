// Tests for CsvPieces: where files are cut, and that the pieces DuckDB reads through our pipes
// give exactly the rows, order and bad-row lines of the whole file.
#include "cuda-workers/ops/csv_pieces.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Rows = std::vector<std::vector<std::string>>;

class CsvPiecesTest : public ::testing::Test {
 protected:
  CsvPiecesTest()
      : db_(duckdb::Database::Open({.threads = 4}).value()), conn_(db_.Connect().value()) {
    std::string pattern = (fs::temp_directory_path() / "aidi-pieces-test-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  ~CsvPiecesTest() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The cut points of `text` as CsvCutPoints finds them.
  std::vector<uint64_t> Cuts(const std::string& text, size_t pieces, char quote) {
    const std::string path = Write("cut.csv", text);
    const int fd = ::open(path.c_str(), O_RDONLY);
    auto cuts = CsvCutPoints(fd, text.size(), pieces, quote);
    ::close(fd);
    EXPECT_TRUE(cuts.ok()) << cuts.status().ToString();
    return cuts.ok() ? *cuts : std::vector<uint64_t>{};
  }

  // The file as the plain scan reads it: what pieces are compared with.
  static CsvFile Plain(const std::string& path) { return {path, kCsvRejectOptions, ""}; }

  // The rows of `sql`, every column as text.
  Rows Query(const std::string& sql) {
    auto rows = StringRows(conn_, "SELECT COLUMNS(*)::VARCHAR FROM (" + sql + ")");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
    return rows.ok() ? *rows : Rows{};
  }

  duckdb::Database db_;
  duckdb::Connection conn_;
  fs::path dir_;
};

// Rows of the form "<i>,"<text with a newline and a comma>",<i % 7>\n", ~40 bytes each.
std::string QuotedRows(int n) {
  std::string text = "id,note,k\n";
  for (int i = 0; i < n; ++i) {
    text += std::to_string(i) + ",\"line one, of " + std::to_string(i) + "\nline \"\"two\"\"\"," +
            std::to_string(i % 7) + "\n";
  }
  return text;
}

TEST_F(CsvPiecesTest, CutsJustAfterNewlines) {
  const std::string text = "a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n";
  const std::vector<uint64_t> cuts = Cuts(text, 3, 0);
  ASSERT_EQ(cuts.size(), 2u);
  for (uint64_t cut : cuts) {
    EXPECT_GT(cut, 0u);
    EXPECT_LT(cut, text.size());
    EXPECT_EQ(text[cut - 1], '\n') << cut;
  }
  EXPECT_LT(cuts[0], cuts[1]);
}

TEST_F(CsvPiecesTest, NeverCutsInsideAQuotedField) {
  // The middle of the file falls inside the quoted field, past two of its newlines; the cut
  // comes after the newline that ends its row.
  const std::string head = "a,b\n1,\"x\nxxxxxxxxxxxx\nxx";
  const std::string text = head + "xxxxxxxxxxxxxxxxxxxxxxxx\nyy\"\n2,z\n";
  ASSERT_GT(text.size() / 2, head.size() - 4);
  EXPECT_THAT(Cuts(text, 2, '"'), ElementsAre(text.find("\n2,z") + 1));
  // With quoting off, the same bytes are cut at the first newline after the middle.
  EXPECT_THAT(Cuts(text, 2, 0), ElementsAre(text.find('\n', text.size() / 2) + 1));
}

TEST_F(CsvPiecesTest, DoubledQuotesKeepTheCount) {
  // "" inside a quoted field is two quote characters: the field is still open after them.
  const std::string text = "a\n\"p\"\"q\nrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\nsss\"\nt\n";
  EXPECT_THAT(Cuts(text, 2, '"'), ElementsAre(text.find("\nt") + 1));
}

TEST_F(CsvPiecesTest, NoCutWithoutANewlineAfterTheMiddle) {
  EXPECT_THAT(Cuts("a,b\n1,22222222222222222222222222222", 2, 0), IsEmpty());
  EXPECT_THAT(Cuts("a,b\n1,\"2\n2\n2\n2\n2\n2\n2\n2\n2\n2\n2\n2\n2\n2\n2\"", 2, '"'), IsEmpty());
}

TEST_F(CsvPiecesTest, LinesBeforeCountOnlyNewlinesOutsideQuotes) {
  const std::string text = "a,b\n1,\"x\ny\"\n2,z\n";
  const std::string path = Write("lines.csv", text);
  const int fd = ::open(path.c_str(), O_RDONLY);
  EXPECT_EQ(CsvLinesBefore(fd, text.size(), '"').value(), 3);
  EXPECT_EQ(CsvLinesBefore(fd, text.size(), 0).value(), 4);
  EXPECT_EQ(CsvLinesBefore(fd, 4, '"').value(), 1);
  ::close(fd);
}

TEST_F(CsvPiecesTest, PiecesGiveTheFileRowsInOrder) {
  const std::string path = Write("quoted.csv", QuotedRows(3000));
  auto pieces = CsvPieces::Open(conn_, {Plain(path)}, {.pieces_per_file = 4, .min_piece_bytes = 1});
  ASSERT_TRUE(pieces.ok()) << pieces.status().ToString();
  ASSERT_NE(*pieces, nullptr);
  EXPECT_EQ((*pieces)->size(), 4u);
  const Rows numbered =
      Query("SELECT * EXCLUDE (n) FROM " + (*pieces)->Numbered("n") + " ORDER BY n");
  const Rows plain = Query("SELECT * FROM read_csv(" + QuoteString(path) + ")");
  ASSERT_EQ(plain.size(), 3000u);
  EXPECT_EQ(numbered, plain);
  EXPECT_EQ(plain[2999][1], "line one, of 2999\nline \"two\"");
}

TEST_F(CsvPiecesTest, FilesAreNumberedInTheOrderGiven) {
  const std::string a = Write("a.csv", "k,v\n1,a\n2,b\n3,c\n4,d\n");
  const std::string b = Write("b.csv", "v,k\ne,5\nf,6\n");
  auto pieces =
      CsvPieces::Open(conn_, {Plain(b), Plain(a)}, {.pieces_per_file = 2, .min_piece_bytes = 1});
  ASSERT_TRUE(pieces.ok()) << pieces.status().ToString();
  ASSERT_NE(*pieces, nullptr);
  EXPECT_EQ((*pieces)->size(), 4u);
  EXPECT_EQ(Query("SELECT k, v FROM " + (*pieces)->Numbered("n") + " ORDER BY n"),
            (Rows{{"5", "e"}, {"6", "f"}, {"1", "a"}, {"2", "b"}, {"3", "c"}, {"4", "d"}}));
}

TEST_F(CsvPiecesTest, SmallFilesAreNotCut) {
  const std::string path = Write("small.csv", "k\n1\n2\n");
  auto pieces = CsvPieces::Open(conn_, {Plain(path)}, {.pieces_per_file = 2});
  ASSERT_TRUE(pieces.ok());
  EXPECT_EQ(*pieces, nullptr);
}

// Files whose quotes the count would get wrong, or whose rows do not end in \n, stay whole.
TEST_F(CsvPiecesTest, FilesTheQuoteCountCannotCutStayWhole) {
  std::string backslash = "a,b\n", cr = "a,b\r";
  for (int i = 0; i < 200; ++i) {
    backslash += std::to_string(i) + ",\"say \\\"hi\\\"\"\n";
    cr += std::to_string(i) + "," + std::to_string(i % 3) + "\r";
  }
  for (const auto& [name, text] :
       {std::pair{"backslash.csv", backslash}, std::pair{"cr.csv", cr}}) {
    const std::string path = Write(name, text);
    auto pieces =
        CsvPieces::Open(conn_, {Plain(path)}, {.pieces_per_file = 2, .min_piece_bytes = 1});
    ASSERT_TRUE(pieces.ok()) << name;
    EXPECT_EQ(*pieces, nullptr) << name;
  }
}

TEST_F(CsvPiecesTest, BadRowsAreLocatedInTheFile) {
  std::string text = QuotedRows(400);
  text += "400,only two\n";  // ragged: the last piece's
  text += "401,\"fine\",1\n";
  const std::string path = Write("ragged.csv", text);
  auto pieces = CsvPieces::Open(conn_, {Plain(path)}, {.pieces_per_file = 3, .min_piece_bytes = 1});
  ASSERT_TRUE(pieces.ok()) << pieces.status().ToString();
  ASSERT_NE(*pieces, nullptr);
  Query("SELECT count(*) FROM " + (*pieces)->Numbered("n"));
  const Rows rejects = Query(
      "SELECT s.file_path, e.line FROM aidi_rejects e JOIN aidi_reject_scans s "
      "USING (scan_id, file_id)");
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_NE(rejects[0][0], path);  // a pipe, whose lines start at the piece
  auto place = (*pieces)->Locate(rejects[0][0], std::stoll(rejects[0][1]));
  ASSERT_TRUE(place.ok() && place->has_value());
  EXPECT_EQ((*place)->path, path);
  // What the plain scan of the whole file says: 1 header line, two lines per row before it.
  EXPECT_EQ((*place)->line, 1 + 400 + 1);
  Query("SELECT count(*) FROM read_csv(" + QuoteString(path) +
        ", store_rejects = true, rejects_table = 'plain_rejects', rejects_scan = 'plain_scans')");
  const Rows plain = Query("SELECT line FROM plain_rejects");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0][0], std::to_string((*place)->line));
  EXPECT_FALSE((*pieces)->Locate("/no/such/pipe", 1).value().has_value());
}

// A file that shrinks between the plan and the read would give DuckDB a piece that ends early,
// which it cannot tell from a short piece: status() says so instead.
TEST_F(CsvPiecesTest, AFileThatShrinksWhileReadIsAnError) {
  const std::string path = Write("shrinks.csv", QuotedRows(2000));
  auto pieces = CsvPieces::Open(conn_, {Plain(path)}, {.pieces_per_file = 2, .min_piece_bytes = 1});
  ASSERT_TRUE(pieces.ok());
  ASSERT_NE(*pieces, nullptr);
  EXPECT_TRUE((*pieces)->status().ok());
  fs::resize_file(path, fs::file_size(path) * 3 / 4);
  (void)StringRows(conn_, "SELECT count(*)::VARCHAR FROM " + (*pieces)->Numbered("n"));
  const Status s = (*pieces)->status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("--input " + path + ": reading bytes "));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("changed while being read"));
}

// The feeding threads stop when the pieces go, whether DuckDB read the pipes to the end, in part
// or not at all (a hang here is a test timeout), and the pipes go with them.
TEST_F(CsvPiecesTest, EndsWhenNotReadOrReadInPart) {
  const std::string path = Write("big.csv", QuotedRows(20000));
  const fs::path pipes = dir_ / "tmp";
  fs::create_directory(pipes);
  ::setenv("TMPDIR", pipes.c_str(), 1);
  for (const char* query : {"", "SELECT id FROM {} LIMIT 1", "SELECT count(*) FROM {}"}) {
    auto pieces =
        CsvPieces::Open(conn_, {Plain(path)}, {.pieces_per_file = 2, .min_piece_bytes = 1});
    ASSERT_TRUE(pieces.ok());
    ASSERT_NE(*pieces, nullptr);
    EXPECT_FALSE(fs::is_empty(pipes));
    std::string sql = query;
    if (!sql.empty()) {
      sql.replace(sql.find("{}"), 2, (*pieces)->Numbered("n"));
      EXPECT_EQ(Query(sql).size(), 1u);
    }
    pieces->reset();
    EXPECT_TRUE(fs::is_empty(pipes)) << query;
  }
  ::unsetenv("TMPDIR");
}

}  // namespace
}  // namespace aidi::worker

#include "devcluster/wal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace aidi::devcluster {
namespace {

using nlohmann::json;

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("aidi-wal-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  MutateFn Put(const std::string& name, const std::string& v) {
    json obj = {{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "u-" + name}}},
                {"data", {{"k", v}}}};
    return [obj](const ObjectPtr&) -> std::variant<kube::ApiError, Mutation> {
      Mutation m;
      m.kind = Mutation::Kind::kPut;
      m.object = obj;
      return m;
    };
  }

  // Opens the directory into a fresh store, as a restarted process would.
  std::unique_ptr<Wal> Reopen(Store& store, Wal::Recovered* rec) {
    auto wal = Wal::Open(dir_.string(), rec);
    EXPECT_TRUE(wal.ok()) << wal.status().ToString();
    for (auto& o : rec->objects) store.Restore(o);
    store.FinishRestore(rec->max_rv);
    store.AttachWal(wal->get());
    return std::move(wal).value();
  }

  std::filesystem::path dir_;
};

TEST_F(WalTest, RecoversObjectsAndVersionsAfterRestart) {
  std::uint64_t rv_b = 0;
  {
    Store store(10);
    Wal::Recovered rec;
    auto wal = Reopen(store, &rec);
    (void)store.Mutate("/configmaps", "ns", "a", Put("a", "1"));
    rv_b = std::get<ObjectPtr>(store.Mutate("/configmaps", "ns", "b", Put("b", "1")))->rv;
    (void)store.Mutate("/configmaps", "ns", "a",
                       [](const ObjectPtr&) -> std::variant<kube::ApiError, Mutation> {
                         Mutation m;
                         m.kind = Mutation::Kind::kDelete;
                         return m;
                       });
  }  // no clean shutdown: nothing is flushed beyond what Append did
  Store store(10);
  Wal::Recovered rec;
  auto wal = Reopen(store, &rec);
  EXPECT_EQ(store.Count(), 1u);
  ObjectPtr b = store.Get("/configmaps", "ns", "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->rv, rv_b) << "objects keep their resourceVersions";
  ObjectPtr c = std::get<ObjectPtr>(store.Mutate("/configmaps", "ns", "c", Put("c", "1")));
  EXPECT_GT(c->rv, rv_b + 1) << "new versions keep rising above the recovered delete";
}

TEST_F(WalTest, DropsATornFinalRecord) {
  {
    Store store(10);
    Wal::Recovered rec;
    auto wal = Reopen(store, &rec);
    (void)store.Mutate("/configmaps", "ns", "a", Put("a", "1"));
  }
  {
    std::ofstream out(dir_ / "wal.log", std::ios::app | std::ios::binary);
    out << "deadbeef\tP\t/configmaps\t{\"metadata\":{\"name\":\"b\"";  // crash mid-append
  }
  Store store(10);
  Wal::Recovered rec;
  auto wal = Reopen(store, &rec);
  EXPECT_TRUE(rec.dropped_torn_record);
  EXPECT_EQ(store.Count(), 1u);
  (void)store.Mutate("/configmaps", "ns", "d", Put("d", "1"));
  Store again(10);
  Wal::Recovered rec2;
  auto wal2 = Wal::Open(dir_.string(), &rec2);
  ASSERT_TRUE(wal2.ok());
  EXPECT_FALSE(rec2.dropped_torn_record) << "the torn tail was truncated before appending";
  EXPECT_EQ(rec2.objects.size(), 2u);
}

TEST_F(WalTest, SnapshotReplacesTheLog) {
  {
    Store store(10);
    Wal::Recovered rec;
    auto wal = Reopen(store, &rec);
    wal->set_snapshot_every(5);
    for (int i = 0; i < 12; ++i)
      (void)store.Mutate("/configmaps", "ns", "o" + std::to_string(i),
                         Put("o" + std::to_string(i), "v"));
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ / "snapshot.jsonl"));
  Store store(10);
  Wal::Recovered rec;
  auto wal = Reopen(store, &rec);
  EXPECT_EQ(store.Count(), 12u);
  EXPECT_LT(rec.records_replayed, 5u);
}

}  // namespace
}  // namespace aidi::devcluster

// DevclusterTest: the GoogleTest fixture the kube integration suites share (one real
// aidi-devcluster per test, a client for it), and Eventually(), the polling wait they use.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "kube/client/client.h"
#include "tests/kube/devcluster_process.h"

namespace aidi::kube::testing {

// Polls `condition` every 10 ms until it holds or `timeout` passes; returns its last value.
inline bool Eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

class DevclusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dc_.Start().ok());
    auto client = dc_.NewClient();
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = *client;
  }

  DevclusterProcess dc_;
  std::shared_ptr<Client> client_;
};

}  // namespace aidi::kube::testing

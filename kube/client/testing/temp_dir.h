// TempDir: a scratch directory for one test (kubeconfig files, token files, exec plugin
// scripts), removed with everything in it. Test-only; one per test, used from its thread.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace aidi::kube::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "aidi-kube-XXXXXX").string();
    const char* made = mkdtemp(tmpl.data());
    if (made == nullptr) std::abort();  // no scratch space: no test that needs one can run
    path_ = made;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to `name` (creating parent directories); returns the full path.
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = Path(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << content;
    return p;
  }
  // A shell script, executable; returns the full path.
  std::string Script(const std::string& name, const std::string& body) const {
    std::string p = Write(name, "#!/bin/sh\n" + body);
    chmod(p.c_str(), 0755);
    return p;
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  int Lines(const std::string& name) const {
    std::string text = Read(name);
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

 private:
  std::string path_;
};

}  // namespace aidi::kube::testing

#include "base/termination.h"

#include <signal.h>

#include <cerrno>
#include <ctime>

namespace aidi {
namespace {

sigset_t TerminationSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

std::string Name(int sig) { return sig == SIGTERM ? "SIGTERM" : "SIGINT"; }

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string WaitForTermination() {
  sigset_t set = TerminationSet();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return Name(sig);
}

std::optional<std::string> WaitForTermination(std::chrono::milliseconds timeout) {
  sigset_t set = TerminationSet();
  auto s = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec wait{static_cast<time_t>(s.count()),
                static_cast<long>(std::chrono::nanoseconds(timeout - s).count())};
  int sig = sigtimedwait(&set, nullptr, &wait);
  if (sig == SIGTERM || sig == SIGINT) return Name(sig);
  return std::nullopt;
}

}  // namespace aidi

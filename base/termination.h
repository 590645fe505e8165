// Termination signals for the binaries: SIGTERM and SIGINT are blocked in every thread (call
// BlockTerminationSignals() in main before starting any thread, so threads inherit the mask)
// and taken synchronously by the main thread, which then stops the program cleanly.
//
//   BlockTerminationSignals();
//   ... start servers and controllers ...
//   std::string sig = WaitForTermination();   // "SIGTERM" or "SIGINT"
//
// Call from the main thread only.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace aidi {

void BlockTerminationSignals();

// Blocks until SIGTERM or SIGINT arrives; returns its name.
std::string WaitForTermination();

// Waits at most `timeout`; the signal's name, or nullopt when none came.
std::optional<std::string> WaitForTermination(std::chrono::milliseconds timeout);

}  // namespace aidi

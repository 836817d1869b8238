#pragma once

namespace cpts::platform {

// Blocks SIGTERM and SIGINT in the calling thread and every thread started after it, so that
// only WaitForTerminationSignal sees them. Call first thing in main.
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForTerminationSignal();

}  // namespace cpts::platform

// A bystander's latency: how the hostile-client tests show that an attack on
// one listener does not hurt the clients of another.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace plexd::test {

/// Median round-trip time of small echoes on `c` over `period` (at least
/// 50 of them), in microseconds.
double median_echo_us(client& c, ms period = 1s);

/// Whether `loaded` (the bystander's median under attack) stays within 2x
/// of `quiet`, allowing an absolute floor for scheduler noise. When it does
/// not, the quiet latency is measured once more on `probe` after the attack
/// and the larger baseline counts: noise that lasts through both
/// measurements is the machine's, not the daemon's. Prints both figures.
bool bystander_unharmed(const char* what, double quiet, double loaded, client& probe);

/// Runs `attack` on a thread until the measurement is done; returns the
/// bystander's median latency under attack.
double under_attack(client& probe, const std::function<void(const std::atomic<bool>&)>& attack);

/// A daemon with a bystander echo listener ("probe") beside the listeners
/// under attack, and a client connected to it.
struct probe_fixture {
  explicit probe_fixture(const std::string& extra_listeners, const std::vector<std::string>& launcher = {})
      : d(listener_toml("probe", "echo") + extra_listeners, "", {}, launcher) {}
  /// Waits for the daemon, connects the probe and measures its quiet latency.
  bool start() {
    if (!d.wait_ready() || !probe.connect(d.port("probe"))) return false;
    quiet = median_echo_us(probe);
    return true;
  }
  plexd_daemon d;
  client probe;
  double quiet = 0;
};

}  // namespace plexd::test

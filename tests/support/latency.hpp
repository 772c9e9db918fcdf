// A bystander's latency: how the hostile-client tests show that an attack on
// one listener does not hurt the clients of another.
#pragma once

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

}  // namespace plexd::test

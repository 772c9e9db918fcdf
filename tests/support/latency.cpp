#include "latency.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace plexd::test {

double median_echo_us(client& c, ms period) {
  std::vector<double> samples;
  const auto until = std::chrono::steady_clock::now() + period;
  while (samples.size() < 50 || std::chrono::steady_clock::now() < until) {
    const auto t0 = std::chrono::steady_clock::now();
    c.send("p");
    if (c.read_exact(1, 5s) != "p") return 1e9;
    samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

namespace {

// Below this much added latency the spread is the machine's scheduler, not the
// daemon: a loop that stalls or spins under attack costs milliseconds. Under
// Wine every socket call of attacker and bystander alike goes through one
// wineserver process, which dominates: there only gross unfairness counts
// (2,000 slowloris sockets once cost 30 ms, 1-10 ms usually). Sanitized
// builds slow the attacker and the daemon alike by 2-15x.
double noise_floor_us() {
  if (running_under_wine()) return 100000;
  if (sanitized_build()) return 20000;
  return 1000;
}

bool within(double quiet, double loaded) {
  return loaded <= 2 * quiet || loaded - quiet < noise_floor_us();
}

}  // namespace

bool bystander_unharmed(const char* what, double quiet, double loaded, client& probe) {
  std::printf("[latency] %s: quiet %.0f us, under attack %.0f us, ratio %.2f\n", what, quiet, loaded, loaded / quiet);
  std::fflush(stdout);
  if (within(quiet, loaded)) return true;
  const double after = median_echo_us(probe);
  std::printf("[latency] %s: quiet again after the attack %.0f us\n", what, after);
  std::fflush(stdout);
  return within(std::max(quiet, after), loaded);
}

double under_attack(client& probe, const std::function<void(const std::atomic<bool>&)>& attack) {
  std::atomic<bool> stop{false};
  std::thread t([&] { attack(stop); });
  std::this_thread::sleep_for(200ms);  // let the attack get going
  const double loaded = median_echo_us(probe);
  stop = true;
  t.join();
  return loaded;
}

}  // namespace plexd::test

// The SystemC layer: one SC_METHOD per chip that runs its instruction queues
// due in the current cycle and sleeps until the next issue cycle of any
// (next_trigger). One SystemC
// time unit (1 ns) is one chip cycle; seconds come from cycles / clock_hz.
#include "sim/simulate.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <queue>
#include <systemc>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "sim/core/queue_runner.h"

namespace lpu {
namespace {

using namespace sc_core;

struct Shared {
  Chip& chip;
  Cycle offset;  // chip cycle = SystemC cycle - offset (0 = barrier release)
  bool failed = false;
  std::string error;
};

Cycle nowCycle(const Shared& s) { return Cycle(sc_time_stamp().value()) - s.offset; }

// One SC_METHOD per chip: it runs the chip's queues that are due in the
// current cycle (in queue order) and sleeps until the next one is. Due
// queues wait on a wheel of the next kWheel cycles (most come back a cycle or
// a few later), the rest in a heap. Queues parked at the start barrier wake
// in its release cycle.
class ChipModule : public sc_module {
 public:
  SC_HAS_PROCESS(ChipModule);
  ChipModule(sc_module_name name, const Program& p, Shared& s) : sc_module(name), s_(s) {
    for (size_t i = 0; i < p.queues.size(); ++i) runners_.emplace_back(p.queues[i], int(i), -s.offset);
    for (size_t i = 0; i < p.queues.size(); ++i) due(-s.offset, int(i), -s.offset);
    resume_.assign(p.queues.size(), false);
    SC_METHOD(step);
  }
  // The queues still waiting at the start barrier.
  const std::vector<int>& parked() const { return parked_; }

 private:
  static constexpr Cycle kWheel = 64;
  void due(Cycle at, int q, Cycle now) {
    if (at - now < kWheel) {
      wheel_[size_t(at & (kWheel - 1))].push_back(q);
      ++inWheel_;
    } else {
      far_.push({at, q});
    }
  }
  void step() {
    if (s_.failed) return;
    const Cycle now = nowCycle(s_);
    try {
      s_.chip.sweep(now);
      while (!far_.empty() && far_.top().first < now + kWheel) {  // into the wheel's window
        due(far_.top().first, far_.top().second, now);
        far_.pop();
      }
      std::vector<int>& bucket = wheel_[size_t(now & (kWheel - 1))];
      while (!bucket.empty()) {  // (a queue due again in this cycle joins the next round)
        batch_.swap(bucket);
        inWheel_ -= batch_.size();
        std::sort(batch_.begin(), batch_.end());
        for (int q : batch_) run(q, now);
        batch_.clear();
      }
      Cycle next = 0;  // (cycles before the barrier's release are negative)
      bool any = false;
      for (Cycle d = 1; d < kWheel && inWheel_ > 0 && !any; ++d)
        if (!wheel_[size_t((now + d) & (kWheel - 1))].empty()) next = now + d, any = true;
      if (!any && !far_.empty()) next = far_.top().first, any = true;
      if (any) next_trigger(sc_time(double(next - now), SC_NS));
    } catch (const Error& e) {
      s_.failed = true;
      s_.error = e.what();
      sc_stop();
    }
  }
  void run(int q, Cycle now) {
    QueueRunner& r = runners_[size_t(q)];
    if (resume_[size_t(q)]) {  // the barrier released
      resume_[size_t(q)] = false;
      r.resume(now);
    }
    const bool released = s_.chip.release().has_value();
    const auto next = r.run(now, s_.chip);
    if (!released && s_.chip.release()) {  // this queue released it: wake the parked ones then
      for (int w : parked_) {
        resume_[size_t(w)] = true;
        due(*s_.chip.release(), w, now);
      }
      parked_.clear();
    }
    switch (next.state) {
      case QueueRunner::State::Wait: due(next.at, q, now); break;
      case QueueRunner::State::Park:
        if (s_.chip.release()) {
          resume_[size_t(q)] = true;
          due(*s_.chip.release(), q, now);
        } else {
          parked_.push_back(q);
        }
        break;
      case QueueRunner::State::Done: break;
    }
  }
  Shared& s_;
  std::vector<QueueRunner> runners_;
  std::array<std::vector<int>, size_t(kWheel)> wheel_;
  std::vector<int> batch_;
  size_t inWheel_ = 0;
  using Due = std::pair<Cycle, int>;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> far_;
  std::vector<bool> resume_;
  std::vector<int> parked_;
};

}  // namespace

Cycle staticRelease(const Program& p, const ChipConfig& c) {
  for (const Queue& q : p.queues)
    for (const Issue& is : issueCycles(q)) {
      const Instr& in = q.code[is.index];
      if (in.op == Opcode::SYNC) break;
      if (in.op == Opcode::NOTIFY) return is.cycle + c.latency.icu_notify;
    }
  return 0;
}

namespace {

// Quiet SystemC (no banner, no info reports) with one time unit per cycle.
void setUpSystemC() {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
  sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", SC_DO_NOTHING);
  sc_set_time_resolution(1, SC_NS);
}

// Runs the simulation in this process: SystemC elaborates the design once.
SimResult simulateHere(const Program& p, const ChipConfig& c, const std::string& programName, const RunRequest& req) {
  checkProgramFits(p, c, programName);
  setUpSystemC();

  const auto wall0 = std::chrono::steady_clock::now();
  SimOptions opt = req.options;
  opt.trace = !req.tracePath.empty();
  Chip chip(c, p, programName, opt);
  Shared shared{chip, staticRelease(p, c), false, ""};
  ChipModule module("chip", p, shared);
  sc_start();
  if (shared.failed) throw Error(shared.error);
  if (!module.parked().empty())
    throw Error(fmt::format("{}: waits at sync forever: the barrier was never released",
                            formatQueueId(p.queues[size_t(module.parked()[0])].id)));
  chip.finish();
  if (chip.release() && *chip.release() != 0)
    throw Error(fmt::format("internal: the barrier released in cycle {} of the program, expected 0", *chip.release()));

  SimResult r = collectResult(chip, programName, 0);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (!req.tracePath.empty()) {
    std::ofstream f(req.tracePath);
    if (!f) throw Error(fmt::format("{}: cannot open for writing", req.tracePath));
    f << traceJson(chip);
  }
  return r;
}

// All chips of a system in one design, their links wired; every chip's
// cycle 0 is the common barrier release (hardware-aligned counters).
SystemSimResult simulateSystemHere(const std::vector<const Program*>& progs, const ChipConfig& c,
                                   const std::vector<std::vector<LinkEnd>>& wires, const RunRequest& req) {
  setUpSystemC();
  const auto wall0 = std::chrono::steady_clock::now();
  SimOptions opt = req.options;
  opt.trace = false;
  std::vector<std::unique_ptr<Chip>> chips;
  for (size_t i = 0; i < progs.size(); ++i) {
    const std::string name = fmt::format("chip {}", i);
    checkProgramFits(*progs[i], c, name);
    chips.push_back(std::make_unique<Chip>(c, *progs[i], name, opt));
  }
  for (size_t a = 0; a < chips.size(); ++a)
    for (int l = 0; l < c.c2c_links; ++l) {
      const LinkEnd e = a < wires.size() && size_t(l) < wires[a].size() ? wires[a][size_t(l)] : LinkEnd{};
      chips[a]->link(l).connect(e.chip >= 0 && size_t(e.chip) < chips.size() ? &chips[size_t(e.chip)]->link(e.link)
                                                                             : nullptr);
    }
  const Cycle release = progs.empty() ? 0 : staticRelease(*progs[0], c);
  std::vector<std::unique_ptr<Shared>> shared;
  std::vector<std::unique_ptr<ChipModule>> modules;
  for (size_t i = 0; i < chips.size(); ++i) {
    if (staticRelease(*progs[i], c) != release)
      throw Error(fmt::format("chip {}: its start barrier releases in cycle {}, chip 0's in cycle {}", i,
                              staticRelease(*progs[i], c), release));
    shared.push_back(std::unique_ptr<Shared>(new Shared{*chips[i], release, false, ""}));
    modules.push_back(std::make_unique<ChipModule>(fmt::format("chip{}", i).c_str(), *progs[i], *shared.back()));
  }
  if (req.progress) {  // in slices, the same events in the same order
    do {               // (nothing is pending before the first start: elaboration comes with it)
      sc_start(sc_time(65536, SC_NS));
      req.progress(Cycle(sc_time_stamp().value() / sc_time(1, SC_NS).value()));
    } while (sc_pending_activity());
  } else {
    sc_start();
  }
  for (size_t i = 0; i < chips.size(); ++i)
    if (shared[i]->failed) throw Error(fmt::format("chip {}: {}", i, shared[i]->error));
  SystemSimResult r;
  for (size_t i = 0; i < modules.size(); ++i)
    if (!modules[i]->parked().empty())
      throw Error(fmt::format("chip {}: {}: waits at sync forever: the barrier was never released", i,
                              formatQueueId(progs[i]->queues[size_t(modules[i]->parked()[0])].id)));
  for (size_t i = 0; i < chips.size(); ++i) {
    try {
      chips[i]->finish();
    } catch (const Error& e) {
      throw Error(fmt::format("chip {}: {}", i, e.what()));
    }
    r.chips.push_back(collectResult(*chips[i], fmt::format("chip {}", i), 0));
    r.cycles = std::max(r.cycles, r.chips.back().cycles);
    for (const C2cLink& l : chips[i]->links()) r.c2c_vectors += l.sent(), r.c2c_busy += l.busyCycles();
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return r;
}

bool writeAll(int fd, const std::string& s) {
  for (size_t at = 0; at < s.size();) {
    const ssize_t n = ::write(fd, s.data() + at, s.size() - at);
    if (n <= 0) return false;
    at += size_t(n);
  }
  return true;
}

}  // namespace

// Runs `work` in a forked child and returns what it produced, or throws its
// one-line error. SystemC cannot elaborate a second design in one process,
// so each simulation runs in a child: a process may simulate any number of
// times.
static std::string inChild(const std::function<std::string()>& work) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error("internal: cannot create a pipe for the simulation process");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("internal: cannot fork the simulation process");
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg;
    try {
      msg = "R" + work();
    } catch (const Error& e) {
      msg = std::string("E") + e.what();
    } catch (const std::exception& e) {
      msg = std::string("E") + "internal: " + e.what();
    }
    std::fflush(nullptr);
    _exit(writeAll(fds[1], msg) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    msg.append(buf, size_t(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (msg.empty()) {
    if (WIFSIGNALED(status))
      throw Error(fmt::format("internal: the simulation process died (signal {})", WTERMSIG(status)));
    throw Error("internal: the simulation process sent no result");
  }
  if (msg[0] == 'E') throw Error(msg.substr(1));
  return msg.substr(1);
}

// A result through the pipe: MessagePack of its JSON form (the type macros
// beside the structs), which keeps doubles and 64-bit integers exact.
template <class Result>
Result simulateInChild(const std::function<Result()>& work) {
  const std::string bytes = inChild([&] {
    const std::vector<uint8_t> m = nlohmann::json::to_msgpack(nlohmann::json(work()));
    return std::string(m.begin(), m.end());
  });
  return nlohmann::json::from_msgpack(bytes).get<Result>();
}

SimResult simulate(const Program& p, const ChipConfig& c, const std::string& programName, const RunRequest& req) {
  return simulateInChild<SimResult>([&] { return simulateHere(p, c, programName, req); });
}

SystemSimResult simulateSystem(const std::vector<const Program*>& programs, const ChipConfig& c,
                               const std::vector<std::vector<LinkEnd>>& wires, const RunRequest& req) {
  return simulateInChild<SystemSimResult>([&] { return simulateSystemHere(programs, c, wires, req); });
}

}  // namespace lpu

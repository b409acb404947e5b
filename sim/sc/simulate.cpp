// The SystemC layer: one SC_METHOD per instruction queue that sleeps until its
// next issue cycle (next_trigger), and the start-barrier event. One SystemC
// time unit (1 ns) is one chip cycle; seconds come from cycles / clock_hz.
#include "sim/simulate.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <systemc>

#include "sim/core/queue_runner.h"

namespace lpu {
namespace {

using namespace sc_core;

struct Shared {
  Chip& chip;
  Cycle offset;  // chip cycle = SystemC cycle - offset (0 = barrier release)
  sc_event barrier;
  bool failed = false;
  std::string error;
  int parked = 0;
};

Cycle nowCycle(const Shared& s) { return Cycle(sc_time_stamp().value()) - s.offset; }

class QueueModule : public sc_module {
 public:
  SC_HAS_PROCESS(QueueModule);
  QueueModule(sc_module_name name, const Queue& q, int index, Shared& s)
      : sc_module(name), runner_(q, index, -s.offset), s_(s) {
    SC_METHOD(step);
  }
  bool parked() const { return parked_; }

 private:
  void step() {
    if (s_.failed) return;
    const Cycle now = nowCycle(s_);
    try {
      if (parked_) {  // woken by the barrier
        parked_ = false;
        --s_.parked;
        runner_.resume(now);
      }
      s_.chip.sweep(now);
      const bool released = s_.chip.release().has_value();
      const auto next = runner_.run(now, s_.chip);
      if (!released && s_.chip.release()) s_.barrier.notify(sc_time(double(*s_.chip.release() - now), SC_NS));
      switch (next.state) {
        case QueueRunner::State::Wait: next_trigger(sc_time(double(next.at - now), SC_NS)); break;
        case QueueRunner::State::Park:
          parked_ = true;
          ++s_.parked;
          next_trigger(s_.barrier);
          break;
        case QueueRunner::State::Done: break;  // no trigger: dormant
      }
    } catch (const Error& e) {
      s_.failed = true;
      s_.error = e.what();
      sc_stop();
    }
  }
  QueueRunner runner_;
  Shared& s_;
  bool parked_ = false;
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

SimResult simulate(const Program& p, const ChipConfig& c, const std::string& programName, const RunRequest& req) {
  static bool used = false;  // SystemC cannot elaborate a second design
  if (used) throw Error("one simulation per process: SystemC cannot elaborate a second design");
  used = true;
  checkProgramFits(p, c, programName);
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
  sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", SC_DO_NOTHING);
  sc_set_time_resolution(1, SC_NS);

  const auto wall0 = std::chrono::steady_clock::now();
  SimOptions opt = req.options;
  opt.trace = !req.tracePath.empty();
  Chip chip(c, p, programName, opt);
  Shared shared{chip, staticRelease(p, c), {}, false, "", 0};
  std::vector<std::unique_ptr<QueueModule>> queues;
  for (size_t i = 0; i < p.queues.size(); ++i) {
    std::string name = formatQueueId(p.queues[i].id);
    std::replace(name.begin(), name.end(), '.', '_');  // '.' separates SystemC hierarchy levels
    queues.push_back(std::make_unique<QueueModule>(name.c_str(), p.queues[i], int(i), shared));
  }
  sc_start();
  if (shared.failed) throw Error(shared.error);
  for (size_t i = 0; i < queues.size(); ++i)
    if (queues[i]->parked())
      throw Error(fmt::format("{}: waits at sync forever: the barrier was never released", formatQueueId(p.queues[i].id)));
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

}  // namespace lpu

// Lowering graph ops to tasks: one table row per op (lowering.cpp). The
// Lowerer holds what the rows share: the program being built, the layout,
// the tasks, where each graph tensor lives, and the MXM planes' order.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "builder.h"
#include "layout.h"
#include "models/graph.h"

namespace lpu {

enum class Precision { Int8, Fp16 };
const char* precisionName(Precision p);

// Values of weight and input tensors, for functional runs (row-major, the
// graph's shape). Null: timing only, no values.
using TensorValues = std::function<std::vector<float>(const GTensor&)>;

struct CompileOptions {
  Precision precision = Precision::Int8;
  TensorValues values;       // null: timing only
  float activationScale = 1.0f / 16;  // int8: x_q = round(x / scale), static per matmul input
};

class Lowerer {
 public:
  Lowerer(const Graph& g, const ChipConfig& c, const CompileOptions& o, Program& p);

  void lower(size_t opIndex);
  std::vector<Task>& tasks() { return tasks_; }
  const Layout& layout() const { return layout_; }
  const ActTensor& act(const std::string& name) const;

  // Shared by the table rows.
  const Graph& g;
  const ChipConfig& c;
  const CompileOptions& o;
  Program& p;
  int op = -1, layer = -1;  // the op being lowered

  ActTensor& newAct(const std::string& name, int64_t rows, int64_t cols, std::vector<int> avoid = {});
  // A graph weight/input tensor of shape [N] or [R, N] as fp32 constant rows.
  const ActTensor& constant(const std::string& name, std::vector<int> avoid = {});
  int addTask(TaskBuilder& b);
  TaskBuilder builder(const std::string& label) const;
  std::vector<float> valuesOf(const GTensor& t) const;

  // MXM planes: chosen round-robin; per plane the last compute task and the
  // last drain of each accumulator, for ordering.
  struct PlaneState {
    PlaneId id;
    int config = -1;           // the task that set the plane's mode, -1: none yet
    DType mode = DType::I8;
    int lastCompute = -1;      // task of the last IW/ABC group
    Cycle lastIw = 0, lastAbc = 0;  // their relative cycles in that task
    std::vector<int> drain;    // per accumulator: task that drained it last (-1 none)
    std::vector<Cycle> drainRel;
    int uses = 0;
  };
  PlaneState& nextPlane();
  // Constant rows, made once per group (placed outside `avoid`): a lane mask for a row's last chunk (1 in its
  // first `valid` lanes, else 0; for max: 0, else -3e38), and per chunk
  // (lane index - big) with 0 in lanes at or beyond `cols`.
  int laneMask(int valid, bool forMax, const std::vector<int>& avoid);
  int laneIndex(int cols, float big, const std::vector<int>& avoid);
  Layout layout_;

 private:
  std::vector<Task> tasks_;
  std::map<std::string, ActTensor> acts_;
  std::vector<PlaneState> planes_;
  std::map<std::string, int> constants_;
  size_t nextPlane_ = 0;
};

}  // namespace lpu

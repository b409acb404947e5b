// Lowering graph ops to tasks: one table row per op (lowering.cpp). The
// Lowerer holds what the rows share: the program being built, the layout,
// the tasks, where each graph tensor lives, and the MXM planes' order.
#pragma once
#include <functional>
#include <map>
#include <set>
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

// A tensor that leaves or enters the chip on a C2C link: every vector row,
// one byte plane per SEND (a link carries one vector at a time).
struct LinkSend {
  std::string tensor;  // an output of the graph
  int link = 0;
};
struct LinkRecv {
  std::string tensor;  // an input of the graph
  int link = 0;
  Cycle firstArrival = 0;  // absolute cycle the first vector is at this chip
};

struct CompileOptions {
  Precision precision = Precision::Int8;
  TensorValues values;                // null: timing only
  float activationScale = 1.0f / 16;  // int8: x_q = round(x / scale), static per matmul input
  std::vector<LinkSend> sends;        // multi-chip: what this chip sends, after the graph
  std::vector<LinkRecv> recvs;        // multi-chip: what this chip receives, before the graph
  int rank = 0, tp = 1;               // tensor parallelism: this chip's share of matmul output chunks
  // Tensor parallelism: MoE experts placed whole, tp / experts on each chip
  // (else every expert is split by output chunks over the group).
  bool wholeExperts = false;
};

// A chip's MXM work, for its resource bound (bound.h): the useful MACs of
// the ops it computes (a causal attention's masked positions not counted),
// and the bytes of each distinct weight or KV-cache tensor it streams into
// its planes, once however often the schedule reloads them (its elements,
// not the tiles' padding).
struct MxmWork {
  uint64_t macs_int8 = 0, macs_fp16 = 0, mxm_bytes = 0;
};

class Lowerer {
 public:
  Lowerer(const Graph& g, const ChipConfig& c, const CompileOptions& o, Program& p);

  void lower(size_t opIndex);
  // Ops lowered in phases (MoE with tensor parallelism: gate and up, then
  // down; or whole experts, then the sum of the chips' parts): between two
  // phases the chips all-gather the chunks of the tensors `gathers()` names,
  // each chip having computed those it owns, and each sends its rows of
  // the tensors `reductions()` names to every other, received as
  // "<name>.from<rank>".
  int phases(size_t opIndex) const;
  int phase = 0;
  int sxmTurn = 0;     // reductions so far: each takes the next SXM queues (reduce.cpp)
  int oneHotTurn = 0;  // decode keys: the one-hot row copy the next map reads (kv_cache.cpp)
  std::vector<std::string>& gathers() { return gathers_; }
  std::vector<std::string>& reductions() { return reductions_; }
  std::vector<Task>& tasks() { return *sink_; }
  // Tasks go to `sink` (shared by the chips of a joint schedule), marked
  // with `chip`; MEM row ids start at `rowBase` (distinct per chip).
  void shareTasks(std::vector<Task>* sink, int chip, int rowBase) {
    sink_ = sink, chip_ = chip;
    layout_.setRowBase(rowBase);
  }
  // Tensor parallelism: this chip computes output chunk j of a sharded op.
  bool owns(int j) const { return o.tp <= 1 || (j + chunkTurn_) % o.tp == o.rank; }
  // After a sharded op of n chunks: the next one starts where this one
  // ended, so that the ranks take turns with the odd chunks.
  void turnChunks(int n) { chunkTurn_ = o.tp > 1 ? (chunkTurn_ + n) % o.tp : 0; }
  // Tensor parallelism: this chip keeps KV head g's cache and runs its query heads.
  bool ownsKvHead(int g) const { return o.tp <= 1 || g % o.tp == o.rank; }
  const Layout& layout() const { return layout_; }
  const MxmWork& work() const { return work_; }
  // Counts an op's MXM work: `macs` at `dt` (i8 or f16), and `bytes` of
  // `tensor` streamed into the planes (the first time it is named only).
  void countMxm(DType dt, uint64_t macs, const std::string& tensor, uint64_t bytes);
  // Of an output of n columns, those in the 320-lane chunks this chip
  // computes (all of them with `all`, or without tensor parallelism).
  int64_t ownedColumns(int64_t n, bool all = false) const;
  const ActTensor& act(const std::string& name) const;
  // int8: activation x quantized once (x / activationScale) into int8 rows
  // spread a row a slice (Layout::addSpreadRows), for matmuls of several
  // rows: each plane's feed is then one read of its own slice, not an fp32
  // read of x's 4 slices and two VXM ops. Null if they do not fit.
  struct Int8Rows {
    int tensor = -1, firstRow = 0;
  };
  const Int8Rows* int8Rows(const ActTensor& x);

  // Shared by the table rows.
  const Graph& g;
  const ChipConfig& c;
  const CompileOptions& o;
  Program& p;
  int op = -1, layer = -1;  // the op being lowered

  ActTensor& newAct(const std::string& name, int64_t rows, int64_t cols, std::vector<int> avoid = {}, int width = 0);
  // The tensor as per-head rows of headDim lanes (split once, on first use).
  const ActTensor& headRows(const std::string& name, int headDim);
  // A graph weight/input tensor of shape [N] or [R, N] as fp32 constant rows.
  const ActTensor& constant(const std::string& name, std::vector<int> avoid = {});
  int addTask(TaskBuilder& b);
  TaskBuilder builder(const std::string& label) const;
  std::vector<float> valuesOf(const GTensor& t) const;

  // MXM planes: chosen round-robin; per plane the last compute task and the
  // last drain of each accumulator, for ordering.
  struct PlaneState {
    PlaneId id;
    int config = -1;  // the task that set the plane's mode, -1: none yet
    DType mode = DType::I8;
    int lastCompute = -1;           // task of the last IW/ABC group
    Cycle lastIw = 0, lastAbc = 0;  // their relative cycles in that task
    std::vector<int> drain;         // per accumulator: task that drained it last (-1 none)
    std::vector<Cycle> drainRel;
    int uses = 0;
  };
  // The next plane in rotation; with `words` > 0, the next one that still
  // has that many free addresses (the rotation one when none has), or with
  // `anywhere`, room for them in its hemisphere's activation slices.
  PlaneState& nextPlane(uint32_t words = 0, bool anywhere = true);
  PlaneState& planeState(const PlaneId& id);

  // A KV cache [context, kvHeads * headDim] as fp16 tiles on an MXM plane:
  // keys transposed per kv head (per position chunk j of `lanes`: rows =
  // dims, lanes = positions), values as they are (per chunk j of lanes/2
  // positions: rows = positions, lanes = dims), lanes / headDim kv heads
  // side by side in one tile (head g's dims at lanes laneOff[g]..).
  struct Cache {
    bool keys = true;
    int64_t context = 0;
    int kvHeads = 0, headDim = 0, tilesPerHead = 0;
    std::vector<int> tiles;        // [g * tilesPerHead + j] (heads sharing a tile: the same)
    std::vector<int> firstRow;     // scheduler row of each tile's row 0
    std::vector<int> laneOff;      // [g]: the head's first lane in its value tiles
    std::vector<int> leader;       // [g]: the first head of g's tiles (-1: another chip's)
    std::vector<PlaneId> planeOf;  // [g]
    PlaneId plane(int g) const { return planeOf[size_t(g)]; }
    // The heads sharing leader g's tiles, in lane order.
    std::vector<int> members(int g) const {
      std::vector<int> m;
      for (int h = 0; h < kvHeads; ++h)
        if (leader[size_t(h)] == g) m.push_back(h);
      return m;
    }
  };
  Cache& cache(const std::string& name, bool keys, int kvHeads, int headDim);
  // Constant rows, made once per group (placed outside `avoid`): a lane mask for a row's last chunk (1 in its
  // first `valid` lanes, else 0; for max: 0, else -3e38), and per chunk
  // (lane index - big) with 0 in lanes at or beyond `cols`.
  int laneMask(int valid, bool forMax, const std::vector<int>& avoid);
  int laneRange(int lo, int hi, const std::vector<int>& avoid);  // 1 in lanes [lo, hi)
  // A word in every slice of the plane (`inner`: of the activation slices of
  // its hemisphere, for tiles placed there).
  int scratch(const PlaneId& plane, bool inner);
  int constantNamed(const std::string& name) const {
    const auto it = constants_.find(name);
    return it == constants_.end() ? -1 : it->second;
  }
  void nameConstant(const std::string& name, int tensor) { constants_[name] = tensor; }
  int laneIndex(int cols, float big, const std::vector<int>& avoid);
  // Softmax outputs left unnormalised (exp(x - max), masked) because only
  // attention mixes read them: the mix's drain multiplies row r's result by
  // row 2 r + 1 of `stats` (1 / sum), so the sum's reduction runs beside the
  // mix's passes instead of before them (reduce.cpp, attention.cpp).
  std::map<std::string, std::string> unnormalised;  // softmax output -> its stats activation
  Layout layout_;

 private:
  std::vector<Task> tasks_;
  std::vector<Task>* sink_ = &tasks_;
  int chip_ = 0;
  std::map<std::string, ActTensor> acts_;
  std::vector<PlaneState> planes_;
  std::map<std::string, int> constants_;
  std::map<std::pair<int, bool>, int> maskTurn_;  // laneMask: the next group of each mask
  std::map<std::string, Cache> caches_;
  std::map<std::string, ActTensor> heads_;
  std::map<std::string, Int8Rows> int8_;
  size_t nextPlane_ = 0;
  int chunkTurn_ = 0;
  std::vector<std::string> gathers_, reductions_;
  MxmWork work_;
  std::set<std::string> streamed_;  // tensors whose bytes work_ counts
};

}  // namespace lpu

#include "lowering.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering_ops.h"

namespace lpu {

const char* precisionName(Precision p) { return p == Precision::Int8 ? "int8" : "fp16"; }

uint32_t f32bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

std::vector<uint8_t> encode(const std::vector<double>& v, DType t) {
  std::vector<uint8_t> out(v.size() * size_t(bytes(t)));
  for (size_t i = 0; i < v.size(); ++i) storeElement(t, v[i], &out[i * size_t(bytes(t))]);
  return out;
}

int constRow(Lowerer& L, const std::string& name, const std::vector<double>& v, const std::vector<int>& avoid,
             DType dt) {
  Tensor t;
  t.name = name;
  t.dtype = dt;
  t.cols = uint32_t(L.c.lanes());
  t.init = Tensor::Init::Data;
  t.data = encode(v, dt);
  return L.layout_.addConstant(L.p, t, L.layout_.groupFor(avoid));
}

int columnScales(Lowerer& L, const std::string& name, int chunks, const std::vector<double>& colScale, bool withValues,
                 double factor, const std::vector<int>& avoid) {
  const int lanes = L.c.lanes();
  Tensor t;
  t.name = name;
  t.dtype = DType::F32;
  t.rows = uint32_t(chunks);
  t.cols = uint32_t(lanes);
  if (withValues) {
    std::vector<double> s(size_t(chunks) * size_t(lanes), 0.0);
    for (size_t n = 0; n < colScale.size(); ++n) s[n] = colScale[n] * factor;
    t.init = Tensor::Init::Data;
    t.data = encode(s, DType::F32);
  }
  return L.layout_.addConstant(L.p, t, L.layout_.groupFor(avoid));
}

TaskBuilder::Val sumRows(const ChipConfig& c, TaskBuilder& b, const std::vector<std::pair<const ActTensor*, int>>& rows,
                         Cycle& at) {
  const int v = c.vxmPosition();
  auto rd = [&](size_t i, Cycle when) {
    const auto& [t, r] = rows[i];
    return b.read(t->tensor, uint32_t(r), v, when, t->firstRow + r);
  };
  TaskBuilder::Val acc = b.vxm(Opcode::MOV, DType::F32, 0, rd(0, 0));
  at = c.latency.vxm_alu;
  for (size_t i = 1; i < rows.size(); ++i, at += c.latency.vxm_alu)
    acc = b.vxm(Opcode::ADD, DType::F32, at, acc, rd(i, at));
  return acc;
}

namespace {

// ---- element-wise ops: one task per vector row -------------------------------

// Applies a unary op's VXM chain to x (at the VXM in cycle `at`); `reread`
// brings x back to the VXM at a later cycle when the chain needs it again.
using Reread = std::function<TaskBuilder::Val(Cycle)>;
TaskBuilder::Val unaryChain(const Lowerer& L, TaskBuilder& b, OpKind k, const GOp& op, TaskBuilder::Val x, Cycle at,
                            const Reread& reread) {
  const auto& lat = L.c.latency;
  const DType f = DType::F32;
  auto imm = [](double v) { return f32bits(float(v)); };
  switch (k) {
    case OpKind::Relu: return b.vxm(Opcode::RELU, f, at, x);
    case OpKind::Exp: return b.vxm(Opcode::EXP, f, at, x);
    case OpKind::Tanh: return b.vxm(Opcode::TANH, f, at, x);
    case OpKind::Scale: return b.vxm(Opcode::MULI, f, at, x, {}, imm(op.attrs.value));
    case OpKind::Sigmoid:
    case OpKind::Silu: {  // sigmoid(x) = rsqrt(1 + exp(-x))^2; silu(x) = x * sigmoid(x)
      Cycle t = at;
      auto v = b.vxm(Opcode::NEG, f, t, x);
      v = b.vxm(Opcode::EXP, f, t += lat.vxm_alu, v);
      v = b.vxm(Opcode::ADDI, f, t += lat.vxm_special, v, {}, imm(1.0));
      v = b.vxm(Opcode::RSQRT, f, t += lat.vxm_alu, v);
      v = b.vxm(Opcode::MUL, f, t += lat.vxm_special, v, v);
      if (k == OpKind::Sigmoid) return v;
      t += lat.vxm_alu;
      return b.vxm(Opcode::MUL, f, t, v, reread(t));
    }
    case OpKind::Gelu: {  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      Cycle t = at;
      auto v = b.vxm(Opcode::MUL, f, t, x, x);
      t += lat.vxm_alu;
      v = b.vxm(Opcode::MUL, f, t, v, reread(t));
      v = b.vxm(Opcode::MULI, f, t += lat.vxm_alu, v, {}, imm(0.044715));
      t += lat.vxm_alu;
      v = b.vxm(Opcode::ADD, f, t, v, reread(t));
      v = b.vxm(Opcode::MULI, f, t += lat.vxm_alu, v, {}, imm(0.7978845608028654));
      v = b.vxm(Opcode::TANH, f, t += lat.vxm_alu, v);
      v = b.vxm(Opcode::ADDI, f, t += lat.vxm_special, v, {}, imm(1.0));
      t += lat.vxm_alu;
      v = b.vxm(Opcode::MUL, f, t, v, reread(t));
      return b.vxm(Opcode::MULI, f, t += lat.vxm_alu, v, {}, imm(0.5));
    }
    default: break;
  }
  throw Error(fmt::format("internal: {} is not a unary op", opName(k)));
}

}  // namespace

void lowerElementwise(Lowerer& L, const GOp& op) {
  const ActTensor& a = L.act(op.inputs[0]);
  const bool binary = op.inputs.size() == 2;
  const ActTensor* bt = nullptr;
  if (binary) {
    const GTensor& gb = L.g.tensor(op.inputs[1]);
    bt = gb.kind == TensorKind::Activation || gb.kind == TensorKind::Input || gb.kind == TensorKind::Output
             ? &L.act(op.inputs[1])
             : &L.constant(op.inputs[1], {a.group});
  }
  std::vector<int> avoid{a.group};
  if (bt) avoid.push_back(bt->group);
  ActTensor& y = L.newAct(op.outputs[0], a.rows, a.cols, avoid);
  const int v = L.c.vxmPosition();
  for (int r = 0; r < a.vrows(); ++r) {
    TaskBuilder b = L.builder(fmt::format("{}[{}]", op.name, r));
    const Cycle at = 0;
    auto x = b.read(a.tensor, uint32_t(r), v, at, a.firstRow + r);
    TaskBuilder::Val out;
    if (binary) {
      const int br = bt->vrows() == a.vrows() ? r : r % bt->vrows();
      const bool sameGroup = bt->group == a.group && bt != &a;
      TaskBuilder::Val yv;
      if (bt == &a) {
        yv = x;
      } else if (sameGroup) {  // same slices: read one ALU latency earlier and delay through a mov
        auto early =
            b.read(bt->tensor, uint32_t(br), v, at - L.c.latency.vxm_alu, bt->firstRow < 0 ? -1 : bt->firstRow + br);
        yv = b.vxm(Opcode::MOV, DType::F32, at - L.c.latency.vxm_alu, early);
      } else {
        yv = b.read(bt->tensor, uint32_t(br), v, at, bt->firstRow < 0 ? -1 : bt->firstRow + br);
      }
      const Opcode opc = op.kind == OpKind::Add ? Opcode::ADD : op.kind == OpKind::Mul ? Opcode::MUL : Opcode::SUB;
      out = b.vxm(opc, DType::F32, at, x, yv);
    } else {
      out = unaryChain(L, b, op.kind, op, x, at,
                       [&](Cycle t) { return b.read(a.tensor, uint32_t(r), v, t, a.firstRow + r); });
    }
    b.write(y.tensor, uint32_t(r), out, y.firstRow + r);
    L.addTask(b);
  }
}

namespace {

void unsupported(Lowerer&, const GOp& op) {
  throw Error(fmt::format("op {} ({}): the compiler cannot lower this op yet", op.name, opName(op.kind)));
}

using LowerFn = void (*)(Lowerer&, const GOp&);
struct LoweringRow {
  OpKind kind;
  LowerFn fn;
};

// The lowering table: one row per graph op.
constexpr LoweringRow kLowering[] = {
    {OpKind::MatMul, lowerMatMul},       {OpKind::AttnScores, lowerAttnScores}, {OpKind::AttnMix, lowerAttnMix},
    {OpKind::MoeFFN, lowerMoeFFN},       {OpKind::Add, lowerElementwise},       {OpKind::Mul, lowerElementwise},
    {OpKind::Sub, lowerElementwise},     {OpKind::Exp, lowerElementwise},       {OpKind::Tanh, lowerElementwise},
    {OpKind::Sigmoid, lowerElementwise}, {OpKind::Silu, lowerElementwise},      {OpKind::Gelu, lowerElementwise},
    {OpKind::Relu, lowerElementwise},    {OpKind::Scale, lowerElementwise},     {OpKind::RmsNorm, lowerNorm},
    {OpKind::LayerNorm, lowerNorm},      {OpKind::Softmax, lowerSoftmax},       {OpKind::Argmax, lowerArgmax},
    {OpKind::TopK, lowerTopK},           {OpKind::Embedding, lowerEmbedding},   {OpKind::KvAppend, lowerKvAppend},
    {OpKind::Rope, lowerRope},           {OpKind::Reshape, lowerShape},         {OpKind::Transpose, lowerShape},
    {OpKind::Concat, lowerShape},        {OpKind::Slice, lowerShape},
};

}  // namespace

Lowerer::Lowerer(const Graph& graph, const ChipConfig& chip, const CompileOptions& opts, Program& prog)
    : g(graph), c(chip), o(opts), p(prog), layout_(chip) {
  for (const PlaneId& id : layout_.planes()) {
    PlaneState s;
    s.id = id;
    s.drain.assign(size_t(chip.mxm_accumulators), -1);
    s.drainRel.assign(size_t(chip.mxm_accumulators), 0);
    planes_.push_back(s);
  }
  // Graph inputs live in MEM as activations from the start.
  for (const GTensor& t : g.tensors)
    if (t.kind == TensorKind::Input) {
      // Real inputs as rows of chunks; integer inputs [T] (token ids) as one
      // row per element with the value in every lane, for address arithmetic.
      const int64_t rows = t.integer ? t.shape[0] : t.shape.size() == 2 ? t.shape[0] : 1;
      const int64_t cols = t.integer ? 1 : t.shape.back();
      ActTensor& a = newAct(t.name, rows, cols);
      if (o.values) {
        const auto v = valuesOf(t);
        std::vector<double> d(size_t(a.vrows()) * size_t(c.lanes()), 0.0);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t col = 0; col < (t.integer ? c.lanes() : cols); ++col)
            d[size_t((r * a.chunks + col / c.lanes()) * c.lanes() + col % c.lanes())] =
                v[size_t(t.integer ? r : r * cols + col)];
        Tensor& pt = p.tensors[size_t(a.tensor)];
        pt.init = Tensor::Init::Data;
        pt.cols = uint32_t(c.lanes());
        pt.data = encode(d, DType::F32);
      }
    }
}

int Lowerer::phases(size_t opIndex) const { return g.ops[opIndex].kind == OpKind::MoeFFN && o.tp > 1 ? 2 : 1; }

void Lowerer::lower(size_t opIndex) {
  const GOp& gop = g.ops[opIndex];
  op = int(opIndex);
  layer = gop.layer;
  for (const LoweringRow& row : kLowering)
    if (row.kind == gop.kind) return row.fn(*this, gop);
  unsupported(*this, gop);
}

const ActTensor& Lowerer::act(const std::string& name) const {
  const auto it = acts_.find(name);
  if (it == acts_.end()) throw Error(fmt::format("internal: tensor {} has no place in MEM", name));
  return it->second;
}

ActTensor& Lowerer::newAct(const std::string& name, int64_t rows, int64_t cols, std::vector<int> avoid, int width) {
  ActTensor a = layout_.addActivation(p, name, rows, cols, std::move(avoid), width);
  if (c.lanes() < cols) p.tensors[size_t(a.tensor)].cols = uint32_t(c.lanes());
  if (const GTensor* gt = g.find(name); gt && gt->kind == TensorKind::Output) p.tensors[size_t(a.tensor)].output = true;
  return acts_[name] = a;
}

const ActTensor& Lowerer::constant(const std::string& name, std::vector<int> avoid) {
  const auto it = acts_.find(name);
  if (it != acts_.end()) return it->second;
  const GTensor& t = g.tensor(name);
  const int64_t rows = t.shape.size() == 2 ? t.shape[0] : 1, cols = t.shape.back();
  ActTensor a;
  a.name = name;
  a.rows = rows;
  a.cols = cols;
  a.width = c.lanes();
  a.chunks = (cols + c.lanes() - 1) / c.lanes();
  a.group = layout_.groupFor(std::move(avoid));
  Tensor pt;
  pt.name = name;
  pt.dtype = DType::F32;
  pt.rows = uint32_t(a.vrows());
  pt.cols = uint32_t(c.lanes());
  if (o.values) {
    const auto v = valuesOf(t);
    std::vector<double> d(size_t(a.vrows()) * size_t(c.lanes()), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t col = 0; col < cols; ++col)
        d[size_t((r * a.chunks + col / c.lanes()) * c.lanes() + col % c.lanes())] = v[size_t(r * cols + col)];
    pt.init = Tensor::Init::Data;
    pt.data = encode(d, DType::F32);
  }
  a.tensor = layout_.addConstant(p, pt, a.group);
  a.firstRow = -1;
  return acts_[name] = a;
}

std::vector<float> Lowerer::valuesOf(const GTensor& t) const {
  auto v = o.values(t);
  if (int64_t(v.size()) != t.elements())
    throw Error(fmt::format("tensor {}: {} values given, its shape needs {}", t.name, v.size(), t.elements()));
  return v;
}

TaskBuilder Lowerer::builder(const std::string& label) const {
  TaskBuilder b(c, p, label);
  b.setOp(op, layer);
  return b;
}

int Lowerer::addTask(TaskBuilder& b) {
  sink_->push_back(b.take());
  sink_->back().chip = chip_;
  return int(sink_->size()) - 1;
}

int Lowerer::laneMask(int valid, bool forMax, const std::vector<int>& avoid) {
  // A copy in each group the reader allows, in turn: a mask every row of a
  // softmax or head split reads would otherwise keep one group's slices busy.
  std::vector<int> allowed;
  for (int g = 0; g < layout_.groups(); ++g)
    if (std::find(avoid.begin(), avoid.end(), g) == avoid.end()) allowed.push_back(g);
  if (allowed.empty()) throw Error("internal: no activation group left");
  const int group = allowed[size_t(maskTurn_[{valid, forMax}]++) % allowed.size()];
  const std::string name = fmt::format("const.mask{}{}.g{}", forMax ? "max" : "", valid, group);
  if (auto it = constants_.find(name); it != constants_.end()) return it->second;
  Tensor t;
  t.name = name;
  t.dtype = DType::F32;
  t.cols = uint32_t(c.lanes());
  t.init = Tensor::Init::Data;
  std::vector<double> v(size_t(c.lanes()));
  for (int l = 0; l < c.lanes(); ++l) v[size_t(l)] = l < valid ? (forMax ? 0.0 : 1.0) : (forMax ? -3e38 : 0.0);
  t.data = encode(v, DType::F32);
  return constants_[name] = layout_.addConstant(p, t, group);
}

int Lowerer::laneIndex(int cols, float big, const std::vector<int>& avoid) {
  const int group = layout_.groupFor(avoid);
  const std::string name = fmt::format("const.index{}.g{}", cols, group);
  if (auto it = constants_.find(name); it != constants_.end()) return it->second;
  const int chunks = (cols + c.lanes() - 1) / c.lanes();
  Tensor t;
  t.name = name;
  t.dtype = DType::F32;
  t.rows = uint32_t(chunks);
  t.cols = uint32_t(c.lanes());
  t.init = Tensor::Init::Data;
  std::vector<double> v(size_t(chunks) * size_t(c.lanes()), 0.0);
  for (int i = 0; i < cols; ++i) v[size_t(i)] = double(i) - double(big);
  t.data = encode(v, DType::F32);
  return constants_[name] = layout_.addConstant(p, t, group);
}

void Lowerer::countMxm(DType dt, uint64_t macs, const std::string& tensor, uint64_t bytes) {
  (dt == DType::I8 ? work_.macs_int8 : work_.macs_fp16) += macs;
  if (streamed_.insert(tensor).second) work_.mxm_bytes += bytes;
}

int64_t Lowerer::ownedColumns(int64_t n, bool all) const {
  const int64_t lanes = c.lanes();
  int64_t cols = 0;
  for (int64_t j = 0; j * lanes < n; ++j)
    if (all || owns(int(j))) cols += std::min(lanes, n - j * lanes);
  return cols;
}

Lowerer::PlaneState& Lowerer::nextPlane(uint32_t words, bool anywhere) {
  size_t pick = nextPlane_;
  // The next plane with `words` free on its own slices, else with room for
  // their bytes in its hemisphere (1/16 more: rounding to the activation
  // slices' spread).
  const uint64_t bytes = uint64_t(words) * uint64_t(c.mxm_weight_streams) * uint64_t(c.lanes()) * 17 / 16;
  bool found = false;
  for (int pass = 0; pass < (anywhere ? 2 : 1) && words > 0 && !found; ++pass)
    for (size_t k = 0; k < planes_.size(); ++k) {
      const size_t i = (nextPlane_ + k) % planes_.size();
      if (pass == 0 ? layout_.planeFree(planes_[i].id) >= words : layout_.tileRoom(planes_[i].id) >= bytes) {
        pick = i;
        found = true;
        break;
      }
    }
  nextPlane_ = (pick + 1) % planes_.size();
  return planes_[pick];
}

}  // namespace lpu

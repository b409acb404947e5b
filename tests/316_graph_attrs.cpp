// Op attributes: typed once when a graph is loaded (LPU_OP_ATTRS in
// models/graph.h), checked against the op that carries them, and written
// back by graph-to-JSON exactly as given.
#include <catch2/catch.hpp>
#include <string>

#include "isa/error.h"
#include "models/build_graph.h"
#include "models/graph.h"
#include "models/model_config.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

// One RmsNorm over x [2, 8] with the given "attrs" object (JSON text).
nlohmann::json normGraph(const std::string& attrs) {
  return nlohmann::json::parse(R"({"format": "lpusim-graph", "version": 1, "name": "norm",
    "tensors": [{"name": "x", "shape": [2, 8], "kind": "input"}, {"name": "w", "shape": [8], "kind": "weight"},
                {"name": "y", "shape": [2, 8], "kind": "output"}],
    "ops": [{"op": "RmsNorm", "name": "norm", "inputs": ["x", "w"], "outputs": ["y"], "attrs": )" +
                               attrs + "}]}");
}

// The error graphFromJson throws, or "" if it loads.
std::string loadError(const nlohmann::json& j) {
  try {
    graphFromJson(j, "g.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// JSON -> graph -> JSON -> graph -> JSON gives the same text twice.
void checkRoundTrip(const Graph& g) {
  const std::string once = toJson(g).dump();
  const std::string twice = toJson(graphFromJson(nlohmann::json::parse(once), g.name)).dump();
  CHECK(once == twice);
}

}  // namespace

SCENARIO("an op attribute round-trips through graph JSON, typed", "[graph]") {
  GIVEN("norms.graph.json, whose RMS norm has eps 1e-6") {
    const Graph g = loadGraph(sourcePath("examples/graphs/norms.graph.json"));
    const GOp* rms = nullptr;
    for (const GOp& op : g.ops)
      if (op.kind == OpKind::RmsNorm) rms = &op;
    REQUIRE(rms);
    THEN("the field holds it, marked as given") {
      CHECK(rms->attrs.eps == 1e-6);
      CHECK(rms->attrs.has(Attr::eps));
      CHECK_FALSE(rms->attrs.has(Attr::heads));
    }
    WHEN("the graph is written back") {
      const auto j = toJson(g);
      THEN("the op has the same attrs object and loads to the same text") {
        for (const auto& op : j["ops"])
          if (op["op"] == "RmsNorm") CHECK(op["attrs"].dump() == R"({"eps":1e-06})");
        checkRoundTrip(g);
      }
    }
  }
  GIVEN("every example graph and built graphs using every attribute") {
    for (const char* f : {"attention", "embedding", "mlp", "norms", "shapes"})
      checkRoundTrip(loadGraph(sourcePath(std::string("examples/graphs/") + f + ".graph.json")));
    StepRequest prefill;  // causal scores
    prefill.mode = "prefill", prefill.prompt = 3;
    StepRequest batch;  // Slice and Concat
    batch.batch = 2;
    for (const char* m : {"tiny-gpt2", "tiny-llama", "tiny-moe", "llama-3.1-8b", "gpt-oss-20b"})
      for (StepRequest r : {prefill, batch}) {
        r.layers = 1;
        INFO(m << " " << r.mode);
        checkRoundTrip(buildGraph(loadModel(m), r));  // llama-3.1: Rope scaling; gpt-oss: MoeFFN bias and limit
      }
  }
}

SCENARIO("a wrong attribute is a one-line error naming the op and the attribute", "[graph]") {
  GIVEN("an RMS norm") {
    THEN("eps of the right type loads") { CHECK(loadError(normGraph(R"({"eps": 1e-5})")) == ""); }
    WHEN("eps is a string") {
      const std::string e = loadError(normGraph(R"({"eps": "small"})"));
      THEN("the error names the op, the attribute and the type") {
        CHECK(e == R"(g.json: op norm (RmsNorm): attribute eps: expected a number, got "small")");
        CHECK(e.find('\n') == std::string::npos);
      }
    }
    WHEN("it carries an attribute of another op, or one of no op") {
      THEN("the error names it and lists what RmsNorm takes") {
        CHECK(loadError(normGraph(R"({"eps": 1e-5, "heads": 2})")) ==
              "g.json: op norm (RmsNorm): attribute heads: RmsNorm takes no such attribute (it takes eps)");
        CHECK(loadError(normGraph(R"({"epsilon": 1e-5})")) ==
              "g.json: op norm (RmsNorm): attribute epsilon: RmsNorm takes no such attribute (it takes eps)");
      }
    }
    WHEN("such a graph is given to lpusim run") {
      const std::string path = tempPath("bad_attr.graph.json");
      writeFile(path, normGraph(R"({"eps": true})").dump());
      THEN("it prints one line naming the op and the attribute") {
        checkBadInput("run --graph " + path, "op norm (RmsNorm): attribute eps: expected a number, got true");
      }
    }
    WHEN("eps is missing") {
      THEN("validation names it") {
        CHECK(loadError(normGraph("{}")) == "g.json: op norm (RmsNorm): attribute eps is missing");
      }
    }
  }
  GIVEN("a graph built in C++ that sets an attribute its op does not take") {
    Graph g = buildGraph(loadModel("tiny-llama"), StepRequest{});
    REQUIRE(g.ops.back().kind == OpKind::Argmax);
    g.ops.back().attrs.set_eps(1e-5);
    THEN("validate() rejects it") {
      CHECK_THROWS_WITH(validate(g, "built"),
                        "built: op argmax (Argmax): attribute eps: Argmax takes no such attribute (it takes none)");
    }
  }
}

SCENARIO("an attribute left out takes its one default, and is not written back", "[graph]") {
  GIVEN("attention.graph.json: MatMul without transpose_w, Softmax without heads, AttnMix without scale") {
    const Graph g = loadGraph(sourcePath("examples/graphs/attention.graph.json"));
    const auto j = toJson(g);
    for (size_t i = 0; i < g.ops.size(); ++i) {
      const GOp& op = g.ops[i];
      INFO(op.name);
      if (op.kind == OpKind::MatMul) CHECK_FALSE(op.attrs.transpose_w);
      if (op.kind == OpKind::Softmax) CHECK(op.attrs.heads == 0);
      if (op.kind == OpKind::AttnMix) CHECK(op.attrs.scale == 1.0);  // the mix is not scaled
      if (op.kind == OpKind::AttnScores) CHECK_FALSE(op.attrs.causal);
      if (op.kind == OpKind::KvAppend) CHECK(op.attrs.keys == (op.name == "append_k"));
      if (op.kind == OpKind::MatMul || op.kind == OpKind::Softmax) CHECK_FALSE(j["ops"][i].contains("attrs"));
    }
  }
  THEN("the table names each attribute once") {
    for (int a = 0; a < kAttrCount; ++a)
      for (int b = a + 1; b < kAttrCount; ++b) CHECK(std::string(attrName(Attr(a))) != attrName(Attr(b)));
  }
}

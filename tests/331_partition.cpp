// The mapping's plain parts: blocks split over pipeline stages (balancing
// parameters) and the chips each stage's group starts at.
#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "compiler/partition.h"

using namespace lpu;

using Ranges = std::vector<std::pair<int, int>>;

SCENARIO("tiny-llama's blocks split over stages, groups chained over a node", "[partition]") {
  GIVEN("tiny-llama (2 layers: 4 blocks) and groq-node (8 chips, one node)") {
    const ModelConfig m = loadModel("tiny-llama");
    const SystemConfig sys = loadSystem("groq-node");
    THEN("the blocks' parameters: attention 0 with the embedding, MLP 1 with the head last") {
      CHECK(blockParams(m) == std::vector<uint64_t>{262400, 393472, 196864, 459264});
    }
    WHEN("the blocks are split over 1 to 4 stages") {
      THEN("each split has the smallest largest stage") {
        CHECK(splitBlocks(m, 1, 1) == Ranges{{0, 4}});
        // Two stages: [0,1] 262,400 + 393,472 = 655,872 and [2,3] 196,864 + 459,264 = 656,128;
        // cutting after block 0 or 2 leaves 1,049,600 or 852,736 on one side.
        CHECK(splitBlocks(m, 2, 1) == Ranges{{0, 2}, {2, 4}});
        // Three: [0] 262,400, [1,2] 590,336, [3] 459,264 (largest 590,336) beats
        // [0,1][2][3] (655,872) and [0][1][2,3] (656,128).
        CHECK(splitBlocks(m, 3, 1) == Ranges{{0, 1}, {1, 3}, {3, 4}});
        CHECK(splitBlocks(m, 4, 1) == Ranges{{0, 1}, {1, 2}, {2, 3}, {3, 4}});
        CHECK_THROWS(splitBlocks(m, 5, 1));  // only 4 blocks
      }
    }
    WHEN("8 chips are chained in groups of tp") {
      const auto w = wiring(sys, sys.chipConfig().c2c_links);
      THEN("one node holds 8 / tp groups in turn, each starting tp chips after the last") {
        CHECK(groupChain(sys, w, 1, 8) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
        CHECK(groupChain(sys, w, 2, 4) == std::vector<int>{0, 2, 4, 6});
        CHECK(groupChain(sys, w, 4, 2) == std::vector<int>{0, 4});
        CHECK_THROWS(groupChain(sys, w, 4, 3));  // 3 groups of 4 need 2 nodes
      }
    }
  }
}

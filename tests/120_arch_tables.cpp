// The architecture's tables (isa/latencies.def, isa/arch/chip_fields.def,
// isa/arch/queues.h): every row reaches the struct, JSON, validation and
// the queue numbering.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "isa/arch/chip_config.h"
#include "isa/arch/queues.h"
#include "isa/error.h"

using namespace lpu;

SCENARIO("every chip field and latency is one row, read and written by name", "[arch]") {
  GIVEN("the teaching chip as JSON") {
    const ChipConfig base = presetTeaching();
    const nlohmann::json j = nlohmann::json::parse(chipToJson(base));
    // 19 chip fields + 16 latencies = 35 rows, and name and description.
    REQUIRE(fieldDocs().size() == 35);
    WHEN("each field in turn is set one higher and read back") {
      for (const FieldDoc& f : fieldDocs()) {
        nlohmann::json k = j;
        const nlohmann::json::json_pointer ptr(
            "/" + std::string(f.key.rfind("latency.", 0) == 0 ? "latency/" + f.key.substr(8) : f.key));
        if (k[ptr].is_number_integer())
          k[ptr] = k[ptr].get<int64_t>() + 1;
        else
          k[ptr] = k[ptr].get<double>() + 1;
        const ChipConfig c = chipFromJson(k.dump(), "t.json");
        THEN("only that field changed, by one: " + f.key) {
          const nlohmann::json back = nlohmann::json::parse(chipToJson(c));
          CHECK(back[ptr].get<double>() == j[ptr].get<double>() + 1);
          nlohmann::json same = back;
          same[ptr] = j[ptr];
          CHECK(same == j);
        }
      }
    }
    WHEN("a latency is out of its row's range") {
      nlohmann::json k = j;
      k["latency"]["mem_read"] = 0;
      THEN("the error names the field and the range") {
        REQUIRE_THROWS_WITH(chipFromJson(k.dump(), "t.json"),
                            "t.json: field latency.mem_read: 0 is out of range (expected 1 to 1000 cycles)");
      }
    }
  }
  GIVEN("the latency classes of the ISA") {
    THEN("latencyOf reads the member each class names") {
      const ChipConfig c = presetTeaching();
      CHECK(c.latencyOf(Lat::none) == 0);
      CHECK(c.latencyOf(Lat::mem_read) == c.latency.mem_read);  // 2 on the teaching chip
      CHECK(c.latencyOf(Lat::mxm_pass) == 4);                   // set by name in presetTeaching
      CHECK(c.latencyOf(Lat::c2c_deskew) == 4);                 // the last row
      CHECK(latencyName(Lat::c2c_deskew) == "c2c_deskew");
      CHECK(presetTspV1().latencyOf(Lat::c2c_deskew) == 216);  // the row's default
    }
  }
}

SCENARIO("one queue table numbers the chip's queues", "[arch]") {
  GIVEN("groq-tsp-v1") {
    const ChipConfig c = presetTspV1();
    THEN("it has the ICU's 144 queues and one a C2C link") {
      // 2 x (44 MEM + 2 planes x 3 MXM + 14 SXM) + 16 VXM = 144, + 16 C2C links = 160.
      REQUIRE(queueCount(c) == 160);
      for (int i = 0; i < queueCount(c); ++i) {
        const QueueId q = queueAt(c, i);
        CHECK(queueIndex(c, q) == i);
        CHECK(queueExists(c, q));
      }
      CHECK(queueIndex(c, QueueId{Unit::MEM, true, 0, 0}) == 44);        // E0 after W0..W43
      CHECK(queueIndex(c, QueueId{Unit::MXM, true, 1, 2}) == 104 + 11);  // 88 MEM + 16 VXM; (2 + 1) x 3 + 2
      CHECK(queueIndex(c, QueueId{Unit::C2C, false, 15, 0}) == 159);
      CHECK_FALSE(queueExists(c, QueueId{Unit::MXM, false, 0, 3}));
      CHECK_FALSE(queueExists(c, QueueId{Unit::MEM, false, 44, 0}));
    }
  }
}

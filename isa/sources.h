// The producer check's statement of a program (Program::sources): for each
// read of a stream or MEM word, the issue whose value it must take.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "isa.h"

namespace lpu {

// One issue of a program: queue `queue`'s instruction code[index], or its
// rep-th repetition by the repeat that follows it (rep 0: the instruction itself).
struct IssueRef {
  int32_t queue = -1;  // index into Program::queues
  uint32_t index = 0;
  uint32_t rep = 0;
  bool operator==(const IssueRef& o) const { return queue == o.queue && index == o.index && rep == o.rep; }
  bool operator<(const IssueRef& o) const {
    return queue != o.queue ? queue < o.queue : index != o.index ? index < o.index : rep < o.rep;
  }
};

// What a read of a stream means to read: when `reader` issues and reads
// `stream`, the value there must be the one `writer` put on it (the producer
// check: a dropped or moved producer otherwise lets the reader take another
// value passing through the same stream slot, silently). With `stream` =
// kWordRead it is the MEM word a read instruction takes: `writer` is the
// write whose value it holds, or kInitialContents (queue -1) for the data
// section's (a dropped write otherwise leaves an older value there).
struct StreamSource {
  IssueRef reader;
  StreamRef stream;
  IssueRef writer;
};
constexpr StreamRef kWordRead{255, false};  // not a stream: the word a read instruction reads
constexpr IssueRef kInitialContents{-1, 0, 0};

// A program's StreamSources, sorted by reader, then stream, and held as
// runs: the repetitions k = 0..count-1 of one repeated reader read the same
// streams, each from one writer instruction's repetition rep + step * k (a
// repeated read of a repeated write, or of the data section with step 0).
// The list is constant once made and copies of it share it, so a
// pipeline's stages built alike hold one, however many chips.
class SourceList {
 public:
  SourceList() = default;
  // Sorts `sources` (stable: two producers stated for one read stay in order).
  SourceList(std::vector<StreamSource> sources);  // NOLINT: a list is its sources
  SourceList(std::initializer_list<StreamSource> l) : SourceList(std::vector<StreamSource>(l)) {}

  size_t size() const { return d_ ? d_->size : 0; }
  bool empty() const { return size() == 0; }
  StreamSource operator[](size_t i) const;  // O(log runs)
  std::vector<StreamSource> expand() const { return {begin(), end()}; }
  size_t runs() const { return d_ ? d_->runs.size() : 0; }
  void clear() { d_.reset(); }
  // Whether another list shares this one's storage.
  bool shared() const { return d_ && d_.use_count() > 1; }

  // Every issue of queue q at index from[q] or later one index up (a nop
  // went in before it); from[q] = UINT32_MAX leaves queue q alone.
  void moveUp(const std::vector<uint32_t>& from);

 private:
  struct Run {
    int32_t queue;
    uint32_t index, rep, count;  // reader issues (queue, index, rep + k), k < count
    uint32_t entry, width;       // its entries: entries[entry .. entry + width)
    size_t first;                // sources before this run
  };
  struct Entry {
    IssueRef writer;  // repetition k reads the value of writer.rep + step * k
    int32_t step;
    StreamRef stream;
  };
  struct Data {
    std::vector<Run> runs;
    std::vector<Entry> entries;
    size_t size = 0;
  };
  static StreamSource source(const Run& r, uint32_t k, const Entry& e) {
    return {IssueRef{r.queue, r.index, r.rep + k}, e.stream,
            IssueRef{e.writer.queue, e.writer.index, uint32_t(int64_t(e.writer.rep) + int64_t(e.step) * k)}};
  }
  std::shared_ptr<const Data> d_;  // null: empty

 public:
  // Forward iteration in order, each source by value.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = StreamSource;
    using difference_type = std::ptrdiff_t;
    using pointer = const StreamSource*;
    using reference = StreamSource;
    const_iterator() = default;
    StreamSource operator*() const {
      const Run& r = d_->runs[run_];
      return source(r, k_, d_->entries[r.entry + j_]);
    }
    const_iterator& operator++();
    const_iterator operator++(int) {
      const_iterator t = *this;
      ++*this;
      return t;
    }
    bool operator==(const const_iterator& o) const { return run_ == o.run_ && k_ == o.k_ && j_ == o.j_; }
    bool operator!=(const const_iterator& o) const { return !(*this == o); }

   private:
    friend class SourceList;
    const Data* d_ = nullptr;
    size_t run_ = 0;
    uint32_t k_ = 0, j_ = 0;  // repetition within the run, entry within the repetition
  };
  const_iterator begin() const;
  const_iterator end() const;

  // One queue's reads in issue order (the simulator's check): find() gives
  // the stated producer of the read of `s` by issue (index, rep), each call's
  // issue no earlier than the last's. O(1) a read, amortized.
  class Cursor {
   public:
    Cursor() = default;
    Cursor(const SourceList& l, int32_t queue);
    std::optional<IssueRef> find(uint32_t index, uint32_t rep, StreamRef s);

   private:
    const Run *at_ = nullptr, *end_ = nullptr;
    const Entry* entries_ = nullptr;
  };
};

}  // namespace lpu

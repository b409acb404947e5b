#include "sources.h"

#include <algorithm>
#include <limits>
#include <tuple>

namespace lpu {

SourceList::SourceList(std::vector<StreamSource> v) {
  if (v.empty()) return;
  const auto key = [](const StreamSource& a) { return std::make_tuple(a.reader, a.stream.east, a.stream.id); };
  const auto less = [&](const StreamSource& a, const StreamSource& b) { return key(a) < key(b); };
  if (!std::is_sorted(v.begin(), v.end(), less)) std::stable_sort(v.begin(), v.end(), less);
  auto d = std::make_shared<Data>();
  d->size = v.size();
  std::vector<int64_t> steps;
  for (size_t i = 0; i < v.size();) {  // one run: the reads of issue v[i].reader and of the repetitions after it
    size_t j = i;
    while (j < v.size() && v[j].reader == v[i].reader) ++j;
    const uint32_t width = uint32_t(j - i);
    Run r{v[i].reader.queue, v[i].reader.index, v[i].reader.rep, 1, uint32_t(d->entries.size()), width, i};
    for (size_t e = i; e < j; ++e) d->entries.push_back({v[e].writer, 0, v[e].stream});
    const Entry* first = &d->entries[r.entry];
    for (i = j; i + width <= v.size(); i += width) {  // the next repetition's reads, if it reads alike
      const IssueRef& next = v[i].reader;
      if (next.queue != r.queue || next.index != r.index || uint64_t(next.rep) != uint64_t(r.rep) + r.count) break;
      if (i + width < v.size() && v[i + width].reader == next) break;  // more reads than this run's width
      if (!(v[i + width - 1].reader == next)) break;                   // fewer
      bool alike = true;
      steps.assign(width, 0);
      for (uint32_t e = 0; e < width && alike; ++e) {
        const StreamSource& s = v[i + e];
        const IssueRef& w = first[e].writer;
        const int64_t step = r.count == 1 ? int64_t(s.writer.rep) - int64_t(w.rep) : first[e].step;
        alike = s.stream == first[e].stream && s.writer.queue == w.queue && s.writer.index == w.index &&
                step >= std::numeric_limits<int32_t>::min() && step <= std::numeric_limits<int32_t>::max() &&
                int64_t(w.rep) + step * int64_t(r.count) == int64_t(s.writer.rep);
        steps[e] = step;
      }
      if (!alike) break;
      if (r.count == 1)
        for (uint32_t e = 0; e < width; ++e) d->entries[r.entry + e].step = int32_t(steps[e]);
      ++r.count;
    }
    d->runs.push_back(r);
  }
  d->entries.shrink_to_fit();
  d->runs.shrink_to_fit();
  d_ = std::move(d);
}

StreamSource SourceList::operator[](size_t i) const {
  const auto& runs = d_->runs;
  const auto r = std::upper_bound(runs.begin(), runs.end(), i, [](size_t x, const Run& y) { return x < y.first; }) - 1;
  const size_t off = i - r->first;
  return source(*r, uint32_t(off / r->width), d_->entries[r->entry + off % r->width]);
}

void SourceList::moveUp(const std::vector<uint32_t>& from) {
  if (!d_) return;
  auto d = std::make_shared<Data>(*d_);  // (a copy: another program may share it)
  const auto move = [&](int32_t queue, uint32_t& index) {
    if (queue >= 0 && size_t(queue) < from.size() && index >= from[size_t(queue)]) ++index;
  };
  for (Run& r : d->runs) move(r.queue, r.index);
  for (Entry& e : d->entries) move(e.writer.queue, e.writer.index);
  d_ = std::move(d);
}

SourceList::const_iterator& SourceList::const_iterator::operator++() {
  const Run& r = d_->runs[run_];
  if (++j_ < r.width) return *this;
  j_ = 0;
  if (++k_ < r.count) return *this;
  k_ = 0;
  ++run_;
  return *this;
}

SourceList::const_iterator SourceList::begin() const {
  const_iterator i;
  i.d_ = d_.get();
  return i;
}

SourceList::const_iterator SourceList::end() const {
  const_iterator i;
  i.d_ = d_.get();
  i.run_ = d_ ? d_->runs.size() : 0;
  return i;
}

SourceList::Cursor::Cursor(const SourceList& l, int32_t queue) {
  if (!l.d_) return;
  const auto& runs = l.d_->runs;
  const auto below = [](int32_t q) { return [q](const Run& r) { return r.queue < q; }; };
  at_ = runs.data() + (std::partition_point(runs.begin(), runs.end(), below(queue)) - runs.begin());
  end_ = runs.data() + (std::partition_point(runs.begin(), runs.end(), below(queue + 1)) - runs.begin());
  entries_ = l.d_->entries.data();
}

std::optional<IssueRef> SourceList::Cursor::find(uint32_t index, uint32_t rep, StreamRef s) {
  while (at_ != end_ && (at_->index < index || (at_->index == index && uint64_t(at_->rep) + at_->count <= rep))) ++at_;
  if (at_ == end_ || at_->index != index || rep < at_->rep) return std::nullopt;
  const uint32_t k = rep - at_->rep;
  for (const Entry* e = entries_ + at_->entry; e != entries_ + at_->entry + at_->width; ++e)
    if (e->stream == s)
      return IssueRef{e->writer.queue, e->writer.index, uint32_t(int64_t(e->writer.rep) + int64_t(e->step) * k)};
  return std::nullopt;
}

}  // namespace lpu

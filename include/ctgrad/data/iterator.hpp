#pragma once
// data::Iterator<Batch>: the iterator of a data loader's range-for (libtorch's
// torch::data::Iterator), an input iterator. begin() gives one that fetches its first batch
// when first dereferenced or compared; end() gives a sentinel, and the two compare equal once
// the loader is exhausted. Copies of an iterator share its position. Dereferencing or
// incrementing an exhausted iterator, and comparing two non-sentinel iterators, is an error.
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "../core/error.hpp"

namespace ctgrad::data {

template <class Batch>
class Iterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = Batch*;
    using reference = Batch&;
    using BatchProducer = std::function<std::optional<Batch>()>;

    // A sentinel.
    Iterator() = default;
    // An iterator over the batches `next_batch` produces until it gives nullopt.
    explicit Iterator(BatchProducer next_batch) : state_(std::make_shared<State>(std::move(next_batch))) {}

    Iterator& operator++() {
        if (!state_) throw Error("Iterator: attempted to increment the end (sentinel) iterator of a DataLoader");
        state_->fetch_first();
        if (!state_->batch) throw Error("Iterator: attempted to increment an iterator past the end of its DataLoader");
        state_->batch = state_->next_batch();
        return *this;
    }

    Batch& operator*() { return get(); }
    Batch* operator->() { return &get(); }

    friend bool operator==(const Iterator& a, const Iterator& b) {
        if (a.state_ && b.state_)
            throw Error("Iterator: two non-sentinel iterators of a DataLoader cannot be compared; compare with end()");
        if (!a.state_ && !b.state_) return true;
        const State& s = a.state_ ? *a.state_ : *b.state_;
        s.fetch_first();
        return !s.batch.has_value();
    }

private:
    struct State {
        explicit State(BatchProducer producer) : next_batch(std::move(producer)) {}
        // The first batch is fetched on first use, not when begin() returns.
        void fetch_first() const {
            if (started) return;
            started = true;
            batch = next_batch();
        }
        mutable BatchProducer next_batch;
        mutable std::optional<Batch> batch;
        mutable bool started = false;
    };

    Batch& get() {
        if (!state_) throw Error("Iterator: attempted to dereference the end (sentinel) iterator of a DataLoader");
        state_->fetch_first();
        if (!state_->batch) throw Error("Iterator: attempted to dereference an iterator that was past the end of its DataLoader");
        return *state_->batch;
    }

    std::shared_ptr<State> state_;
};

}  // namespace ctgrad::data

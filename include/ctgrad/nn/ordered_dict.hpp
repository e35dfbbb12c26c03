#pragma once
// OrderedDict<Key, Value>: a vector of (key, value) items with a key index, as libtorch's
// torch::OrderedDict. Modules keep their parameters, buffers and children in one, so that
// iteration follows registration order (PyTorch's order) and lookup by name stays cheap.
#include <cstddef>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace ctgrad {

template <class Key, class Value>
class OrderedDict {
public:
    class Item {
    public:
        Item(Key key, Value value) : pair_(std::move(key), std::move(value)) {}
        const Key& key() const noexcept { return pair_.first; }
        Value& value() noexcept { return pair_.second; }
        const Value& value() const noexcept { return pair_.second; }
        Value& operator*() noexcept { return pair_.second; }
        const Value& operator*() const noexcept { return pair_.second; }
        Value* operator->() noexcept { return &pair_.second; }
        const Value* operator->() const noexcept { return &pair_.second; }
        const std::pair<Key, Value>& pair() const noexcept { return pair_; }

    private:
        std::pair<Key, Value> pair_;
    };

    using Iterator = typename std::vector<Item>::iterator;
    using ConstIterator = typename std::vector<Item>::const_iterator;

    // `key_description` names the keys in errors ("Parameter 'w' is not defined").
    explicit OrderedDict(std::string key_description = "Key") : key_description_(std::move(key_description)) {}

    const std::string& key_description() const noexcept { return key_description_; }

    Iterator begin() { return items_.begin(); }
    ConstIterator begin() const { return items_.begin(); }
    Iterator end() { return items_.end(); }
    ConstIterator end() const { return items_.end(); }

    Item& front() { return checked_item(0, "front"); }
    const Item& front() const { return const_cast<OrderedDict*>(this)->checked_item(0, "front"); }
    Item& back() { return checked_item(items_.size() - 1, "back"); }
    const Item& back() const { return const_cast<OrderedDict*>(this)->checked_item(items_.size() - 1, "back"); }

    Item& operator[](std::size_t index) { return checked_item(index, "operator[]"); }
    const Item& operator[](std::size_t index) const { return const_cast<OrderedDict*>(this)->checked_item(index, "operator[]"); }

    Value& operator[](const Key& key) {
        if (Value* v = find(key)) return *v;
        throw Error(key_description_ + " '" + key_str(key) + "' is not defined");
    }
    const Value& operator[](const Key& key) const { return const_cast<OrderedDict&>(*this)[key]; }

    // The value under `key`, or nullptr.
    Value* find(const Key& key) noexcept {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : &items_[it->second].value();
    }
    const Value* find(const Key& key) const noexcept { return const_cast<OrderedDict*>(this)->find(key); }
    bool contains(const Key& key) const noexcept { return index_.count(key) != 0; }

    // Adds a new item; a key that is already there is an error.
    template <class K, class... Args>
    Value& insert(K&& key, Args&&... args) {
        if (contains(key)) throw Error(key_description_ + " '" + key_str(key) + "' already defined");
        index_.emplace(key, items_.size());
        items_.emplace_back(Key(std::forward<K>(key)), Value(std::forward<Args>(args)...));
        return items_.back().value();
    }
    // Adds or overwrites (the item keeps its place when it exists).
    Value& update_or_insert(const Key& key, Value value) {
        if (Value* v = find(key)) return *v = std::move(value);
        return insert(key, std::move(value));
    }
    void erase(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) throw Error(key_description_ + " '" + key_str(key) + "' is not defined");
        items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(it->second));
        index_.erase(it);
        for (std::size_t i = 0; i < items_.size(); ++i) index_[items_[i].key()] = i;
    }
    void clear() {
        items_.clear();
        index_.clear();
    }

    std::size_t size() const noexcept { return items_.size(); }
    bool is_empty() const noexcept { return items_.empty(); }
    bool empty() const noexcept { return items_.empty(); }

    const std::vector<Item>& items() const noexcept { return items_; }
    std::vector<Key> keys() const {
        std::vector<Key> out;
        out.reserve(items_.size());
        for (const auto& item : items_) out.push_back(item.key());
        return out;
    }
    std::vector<Value> values() const {
        std::vector<Value> out;
        out.reserve(items_.size());
        for (const auto& item : items_) out.push_back(item.value());
        return out;
    }
    std::vector<std::pair<Key, Value>> pairs() const {
        std::vector<std::pair<Key, Value>> out;
        out.reserve(items_.size());
        for (const auto& item : items_) out.push_back(item.pair());
        return out;
    }

private:
    static std::string key_str(const Key& key) {
        if constexpr (std::is_convertible_v<const Key&, std::string>) return std::string(key);
        else return std::to_string(key);
    }
    Item& checked_item(std::size_t index, const char* what) {
        if (index >= items_.size())
            throw Error("OrderedDict::" + std::string(what) + ": index " + std::to_string(index) +
                        " is out of range for a dict of size " + std::to_string(items_.size()));
        return items_[index];
    }

    std::vector<Item> items_;
    std::unordered_map<Key, std::size_t> index_;
    std::string key_description_;
};

}  // namespace ctgrad

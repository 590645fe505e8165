#include "kube/runtime/store.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace aidi::kube {

using nlohmann::json;

namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

using IndexValues = std::vector<std::vector<std::string>>;  // per indexer, the object's values

// Estimated heap bytes beyond the encoded object itself, as malloc counts them: the hash node
// holding the key view and slot (64), its share of the bucket array (~16), and the blob's
// shared_ptr control block, malloc header and rounding (~48). Checked against mallinfo2() by
// bench/kube/cache_bench.cc.
constexpr std::size_t kPerObjectOverhead = 128;
// One membership in one index value: a hash-set node (48) and its share of the buckets (~16).
constexpr std::size_t kPerIndexEntry = 64;

}  // namespace

// ---- The encoding ----
//
// A compact binary form of JSON. Each value starts with a head byte: the type tag in the high
// four bits, and in the low four a small count or number (0..14) or 15 for "a varint with the
// rest follows". Object field names are a varint: (id << 1) for a name in the store's
// dictionary, ((length << 1) | 1) followed by the bytes for one spelled out. Object fields are
// written in nlohmann's (sorted) order, so decoding appends each at the end of its map.
// Blobs are only ever produced by Encode below: decoding trusts them.

namespace {

enum Tag : std::uint8_t {
  kNull = 0,
  kFalse,
  kTrue,
  kUint,    // number_unsigned: the value
  kInt,     // number_integer: zigzag-encoded
  kDouble,  // number_float: 8 bytes
  kString,  // length, bytes
  kBinary,  // length, varint subtype + 1 (0: none), bytes
  kArray,   // count, values
  kObject,  // count, (name, value) pairs
};
constexpr unsigned kInline = 15;

void PutVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutHead(std::string& out, Tag tag, std::uint64_t n) {
  if (n < kInline) {
    out.push_back(static_cast<char>((tag << 4) | n));
    return;
  }
  out.push_back(static_cast<char>((tag << 4) | kInline));
  PutVarint(out, n - kInline);
}

}  // namespace

// Field names shared by the store's objects. The writer interns (Intern); readers look ids up
// (At) without a lock: an entry is written once, before any blob using its id is published under
// the store's mutex, and never moves (fixed chunks), so the mutex orders the write before every
// read. Names longer than kMaxNameLength, and all names once the dictionary is full, are spelled
// out in the blob instead. The dictionary only grows (bounded by kMaxNames).
class Store::KeyDictionary {
 public:
  static constexpr std::uint32_t kChunkSize = 256;
  static constexpr std::uint32_t kMaxChunks = 256;
  static constexpr std::uint32_t kMaxNames = kChunkSize * kMaxChunks;
  static constexpr std::size_t kMaxNameLength = 64;

  // Writer only.
  std::optional<std::uint32_t> Intern(std::string_view name) {
    if (name.size() > kMaxNameLength) return std::nullopt;
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    if (count_ == kMaxNames) return std::nullopt;
    auto& chunk = chunks_[count_ / kChunkSize];
    if (!chunk) chunk = std::make_unique<std::string[]>(kChunkSize);
    std::string& slot = chunk[count_ % kChunkSize];
    slot = name;
    ids_.emplace(slot, count_);  // the view stays valid: chunk entries never move
    return count_++;
  }

  // Any thread, for an id read from a published blob.
  const std::string& At(std::uint32_t id) const {
    return chunks_[id / kChunkSize][id % kChunkSize];
  }

 private:
  std::unordered_map<std::string_view, std::uint32_t> ids_;  // writer only
  std::array<std::unique_ptr<std::string[]>, kMaxChunks> chunks_;
  std::uint32_t count_ = 0;
};

namespace {

void EncodeValue(const json& v, Store::KeyDictionary& dictionary, std::string& out) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      PutHead(out, kNull, 0);
      return;
    case json::value_t::boolean:
      PutHead(out, v.get<bool>() ? kTrue : kFalse, 0);
      return;
    case json::value_t::number_unsigned:
      PutHead(out, kUint, v.get<std::uint64_t>());
      return;
    case json::value_t::number_integer: {
      auto i = v.get<std::int64_t>();
      PutHead(out, kInt,
              (static_cast<std::uint64_t>(i) << 1) ^ static_cast<std::uint64_t>(i >> 63));
      return;
    }
    case json::value_t::number_float: {
      double d = v.get<double>();
      char bytes[sizeof d];
      std::memcpy(bytes, &d, sizeof d);
      PutHead(out, kDouble, 0);
      out.append(bytes, sizeof d);
      return;
    }
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      PutHead(out, kString, s.size());
      out.append(s);
      return;
    }
    case json::value_t::binary: {
      const auto& b = v.get_binary();
      PutHead(out, kBinary, b.size());
      PutVarint(out, b.has_subtype() ? static_cast<std::uint64_t>(b.subtype()) + 1 : 0);
      out.append(reinterpret_cast<const char*>(b.data()), b.size());
      return;
    }
    case json::value_t::array:
      PutHead(out, kArray, v.size());
      for (const json& element : v) EncodeValue(element, dictionary, out);
      return;
    case json::value_t::object:
      PutHead(out, kObject, v.size());
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& name = it.key();
        if (auto id = dictionary.Intern(name)) {
          PutVarint(out, static_cast<std::uint64_t>(*id) << 1);
        } else {
          PutVarint(out, (static_cast<std::uint64_t>(name.size()) << 1) | 1);
          out.append(name);
        }
        EncodeValue(it.value(), dictionary, out);
      }
      return;
  }
}

class Decoder {
 public:
  Decoder(std::string_view in, const Store::KeyDictionary& dictionary)
      : p_(in.data()), dictionary_(dictionary) {}

  json Value() {
    auto head = static_cast<std::uint8_t>(*p_++);
    unsigned low = head & 0x0f;
    auto count = [&]() -> std::uint64_t { return low < kInline ? low : kInline + Varint(); };
    switch (static_cast<Tag>(head >> 4)) {
      case kNull:
        return nullptr;
      case kFalse:
        return false;
      case kTrue:
        return true;
      case kUint:
        return count();
      case kInt: {
        std::uint64_t z = count();
        return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
      }
      case kDouble: {
        double d;
        std::memcpy(&d, p_, sizeof d);
        p_ += sizeof d;
        return d;
      }
      case kString: {
        std::uint64_t n = count();
        json s = std::string(p_, n);
        p_ += n;
        return s;
      }
      case kBinary: {
        std::uint64_t n = count();
        std::uint64_t subtype = Varint();
        json::binary_t::container_type bytes(p_, p_ + n);
        p_ += n;
        return subtype == 0 ? json::binary(std::move(bytes))
                            : json::binary(std::move(bytes), subtype - 1);
      }
      case kArray: {
        std::uint64_t n = count();
        json out = json::array();
        auto& array = out.get_ref<json::array_t&>();
        array.reserve(n);
        for (std::uint64_t i = 0; i < n; ++i) array.push_back(Value());
        return out;
      }
      case kObject: {
        std::uint64_t n = count();
        json out = json::object();
        auto& object = out.get_ref<json::object_t&>();
        for (std::uint64_t i = 0; i < n; ++i) {
          std::uint64_t ref = Varint();
          std::string name;
          if (ref & 1) {
            name.assign(p_, ref >> 1);
            p_ += ref >> 1;
          } else {
            name = dictionary_.At(static_cast<std::uint32_t>(ref >> 1));
          }
          object.emplace_hint(object.end(), std::move(name), Value());
        }
        return out;
      }
    }
    // Blobs come from EncodeValue alone, which writes no other tag.
    std::fprintf(stderr, "aidi::kube::Store: corrupt cache entry (tag %u)\n", head >> 4);
    std::abort();
  }

 private:
  std::uint64_t Varint() {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      auto byte = static_cast<std::uint8_t>(*p_++);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
    }
  }

  const char* p_;
  const Store::KeyDictionary& dictionary_;
};

}  // namespace

// ---- Slots and tables ----

// One cached object: its key ("ns/name") followed by its encoded projection, in one immutable
// allocation shared by the table and any reader decoding it.
struct Store::Slot {
  std::shared_ptr<const char[]> bytes;
  std::uint32_t size = 0;
  std::uint32_t key_size = 0;

  std::string_view key() const { return {bytes.get(), key_size}; }
  std::string_view value() const { return {bytes.get() + key_size, size - key_size}; }
  bool SameBytes(const Slot& other) const {
    return size == other.size && std::memcmp(bytes.get(), other.bytes.get(), size) == 0;
  }
};

struct Store::Table {
  // Index value -> keys of the objects filed under it (views into their slots' bytes).
  using Index = std::unordered_map<std::string, std::unordered_set<std::string_view>, StringHash,
                                   std::equal_to<>>;

  explicit Table(std::size_t index_count) : indexes(index_count) {}

  // Inserts `slot` or replaces the object with its key; `old_values` are the replaced object's
  // index values (required when there are indexes and the key is present).
  void Put(Slot slot, const IndexValues& values, const IndexValues* old_values) {
    std::string_view key = slot.key();
    encoded_bytes += slot.size;
    if (auto it = objects.find(key); it != objects.end()) {
      // The old slot, which the index entries point into, lives until its node is reused.
      if (old_values) RemoveFromIndexes(key, *old_values);
      encoded_bytes -= it->second.size;
      auto node = objects.extract(it);
      node.key() = key;
      node.mapped() = std::move(slot);
      objects.insert(std::move(node));
    } else {
      objects.emplace(key, std::move(slot));
    }
    AddToIndexes(key, values);
  }

  void Erase(std::string_view key, const IndexValues& old_values) {
    auto it = objects.find(key);
    if (it == objects.end()) return;
    RemoveFromIndexes(key, old_values);
    encoded_bytes -= it->second.size;
    objects.erase(it);
  }

  std::size_t ApproxBytes() const {
    return encoded_bytes + objects.size() * kPerObjectOverhead + index_entries * kPerIndexEntry;
  }

  std::unordered_map<std::string_view, Slot> objects;  // keys are views into the slots' bytes
  std::vector<Index> indexes;                          // parallel to Store::indexers_
  std::size_t encoded_bytes = 0;
  std::size_t index_entries = 0;

 private:
  void AddToIndexes(std::string_view key, const IndexValues& values) {
    for (std::size_t i = 0; i < values.size() && i < indexes.size(); ++i) {
      for (const std::string& value : values[i]) {
        if (indexes[i][value].insert(key).second) ++index_entries;
      }
    }
  }

  void RemoveFromIndexes(std::string_view key, const IndexValues& values) {
    for (std::size_t i = 0; i < values.size() && i < indexes.size(); ++i) {
      for (const std::string& value : values[i]) {
        auto members = indexes[i].find(value);
        if (members == indexes[i].end()) continue;
        if (members->second.erase(key) > 0) --index_entries;
        if (members->second.empty()) indexes[i].erase(members);
      }
    }
  }
};

// ---- Indexers ----

std::string LabelIndexName(std::string_view label_key) { return "label:" + std::string(label_key); }

Indexer IndexByOwnerUid() {
  return [](const json& object) {
    std::vector<std::string> uids;
    auto meta = object.find("metadata");
    if (meta == object.end() || !meta->is_object()) return uids;
    auto refs = meta->find("ownerReferences");
    if (refs == meta->end() || !refs->is_array()) return uids;
    for (const json& ref : *refs) {
      if (!ref.is_object()) continue;
      auto uid = ref.find("uid");
      if (uid != ref.end() && uid->is_string()) uids.push_back(uid->get<std::string>());
    }
    return uids;
  };
}

Indexer IndexByLabel(std::string key) {
  return [key = std::move(key)](const json& object) {
    std::vector<std::string> values;
    auto meta = object.find("metadata");
    if (meta == object.end() || !meta->is_object()) return values;
    auto labels = meta->find("labels");
    if (labels == meta->end() || !labels->is_object()) return values;
    auto value = labels->find(key);
    if (value != labels->end() && value->is_string()) values.push_back(value->get<std::string>());
    return values;
  };
}

// ---- Store ----

Store::Store(StoreOptions options)
    : projection_(std::move(options.projection)),
      indexers_(std::make_move_iterator(options.indexers.begin()),
                std::make_move_iterator(options.indexers.end())),
      dictionary_(std::make_unique<KeyDictionary>()),
      table_(std::make_unique<Table>(indexers_.size())) {}

Store::~Store() = default;

void Store::Apply(WatcherEvent&& event) {
  switch (event.type) {
    case WatcherEvent::Type::kInit:
      relist_ = std::make_unique<Table>(indexers_.size());
      return;
    case WatcherEvent::Type::kInitApply:
      BufferForRelist(std::move(event.object));
      return;
    case WatcherEvent::Type::kInitDone:
      FinishRelist();
      return;
    case WatcherEvent::Type::kApply:
      Upsert(std::move(event.object));
      return;
    case WatcherEvent::Type::kDelete:
      Remove(std::move(event.object));
      return;
  }
}

std::optional<Store::Slot> Store::Encode(json&& object, json* projected) {
  *projected = projection_.Apply(std::move(object));
  ObjectKey key = ObjectKey::Of(*projected);
  if (key.name.empty()) return std::nullopt;
  std::string key_string = key.String();
  scratch_.assign(key_string);
  EncodeValue(*projected, *dictionary_, scratch_);
  auto bytes = std::make_shared_for_overwrite<char[]>(scratch_.size());
  std::memcpy(bytes.get(), scratch_.data(), scratch_.size());
  return Slot{std::move(bytes), static_cast<std::uint32_t>(scratch_.size()),
              static_cast<std::uint32_t>(key_string.size())};
}

json Store::Decode(const Slot& slot) const { return Decoder(slot.value(), *dictionary_).Value(); }

IndexValues Store::IndexValuesOf(const json& projected) const {
  IndexValues values;
  values.reserve(indexers_.size());
  for (const auto& [name, indexer] : indexers_) values.push_back(indexer(projected));
  return values;
}

void Store::Upsert(json&& object) {
  json projected;
  std::optional<Slot> slot = Encode(std::move(object), &projected);
  if (!slot) return;
  const Listeners listeners = SnapshotListeners();
  // The writer reads its own table without the lock: nobody else changes it.
  std::optional<Slot> old_slot;
  if (auto it = table_->objects.find(slot->key()); it != table_->objects.end()) {
    if (it->second.SameBytes(*slot)) return;
    old_slot = it->second;  // keeps the old bytes alive until the index entries are moved
  }
  std::optional<json> old_object;
  if (old_slot && (!indexers_.empty() || !listeners.empty())) old_object = Decode(*old_slot);
  IndexValues values = IndexValuesOf(projected);
  IndexValues old_values;
  if (old_slot && !indexers_.empty()) old_values = IndexValuesOf(*old_object);
  {
    std::unique_lock lock(mu_);
    table_->Put(std::move(*slot), values, old_slot ? &old_values : nullptr);
  }
  if (listeners.empty()) return;
  StoreChange change;
  change.type = StoreChange::Type::kApplied;
  change.key = ObjectKey::Of(projected);
  change.object = std::move(projected);
  change.old_object = std::move(old_object);
  Notify(listeners, change);
}

void Store::Remove(json&& object) {
  json projected = projection_.Apply(std::move(object));
  ObjectKey key = ObjectKey::Of(projected);
  if (key.name.empty()) return;
  const Listeners listeners = SnapshotListeners();
  std::optional<Slot> old_slot;
  if (auto it = table_->objects.find(key.String()); it != table_->objects.end()) {
    old_slot = it->second;
  }
  std::optional<json> old_object;
  if (old_slot) {
    if (!indexers_.empty() || !listeners.empty()) old_object = Decode(*old_slot);
    IndexValues old_values;
    if (!indexers_.empty()) old_values = IndexValuesOf(*old_object);
    std::unique_lock lock(mu_);
    table_->Erase(old_slot->key(), old_values);
  }
  if (listeners.empty()) return;
  StoreChange change;
  change.type = StoreChange::Type::kDeleted;
  change.key = std::move(key);
  change.object = std::move(projected);
  change.old_object = std::move(old_object);
  Notify(listeners, change);
}

void Store::BufferForRelist(json&& object) {
  if (!relist_) relist_ = std::make_unique<Table>(indexers_.size());
  json projected;
  std::optional<Slot> slot = Encode(std::move(object), &projected);
  if (!slot) return;
  IndexValues old_values;
  bool duplicate = false;
  if (auto it = relist_->objects.find(slot->key()); it != relist_->objects.end()) {
    // A list never names an object twice; should one, the later copy wins.
    duplicate = true;
    if (!indexers_.empty()) old_values = IndexValuesOf(Decode(it->second));
  }
  relist_->Put(std::move(*slot), IndexValuesOf(projected), duplicate ? &old_values : nullptr);
}

void Store::FinishRelist() {
  if (!relist_) return;  // a kInitDone with no kInit: nothing was listed
  {
    std::unique_lock lock(mu_);
    std::swap(table_, relist_);
  }
  {
    std::lock_guard lock(sync_mu_);
    synced_.store(true, std::memory_order_release);
  }
  sync_cv_.notify_all();
  std::unique_ptr<Table> old_table = std::move(relist_);
  const Listeners listeners = SnapshotListeners();
  if (listeners.empty()) return;
  // Listeners may read the store but not write it, so table_ holds still while we walk it.
  for (const auto& [key, slot] : table_->objects) {
    auto old = old_table->objects.find(key);
    if (old != old_table->objects.end() && old->second.SameBytes(slot)) continue;
    StoreChange change;
    change.type = StoreChange::Type::kApplied;
    change.key = ObjectKey::Parse(std::string(key));
    change.object = Decode(slot);
    if (old != old_table->objects.end()) change.old_object = Decode(old->second);
    Notify(listeners, change);
  }
  for (const auto& [key, slot] : old_table->objects) {
    if (table_->objects.contains(key)) continue;
    StoreChange change;
    change.type = StoreChange::Type::kDeleted;
    change.key = ObjectKey::Parse(std::string(key));
    change.object = Decode(slot);
    change.old_object = change.object;
    change.synthesized = true;
    Notify(listeners, change);
  }
}

Store::Listeners Store::SnapshotListeners() const {
  std::lock_guard lock(listeners_mu_);
  Listeners out;
  out.reserve(listeners_.size());
  for (const auto& [id, listener] : listeners_) out.push_back(listener);
  return out;
}

void Store::Notify(const Listeners& listeners, const StoreChange& change) const {
  for (const auto& listener : listeners) (*listener)(change);
}

Store::SubscriptionId Store::Subscribe(Listener listener) {
  std::lock_guard lock(listeners_mu_);
  SubscriptionId id = next_subscription_++;
  listeners_.emplace_back(id, std::make_shared<const Listener>(std::move(listener)));
  return id;
}

void Store::Unsubscribe(SubscriptionId id) {
  std::lock_guard lock(listeners_mu_);
  std::erase_if(listeners_, [id](const auto& entry) { return entry.first == id; });
}

// ---- Readers ----

std::optional<json> Store::Get(const ObjectKey& key) const {
  std::string key_string = key.String();
  Slot slot;
  {
    std::shared_lock lock(mu_);
    auto it = table_->objects.find(key_string);
    if (it == table_->objects.end()) return std::nullopt;
    slot = it->second;
  }
  return Decode(slot);
}

bool Store::Contains(const ObjectKey& key) const {
  std::string key_string = key.String();
  std::shared_lock lock(mu_);
  return table_->objects.contains(key_string);
}

std::vector<Store::Slot> Store::SortedSlots() const {
  std::vector<Slot> slots;
  {
    std::shared_lock lock(mu_);
    slots.reserve(table_->objects.size());
    for (const auto& [key, slot] : table_->objects) slots.push_back(slot);
  }
  std::sort(slots.begin(), slots.end(),
            [](const Slot& a, const Slot& b) { return a.key() < b.key(); });
  return slots;
}

std::vector<json> Store::List() const {
  std::vector<Slot> slots = SortedSlots();
  std::vector<json> out;
  out.reserve(slots.size());
  for (const Slot& slot : slots) out.push_back(Decode(slot));
  return out;
}

std::vector<ObjectKey> Store::Keys() const {
  std::vector<Slot> slots = SortedSlots();
  std::vector<ObjectKey> out;
  out.reserve(slots.size());
  for (const Slot& slot : slots) out.push_back(ObjectKey::Parse(std::string(slot.key())));
  return out;
}

std::vector<Store::Slot> Store::SlotsByIndex(std::string_view index_name,
                                             std::string_view value) const {
  auto named = std::find_if(indexers_.begin(), indexers_.end(),
                            [index_name](const auto& entry) { return entry.first == index_name; });
  if (named == indexers_.end()) {
    // Index names are fixed when the store is built; asking for another is a bug in the caller.
    std::fprintf(stderr, "aidi::kube::Store: no index named \"%.*s\"\n",
                 static_cast<int>(index_name.size()), index_name.data());
    std::abort();
  }
  auto i = static_cast<std::size_t>(named - indexers_.begin());
  std::vector<Slot> slots;
  {
    std::shared_lock lock(mu_);
    const Table::Index& index = table_->indexes[i];
    auto members = index.find(value);
    if (members == index.end()) return slots;
    slots.reserve(members->second.size());
    for (std::string_view key : members->second) {
      // Every index entry has its object: Put/Erase keep both under the same lock.
      slots.push_back(table_->objects.at(key));
    }
  }
  std::sort(slots.begin(), slots.end(),
            [](const Slot& a, const Slot& b) { return a.key() < b.key(); });
  return slots;
}

std::vector<json> Store::ByIndex(std::string_view index_name, std::string_view value) const {
  std::vector<Slot> slots = SlotsByIndex(index_name, value);
  std::vector<json> out;
  out.reserve(slots.size());
  for (const Slot& slot : slots) out.push_back(Decode(slot));
  return out;
}

std::vector<ObjectKey> Store::KeysByIndex(std::string_view index_name,
                                          std::string_view value) const {
  std::vector<Slot> slots = SlotsByIndex(index_name, value);
  std::vector<ObjectKey> out;
  out.reserve(slots.size());
  for (const Slot& slot : slots) out.push_back(ObjectKey::Parse(std::string(slot.key())));
  return out;
}

std::size_t Store::size() const {
  std::shared_lock lock(mu_);
  return table_->objects.size();
}

std::size_t Store::EncodedBytes() const {
  std::shared_lock lock(mu_);
  return table_->encoded_bytes;
}

std::size_t Store::ApproxBytes() const {
  std::shared_lock lock(mu_);
  return table_->ApproxBytes();
}

bool Store::WaitSynced(std::chrono::milliseconds timeout, const std::function<bool()>& stop) const {
  constexpr std::chrono::milliseconds kStopCheck{20};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(sync_mu_);
  while (!synced_.load(std::memory_order_acquire)) {
    if (stop && stop()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    auto wait = deadline - now;
    if (stop) wait = std::min<std::chrono::steady_clock::duration>(wait, kStopCheck);
    sync_cv_.wait_for(lock, wait);
  }
  return true;
}

}  // namespace aidi::kube

#include "workload.h"

#include <stdexcept>

namespace kvbench {

Value make_document(const std::string& id, std::size_t size, std::uint64_t seed) {
  Value doc = {
      {"@context", {"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"}},
      {"id", id},
      {"type", "Person"},
      {"inbox", id + "/inbox"},
      {"publicKey", {{"id", id + "#main-key"}, {"owner", id}, {"publicKeyPem", ""}}},
  };
  std::size_t base = doc.dump().size();
  if (base >= size) return doc;
  static constexpr char kBase64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  Rng rng(seed);
  const std::string head = "-----BEGIN PUBLIC KEY-----\n";
  const std::string tail = "\n-----END PUBLIC KEY-----\n";
  // JSON text length of the PEM: each newline is escaped as two bytes.
  std::size_t json_len = head.size() + tail.size() + 3;
  std::string pem = head;
  std::size_t line = 0;
  while (json_len < size - base) {
    if (line == 64) {
      pem += '\n';
      json_len += 2;
      line = 0;
    } else {
      pem += kBase64[rng.below(64)];
      ++json_len;
      ++line;
    }
  }
  pem += tail;
  doc["publicKey"]["publicKeyPem"] = pem;
  return doc;
}

namespace {

std::string num(std::uint64_t n) { return std::to_string(n); }

// A pool of documents the workloads cycle through, built once.
std::vector<Doc> make_pool(std::size_t count, std::size_t size, std::uint64_t seed,
                           const std::string& kind) {
  std::vector<Doc> pool;
  pool.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    pool.emplace_back(make_document("https://remote" + num(i) + ".example/" + kind + "/" + num(i),
                                    size, seed * 1000 + i));
  }
  return pool;
}

constexpr std::size_t kPool = 64;

// The async steps: each times its call from issue to completion (errors are
// not timed, as in the thread modes) and continues with `then`.
using StepDone = Workload::StepDone;

void async_get(Worker& w, AsyncSession& s, const KvKey& k, StepDone done) {
  auto start = Recorder::start();
  s.get(k, [&w, start, done = std::move(done)](std::exception_ptr e, bool found) {
    if (!e) {
      w.recorder.record(OpKind::get, start);
      w.recorder.stats(OpKind::get).hits += found;
    }
    done(e);
  });
}

void async_set(Worker& w, AsyncSession& s, const KvKey& k, const Doc& doc, Ttl ttl, StepDone done) {
  auto start = Recorder::start();
  s.set(k, doc, ttl, [&w, start, done = std::move(done)](std::exception_ptr e) {
    if (!e) w.recorder.record(OpKind::set, start);
    done(e);
  });
}

// An async listing (op list) or keys-only listing (op list_keys) of `prefix`.
void async_list(Worker& w, AsyncSession& s, const KvKey& prefix, StepDone done,
                OpKind op = OpKind::list) {
  auto start = Recorder::start();
  auto record = [&w, start, op, done = std::move(done)](std::exception_ptr e, std::size_t n) {
    if (!e) {
      w.recorder.record(op, start);
      w.recorder.stats(op).entries += n;
    }
    done(e);
  };
  if (op == OpKind::list_keys) return s.list_keys(prefix, std::move(record));
  s.list(prefix, std::move(record));
}

// Point workloads over {ns, "k", i}, i < keys, all preloaded.
class PointWorkload : public Workload {
 public:
  explicit PointWorkload(WorkloadParams p)
      : Workload(std::move(p)), pool_(make_pool(kPool, p_.value_size, p_.seed, "users")) {}
  void prepare(int, Loader& loader) override {
    loader.load(
        p_.keys,
        [this](std::size_t i, KvKey& key, const Doc*& doc) {
          key = {p_.ns, "k", num(i)};
          doc = &pool_[i % kPool];
        },
        std::nullopt);
  }

 protected:
  KvKey key(const char* kind, std::uint64_t i) const { return {p_.ns, kind, num(i)}; }
  std::vector<Doc> pool_;
};

class ReadHit final : public PointWorkload {
 public:
  using PointWorkload::PointWorkload;
  std::string name() const override { return "read-hit"; }
  std::string description() const override {
    return "get of existing keys, uniform over --keys preloaded documents";
  }
  std::vector<OpKind> ops() const override { return {OpKind::get}; }
  void step(Worker& w, Session& s) override {
    KvKey k = key("k", w.rng.below(p_.keys));
    bool found = w.recorder.time(OpKind::get, [&] { return s.get(k); });
    w.recorder.stats(OpKind::get).hits += found;
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    async_get(w, s, key("k", w.rng.below(p_.keys)), std::move(done));
  }
};

class ReadMiss final : public PointWorkload {
 public:
  using PointWorkload::PointWorkload;
  std::string name() const override { return "read-miss"; }
  std::string description() const override {
    return "get of absent keys (the store holds the --keys documents of read-hit)";
  }
  std::vector<OpKind> ops() const override { return {OpKind::get}; }
  void step(Worker& w, Session& s) override {
    KvKey k = key("m", w.rng.below(p_.keys));
    bool found = w.recorder.time(OpKind::get, [&] { return s.get(k); });
    w.recorder.stats(OpKind::get).hits += found;
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    async_get(w, s, key("m", w.rng.below(p_.keys)), std::move(done));
  }
};

class Overwrite final : public PointWorkload {
 public:
  using PointWorkload::PointWorkload;
  std::string name() const override { return "overwrite"; }
  std::string description() const override {
    return "set without TTL of existing keys, uniform over --keys documents";
  }
  std::vector<OpKind> ops() const override { return {OpKind::set}; }
  void step(Worker& w, Session& s) override {
    std::uint64_t i = w.rng.below(p_.keys);
    KvKey k = key("k", i);
    const Doc& doc = pool_[(i + w.counter++) % kPool];
    w.recorder.time(OpKind::set, [&] {
      s.set(k, doc, std::nullopt);
      return 0;
    });
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    std::uint64_t i = w.rng.below(p_.keys);
    async_set(w, s, key("k", i), pool_[(i + w.counter++) % kPool], std::nullopt, std::move(done));
  }
};

// The bulk workloads: one call for kBatch keys. Compare their rate times
// kBatch with read-hit's and overwrite's, which do the same one key a call.
constexpr std::size_t kBatch = 100;

class BulkGet final : public PointWorkload {
 public:
  using PointWorkload::PointWorkload;
  std::string name() const override { return "bulk-get"; }
  std::string description() const override {
    return "get_many of " + num(kBatch) +
           " existing keys per call, uniform over --keys documents (compare " + num(kBatch) +
           " x its rate with read-hit)";
  }
  std::vector<OpKind> ops() const override { return {OpKind::get_many}; }
  void step(Worker& w, Session& s) override {
    std::vector<KvKey> keys = draw(w);
    std::size_t found = w.recorder.time(OpKind::get_many, [&] { return s.get_many(keys); });
    w.recorder.stats(OpKind::get_many).hits += found;
    w.recorder.stats(OpKind::get_many).entries += keys.size();
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    auto start = Recorder::start();
    s.get_many(draw(w), [&w, start, done = std::move(done)](std::exception_ptr e, std::size_t n) {
      if (!e) {
        w.recorder.record(OpKind::get_many, start);
        w.recorder.stats(OpKind::get_many).hits += n;
        w.recorder.stats(OpKind::get_many).entries += kBatch;
      }
      done(e);
    });
  }

 private:
  std::vector<KvKey> draw(Worker& w) const {
    std::vector<KvKey> keys;
    keys.reserve(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) keys.push_back(key("k", w.rng.below(p_.keys)));
    return keys;
  }
};

class BulkSet final : public PointWorkload {
 public:
  using PointWorkload::PointWorkload;
  std::string name() const override { return "bulk-set"; }
  std::string description() const override {
    return "set_many of " + num(kBatch) +
           " existing keys per call (no TTL), uniform over --keys documents (compare " +
           num(kBatch) + " x its rate with overwrite)";
  }
  std::vector<OpKind> ops() const override { return {OpKind::set_many}; }
  void step(Worker& w, Session& s) override {
    auto [keys, docs] = draw(w);
    w.recorder.time(OpKind::set_many, [&] {
      s.set_many(keys, docs, std::nullopt);
      return 0;
    });
    w.recorder.stats(OpKind::set_many).entries += keys.size();
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    auto [keys, docs] = draw(w);
    auto start = Recorder::start();
    s.set_many(keys, docs, std::nullopt, [&w, start, done = std::move(done)](std::exception_ptr e) {
      if (!e) {
        w.recorder.record(OpKind::set_many, start);
        w.recorder.stats(OpKind::set_many).entries += kBatch;
      }
      done(e);
    });
  }

 private:
  std::pair<std::vector<KvKey>, std::vector<const Doc*>> draw(Worker& w) {
    std::pair<std::vector<KvKey>, std::vector<const Doc*>> batch;
    for (std::size_t n = 0; n < kBatch; ++n) {
      std::uint64_t i = w.rng.below(p_.keys);
      batch.first.push_back(key("k", i));
      batch.second.push_back(&pool_[(i + w.counter++) % kPool]);
    }
    return batch;
  }
};

class ZeroParse final : public PointWorkload {
 public:
  using PointWorkload::PointWorkload;
  std::string name() const override { return "zero-parse"; }
  std::string description() const override {
    return "50% get, 50% set (no TTL) of existing keys through the zero-parse path "
           "(get_json/set_json vs raw bytes)";
  }
  std::vector<Mode> default_modes() const override { return {Mode::text}; }
  std::vector<OpKind> ops() const override { return {OpKind::get, OpKind::set}; }
  void step(Worker& w, Session& s) override {
    std::uint64_t i = w.rng.below(p_.keys);
    KvKey k = key("k", i);
    if (w.rng.below(2) == 0) {
      bool found = w.recorder.time(OpKind::get, [&] { return s.get(k); });
      w.recorder.stats(OpKind::get).hits += found;
    } else {
      const Doc& doc = pool_[(i + w.counter++) % kPool];
      w.recorder.time(OpKind::set, [&] {
        s.set(k, doc, std::nullopt);
        return 0;
      });
    }
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    std::uint64_t i = w.rng.below(p_.keys);
    KvKey k = key("k", i);
    if (w.rng.below(2) == 0) {
      async_get(w, s, k, std::move(done));
    } else {
      async_set(w, s, k, pool_[(i + w.counter++) % kPool], std::nullopt, std::move(done));
    }
  }
};

class Fill final : public Workload {
 public:
  explicit Fill(WorkloadParams p)
      : Workload(std::move(p)), pool_(make_pool(kPool, p_.value_size, p_.seed, "notes")) {}
  std::string name() const override { return "fill"; }
  std::string description() const override {
    return "set with a 1 h TTL of new keys (each thread writes its own sequence)";
  }
  std::vector<OpKind> ops() const override { return {OpKind::set}; }
  void begin_run(int) override { ++run_; }
  void step(Worker& w, Session& s) override {
    KvKey k = {p_.ns, "fill", num(run_), num(static_cast<std::uint64_t>(w.index)),
               num(w.counter++)};
    const Doc& doc = pool_[w.counter % kPool];
    w.recorder.time(OpKind::set, [&] {
      s.set(k, doc, std::chrono::hours(1));
      return 0;
    });
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    KvKey k = {p_.ns, "fill", num(run_), num(static_cast<std::uint64_t>(w.index)),
               num(w.counter++)};
    async_set(w, s, k, pool_[w.counter % kPool], std::chrono::hours(1), std::move(done));
  }

 private:
  std::vector<Doc> pool_;
  int run_ = 0;
};

class CasContention final : public Workload {
 public:
  static constexpr std::size_t kKeys = 4;
  using Workload::Workload;
  std::string name() const override { return "cas-contention"; }
  std::string description() const override {
    return "counters on 4 hot keys: cas(last seen -> last seen + 1); on failure get the "
           "current value and retry";
  }
  std::vector<OpKind> ops() const override { return {OpKind::get, OpKind::cas}; }
  void prepare(int, Loader& loader) override {
    static const Doc zero(Value(0));
    loader.load(
        kKeys,
        [this](std::size_t i, KvKey& key, const Doc*& doc) {
          key = {p_.ns, "counter", num(i)};
          doc = &zero;
        },
        std::nullopt);
  }
  void init_worker(Worker& w) override { w.seen.assign(kKeys, -1); }
  void step(Worker& w, Session& s) override {
    std::size_t j = w.rng.below(kKeys);
    KvKey k = {p_.ns, "counter", num(j)};
    if (w.seen[j] < 0) {
      refresh(w, s, k, j);
      return;
    }
    Doc expected{Value(w.seen[j])};
    Doc desired{Value(w.seen[j] + 1)};
    bool swapped =
        w.recorder.time(OpKind::cas, [&] { return s.cas(k, &expected, &desired, std::nullopt); });
    if (swapped) {
      ++w.recorder.stats(OpKind::cas).hits;
      ++w.seen[j];
    } else {
      refresh(w, s, k, j);
    }
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    std::size_t j = w.rng.below(kKeys);
    KvKey k = {p_.ns, "counter", num(j)};
    if (w.seen[j] < 0) return refresh_async(w, s, k, j, std::move(done));
    Doc expected{Value(w.seen[j])};
    Doc desired{Value(w.seen[j] + 1)};
    auto start = Recorder::start();
    s.cas(
        k, &expected, &desired, std::nullopt,
        [&w, &s, k, j, start, done = std::move(done)](std::exception_ptr e, bool swapped) mutable {
          if (e) return done(e);
          w.recorder.record(OpKind::cas, start);
          if (!swapped) return refresh_async(w, s, k, j, std::move(done));
          ++w.recorder.stats(OpKind::cas).hits;
          ++w.seen[j];
          done(nullptr);
        });
  }

 private:
  static void refresh(Worker& w, Session& s, const KvKey& k, std::size_t j) {
    std::optional<Value> v = w.recorder.time(OpKind::get, [&] { return s.get_value(k); });
    w.recorder.stats(OpKind::get).hits += v.has_value();
    w.seen[j] = v && v->is_number_integer() ? v->get<std::int64_t>() : 0;
  }
  static void refresh_async(Worker& w, AsyncSession& s, const KvKey& k, std::size_t j,
                            StepDone done) {
    auto start = Recorder::start();
    s.get_value(
        k, [&w, j, start, done = std::move(done)](std::exception_ptr e, std::optional<Value> v) {
          if (e) return done(e);
          w.recorder.record(OpKind::get, start);
          w.recorder.stats(OpKind::get).hits += v.has_value();
          w.seen[j] = v && v->is_number_integer() ? v->get<std::int64_t>() : 0;
          done(nullptr);
        });
  }
};

// list-prefix, and list-keys: its first phase listed with list_keys().
class ListPrefix final : public Workload {
 public:
  ListPrefix(WorkloadParams p, bool keys_only)
      : Workload(std::move(p)),
        op_(keys_only ? OpKind::list_keys : OpKind::list),
        pool_(make_pool(kPool, p_.value_size, p_.seed, "followers")),
        small_(make_pool(kPool, 64, p_.seed, "x")) {}
  std::string name() const override { return keys_only() ? "list-keys" : "list-prefix"; }
  std::string description() const override {
    if (keys_only()) {
      return "list_keys (keys, metadata and expiry, no values) of the --list-entries entries "
             "under one prefix, as list-prefix's first phase (compare with its list row)";
    }
    return "page through the --list-entries entries under one prefix; phase 1 with only them "
           "in the store, phase 2 after adding --list-background other keys (half sorting "
           "before the prefix, half after)";
  }
  std::vector<OpKind> ops() const override { return {op_}; }
  int phases() const override { return keys_only() ? 1 : 2; }
  std::uint64_t min_steps_per_thread() const override { return 3; }
  std::string phase_label(int phase) const override {
    return phase == 0 ? "others=0" : "others=" + num(p_.list_background);
  }
  void prepare(int phase, Loader& loader) override {
    if (phase == 0) {
      loader.load(
          p_.list_entries,
          [this](std::size_t i, KvKey& key, const Doc*& doc) {
            key = {p_.ns, "target", pad(i)};
            doc = &pool_[i % kPool];
          },
          std::nullopt);
    } else {
      loader.load(
          p_.list_background,
          [this](std::size_t i, KvKey& key, const Doc*& doc) {
            key = {p_.ns, i % 2 ? "a-other" : "z-other", pad(i)};
            doc = &small_[i % kPool];
          },
          std::nullopt);
    }
  }
  void step(Worker& w, Session& s) override {
    KvKey prefix = {p_.ns, "target"};
    std::size_t n =
        w.recorder.time(op_, [&] { return keys_only() ? s.list_keys(prefix) : s.list(prefix); });
    w.recorder.stats(op_).entries += n;
  }
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    async_list(w, s, {p_.ns, "target"}, std::move(done), op_);
  }

 private:
  bool keys_only() const { return op_ == OpKind::list_keys; }
  OpKind op_;
  static std::string pad(std::size_t i) {
    std::string s = num(i);
    return std::string(s.size() < 8 ? 8 - s.size() : 0, '0') + s;
  }
  std::vector<Doc> pool_, small_;
};

// The traffic of a federated (Fedify) server, per thousand operations:
//   820 get   zipfian (theta 0.99) over --keys public keys (60%) and remote
//             documents (40%), ~1 KiB JSON-LD; 5% of the key space is absent
//    60 set   idempotence marker `true`, new key, TTL 1 day
//    70 set   remote document refresh, zipfian key, TTL 5 min
//    30 cas   nonce consumption: cas(absent -> true, TTL 1 h); two attempts per nonce
//    18 cas   task dedup: cas(absent -> worker, TTL 1 min); four attempts per task
//     2 list  followers collection: ~1,000 entries under one prefix
class Fedify final : public Workload {
 public:
  static constexpr std::size_t kFollowers = 1000;
  explicit Fedify(WorkloadParams p)
      : Workload(std::move(p)),
        zipf_(p_.keys),
        keys_pool_(make_pool(kPool, p_.value_size, p_.seed, "users")),
        docs_pool_(make_pool(kPool, p_.value_size, p_.seed + 1, "objects")),
        follower_pool_(make_pool(kPool, 200, p_.seed + 2, "followers")),
        marker_(Value(true)) {}
  std::string name() const override { return "fedify"; }
  std::string description() const override {
    return "federated-server mix per 1000 ops: 820 zipfian get (public keys/remote documents, "
           "~1 KiB JSON-LD, 5% absent), 60 set idempotence marker (TTL 1 d), 70 set document "
           "(TTL 5 min), 30 cas nonce + 18 cas task dedup (contended), 2 list of ~1,000 "
           "followers";
  }
  // list is optional: on a backend without it (raw-redis) the 2 list
  // operations per 1000 are skipped.
  std::vector<OpKind> ops() const override { return {OpKind::get, OpKind::set, OpKind::cas}; }
  void prepare(int, Loader& loader) override {
    std::size_t present = p_.keys / 20 * 19;
    loader.load(
        2 * present,
        [this](std::size_t j, KvKey& key, const Doc*& doc) {
          std::size_t idx = j / 2;
          std::uint64_t i = idx / 19 * 20 + idx % 19 + 1;  // skips every 20th key: 5% absent
          key = item_key(j % 2 == 0, i);
          doc = j % 2 == 0 ? &keys_pool_[i % kPool] : &docs_pool_[i % kPool];
        },
        std::nullopt);
    loader.load(
        kFollowers,
        [this](std::size_t i, KvKey& key, const Doc*& doc) {
          key = {p_.ns, "_fedify", "followers", "https://local.example/users/alice",
                 "https://remote" + num(i % 97) + ".example/users/u" + num(i)};
          doc = &follower_pool_[i % kPool];
        },
        std::nullopt);
  }
  void begin_run(int) override {
    ++run_;
    nonce_.store(0);
    task_.store(0);
  }
  void step(Worker& w, Session& s) override {
    std::uint64_t r = w.rng.below(1000);
    if (r < 820) {
      std::uint64_t i = zipf_.scrambled(w.rng);
      KvKey k = item_key(w.rng.below(10) < 6, i);
      bool found = w.recorder.time(OpKind::get, [&] { return s.get(k); });
      w.recorder.stats(OpKind::get).hits += found;
    } else if (r < 880) {
      KvKey k = {p_.ns, "_fedify", "activityIdempotence",
                 "https://remote.example/activities/" + num(run_) + "-" +
                     num(static_cast<std::uint64_t>(w.index)) + "-" + num(w.counter++)};
      w.recorder.time(OpKind::set, [&] {
        s.set(k, marker_, std::chrono::hours(24));
        return 0;
      });
    } else if (r < 950) {
      std::uint64_t i = zipf_.scrambled(w.rng);
      bool key_doc = w.rng.below(2) == 0;
      KvKey k = item_key(key_doc, i);
      const Doc& doc = key_doc ? keys_pool_[i % kPool] : docs_pool_[i % kPool];
      w.recorder.time(OpKind::set, [&] {
        s.set(k, doc, std::chrono::minutes(5));
        return 0;
      });
    } else if (r < 998) {
      bool nonce = r < 980;
      std::uint64_t id = nonce ? nonce_.fetch_add(1) / 2 : task_.fetch_add(1) / 4;
      KvKey k = {p_.ns, "_fedify", nonce ? "nonce" : "taskDedup", num(run_) + "-" + num(id)};
      const Doc& desired = nonce ? marker_ : worker_doc(w);
      std::chrono::milliseconds ttl = nonce ? std::chrono::milliseconds(std::chrono::hours(1))
                                            : std::chrono::milliseconds(std::chrono::minutes(1));
      bool swapped = w.recorder.time(OpKind::cas, [&] { return s.cas(k, nullptr, &desired, ttl); });
      w.recorder.stats(OpKind::cas).hits += swapped;
    } else if (w.can_list) {
      KvKey prefix = {p_.ns, "_fedify", "followers", "https://local.example/users/alice"};
      std::size_t n = w.recorder.time(OpKind::list, [&] { return s.list(prefix); });
      w.recorder.stats(OpKind::list).entries += n;
    }
  }
  // The same draws as step(), each operation through the async session.
  void step_async(Worker& w, AsyncSession& s, StepDone done) override {
    std::uint64_t r = w.rng.below(1000);
    if (r < 820) {
      std::uint64_t i = zipf_.scrambled(w.rng);
      return async_get(w, s, item_key(w.rng.below(10) < 6, i), std::move(done));
    }
    if (r < 880) {
      KvKey k = {p_.ns, "_fedify", "activityIdempotence",
                 "https://remote.example/activities/" + num(run_) + "-" +
                     num(static_cast<std::uint64_t>(w.index)) + "-" + num(w.counter++)};
      return async_set(w, s, k, marker_, std::chrono::hours(24), std::move(done));
    }
    if (r < 950) {
      std::uint64_t i = zipf_.scrambled(w.rng);
      bool key_doc = w.rng.below(2) == 0;
      const Doc& doc = key_doc ? keys_pool_[i % kPool] : docs_pool_[i % kPool];
      return async_set(w, s, item_key(key_doc, i), doc, std::chrono::minutes(5), std::move(done));
    }
    if (r < 998) {
      bool nonce = r < 980;
      std::uint64_t id = nonce ? nonce_.fetch_add(1) / 2 : task_.fetch_add(1) / 4;
      KvKey k = {p_.ns, "_fedify", nonce ? "nonce" : "taskDedup", num(run_) + "-" + num(id)};
      const Doc& desired = nonce ? marker_ : worker_doc(w);
      std::chrono::milliseconds ttl = nonce ? std::chrono::milliseconds(std::chrono::hours(1))
                                            : std::chrono::milliseconds(std::chrono::minutes(1));
      auto start = Recorder::start();
      return s.cas(k, nullptr, &desired, ttl,
                   [&w, start, done = std::move(done)](std::exception_ptr e, bool swapped) {
                     if (!e) {
                       w.recorder.record(OpKind::cas, start);
                       w.recorder.stats(OpKind::cas).hits += swapped;
                     }
                     done(e);
                   });
    }
    if (w.can_list) {
      return async_list(w, s, {p_.ns, "_fedify", "followers", "https://local.example/users/alice"},
                        std::move(done));
    }
    // No list on this backend: an empty step, as step() does.
    done(nullptr);
  }

 private:
  KvKey item_key(bool public_key, std::uint64_t i) const {
    if (public_key) {
      return {p_.ns, "_fedify", "publicKey",
              "https://remote" + num(i % 97) + ".example/users/u" + num(i) + "#main-key"};
    }
    return {p_.ns, "_fedify", "remoteDocument",
            "https://remote" + num(i % 97) + ".example/objects/" + num(i)};
  }
  const Doc& worker_doc(Worker& w) {
    return follower_pool_[static_cast<std::size_t>(w.index) % kPool];
  }

  Zipf zipf_;
  std::vector<Doc> keys_pool_, docs_pool_, follower_pool_;
  Doc marker_;
  std::atomic<std::uint64_t> nonce_{0}, task_{0};
  int run_ = 0;
};

}  // namespace

std::vector<std::string> workload_names() {
  return {"fedify",      "fill",       "read-hit", "read-miss", "overwrite", "cas-contention",
          "list-prefix", "zero-parse", "bulk-get", "bulk-set",  "list-keys"};
}

std::unique_ptr<Workload> make_workload(const std::string& name, const WorkloadParams& params) {
  if (name == "fedify") return std::make_unique<Fedify>(params);
  if (name == "fill") return std::make_unique<Fill>(params);
  if (name == "read-hit") return std::make_unique<ReadHit>(params);
  if (name == "read-miss") return std::make_unique<ReadMiss>(params);
  if (name == "overwrite") return std::make_unique<Overwrite>(params);
  if (name == "cas-contention") return std::make_unique<CasContention>(params);
  if (name == "list-prefix") return std::make_unique<ListPrefix>(params, false);
  if (name == "list-keys") return std::make_unique<ListPrefix>(params, true);
  if (name == "zero-parse") return std::make_unique<ZeroParse>(params);
  if (name == "bulk-get") return std::make_unique<BulkGet>(params);
  if (name == "bulk-set") return std::make_unique<BulkSet>(params);
  throw std::invalid_argument("unknown workload '" + name + "'");
}

}  // namespace kvbench

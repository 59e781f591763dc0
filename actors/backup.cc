// actors/backup.cc — see backup.h.
#include "actors/backup.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "actors/fan_out.h"
#include "actors/messages.h"
#include "core/ejson.h"
#include "core/msgpack.h"
#include "protocol/reply.h"
#include "storage/backup_files.h"

namespace mg {

namespace {

std::string error_answer(const std::string& msg) {
  std::string out;
  MpWriter w(out);
  w.map_header(1);
  w.str("error"), w.str(msg);
  return out;
}

Status write_dump(const std::string& path, Collection& c) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_status(ErrorCode::StorageError, "cannot create " + path);
  Status s = c.scan(
      MpView(), MpView(),
      [&](const DocRef& d) {
        out << json_from_mp(d.bytes()) << '\n';
        return bool(out);
      },
      nullptr);
  out.flush();
  if (s.ok() && !out) s = make_status(ErrorCode::StorageError, "cannot write " + path);
  out.close();
  // fsync through a copy-free reopen: the dump is small next to the data it describes.
  if (s.ok()) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f || fsync(fileno(f)) != 0)
      s = make_status(ErrorCode::StorageError, "cannot sync " + path);
    if (f) std::fclose(f);
  }
  return s;
}

// A strategy whose open() also replays a snapshot dump into the wrapped one.
class SeededStorage final : public StorageStrategy {
 public:
  SeededStorage(std::unique_ptr<StorageStrategy> inner, std::string dump)
      : inner_(std::move(inner)), dump_(std::move(dump)) {}
  Status open(const std::function<Status(std::string_view doc)>& sink) override {
    Status s = inner_->open(sink);
    if (!s.ok()) return s;
    std::ifstream in(dump_, std::ios::binary);
    if (!in) return make_status(ErrorCode::StorageError, "cannot read backup dump " + dump_);
    std::string line;
    std::vector<std::string> docs;
    size_t lineno = 0;
    auto apply_batch = [&]() -> Status {
      std::vector<Change> changes;
      for (auto& d : docs) {
        Change c;
        c.op = Change::Op::Insert;
        c.id = MpView(d).get("_id").bytes();
        c.doc = d;
        changes.push_back(c);
      }
      Status st = changes.empty() ? Status::OK() : inner_->apply(changes);
      docs.clear();
      return st;
    };
    while (s.ok() && std::getline(in, line)) {
      ++lineno;
      if (line.empty()) continue;
      Result<std::string> doc = guard([&]() -> Result<std::string> { return mp_from_json(line); });
      if (!doc.ok())
        return make_status(ErrorCode::StorageError, "backup dump " + dump_ + " line " +
                                                        std::to_string(lineno) + ": " +
                                                        doc.status().message);
      s = sink(doc.value());
      docs.push_back(std::move(doc.value()));
      if (s.ok() && docs.size() >= 1000) s = apply_batch();
    }
    if (s.ok()) s = apply_batch();
    if (s.ok()) s = inner_->commit();
    return s;
  }
  uint64_t last_seq() const override { return inner_->last_seq(); }
  Status apply(std::span<const Change> changes) override { return inner_->apply(changes); }
  Status commit() override { return inner_->commit(); }
  Status flush() override { return inner_->flush(); }
  void close() override { inner_->close(); }
  Status destroy() override { return inner_->destroy(); }
  StorageStats stats() const override { return inner_->stats(); }
  Status set_indexes(const std::vector<IndexSpec>& indexes) override {
    return inner_->set_indexes(indexes);
  }
  Result<bool> backup(const std::string& dir) override { return inner_->backup(dir); }

 private:
  std::unique_ptr<StorageStrategy> inner_;
  std::string dump_;
};

}  // namespace

std::string backup_model(Collection& c, const std::string& model, const std::string& dir) {
  Result<bool> native = c.storage().backup(dir);
  if (!native.ok()) return error_answer(native.status().message);
  bool dump = !native.value();
  if (dump) {
    Status s = write_dump(dir + "/" + model + kDumpSuffix, c);
    if (!s.ok()) return error_answer(s.message);
  }
  std::string out;
  MpWriter w(out);
  w.map_header(4);
  w.str("name"), w.str(model);
  w.str("schema"), w.raw(c.schema().encoded());
  w.str("count"), w.integer(int64_t(c.size()));
  w.str("dump"), w.boolean(dump);
  return out;
}

Status start_backup(caf::actor_system& sys, std::vector<caf::actor> actors, BackupRequest req,
                    std::shared_ptr<ReplySink> sink, Route route) {
  namespace fs = std::filesystem;
  std::string root = req.data_dir + "/" + kBackupsDir;
  std::string final_dir = root + "/" + req.name;
  std::error_code ec;
  if (fs::exists(final_dir, ec))
    return make_status(ErrorCode::BadValue,
                       "backup '" + req.name + "' already exists (in " + final_dir + ")");
  std::string tmp = root + "/." + req.name + ".tmp-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  fs::create_directories(tmp, ec);
  if (ec) return make_status(ErrorCode::StorageError, "cannot create " + tmp + ": " + ec.message());
  Combine combine = [req, tmp, final_dir](std::vector<std::string>& answers) -> std::string {
    Catalog cat = req.db;
    cat.models.clear();
    std::string models;
    MpWriter mw(models);
    uint32_t n = 0;
    for (auto& a : answers) n += !a.empty();
    mw.array_header(n);
    Status s;
    for (auto& a : answers) {
      if (a.empty()) continue;  // a model that does not exist
      MpView v(a);
      if (v.get("error").valid()) {
        if (s.ok()) s = make_status(ErrorCode::StorageError, std::string(v.get("error").as_str()));
        continue;
      }
      cat.models.push_back(
          CatalogModel{std::string(v.get("name").as_str()), std::string(v.get("schema").bytes())});
      mw.map_header(2);
      mw.str("name"), mw.raw(v.get("name"));
      mw.str("count"), mw.raw(v.get("count"));
    }
    if (s.ok()) s = write_catalog(tmp, cat);
    if (s.ok()) {
      std::error_code e;
      fs::rename(tmp, final_dir, e);
      if (e)
        s = make_status(ErrorCode::BadValue,
                        "cannot complete backup '" + req.name + "': " + e.message());
      else
        s = sync_directory(fs::path(final_dir).parent_path().string());
    }
    if (!s.ok()) {
      std::error_code e;
      fs::remove_all(tmp, e);
      return error_reply(req.reply_id, s);
    }
    ReplyWriter r(req.reply_id, 3);
    r.key("backup").str(req.name);
    r.key("path").str(final_dir);
    r.key("models").raw(models);
    return r.take();
  };
  fan_out(sys, std::move(actors), caf::make_message(backup_atom::value, tmp), std::move(combine),
          std::move(sink), std::move(route));
  return Status::OK();
}

Result<Catalog> read_backup(const std::string& data_dir, const std::string& name) {
  std::string dir = data_dir + "/" + kBackupsDir + "/" + name;
  if (!has_catalog(dir))
    return make_status(ErrorCode::NamespaceNotFound, "backup '" + name + "' does not exist");
  return read_catalog(dir);
}

std::unique_ptr<StorageStrategy> seeded_storage(std::unique_ptr<StorageStrategy> inner,
                                                std::string dump_path) {
  return std::make_unique<SeededStorage>(std::move(inner), std::move(dump_path));
}

}  // namespace mg

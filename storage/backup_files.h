// storage/backup_files.h — copying files for online backups and restores, shared by every
// backend that backs up by copying (file, wiredtiger) and by restore (actors/backup.cc).
//
// Contract: every copy is fsynced before it returns OK; errors are StorageError naming the
// file and strerror. A missing source is an error unless `optional` (then OK, nothing copied).
#pragma once

#include <string>

#include "core/error.h"

namespace mg {

// Copies the regular file `from` to `to` (created or truncated), then fsyncs `to`.
Status copy_file_synced(const std::string& from, const std::string& to, bool optional = false);

// Copies the tree `from` into `to` (created when missing), fsyncing every file and directory.
Status copy_tree_synced(const std::string& from, const std::string& to);

// fsync of the directory `dir` (makes created and renamed entries durable).
Status sync_directory(const std::string& dir);

}  // namespace mg

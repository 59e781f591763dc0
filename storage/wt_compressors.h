// storage/wt_compressors.h — the block compressors the `wiredtiger` backend can use, and the
// project's own zstd and lz4 WT_COMPRESSOR implementations.
//
// WiredTiger 3.2.1 (Debian) ships snappy and zlib as loadable extensions
// (<libdir>/libwiredtiger_{snappy,zlib}.so); zstd and lz4 are written here over libzstd and
// liblz4 (wt_compressors.cc, which also describes their block format). A compressor must be
// registered while wiredtiger_open() runs, because recovery already reads compressed pages: so
// ours are an extension too, entry point memgoose_wt_extension_init, which wiredtiger_open loads
// from the running executable with `extensions=[local={entry=memgoose_wt_extension_init}]` (the
// symbol is exported from every program linking mg_storage, see storage/CMakeLists.txt). The
// same file is also built as the loadable module memgoose_wt_compress.so, so the `wt` tool can
// read zstd and lz4 tables: `wt -C "extensions=[<build>/lib/memgoose_wt_compress.so]" ...`.
#pragma once

#include <string>
#include <vector>

struct __wt_connection;
struct __wt_config_arg;

extern "C" {
// Registers "zstd" and "lz4" with connection->add_compressor. Returns 0 or a WiredTiger error.
int memgoose_wt_extension_init(__wt_connection* connection, __wt_config_arg* config);
}

namespace mg {

// The compressors that really work in this process, in `hello` order: "snappy" and "zlib" when
// their Debian extension loads (dlopen + its entry point found), then "zstd", "lz4", "none".
// Probed once, on first use.
const std::vector<std::string>& wt_compressors();

// The `extensions=[...]` entries wiredtiger_open needs for a table compressed with `name` (one
// of wt_compressors()): our own extension from the executable, plus the Debian .so for snappy or
// zlib. Without the surrounding brackets, e.g. `local={entry=memgoose_wt_extension_init},
// "/usr/lib/x86_64-linux-gnu/libwiredtiger_snappy.so"`.
std::string wt_extensions_config(const std::string& name);

}  // namespace mg

// storage/wt_compressors.cc — zstd and lz4 as WiredTiger block compressors (see
// wt_compressors.h), and the probe of Debian's snappy and zlib extensions.
//
// BLOCK FORMAT. WiredTiger hands a compressor one page image and keeps what it returns as the
// block's payload; at read time the payload may come back padded with zeroes up to the
// allocation size, so the real compressed length must be recorded (neither a zstd frame nor an
// LZ4 block tolerates trailing bytes). Both formats are therefore an 8-byte header, then the
// compressed bytes:
//
//   zstd: [compressed length: uint64 LE][a zstd frame (ZSTD_compressCCtx, level 3)]
//   lz4:  [compressed length: uint32 LE][original length: uint32 LE][an LZ4 block]
//
// Example: a 32 KB leaf page of msgpack documents becomes, with zstd, the 8 bytes
// `a1 0f 00 00 00 00 00 00` (4001) followed by a 4001-byte frame starting `28 b5 2f fd`.
// When the result is not smaller than the input, compression_failed is set and WiredTiger
// stores the page uncompressed (its own flag marks it). A block that fails to decompress is an
// error (WT_ERROR), which WiredTiger reports as a damaged block with the file's name.
//
// Contexts: zstd's compression and decompression contexts are reused per thread (WiredTiger
// compresses from eviction and checkpoint threads, decompresses from any reader).
#include "storage/wt_compressors.h"

#include <dlfcn.h>
#include <lz4.h>
#include <wiredtiger.h>
#include <wiredtiger_ext.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#ifndef MG_WT_EXTENSION_DIR
#define MG_WT_EXTENSION_DIR "/usr/lib/x86_64-linux-gnu"
#endif

namespace {

constexpr size_t kHeader = 8;
constexpr int kZstdLevel = 3;

void put_le(uint8_t* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// ---- zstd ----

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

int zstd_compress(WT_COMPRESSOR*, WT_SESSION*, uint8_t* src, size_t src_len, uint8_t* dst,
                  size_t dst_len, size_t* result_lenp, int* compression_failed) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  *compression_failed = 1;
  if (!cctx) return ENOMEM;
  if (dst_len <= kHeader) return 0;
  size_t n =
      ZSTD_compressCCtx(cctx.get(), dst + kHeader, dst_len - kHeader, src, src_len, kZstdLevel);
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) return 0;
    return WT_ERROR;
  }
  put_le(dst, n, 8);
  *result_lenp = n + kHeader;
  *compression_failed = *result_lenp >= src_len;
  return 0;
}

int zstd_decompress(WT_COMPRESSOR*, WT_SESSION*, uint8_t* src, size_t src_len, uint8_t* dst,
                    size_t dst_len, size_t* result_lenp) {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  if (!dctx) return ENOMEM;
  if (src_len < kHeader) return WT_ERROR;
  uint64_t n = get_le(src, 8);
  if (n > src_len - kHeader) return WT_ERROR;
  size_t out = ZSTD_decompressDCtx(dctx.get(), dst, dst_len, src + kHeader, size_t(n));
  if (ZSTD_isError(out)) return WT_ERROR;
  *result_lenp = out;
  return 0;
}

int zstd_pre_size(WT_COMPRESSOR*, WT_SESSION*, uint8_t*, size_t src_len, size_t* result_lenp) {
  *result_lenp = ZSTD_compressBound(src_len) + kHeader;
  return 0;
}

// ---- lz4 ----

int lz4_compress(WT_COMPRESSOR*, WT_SESSION*, uint8_t* src, size_t src_len, uint8_t* dst,
                 size_t dst_len, size_t* result_lenp, int* compression_failed) {
  *compression_failed = 1;
  if (dst_len <= kHeader || src_len > size_t(LZ4_MAX_INPUT_SIZE)) return 0;
  size_t room = std::min(dst_len - kHeader, size_t(LZ4_MAX_INPUT_SIZE));
  int n = LZ4_compress_default(reinterpret_cast<const char*>(src),
                               reinterpret_cast<char*>(dst + kHeader), int(src_len), int(room));
  if (n <= 0) return 0;  // did not fit
  put_le(dst, uint64_t(n), 4);
  put_le(dst + 4, src_len, 4);
  *result_lenp = size_t(n) + kHeader;
  *compression_failed = *result_lenp >= src_len;
  return 0;
}

int lz4_decompress(WT_COMPRESSOR*, WT_SESSION*, uint8_t* src, size_t src_len, uint8_t* dst,
                   size_t dst_len, size_t* result_lenp) {
  if (src_len < kHeader) return WT_ERROR;
  uint64_t n = get_le(src, 4), original = get_le(src + 4, 4);
  if (n > src_len - kHeader || original > dst_len) return WT_ERROR;
  int out = LZ4_decompress_safe(reinterpret_cast<const char*>(src + kHeader),
                                reinterpret_cast<char*>(dst), int(n), int(original));
  if (out < 0 || uint64_t(out) != original) return WT_ERROR;
  *result_lenp = size_t(out);
  return 0;
}

int lz4_pre_size(WT_COMPRESSOR*, WT_SESSION*, uint8_t*, size_t src_len, size_t* result_lenp) {
  *result_lenp =
      size_t(LZ4_compressBound(int(std::min(src_len, size_t(LZ4_MAX_INPUT_SIZE))))) + kHeader;
  return 0;
}

// WiredTiger only reads these (never frees them: no terminate callback), so one static copy
// serves every connection.
WT_COMPRESSOR zstd_compressor = {zstd_compress, zstd_decompress, zstd_pre_size, nullptr};
WT_COMPRESSOR lz4_compressor = {lz4_compress, lz4_decompress, lz4_pre_size, nullptr};

// True when the Debian extension at `path` loads and has WiredTiger's entry point.
bool extension_loads(const std::string& path) {
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) return false;
  bool ok = dlsym(h, "wiredtiger_extension_init") != nullptr;
  dlclose(h);
  return ok;
}

std::string debian_extension(const std::string& name) {
  return std::string(MG_WT_EXTENSION_DIR) + "/libwiredtiger_" + name + ".so";
}

}  // namespace

extern "C" int memgoose_wt_extension_init(WT_CONNECTION* connection, WT_CONFIG_ARG*) {
  int ret = connection->add_compressor(connection, "zstd", &zstd_compressor, nullptr);
  if (ret == 0) ret = connection->add_compressor(connection, "lz4", &lz4_compressor, nullptr);
  return ret;
}

#ifdef MG_WT_LOADABLE
// The loadable module's entry point (memgoose_wt_compress.so, for the `wt` tool).
extern "C" __attribute__((visibility("default"))) int wiredtiger_extension_init(
    WT_CONNECTION* connection, WT_CONFIG_ARG* config) {
  return memgoose_wt_extension_init(connection, config);
}
#endif

namespace mg {

const std::vector<std::string>& wt_compressors() {
  static const std::vector<std::string> list = [] {
    std::vector<std::string> out;
    for (const char* name : {"snappy", "zlib"})
      if (extension_loads(debian_extension(name))) out.emplace_back(name);
    for (const char* name : {"zstd", "lz4", "none"}) out.emplace_back(name);
    return out;
  }();
  return list;
}

std::string wt_extensions_config(const std::string& name) {
  std::string out = "local={entry=memgoose_wt_extension_init}";
  if (name == "snappy" || name == "zlib") out += ",\"" + debian_extension(name) + "\"";
  return out;
}

}  // namespace mg

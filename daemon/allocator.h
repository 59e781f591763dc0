// daemon/allocator.h — which memory allocator memgoosed runs on.
//
// Release builds link gperftools' tcmalloc (libtcmalloc_minimal, CMake MG_ALLOCATOR=tcmalloc,
// the default), as MongoDB does: it replaces malloc/free for the whole process, WiredTiger,
// SQLite and libzmq included. glibc's malloc gives every thread but the first an arena that
// grows page by page (one mprotect per page) and frees across threads through that arena's
// lock; the daemon allocates on one thread (a model actor, WiredTiger's storage thread) and
// frees on another (the front door, WiredTiger's eviction), which is where glibc is slowest.
// Sanitizer and fuzzing builds use the system allocator (ASan and TSan replace malloc
// themselves); MG_ALLOCATOR=system does too. docs/BENCHMARKS.md (session 9) has the figures.
#pragma once

#include <string>

namespace mg {

// "tcmalloc (gperftools <version>)" or "glibc malloc": logged at start-up.
std::string allocator_name();

}  // namespace mg

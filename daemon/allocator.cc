// daemon/allocator.cc — see allocator.h.
#include "daemon/allocator.h"

#ifdef MG_WITH_TCMALLOC
#include <gperftools/tcmalloc.h>
#endif

namespace mg {

std::string allocator_name() {
#ifdef MG_WITH_TCMALLOC
  // Referencing tcmalloc also keeps the link from dropping it (--as-needed).
  return std::string("tcmalloc (") + tc_version(nullptr, nullptr, nullptr) + ")";
#else
  return "glibc malloc";
#endif
}

}  // namespace mg

// storage/memory_storage.h — the `memory` strategy: nothing is persisted.
//
// Documents live only in the Collection; this strategy accepts every change at once, remembers
// the last seq, and loads nothing. Data is lost when the daemon stops, as the seed describes.
#pragma once

#include <memory>

#include "storage/storage_strategy.h"

namespace mg {

std::unique_ptr<StorageStrategy> make_memory_storage();

}  // namespace mg

#pragma once

#include <cstdint>

#include "store/store.h"

namespace tritonize {

/// The SQL that takes the store's schema from `from_version` to `from_version + 1`, or
/// nullptr outside [0, kStoreSchemaVersion).
const char* SchemaMigration(int64_t from_version);

}  // namespace tritonize

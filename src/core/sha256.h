#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tritonize {

/// Lower-case hex SHA-256 of bytes: the content hash that identifies an implementation.
std::string Sha256Hex(std::string_view bytes);

/// Reads a whole file; false with *err naming the path if it cannot be read.
bool ReadFile(const std::filesystem::path& path, std::string* contents, std::string* err);

}  // namespace tritonize

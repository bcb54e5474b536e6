#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tritonize {

/// Lower-case hex SHA-256 of bytes: the content hash that identifies an implementation.
std::string Sha256Hex(std::string_view bytes);

/// Reads a whole file; false with *err naming the path if it cannot be read.
bool ReadFile(const std::filesystem::path& path, std::string* contents, std::string* err);

/// Reads a file that a step's process wrote in a folder it could write to: only a regular file,
/// never through a symbolic link (which a candidate could leave there, pointing at a file of the
/// engine's user: a key, the reference), and at most its last `max_bytes` (0: all of it).
bool ReadRegularFile(const std::filesystem::path& path, std::string* contents, std::string* err,
                     size_t max_bytes = 0);

}  // namespace tritonize

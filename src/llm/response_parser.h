#pragma once

#include <string>

namespace tritonize {

/// The code taken from a model's answer.
struct ExtractedCode {
  bool found = false;
  std::string code;    // the block's lines, each ending in '\n'
  int block = 0;       // 1-based index among the answer's fenced blocks
  int blocks = 0;      // fenced blocks in the answer
  std::string choice;  // how the block was chosen, one line for the metadata
};

/// Takes the fenced python block (```python or ```py). With several, the last one that
/// defines `entry` and holds a @triton.jit kernel, else the longest python block; an
/// untagged block only when there is no python-tagged one.
ExtractedCode ExtractCode(const std::string& answer, const std::string& entry);

/// Light checks before the worker sees the code: it defines `entry` at module level (def,
/// assignment or class) and has at least one @triton.jit kernel. Syntax is left to the
/// worker (`syntax_error` verdict): the engine does not parse Python. Empty when fine.
std::string CheckCode(const std::string& code, const std::string& entry);

}  // namespace tritonize

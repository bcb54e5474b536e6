#include "llm/response_parser.h"

#include <fmt/format.h>

#include <regex>
#include <vector>

namespace tritonize {
namespace {

struct Block {
  std::string info;
  std::string body;
};

/// Fenced blocks opened by a line starting with ``` and closed by a line that is ``` alone.
std::vector<Block> FencedBlocks(const std::string& text) {
  std::vector<Block> blocks;
  size_t pos = 0;
  bool open = false;
  Block current;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    std::string full = end == std::string::npos ? line + "\n" : text.substr(pos, end - pos + 1);
    std::string trimmed = line;
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\r'))
      trimmed.pop_back();
    size_t indent = trimmed.find_first_not_of(' ');
    std::string stripped = indent == std::string::npos ? "" : trimmed.substr(indent);
    if (!open && stripped.rfind("```", 0) == 0) {
      open = true;
      current = {stripped.substr(3), ""};
    } else if (open && stripped == "```") {
      blocks.push_back(current);
      open = false;
    } else if (open) {
      current.body += full;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return blocks;  // an unclosed block (truncated answer) is not taken
}

bool IsPython(const std::string& info) {
  return info == "python" || info == "py" || info == "python3";
}

}  // namespace

std::string CheckCode(const std::string& code, const std::string& entry) {
  std::vector<std::string> problems;
  std::regex defines("(^|\n)(def|class)[ \t]+" + entry + "\\b|(^|\n)" + entry +
                     "[ \t]*(:[^=\n]*)?=");
  if (!std::regex_search(code, defines)) {
    problems.push_back(fmt::format("does not define `{}` at module level", entry));
  }
  if (code.find("triton.jit") == std::string::npos) problems.push_back("has no @triton.jit kernel");
  std::string out;
  for (size_t i = 0; i < problems.size(); ++i) out += (i ? "; " : "") + problems[i];
  return out;
}

ExtractedCode ExtractCode(const std::string& answer, const std::string& entry) {
  ExtractedCode out;
  std::vector<Block> blocks = FencedBlocks(answer);
  out.blocks = static_cast<int>(blocks.size());
  int best = -1;
  bool any_python = false;
  for (const auto& b : blocks) any_python = any_python || IsPython(b.info);
  auto eligible = [&](const Block& b) { return any_python ? IsPython(b.info) : b.info.empty(); };
  for (int i = static_cast<int>(blocks.size()) - 1; i >= 0; --i) {
    const Block& b = blocks[static_cast<size_t>(i)];
    if (eligible(b) && CheckCode(b.body, entry).empty()) {
      best = i;
      out.choice = "the last python block that defines the entry and a @triton.jit kernel";
      break;
    }
  }
  if (best < 0) {
    for (int i = 0; i < static_cast<int>(blocks.size()); ++i) {
      const Block& b = blocks[static_cast<size_t>(i)];
      if (eligible(b) &&
          (best < 0 || b.body.size() > blocks[static_cast<size_t>(best)].body.size())) {
        best = i;
      }
    }
    out.choice = "the longest python block (none defines the entry and a kernel)";
  }
  if (best < 0) return out;
  out.found = true;
  out.code = blocks[static_cast<size_t>(best)].body;
  out.block = best + 1;
  if (out.blocks == 1) out.choice = "the only fenced block";
  return out;
}

}  // namespace tritonize

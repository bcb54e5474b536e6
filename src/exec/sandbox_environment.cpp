// The candidate's environment: an allow-list, not a deny-list. Why: a deny-list misses the
// next provider's key; an allow-list only ever misses a variable the worker needs, which shows
// up as a failure on the first run rather than as a leak (docs/security.md).
#include <cctype>
#include <cstring>

#include "exec/sandbox.h"

namespace tritonize {
namespace {

bool Allowed(std::string_view name, const std::vector<std::string>& allow) {
  for (const auto& entry : allow) {
    if (!entry.empty() && entry.back() == '*') {
      if (name.substr(0, entry.size() - 1) == std::string_view(entry).substr(0, entry.size() - 1)) {
        return true;
      }
    } else if (name == entry) {
      return true;
    }
  }
  return false;
}

}  // namespace

const std::vector<std::string>& DefaultEnvironmentAllowList() {
  static const std::vector<std::string> names = {
      // The process: where programs and libraries are, locale, time zone, temporary files.
      "PATH", "HOME", "TMPDIR", "LANG", "LANGUAGE", "LC_*", "TZ", "XDG_CACHE_HOME",
      "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "CC", "CXX",
      // Python, the GPU and the libraries the worker runs (their settings, caches, devices).
      "PYTHON*", "CUDA_*", "NVIDIA_*", "TRITON_*", "TORCH_*", "TORCHINDUCTOR_*", "PYTORCH_*",
      "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"};
  return names;
}

bool IsSecretName(std::string_view name) {
  static const char* const kWords[] = {"KEY",    "KEYS",       "APIKEY",      "TOKEN",
                                       "TOKENS", "SECRET",     "SECRETS",     "PASSWORD",
                                       "PASSWD", "CREDENTIAL", "CREDENTIALS", "AUTH"};
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('_', start);
    if (end == std::string_view::npos) end = name.size();
    std::string word;
    for (char c : name.substr(start, end - start)) {
      word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    for (const char* secret : kWords) {
      if (word == secret) return true;
    }
    start = end + 1;
  }
  return false;
}

std::vector<std::string> SandboxEnvironment(const char* const* inherited,
                                            const std::vector<std::string>& allow,
                                            const std::map<std::string, std::string>& set) {
  std::map<std::string, std::string> kept;
  for (const char* const* e = inherited; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    const std::string name(*e, static_cast<size_t>(eq - *e));
    if (Allowed(name, allow) && !IsSecretName(name)) kept[name] = eq + 1;
  }
  for (const auto& [name, value] : set) {
    if (!IsSecretName(name)) kept[name] = value;
  }
  std::vector<std::string> out;
  out.reserve(kept.size());
  for (const auto& [name, value] : kept) out.push_back(name + "=" + value);
  return out;
}

}  // namespace tritonize

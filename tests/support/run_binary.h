// Runs the built tritonize binary for the end-to-end tests.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/sha256.h"
#include "exec/subprocess.h"

namespace tritonize {

struct BinaryOutput {
  int code = -1;
  std::string out, err;
};

/// Runs TRITONIZE_BINARY with args against the source tree, its scratch folder and results store
/// under dir (TRITONIZE_SCRATCH=dir/jobs, TRITONIZE_DB=dir/results.db); env is set on top.
/// stdout and stderr pass through dir/stdout and dir/stderr.
inline BinaryOutput RunTritonize(const std::filesystem::path& dir, std::vector<std::string> args,
                                 std::map<std::string, std::string> env, double timeout_s) {
  SubprocessOptions o;
  o.argv = {TRITONIZE_BINARY};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.stdout_path = dir / "stdout";
  o.stderr_path = dir / "stderr";
  o.timeout_s = timeout_s;
  o.env = std::move(env);
  o.env["TRITONIZE_ROOT"] = TRITONIZE_SOURCE_DIR;
  o.env["TRITONIZE_SCRATCH"] = (dir / "jobs").string();
  o.env["TRITONIZE_DB"] = (dir / "results.db").string();
  SubprocessResult r = RunSubprocess(o);
  BinaryOutput out;
  out.code = r.exit_code;
  std::string e;
  ReadFile(o.stdout_path, &out.out, &e);
  ReadFile(o.stderr_path, &out.err, &e);
  return out;
}

}  // namespace tritonize

// The tritonize binary running `serve` in the background for the end-to-end tests: started
// with a port file, stopped with a signal (SIGKILL for the durability tests).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "core/sha256.h"

namespace tritonize {

class ServerProcess {
 public:
  ~ServerProcess() { Kill(SIGKILL); }

  /// Starts `tritonize serve --port 0 --port-file ...` plus args; the store, scratch and logs in
  /// dir. False when it did not listen within timeout_s (its log says why).
  bool Start(const std::filesystem::path& dir, std::vector<std::string> args,
             std::map<std::string, std::string> env = {}, double timeout_s = 60) {
    dir_ = dir;
    const auto port_file = dir / "port";
    std::filesystem::remove(port_file);
    std::vector<std::string> argv = {TRITONIZE_BINARY, "serve", "--port", "0", "--port-file",
                                     port_file.string(), "--db", (dir / "results.db").string(),
                                     "--scratch", (dir / "jobs").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    env["TRITONIZE_ROOT"] = TRITONIZE_SOURCE_DIR;
    const std::string log = (dir / "serve.log").string();
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file);
      if (in >> port_ && port_ > 0) return true;
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  /// Sends `sig` to the server alone (SIGKILL: its workers are left as a crash leaves them)
  /// and waits for it; the exit status.
  int Kill(int sig) {
    if (pid_ <= 0) return status_;
    kill(pid_, sig);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string Log() const {
    std::string text, err;
    ReadFile(dir_ / "serve.log", &text, &err);
    return text;
  }
  httplib::Client Client(const std::string& token = "") const {
    httplib::Client client("127.0.0.1", port_);
    if (!token.empty()) client.set_bearer_token_auth(token.c_str());
    client.set_read_timeout(60, 0);
    client.set_connection_timeout(10, 0);
    return client;
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int status_ = 0;
  int port_ = 0;
};

}  // namespace tritonize

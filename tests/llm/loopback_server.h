#pragma once
// A real HTTP server on 127.0.0.1 for the provider tests: scripted replies, in order, then a
// default handler; it counts hits and keeps every request it saw.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace tritonize {

struct ScriptedReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  double stall_s = 0;  // sleep before answering
};

class LoopbackServer {
 public:
  using Handler = std::function<ScriptedReply(const httplib::Request&)>;

  explicit LoopbackServer(Handler fallback) : fallback_(std::move(fallback)) {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      ScriptedReply reply;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++hits_;
        requests_.push_back(req.body);
        for (const auto& [name, value] : req.headers) headers_seen_.push_back(name + ": " + value);
        if (!script_.empty()) {
          reply = script_.front();
          script_.pop_front();
        } else {
          reply = fallback_(req);
        }
      }
      if (reply.stall_s > 0) {
        std::this_thread::sleep_for(std::chrono::duration<double>(reply.stall_s));
      }
      res.status = reply.status;
      for (const auto& [name, value] : reply.headers) res.set_header(name, value);
      res.set_content(reply.body, "application/json");
    };
    server_.Post("/v1/messages", handle);
    server_.Post("/v1/chat/completions", handle);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }

  void Script(std::vector<ScriptedReply> replies) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& r : replies) script_.push_back(std::move(r));
  }
  int hits() {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::vector<std::string> headers_seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return headers_seen_;
  }
  int port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  Handler fallback_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::deque<ScriptedReply> script_;
  int hits_ = 0;
  std::vector<std::string> requests_;
  std::vector<std::string> headers_seen_;
};

/// A Messages API body with one text block.
inline std::string AnthropicBody(const std::string& text, const std::string& stop = "end_turn",
                                 long long in = 1000, long long out = 500) {
  nlohmann::json j = {
      {"id", "msg_test"},    {"type", "message"},
      {"role", "assistant"}, {"content", {{{"type", "text"}, {"text", text}}}},
      {"stop_reason", stop}, {"usage", {{"input_tokens", in}, {"output_tokens", out}}}};
  return j.dump();
}

/// A chat-completions body with one choice.
inline std::string OpenAiBody(const std::string& text, const std::string& finish = "stop",
                              long long in = 1000, long long out = 500) {
  nlohmann::json j = {{"id", "chatcmpl-test"},
                      {"object", "chat.completion"},
                      {"choices",
                       {{{"index", 0},
                         {"message", {{"role", "assistant"}, {"content", text}}},
                         {"finish_reason", finish}}}},
                      {"usage", {{"prompt_tokens", in}, {"completion_tokens", out}}}};
  return j.dump();
}

}  // namespace tritonize

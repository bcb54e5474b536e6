#include "serve/http_api.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <httplib.h>

#include <iostream>

#include <fmt/format.h>

namespace tritonize {
namespace {

using json = nlohmann::json;

constexpr const char* kJson = "application/json";

/// The task's expert columns by name, in the manifest's order.
json ExpertNames(const Task& task) {
  json names = json::array();
  for (const Expert& expert : task.experts) names.push_back(expert.name);
  return names;
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", kJson);
}

void ReplyError(httplib::Response& res, int status, const std::string& field,
                const std::string& message) {
  Reply(res, status, ApiErrorJson({status, field, message}));
}

/// A path id: digits only (the route's pattern), and within int64.
bool ParseId(const std::string& text, int64_t* id) {
  if (text.empty() || text.size() > 18) return false;
  *id = std::stoll(text);
  return *id > 0;
}

const char* StatusText(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "no such resource (see docs/serve.md for the API)";
    case 405: return "method not allowed";
    case 413: return "the request body is larger than this server takes (--max-body)";
    case 414: return "the request line is too long";
    default: return "request failed";
  }
}

}  // namespace

nlohmann::json EvaluationJson(const EvaluationRecord& record) {
  json j = {{"id", record.id},
            {"task", record.task},
            {"status", EvaluationStatusName(record.status)},
            {"attempts", record.attempts},
            {"cancel_requested", record.cancel_requested},
            {"options", record.options},
            {"submitted_at", record.submitted_at},
            {"started_at", record.started_at.empty() ? json(nullptr) : json(record.started_at)},
            {"finished_at", record.finished_at.empty() ? json(nullptr) : json(record.finished_at)}};
  if (record.status == EvaluationStatus::kQueued) j["position"] = record.position;
  if (record.status == EvaluationStatus::kDone) j["verdict"] = record.verdict;
  return j;
}

HttpApi::HttpApi(EvaluationService* service, HttpApiOptions options,
                 std::function<nlohmann::json()> gpu_status)
    : service_(service),
      options_(std::move(options)),
      gpu_status_(std::move(gpu_status)),
      limiter_(options_.rate_per_second, options_.rate_burst),
      server_(std::make_unique<httplib::Server>()) {
  const int threads = options_.threads;
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_read_timeout(10, 0);
  server_->set_write_timeout(10, 0);
  // Instead of httplib's default (SO_REUSEADDR and SO_REUSEPORT): no second server may share
  // the port, and the listening socket is never inherited by a worker process.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    fcntl(sock, F_SETFD, FD_CLOEXEC);
  });
  Routes();
}

HttpApi::~HttpApi() { Stop(); }

bool HttpApi::Bind(const std::string& host, int port, std::string* err) {
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) port_ = 0;
  } else if (server_->bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ <= 0) {
    *err = fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)", host,
                       port);
    return false;
  }
  return true;
}

bool HttpApi::Admit(const httplib::Request& req, httplib::Response& res) {
  if (!options_.token.Accepts(req.get_header_value("Authorization"))) {
    res.set_header("WWW-Authenticate", "Bearer");
    ReplyError(res, 401, "Authorization",
               "a bearer token is required: `Authorization: Bearer <token>` (the server's "
               "--token-file or TRITONIZE_TOKEN)");
    return false;
  }
  int retry_after = 0;
  if (!limiter_.Allow(req.remote_addr, RateLimiter::Clock::now(), &retry_after)) {
    res.set_header("Retry-After", std::to_string(retry_after));
    ReplyError(res, 429, "",
               fmt::format("more than {} requests a second from {}; retry after {} s",
                           options_.rate_per_second, req.remote_addr, retry_after));
    return false;
  }
  return true;
}

bool HttpApi::Serve() { return server_->listen_after_bind(); }

void HttpApi::Stop() {
  if (server_ && server_->is_running()) server_->stop();
}

void HttpApi::Routes() {
  httplib::Server& server = *server_;

  // Who is asking, and how often: before the routing for requests without a body, and in the
  // POST handler once its body is read (bounded by --max-body) for those with one: a request
  // answered with its body unread would leave that body to be read as the connection's next
  // request. The Authorization header is never logged or stored.
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "POST") return httplib::Server::HandlerResponse::Unhandled;
    return Admit(req, res) ? httplib::Server::HandlerResponse::Unhandled
                           : httplib::Server::HandlerResponse::Handled;
  });

  server.Post("/v1/evaluations", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    std::vector<EvaluationRequest> requests;
    bool batch = false;
    ApiError error;
    if (!ParseSubmission(req.body, service_->suite(), options_.limits, &requests, &batch,
                         &error)) {
      return Reply(res, error.status, ApiErrorJson(error));
    }
    std::vector<AcceptedEvaluation> accepted;
    EvaluationService::SubmitOutcome outcome;
    std::string err;
    if (!service_->Submit(requests, req.remote_addr, &accepted, &outcome, &err)) {
      std::cerr << "tritonize serve: " << err << "\n";
      return ReplyError(res, 500, "", "the queue could not store the submission: " + err);
    }
    if (outcome == EvaluationService::SubmitOutcome::kFull) {
      res.set_header("Retry-After", std::to_string(options_.queue_full_retry_after_s));
      return ReplyError(res, 503, "",
                        fmt::format("the queue is full ({} queued evaluations); nothing of this "
                                    "request was queued, retry later",
                                    service_->options().max_queued));
    }
    json items = json::array();
    bool any_new = false;
    for (const AcceptedEvaluation& a : accepted) {
      json item = {{"id", a.id}, {"status", EvaluationStatusName(a.status)}, {"existing", a.existing}};
      if (a.status == EvaluationStatus::kQueued) item["position"] = a.position;
      any_new = any_new || !a.existing;
      items.push_back(std::move(item));
    }
    // 202: queued now; 200: every submission was answered by an earlier equal one.
    const int status = any_new ? 202 : 200;
    Reply(res, status, batch ? json{{"evaluations", items}} : items[0]);
  });

  server.Get(R"(/v1/evaluations/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t id = 0;
    if (!ParseId(req.matches[1], &id)) return ReplyError(res, 404, "id", "no such evaluation");
    EvaluationRecord record;
    bool found = false;
    std::string err;
    if (!service_->Get(id, &record, &found, &err)) return ReplyError(res, 500, "", err);
    if (!found) return ReplyError(res, 404, "id", fmt::format("no evaluation {}", id));
    Reply(res, 200, EvaluationJson(record));
  });

  // Many at once, for a client that polls a batch: ?ids=1,2,3
  server.Get("/v1/evaluations", [this](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("ids")) return ReplyError(res, 400, "ids", "is missing (?ids=1,2,3)");
    const std::string ids = req.get_param_value("ids");
    json items = json::array();
    size_t start = 0;
    while (start <= ids.size()) {
      const size_t comma = std::min(ids.find(',', start), ids.size());
      const std::string text = ids.substr(start, comma - start);
      int64_t id = 0;
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
          !ParseId(text, &id)) {
        return ReplyError(res, 400, "ids", fmt::format("\"{}\" is not an evaluation id", text));
      }
      if (items.size() >= options_.limits.max_batch) {
        return ReplyError(res, 400, "ids",
                          fmt::format("more than {} ids in one request", options_.limits.max_batch));
      }
      EvaluationRecord record;
      bool found = false;
      std::string err;
      if (!service_->Get(id, &record, &found, &err)) return ReplyError(res, 500, "", err);
      items.push_back(found ? EvaluationJson(record)
                            : json{{"id", id}, {"status", nullptr}, {"error", "no such evaluation"}});
      start = comma + 1;
    }
    Reply(res, 200, {{"evaluations", items}});
  });

  server.Delete(R"(/v1/evaluations/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t id = 0;
    if (!ParseId(req.matches[1], &id)) return ReplyError(res, 404, "id", "no such evaluation");
    EvaluationQueue::CancelOutcome outcome;
    std::string err;
    if (!service_->Cancel(id, &outcome, &err)) return ReplyError(res, 500, "", err);
    switch (outcome) {
      case EvaluationQueue::CancelOutcome::kNotFound:
        return ReplyError(res, 404, "id", fmt::format("no evaluation {}", id));
      case EvaluationQueue::CancelOutcome::kAlreadyDone:
        return ReplyError(res, 409, "id", fmt::format("evaluation {} is done; its verdict stays", id));
      case EvaluationQueue::CancelOutcome::kCancelled:
        return Reply(res, 200, {{"id", id}, {"status", "cancelled"}});
      case EvaluationQueue::CancelOutcome::kCancelling:
        return Reply(res, 202, {{"id", id}, {"status", "cancelling"}});
    }
  });

  server.Get("/v1/tasks", [this](const httplib::Request&, httplib::Response& res) {
    json tasks = json::array();
    for (const Task& task : service_->suite().tasks()) {
      tasks.push_back({{"name", task.name},
                       {"description", task.description},
                       {"entry", task.entry},
                       {"signature", task.signature},
                       {"modes", task.modes},
                       {"sizes", task.sizes},
                       {"has_expert", !task.experts.empty()},
                       {"experts", ExpertNames(task)},
                       {"manifest", task.manifest}});
    }
    Reply(res, 200, {{"tasks", tasks}});
  });

  server.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
    json health;
    std::string err;
    if (!service_->Health(&health, &err)) return ReplyError(res, 500, "", err);
    health["gpus"] = gpu_status_ ? gpu_status_() : json(nullptr);
    Reply(res, 200, health);
  });

  // httplib's own refusals (unknown path, 413, malformed HTTP) as JSON errors too.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        ReplyError(res, res.status, res.status == 413 ? "body" : "", StatusText(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown error";
        try {
          if (error) std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        ReplyError(res, 500, "", "internal error: " + what);
      });

  // Changes and refusals by default; never a header (the token) or a body (the code).
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (!options_.log_requests && req.method == "GET" && res.status < 400) return;
    std::cerr << fmt::format("tritonize serve: {} {} {} -> {}\n", req.remote_addr, req.method,
                             req.path, res.status);
  });
}

}  // namespace tritonize

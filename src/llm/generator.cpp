// The generate flow: for each task and sample, turn 1 sends the one-shot prompt; each later
// turn sends the worker's verdict on the previous answer through the refinement template.
#include "llm/generator.h"

#include <fmt/format.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/candidates.h"
#include "core/sha256.h"
#include "exec/subprocess.h"
#include "llm/response_parser.h"

namespace tritonize {

namespace fs = std::filesystem;

std::string CacheKey(const std::string& provider, const std::string& model,
                     const nlohmann::json& messages, const nlohmann::json& params, int sample) {
  nlohmann::json key = {{"provider", provider},
                        {"model", model},
                        {"messages", messages},
                        {"params", params},
                        {"sample", sample}};
  return Sha256Hex(key.dump());
}

namespace {

std::string TodayUtc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

bool WriteText(const fs::path& path, const std::string& text, std::string* err) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) {
      *err = "cannot write " + path.string();
      return false;
    }
  }
  fs::rename(tmp, path, ec);  // a reader never sees half a file
  if (ec) *err = "cannot write " + path.string() + ": " + ec.message();
  return !ec;
}

nlohmann::json NullIfNegative(double v) {
  return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v);
}
nlohmann::json NullIfNegative(long long v) {
  return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v);
}

/// Shared state of one run: the spend, the counters, the baseline verdicts.
class Session {
 public:
  Session(const GenerateConfig& config, const std::function<void(const std::string&)>& log)
      : config_(config), log_(log) {}

  void RunChain(const Task& task, int sample);
  GenerateSummary TakeSummary() { return std::move(summary_); }

 private:
  bool Answer(const Task& task, int sample, int turn, const nlohmann::json& messages,
              GenerationRecord* record, TurnOutcome* outcome);
  bool Request(const Task& task, int sample, int turn, const nlohmann::json& messages,
               GenerationRecord* record, TurnOutcome* outcome);
  void Classify(const GenerationRecord& record, const ExtractedCode& code, TurnOutcome* outcome,
                const std::string& entry);
  void WriteTurn(const Task& task, int sample, int turn, const std::string& prompt,
                 const GenerationRecord& record, const ExtractedCode& code,
                 const TurnOutcome& outcome);
  nlohmann::json Meta(const Task& task, int sample, int turn, const std::string& prompt,
                      const GenerationRecord& record, const ExtractedCode& code,
                      const TurnOutcome& outcome);
  const JobResult* Baseline(const Task& task);
  void Log(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (log_) log_(line);
  }
  void Record(const TurnOutcome& outcome) {
    std::lock_guard<std::mutex> lock(mutex_);
    summary_.turns.push_back(outcome);
    if (outcome.sent) ++summary_.requests_sent;
    if (outcome.cached) ++summary_.cache_hits;
    if (outcome.status == "failed") ++summary_.failed;
    if (outcome.status == "budget") summary_.budget_reached = true;
  }

  const GenerateConfig& config_;
  const std::function<void(const std::string&)>& log_;
  std::mutex mutex_;
  double spent_usd_ = 0;
  GenerateSummary summary_;
  std::map<std::string, JobResult> baselines_;
};

const JobResult* Session::Baseline(const Task& task) {
  if (!config_.worker.timing) return nullptr;  // --interpret: no timings to compare
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = baselines_.find(task.name); it != baselines_.end()) return &it->second;
  }
  JobResult result =
      config_.runner->Run({&task, BaselineImplementation(task), 0, task.name + " baseline", 0}).result;
  std::lock_guard<std::mutex> lock(mutex_);
  return &baselines_.emplace(task.name, std::move(result)).first->second;
}

bool Session::Request(const Task& task, int sample, int turn, const nlohmann::json& messages,
                      GenerationRecord* record, TurnOutcome* outcome) {
  const std::string name = ReplaySource::RequestName(task.name, sample, turn);
  Completion completion;
  if (config_.replay != nullptr) {
    std::string origin;
    if (!config_.replay->Find(task.name, sample, turn, &completion, &record->raw_response,
                              &origin)) {
      outcome->status = "failed";
      outcome->message =
          fmt::format("no recorded response {} in {}", name, config_.replay->dir().string());
      return false;
    }
    record->attempts = 0;
  } else {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (config_.budget_usd && spent_usd_ >= *config_.budget_usd) {
        outcome->status = "budget";
        outcome->message = fmt::format("not sent: --budget {:.2f} USD reached ({:.4f} USD spent)",
                                       *config_.budget_usd, spent_usd_);
        return false;
      }
    }
    std::vector<Message> list;
    for (const auto& m : messages) list.push_back({m["role"], m["content"]});
    HttpRequest request =
        config_.provider->BuildRequest(config_.spec.model, list, config_.params, config_.api_key);
    request.connect_timeout_s = config_.connect_timeout_s;
    request.total_timeout_s = config_.request_timeout_s;
    SendOutcome sent = SendWithRetry(
        *config_.transport, request, config_.retry, *config_.clock, [&](const std::string& line) {
          Log(fmt::format("{}: {}", name, Redact(line, config_.api_key)));
        });
    outcome->sent = true;
    outcome->attempts = sent.attempts;
    record->attempts = sent.attempts;
    record->latency_s = sent.response.latency_s;
    completion = config_.provider->ParseResponse(sent.response);
    if (!completion.ok) {
      outcome->status = "failed";
      outcome->message = Redact(completion.error, config_.api_key);
      return false;
    }
    record->raw_response = Redact(sent.response.body, config_.api_key);
  }
  record->text = completion.text;
  record->stop_reason = completion.stop_reason;
  record->tokens_in = completion.tokens_in;
  record->tokens_out = completion.tokens_out;
  auto cost = config_.prices->Cost(config_.spec.provider, config_.spec.model, completion.tokens_in,
                                   completion.tokens_out);
  if (config_.replay != nullptr) cost = std::nullopt;  // a replay calls no model
  record->cost_usd = cost ? *cost : -1;
  if (cost) {
    std::lock_guard<std::mutex> lock(mutex_);
    spent_usd_ += *cost;
  }
  record->status = completion.refused ? "refused" : completion.truncated ? "truncated" : "ok";
  return true;
}

bool Session::Answer(const Task& task, int sample, int turn, const nlohmann::json& messages,
                     GenerationRecord* record, TurnOutcome* outcome) {
  const nlohmann::json params = config_.params.ToJson();
  record->cache_key = CacheKey(config_.spec.provider, config_.spec.model, messages, params, sample);
  std::string err;
  if (config_.replay == nullptr && !config_.no_cache &&
      config_.store->Find(record->cache_key, record, &err)) {
    outcome->cached = true;
  } else {
    if (!err.empty()) Log("warning: " + err);
    if (!Request(task, sample, turn, messages, record, outcome)) return false;
    record->provider = config_.spec.provider;
    record->model = config_.spec.model;
    record->base_url = config_.base_url;
    record->model_id = config_.model_id;
    record->task = task.name;
    record->sample = sample;
    record->turn = turn;
    record->prompt_template = turn == 1 ? config_.oneshot.path : config_.refine.path;
    record->prompt_sha256 = Sha256Hex(messages.back()["content"].get<std::string>());
    record->params = params;
    record->messages = messages;
    if (!config_.store->Insert(record, &err)) Log("warning: not stored: " + err);
  }
  outcome->tokens_in = record->tokens_in;
  outcome->tokens_out = record->tokens_out;
  outcome->cost_usd = record->cost_usd;
  return true;
}

void Session::Classify(const GenerationRecord& record, const ExtractedCode& code,
                       TurnOutcome* outcome, const std::string& entry) {
  outcome->status = record.status;
  if (!code.found) {
    outcome->status = record.status == "ok" ? "no_code" : record.status;
    outcome->message = record.status == "refused"     ? "the model refused"
                       : record.status == "truncated" ? "max_tokens reached before the code closed"
                                                      : "no ```python block in the answer";
    return;
  }
  std::string problems = CheckCode(code.code, entry);
  outcome->message = problems.empty() ? "" : "the code " + problems;
}

nlohmann::json Session::Meta(const Task& task, int sample, int turn, const std::string& prompt,
                             const GenerationRecord& record, const ExtractedCode& code,
                             const TurnOutcome& outcome) {
  nlohmann::json meta = nlohmann::json::object();
  nlohmann::json provenance = config_.replay != nullptr && sample == 0 && turn == 1
                                  ? config_.replay->Provenance(task.name)
                                  : nlohmann::json();
  if (provenance.is_object()) meta = provenance;  // the recorded response's own statements
  meta["schema_version"] = 1;
  meta["task"] = task.name;
  meta["model_id"] = config_.model_id;
  if (!provenance.is_object()) {
    meta["provider"] = config_.replay ? "replay (recorded responses; no API call by this run)"
                                      : config_.spec.provider;
    meta["model"] = config_.spec.model;
    meta["date"] = record.created_at.empty() ? TodayUtc() : record.created_at.substr(0, 10);
    meta["temperature"] = config_.params.ToJson()["temperature"];
    meta["seed"] = config_.params.ToJson()["seed"];
    meta["tokens_in"] = NullIfNegative(record.tokens_in);
    meta["tokens_out"] = NullIfNegative(record.tokens_out);
    meta["cost_usd"] = NullIfNegative(record.cost_usd);
    meta["feedback"] =
        turn == 1 ? "none" : "the worker's verdict on turn " + std::to_string(turn - 1);
    meta["turns"] = turn;
  } else {
    meta["replayed_by"] = fmt::format(
        "tritonize generate --model replay:{} --responses {}: the "
        "recorded response was parsed again; no model was called",
        config_.spec.model, config_.replay->dir().filename().string());
  }
  meta["base_url"] = config_.base_url;
  meta["max_tokens"] = config_.params.max_tokens;
  meta["prompt_template"] = turn == 1 ? config_.oneshot.path : config_.refine.path;
  meta["prompt_template_sha256"] = turn == 1 ? config_.oneshot.sha256 : config_.refine.sha256;
  meta["target_gpu"] = config_.gpu.empty() ? nlohmann::json(nullptr) : nlohmann::json(config_.gpu);
  meta["prompt_sha256"] = Sha256Hex(prompt);
  meta["sample"] = sample;
  meta["turn"] = turn;
  meta["status"] = outcome.status;
  meta["message"] = outcome.message;
  meta["stop_reason"] = record.stop_reason;
  meta["latency_s"] = record.latency_s;
  meta["generation_id"] = record.id;
  meta["cache_key"] = record.cache_key;
  meta["code_block"] =
      code.found
          ? nlohmann::json(fmt::format("block {} of {}: {}", code.block, code.blocks, code.choice))
          : nlohmann::json(nullptr);
  meta["code_sha256"] = code.found ? nlohmann::json(Sha256Hex(code.code)) : nlohmann::json(nullptr);
  return meta;
}

void Session::WriteTurn(const Task& task, int sample, int turn, const std::string& prompt,
                        const GenerationRecord& record, const ExtractedCode& code,
                        const TurnOutcome& outcome) {
  const fs::path dir = config_.out_dir / "samples" / task.name;
  const std::string base = fmt::format("s{}-t{}", sample, turn);
  nlohmann::json meta = Meta(task, sample, turn, prompt, record, code, outcome);
  std::string err;
  bool ok = WriteText(dir / (base + ".prompt.txt"), prompt, &err) &&
            WriteText(dir / (base + ".response.md"), record.text, &err);
  std::error_code ec;
  if (code.found) {
    ok = ok && WriteText(dir / (base + ".py"), code.code, &err);
  } else {
    fs::remove(dir / (base + ".py"), ec);  // a stale file from an earlier run is not this answer
  }
  ok = ok && WriteText(dir / (base + ".meta.json"), meta.dump(2) + "\n", &err);
  // The primary candidate, llm_triton/<model-id>/<task>.py, is sample 0's latest turn.
  if (ok && sample == 0) {
    nlohmann::json primary = meta;
    primary["prompt_file"] = task.name + ".prompt.txt";
    primary["response_file"] = task.name + ".response.md";
    primary["sample_files"] = "samples/" + task.name + "/" + base;
    if (turn == 1) ok = WriteText(config_.out_dir / (task.name + ".prompt.txt"), prompt, &err);
    ok = ok && WriteText(config_.out_dir / (task.name + ".response.md"), record.text, &err);
    if (code.found) {
      ok = ok && WriteText(config_.out_dir / (task.name + ".py"), code.code, &err);
    } else {
      fs::remove(config_.out_dir / (task.name + ".py"), ec);
    }
    ok =
        ok && WriteText(config_.out_dir / (task.name + ".meta.json"), primary.dump(2) + "\n", &err);
  }
  if (!ok) Log("error: " + err);
}

void Session::RunChain(const Task& task, int sample) {
  PromptVars vars;
  std::string prompt, err;
  if (!OneshotVars(task, config_.gpu, &vars, &err) ||
      !RenderPrompt(config_.oneshot.text, vars, &prompt, &err)) {
    Log(fmt::format("{}: cannot render the prompt: {}", task.name, err));
    TurnOutcome failed;
    failed.task = task.name;
    failed.sample = sample;
    failed.status = "failed";
    failed.message = err;
    Record(failed);
    return;
  }
  nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", prompt}}});
  for (int turn = 1; turn <= config_.turns && !Interrupted(); ++turn) {
    TurnOutcome outcome;
    outcome.task = task.name;
    outcome.sample = sample;
    outcome.turn = turn;
    GenerationRecord record;
    if (!Answer(task, sample, turn, messages, &record, &outcome)) {
      Log(fmt::format("{} s{} t{}: {}: {}", task.name, sample, turn, outcome.status,
                      outcome.message));
      Record(outcome);
      return;  // later turns need this answer
    }
    ExtractedCode code = ExtractCode(record.text, task.entry);
    Classify(record, code, &outcome, task.entry);
    WriteTurn(task, sample, turn, prompt, record, code, outcome);
    if (turn < config_.turns) {
      fs::path py =
          config_.out_dir / "samples" / task.name / fmt::format("s{}-t{}.py", sample, turn);
      JobResult verdict;
      if (code.found) {
        verdict = config_.runner
                      ->Run({&task, CandidateImplementation(py, task), 0,
                             fmt::format("{} s{} t{}", task.name, sample, turn), 0})
                      .result;
        outcome.verdict = std::string(StatusName(verdict.status));
      }
      PromptVars refine =
          RefineVars(task, turn + 1, code.found, verdict,
                     code.found && verdict.status == Status::kOk ? Baseline(task) : nullptr);
      messages.push_back({{"role", "assistant"}, {"content", record.text}});
      if (!RenderPrompt(config_.refine.text, refine, &prompt, &err)) {
        outcome.message = "cannot render the refinement prompt: " + err;
        Record(outcome);
        return;
      }
      messages.push_back({{"role", "user"}, {"content", prompt}});
    }
    Log(fmt::format("{} s{} t{}: {}{}{}{}", task.name, sample, turn, outcome.status,
                    outcome.cached ? " (cached, no request)" : "",
                    outcome.message.empty() ? "" : ": " + outcome.message,
                    outcome.verdict.empty() ? "" : "; worker: " + outcome.verdict));
    Record(outcome);
  }
}

}  // namespace

GenerateSummary RunGeneration(const GenerateConfig& given, const std::vector<const Task*>& tasks,
                              const std::function<void(const std::string&)>& log) {
  GenerateConfig config = given;
  std::unique_ptr<Runner> own;
  if (config.runner == nullptr) {
    RunnerOptions options;
    options.jobs = std::max(1, config.jobs);
    own = std::make_unique<Runner>(config.worker, options);
    config.runner = own.get();
  }
  Session session(config, log);
  std::vector<std::pair<const Task*, int>> chains;
  for (const Task* task : tasks) {
    for (int s = 0; s < config.samples; ++s) chains.emplace_back(task, s);
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < chains.size() && !Interrupted(); i = next++) {
      session.RunChain(*chains[i].first, chains[i].second);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::max(1, config.jobs); ++j) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  GenerateSummary summary = session.TakeSummary();
  summary.interrupted = Interrupted();
  std::sort(summary.turns.begin(), summary.turns.end(),
            [](const TurnOutcome& a, const TurnOutcome& b) {
              return std::tie(a.task, a.sample, a.turn) < std::tie(b.task, b.sample, b.turn);
            });
  return summary;
}

}  // namespace tritonize

#include "store/store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cmath>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include "stats/stats.h"
#include "store/schema.h"
#include "store/statement.h"

namespace tritonize {
namespace {

// Worker output may carry bytes that are not UTF-8 (a candidate's stderr); replace them
// rather than let nlohmann throw.
std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json ParseJson(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::vector<double> SamplesFromJson(const std::string& text) {
  std::vector<double> samples;
  const nlohmann::json j = ParseJson(text);
  if (!j.is_array()) {
    return samples;
  }
  for (const auto& v : j) {
    samples.push_back(v.is_number() ? v.get<double>() : std::nan(""));
  }
  return samples;
}

std::map<std::string, int> KernelsFromJson(const std::string& text) {
  std::map<std::string, int> kernels;
  const nlohmann::json j = ParseJson(text);
  if (!j.is_object()) {
    return kernels;
  }
  for (const auto& [name, count] : j.items()) {
    if (count.is_number_integer()) {
      kernels[name] = count.get<int>();
    }
  }
  return kernels;
}

bool InsertCheck(sqlite3* db, int64_t job_id, const CheckRecord& check) {
  Statement insert(db,
                   "INSERT INTO checks (job_id, size, seed, mode, output, ok, max_abs_err,"
                   " max_rel_err, mismatches, numel, atol, rtol)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(1, job_id)
      .Bind(2, check.size)
      .Bind(3, int64_t{check.seed})
      .Bind(4, check.mode)
      .Bind(5, check.output)
      .Bind(6, int64_t{check.ok ? 1 : 0})
      .Bind(7, check.max_abs_err)
      .Bind(8, check.max_rel_err)
      .Bind(9, int64_t{check.mismatches})
      .Bind(10, int64_t{check.numel})
      .Bind(11, check.atol)
      .Bind(12, check.rtol);
  return insert.Run();
}

bool InsertTiming(sqlite3* db, int64_t job_id, const Timing& timing) {
  const Summary kernel = Summarize(timing.kernel_us);
  const Summary call = Summarize(timing.call_us);
  Statement insert(db,
                   "INSERT INTO results (job_id, size, mode, kernel_us, call_us, kernel_median,"
                   " kernel_q1, kernel_q3, kernel_min, kernel_n, call_median, call_q1, call_q3,"
                   " call_n, kernels, first_call_s, extra)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const nlohmann::json extra = {{"host_us", timing.host_us},
                                {"sampling", timing.sampling},
                                {"env_before", timing.env_before},
                                {"env_after", timing.env_after},
                                {"tuned", timing.tuned},
                                {"kernel_median_us", timing.kernel_median_us}};
  insert.Bind(1, job_id)
      .Bind(2, timing.size)
      .Bind(3, timing.mode)
      .Bind(4, DumpJson(timing.kernel_us))
      .Bind(5, DumpJson(timing.call_us))
      .Bind(6, kernel.median)
      .Bind(7, kernel.q1)
      .Bind(8, kernel.q3)
      .Bind(9, kernel.min)
      .Bind(10, static_cast<int64_t>(kernel.n))
      .Bind(11, call.median)
      .Bind(12, call.q1)
      .Bind(13, call.q3)
      .Bind(14, static_cast<int64_t>(call.n))
      .Bind(15, DumpJson(timing.kernels))
      .Bind(16, timing.first_call_s)
      .Bind(17, DumpJson(extra));
  return insert.Run();
}

bool LoadChecks(sqlite3* db, int64_t job_id, std::vector<CheckRecord>* checks) {
  Statement select(db,
                   "SELECT size, seed, mode, output, ok, max_abs_err, max_rel_err, mismatches,"
                   " numel, atol, rtol FROM checks WHERE job_id = ? ORDER BY id");
  select.Bind(1, job_id);
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    CheckRecord check;
    check.size = select.Text(0);
    check.seed = static_cast<int>(select.Int(1));
    check.mode = select.Text(2);
    check.output = select.Text(3);
    check.ok = select.Int(4) != 0;
    check.max_abs_err = select.Double(5);
    check.max_rel_err = select.Double(6);
    check.mismatches = select.Int(7);
    check.numel = select.Int(8);
    check.atol = select.Double(9);
    check.rtol = select.Double(10);
    checks->push_back(std::move(check));
  }
  return rc == SQLITE_DONE;
}

bool LoadTimings(sqlite3* db, int64_t job_id, int process, std::vector<Timing>* timings) {
  Statement select(db,
                   "SELECT size, mode, kernel_us, call_us, kernels, first_call_s, extra"
                   " FROM results WHERE job_id = ? ORDER BY id");
  select.Bind(1, job_id);
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    Timing timing;
    timing.size = select.Text(0);
    timing.mode = select.Text(1);
    timing.kernel_us = SamplesFromJson(select.Text(2));
    timing.call_us = SamplesFromJson(select.Text(3));
    timing.kernels = KernelsFromJson(select.Text(4));
    timing.first_call_s = select.Double(5);
    const nlohmann::json extra = ParseJson(select.Text(6));
    if (extra.is_object()) {
      timing.host_us = SamplesFromJson(extra.value("host_us", nlohmann::json::array()).dump());
      timing.sampling = extra.value("sampling", nlohmann::json::object());
      timing.env_before = extra.value("env_before", nlohmann::json());
      timing.env_after = extra.value("env_after", nlohmann::json());
      const auto tuned = extra.find("tuned");
      if (tuned != extra.end() && tuned->is_object()) {
        for (const auto& [name, config] : tuned->items()) {
          if (config.is_string()) timing.tuned[name] = config.get<std::string>();
        }
      }
      const auto per_kernel = extra.find("kernel_median_us");
      if (per_kernel != extra.end() && per_kernel->is_object()) {
        for (const auto& [name, us] : per_kernel->items()) {
          if (us.is_number()) timing.kernel_median_us[name] = us.get<double>();
        }
      }
    }
    timing.process = process;
    timings->push_back(std::move(timing));
  }
  return rc == SQLITE_DONE;
}

}  // namespace

std::unique_ptr<Store> Store::Open(const std::filesystem::path& path, std::string* err) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  if (ec) {
    *err = path.string() + ": cannot create its directory: " + ec.message();
    return nullptr;
  }
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  // The constructor cannot fail; from here ~Store closes the handle on every early return.
  std::unique_ptr<Store> store(new Store(path, db));
  if (rc != SQLITE_OK) {
    *err = store->Error("cannot open");
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  if (!MigrateSchema(db, path, err)) {
    return nullptr;
  }
  return store;
}

Store::~Store() { sqlite3_close_v2(db_); }

std::string Store::Error(const std::string& what) const {
  return DatabaseError(db_, path_, what);
}

bool Store::LastUnfinishedRun(int64_t* run_id, std::string* err) {
  Statement select(db_,
                   "SELECT id FROM runs WHERE status IN ('running', 'interrupted')"
                   " ORDER BY id DESC LIMIT 1");
  const int rc = select.Step();
  *run_id = 0;
  if (rc == SQLITE_ROW) {
    *run_id = select.Int(0);
    return true;
  }
  if (rc != SQLITE_DONE) {
    *err = Error("looking for an unfinished run");
    return false;
  }
  return true;
}

bool Store::NewestRun(int64_t* run_id, std::string* err) {
  Statement select(db_, "SELECT id FROM runs ORDER BY id DESC LIMIT 1");
  const int rc = select.Step();
  *run_id = rc == SQLITE_ROW ? select.Int(0) : 0;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    *err = Error("looking for the newest run");
    return false;
  }
  return true;
}

bool Store::ReopenRun(int64_t run_id, std::string* err) {
  Statement update(db_, "UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ?");
  update.Bind(1, run_id);
  if (!update.Run()) {
    *err = Error("reopening run " + std::to_string(run_id));
    return false;
  }
  if (sqlite3_changes(db_) == 0) {
    *err = path_.string() + ": no run " + std::to_string(run_id);
    return false;
  }
  return true;
}

int64_t Store::BeginRun(const std::string& command_line, const nlohmann::json& environment,
                        std::string* err) {
  Statement insert(db_,
                   "INSERT INTO runs (started_at, command_line, engine_version, status,"
                   " environment) VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?,"
                   " 'running', ?)");
  insert.Bind(1, command_line)
      .Bind(2, std::string(TRITONIZE_VERSION))
      .Bind(3, DumpJson(environment));
  if (!insert.Run()) {
    *err = Error("recording the run");
    return 0;
  }
  return sqlite3_last_insert_rowid(db_);
}

bool Store::UpdateRunEnvironment(int64_t run_id, const nlohmann::json& environment,
                                 std::string* err) {
  Statement update(db_, "UPDATE runs SET environment = ? WHERE id = ?");
  update.Bind(1, DumpJson(environment)).Bind(2, run_id);
  if (!update.Run()) {
    *err = Error("updating the environment of run " + std::to_string(run_id));
    return false;
  }
  if (sqlite3_changes(db_) == 0) {
    *err = path_.string() + ": no run " + std::to_string(run_id);
    return false;
  }
  return true;
}

bool Store::FinishRun(int64_t run_id, const std::string& status, std::string* err) {
  if (status != "finished" && status != "interrupted") {
    *err = path_.string() + ": run status must be finished or interrupted, not '" + status + "'";
    return false;
  }
  Statement update(db_,
                   "UPDATE runs SET status = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', "
                   "'now') WHERE id = ?");
  update.Bind(1, status).Bind(2, run_id);
  if (!update.Run()) {
    *err = Error("finishing run " + std::to_string(run_id));
    return false;
  }
  if (sqlite3_changes(db_) == 0) {
    *err = path_.string() + ": no run " + std::to_string(run_id);
    return false;
  }
  return true;
}

bool Store::RecordJob(int64_t run_id, const Task& task, const Implementation& impl,
                      const JobResult& result, std::string* err, int64_t replaces) {
  Transaction tx(db_);
  if (!tx.Begin()) {
    *err = Error("starting to record " + task.name + " " + impl.name);
    return false;
  }
  int64_t job_id = 0;
  if (!InsertJobRows(run_id, task, impl, result, &job_id, err)) {
    return false;
  }
  if (replaces != 0) {
    // Its checks and results go with it (ON DELETE CASCADE).
    Statement remove(db_, "DELETE FROM jobs WHERE id = ? AND run_id = ?");
    remove.Bind(1, replaces).Bind(2, run_id);
    if (!remove.Run()) {
      *err = Error(fmt::format("replacing job {} of run {} ({} {})", replaces, run_id, task.name,
                               impl.name));
      return false;
    }
    if (sqlite3_changes(db_) != 1) {
      *err = fmt::format("{}: run {} has no job {} to replace ({} {}); nothing was stored",
                         path_.string(), run_id, replaces, task.name, impl.name);
      return false;
    }
  }
  if (!tx.Commit()) {
    *err = Error("committing " + task.name + " " + impl.name);
    return false;
  }
  return true;
}

bool Store::InsertJobRows(int64_t run_id, const Task& task, const Implementation& impl,
                          const JobResult& result, int64_t* job_id, std::string* err) {
  int64_t impl_id = 0;
  if (!UpsertImplementation(impl, &impl_id, err) ||
      !InsertJob(run_id, task, impl_id, result, job_id, err)) {
    return false;
  }
  for (const CheckRecord& check : result.checks) {
    if (!InsertCheck(db_, *job_id, check)) {
      *err = Error("recording a check of " + task.name + " " + impl.name);
      return false;
    }
  }
  for (const Timing& timing : result.timings) {
    if (!InsertTiming(db_, *job_id, timing)) {
      *err = Error("recording timings of " + task.name + " " + impl.name);
      return false;
    }
  }
  return true;
}

bool Store::UpsertImplementation(const Implementation& impl, int64_t* id, std::string* err) {
  Statement insert(db_,
                   "INSERT INTO implementations (kind, name, model_id, content_hash, path,"
                   " metadata) VALUES (?, ?, ?, ?, ?, ?)"
                   " ON CONFLICT (name, content_hash) DO NOTHING");
  insert.Bind(1, std::string(ImplKindName(impl.kind)))
      .Bind(2, impl.name)
      .Bind(3, impl.model_id)
      .Bind(4, impl.content_hash)
      .Bind(5, impl.path.string())
      .Bind(6, DumpJson(impl.metadata));
  Statement select(db_, "SELECT id FROM implementations WHERE name = ? AND content_hash = ?");
  select.Bind(1, impl.name).Bind(2, impl.content_hash);
  if (!insert.Run() || select.Step() != SQLITE_ROW) {
    *err = Error("recording implementation " + impl.name);
    return false;
  }
  *id = select.Int(0);
  return true;
}

bool Store::InsertJob(int64_t run_id, const Task& task, int64_t impl_id, const JobResult& result,
                      int64_t* job_id, std::string* err) {
  Statement insert(db_,
                   "INSERT INTO jobs (run_id, task, implementation_id, status, message, detail,"
                   " phase, wall_s, environment, process, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?,"
                   " ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))");
  insert.Bind(1, run_id)
      .Bind(2, task.name)
      .Bind(3, impl_id)
      .Bind(4, std::string(StatusName(result.status)))
      .Bind(5, result.message)
      .Bind(6, result.detail)
      .Bind(7, result.phase)
      .Bind(8, result.wall_s)
      .Bind(9, DumpJson(result.environment))
      .Bind(10, static_cast<int64_t>(result.process));
  if (!insert.Run()) {
    *err = Error("recording job " + task.name + " in run " + std::to_string(run_id));
    return false;
  }
  *job_id = sqlite3_last_insert_rowid(db_);
  return true;
}

namespace {

constexpr const char* kRunColumns =
    "SELECT id, started_at, finished_at, command_line, engine_version, status, environment"
    " FROM runs";

StoredRun RunFrom(const Statement& select) {
  StoredRun run;
  run.id = select.Int(0);
  run.started_at = select.Text(1);
  run.finished_at = select.Text(2);
  run.command_line = select.Text(3);
  run.engine_version = select.Text(4);
  run.status = select.Text(5);
  run.environment = ParseJson(select.Text(6));
  return run;
}

}  // namespace

bool Store::Run(int64_t run_id, StoredRun* run, std::string* err) {
  const std::string sql = std::string(kRunColumns) + " WHERE id = ?";
  Statement select(db_, sql.c_str());
  select.Bind(1, run_id);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) {
    *err = path_.string() + ": no run " + std::to_string(run_id);
    return false;
  }
  if (rc != SQLITE_ROW) {
    *err = Error("reading run " + std::to_string(run_id));
    return false;
  }
  *run = RunFrom(select);
  return true;
}

bool Store::Runs(std::vector<StoredRun>* runs, std::string* err) {
  const std::string sql = std::string(kRunColumns) + " ORDER BY id";
  Statement select(db_, sql.c_str());
  runs->clear();
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) runs->push_back(RunFrom(select));
  if (rc != SQLITE_DONE) {
    *err = Error("reading the runs");
    return false;
  }
  return true;
}

bool Store::Jobs(int64_t run_id, std::vector<StoredJob>* jobs, std::string* err) {
  Statement select(db_,
                   "SELECT j.id, j.task, i.name, j.status, i.content_hash,"
                   " (SELECT COUNT(*) FROM results r WHERE r.job_id = j.id), j.process,"
                   " i.model_id, i.metadata"
                   " FROM jobs j JOIN implementations i ON i.id = j.implementation_id"
                   " WHERE j.run_id = ? ORDER BY j.id");
  select.Bind(1, run_id);
  jobs->clear();
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    StoredJob job;
    job.id = select.Int(0);
    job.task = select.Text(1);
    job.implementation = select.Text(2);
    const std::string status = select.Text(3);
    const std::optional<Status> parsed = ParseStatus(status);
    if (!parsed) {
      *err = path_.string() + ": job " + std::to_string(job.id) + " has unknown status '" + status +
             "'";
      return false;
    }
    job.status = *parsed;
    job.content_hash = select.Text(4);
    job.results = static_cast<int>(select.Int(5));
    job.process = static_cast<int>(select.Int(6));
    job.model_id = select.Text(7);
    job.metadata = ParseJson(select.Text(8));
    if (!job.metadata.is_object()) job.metadata = nlohmann::json::object();
    jobs->push_back(std::move(job));
  }
  if (rc != SQLITE_DONE) {
    *err = Error("reading the jobs of run " + std::to_string(run_id));
    return false;
  }
  return true;
}

bool Store::LoadJobResult(int64_t job_id, JobResult* result, std::string* err) {
  const std::string what = "reading job " + std::to_string(job_id);
  Statement job(db_,
                "SELECT status, message, detail, phase, wall_s, environment, process FROM jobs"
                " WHERE id = ?");
  job.Bind(1, job_id);
  const int rc = job.Step();
  if (rc != SQLITE_ROW) {
    *err = rc == SQLITE_DONE ? path_.string() + ": no job " + std::to_string(job_id) : Error(what);
    return false;
  }
  const std::string status = job.Text(0);
  const std::optional<Status> parsed = ParseStatus(status);
  if (!parsed) {
    *err =
        path_.string() + ": job " + std::to_string(job_id) + " has unknown status '" + status + "'";
    return false;
  }
  *result = JobResult();
  result->status = *parsed;
  result->message = job.Text(1);
  result->detail = job.Text(2);
  result->phase = job.Text(3);
  result->wall_s = job.Double(4);
  result->environment = ParseJson(job.Text(5));
  result->process = static_cast<int>(job.Int(6));
  if (!LoadChecks(db_, job_id, &result->checks) ||
      !LoadTimings(db_, job_id, result->process, &result->timings)) {
    *err = Error(what);
    return false;
  }
  return true;
}

}  // namespace tritonize

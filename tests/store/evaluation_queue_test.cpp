#include "store/evaluation_queue.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>
#include <thread>

#include "../support/test_dir.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class EvaluationQueueTest : public testing::Test {
 protected:
  void SetUp() override {
    db_ = FreshTestDir("queue") / "results.db";
    Reopen();
  }
  void Reopen() {
    queue_.reset();
    std::string err;
    queue_ = EvaluationQueue::Open(db_, &err);
    ASSERT_NE(queue_, nullptr) << err;
  }
  static NewEvaluation Item(const std::string& key, bool force = false) {
    NewEvaluation item;
    item.content_key = key;
    item.task = "softmax";
    item.code = "code of " + key;
    item.options = {{"repeat", 1}};
    item.client = "127.0.0.1";
    item.force = force;
    return item;
  }
  std::vector<AcceptedEvaluation> Submit(std::vector<NewEvaluation> batch, int64_t max = 100,
                                         bool* full_out = nullptr) {
    std::vector<AcceptedEvaluation> accepted;
    bool full = false;
    std::string err;
    EXPECT_TRUE(queue_->Submit(batch, max, &accepted, &full, &err)) << err;
    if (full_out != nullptr) *full_out = full;
    return accepted;
  }
  EvaluationRecord Claim() {
    EvaluationRecord record;
    bool found = false;
    std::string err;
    EXPECT_TRUE(queue_->Claim(&record, &found, &err)) << err;
    EXPECT_TRUE(found);
    return record;
  }
  EvaluationRecord Get(int64_t id) {
    EvaluationRecord record;
    bool found = false;
    std::string err;
    EXPECT_TRUE(queue_->Get(id, &record, &found, &err)) << err;
    EXPECT_TRUE(found) << id;
    return record;
  }
  int64_t Count(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(db_.c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    int64_t n = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }
  static JobResult OkResult() {
    JobResult result;
    result.status = Status::kOk;
    result.checks.push_back({"64x64", 0, "forward", "y", true, 0, 0, 0, 4096, 1e-6, 1e-4});
    return result;
  }
  void FinishOk(int64_t id) {
    Task task;
    task.name = "softmax";
    Implementation impl;
    impl.kind = ImplKind::kCandidate;
    impl.name = "candidate";
    impl.content_hash = "hash-" + std::to_string(id);
    std::string err;
    ASSERT_TRUE(queue_->Finish(id, task, impl, OkResult(), {{"status", "ok"}}, &err)) << err;
  }

  fs::path db_;
  std::unique_ptr<EvaluationQueue> queue_;
};

TEST_F(EvaluationQueueTest, SubmissionsQueueInOrderWithPositions) {
  const auto accepted = Submit({Item("a"), Item("b"), Item("c")});
  ASSERT_EQ(accepted.size(), 3u);
  EXPECT_EQ(accepted[0].position, 0);
  EXPECT_EQ(accepted[2].position, 2);
  EXPECT_FALSE(accepted[1].existing);
  const EvaluationRecord first = Claim();
  EXPECT_EQ(first.id, accepted[0].id);
  EXPECT_EQ(first.status, EvaluationStatus::kPreparing);
  EXPECT_EQ(first.attempts, 1);
  EXPECT_EQ(Get(accepted[2].id).position, 1);
}

TEST_F(EvaluationQueueTest, EqualSubmissionGetsTheSameEvaluationUnlessForced) {
  const auto first = Submit({Item("a")});
  const auto again = Submit({Item("a")});
  EXPECT_EQ(again[0].id, first[0].id);
  EXPECT_TRUE(again[0].existing);
  Claim();
  FinishOk(first[0].id);
  const auto done = Submit({Item("a")});
  EXPECT_EQ(done[0].id, first[0].id);
  EXPECT_EQ(done[0].status, EvaluationStatus::kDone);
  const auto forced = Submit({Item("a", /*force=*/true)});
  EXPECT_NE(forced[0].id, first[0].id);
  EXPECT_FALSE(forced[0].existing);
  // From now on the newest answers.
  EXPECT_EQ(Submit({Item("a")})[0].id, forced[0].id);
}

TEST_F(EvaluationQueueTest, FullQueueTakesNothingOfTheBatch) {
  Submit({Item("a"), Item("b")}, /*max=*/3);
  bool full = false;
  const auto accepted = Submit({Item("c"), Item("d")}, /*max=*/3, &full);
  EXPECT_TRUE(full);
  EXPECT_TRUE(accepted.empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM evaluations"), 2);
  // An equal submission is no new work: answered even when full.
  const auto existing = Submit({Item("a")}, /*max=*/2, &full);
  EXPECT_FALSE(full);
  EXPECT_TRUE(existing[0].existing);
}

TEST_F(EvaluationQueueTest, FinishStoresVerdictAndJobTogether) {
  const auto accepted = Submit({Item("a")});
  Claim();
  std::string err;
  ASSERT_TRUE(queue_->MarkTiming(accepted[0].id, &err)) << err;
  EXPECT_EQ(Get(accepted[0].id).status, EvaluationStatus::kTiming);
  FinishOk(accepted[0].id);
  const EvaluationRecord done = Get(accepted[0].id);
  EXPECT_EQ(done.status, EvaluationStatus::kDone);
  EXPECT_EQ(done.verdict["status"], "ok");
  EXPECT_GT(done.job_id, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM checks"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM runs WHERE status = 'finished'"), 1);
  // A second Finish is refused: a verdict is stored once.
  Task task;
  task.name = "softmax";
  EXPECT_FALSE(queue_->Finish(accepted[0].id, task, Implementation(), OkResult(), {}, &err));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs"), 1) << "the refused Finish left no job behind";
}

TEST_F(EvaluationQueueTest, CancelQueuedRunningAndDone) {
  const auto accepted = Submit({Item("a"), Item("b"), Item("c")});
  EvaluationQueue::CancelOutcome outcome;
  std::string err;
  const EvaluationRecord running = Claim();  // a
  ASSERT_TRUE(queue_->Cancel(accepted[1].id, &outcome, &err)) << err;
  EXPECT_EQ(outcome, EvaluationQueue::CancelOutcome::kCancelled);
  EXPECT_EQ(Get(accepted[1].id).status, EvaluationStatus::kCancelled);
  ASSERT_TRUE(queue_->Cancel(running.id, &outcome, &err));
  EXPECT_EQ(outcome, EvaluationQueue::CancelOutcome::kCancelling);
  // The lane's verdict arrives after the cancel: the cancel wins.
  FinishOk(running.id);
  EXPECT_EQ(Get(running.id).status, EvaluationStatus::kCancelled);
  EXPECT_TRUE(Get(running.id).verdict.is_null());
  EXPECT_EQ(Claim().id, accepted[2].id) << "a cancelled evaluation is never claimed";
  FinishOk(accepted[2].id);
  ASSERT_TRUE(queue_->Cancel(accepted[2].id, &outcome, &err));
  EXPECT_EQ(outcome, EvaluationQueue::CancelOutcome::kAlreadyDone);
  ASSERT_TRUE(queue_->Cancel(999, &outcome, &err));
  EXPECT_EQ(outcome, EvaluationQueue::CancelOutcome::kNotFound);
  // A cancelled submission does not answer for a new equal one.
  EXPECT_NE(Submit({Item("b")})[0].id, accepted[1].id);
}

// What a killed server left in its lanes comes back, at its place, after a restart.
TEST_F(EvaluationQueueTest, RecoverRequeuesCancelsAndGivesUp) {
  const auto accepted = Submit({Item("a"), Item("b"), Item("c"), Item("d")});
  const EvaluationRecord a = Claim();
  const EvaluationRecord b = Claim();
  EvaluationQueue::CancelOutcome outcome;
  std::string err;
  ASSERT_TRUE(queue_->Cancel(b.id, &outcome, &err));
  Reopen();  // as a restarted server would
  Recovery recovery;
  const auto verdict = [](const EvaluationRecord& r) {
    return nlohmann::json{{"status", "crashed"}, {"task", r.task}};
  };
  ASSERT_TRUE(queue_->Recover(3, verdict, &recovery, &err)) << err;
  EXPECT_EQ(recovery.requeued, 1);
  EXPECT_EQ(recovery.cancelled, 1);
  EXPECT_EQ(Get(a.id).status, EvaluationStatus::kQueued);
  EXPECT_EQ(Get(a.id).position, 0) << "back at its place, ahead of the later ones";
  EXPECT_EQ(Get(b.id).status, EvaluationStatus::kCancelled);
  // Taken three times, each time by a server that died: given up.
  for (int attempt = 2; attempt <= 3; ++attempt) {
    EXPECT_EQ(Claim().id, a.id);
    Reopen();
    ASSERT_TRUE(queue_->Recover(3, verdict, &recovery, &err)) << err;
  }
  EXPECT_EQ(recovery.given_up, 1);
  const EvaluationRecord given_up = Get(a.id);
  EXPECT_EQ(given_up.status, EvaluationStatus::kDone);
  EXPECT_EQ(given_up.attempts, 3);
  EXPECT_EQ(given_up.verdict["status"], "crashed");
  EXPECT_EQ(Claim().id, accepted[2].id);
}

TEST_F(EvaluationQueueTest, RequeueAndCounts) {
  const auto accepted = Submit({Item("a"), Item("b")});
  const EvaluationRecord a = Claim();
  QueueCounts counts;
  std::string err;
  ASSERT_TRUE(queue_->Counts(&counts, &err)) << err;
  EXPECT_EQ(counts.queued, 1);
  EXPECT_EQ(counts.running, 1);
  ASSERT_TRUE(queue_->Requeue(a.id, &err)) << err;
  EXPECT_EQ(Claim().id, a.id) << "a requeued evaluation keeps its place";
  EXPECT_EQ(Get(a.id).attempts, 2);
}

// Many threads submitting and lanes claiming at once: every evaluation is claimed exactly once.
TEST_F(EvaluationQueueTest, ConcurrentSubmitAndClaimLoseAndRepeatNothing) {
  constexpr int kClients = 8, kEach = 25;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([this, c] {
      for (int i = 0; i < kEach; ++i) {
        std::vector<AcceptedEvaluation> accepted;
        bool full = false;
        std::string err;
        ASSERT_TRUE(queue_->Submit({Item(std::to_string(c) + "-" + std::to_string(i))}, 100000,
                                   &accepted, &full, &err))
            << err;
      }
    });
  }
  std::mutex mutex;
  std::multiset<int64_t> claimed;
  std::atomic<bool> submitting{true};
  std::vector<std::thread> lanes;
  for (int l = 0; l < 3; ++l) {
    lanes.emplace_back([&] {
      for (;;) {
        EvaluationRecord record;
        bool found = false;
        std::string err;
        ASSERT_TRUE(queue_->Claim(&record, &found, &err)) << err;
        if (!found) {
          if (!submitting.load()) return;
          std::this_thread::yield();
          continue;
        }
        std::lock_guard<std::mutex> lock(mutex);
        claimed.insert(record.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  submitting.store(false);
  for (auto& t : lanes) t.join();
  // A last sweep for what was queued after a lane's final look.
  for (;;) {
    EvaluationRecord record;
    bool found = false;
    std::string err;
    ASSERT_TRUE(queue_->Claim(&record, &found, &err));
    if (!found) break;
    claimed.insert(record.id);
  }
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kClients * kEach));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), claimed.size());
}

}  // namespace
}  // namespace tritonize

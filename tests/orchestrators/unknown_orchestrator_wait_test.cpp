// UnknownOrchestratorWait: a register of an id unknown here waits for the
// other host's notice, up to its bound; past its capacity it is refused at
// once.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fleet/fleet_state.hpp"
#include "orchestrators/unknown_orchestrator_wait.hpp"

namespace moolai::host {
namespace {

using namespace std::chrono_literals;

// The answers, by id: the orchestrator's id when found, "" when not.
class Answers {
public:
    UnknownOrchestratorWait::Done for_id(std::string id) {
        return [this, id](std::shared_ptr<Orchestrator> found) {
            std::lock_guard<std::mutex> lock(m_);
            got_.emplace_back(id, found ? found->id : "");
            cv_.notify_all();
        };
    }
    std::vector<std::pair<std::string, std::string>> after(size_t n,
                                                           std::chrono::milliseconds within) {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait_for(lock, within, [&] { return got_.size() >= n; });
        return got_;
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::pair<std::string, std::string>> got_;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

// How long one wait for `id` took, with `bound`; `known_later` adds it to
// the fleet right after the push.
std::chrono::steady_clock::duration one_wait(const std::string& id, bool known_later,
                                             std::chrono::milliseconds bound, Pairs& got) {
    FleetState fleet(120000);
    Answers answers;
    UnknownOrchestratorWait wait(fleet, bound, 10);
    wait.start();
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(wait.push(id, answers.for_id(id)));
    if (known_later) fleet.add(id, "org", "");
    got = answers.after(1, 5s);
    return std::chrono::steady_clock::now() - started;
}

TEST(UnknownOrchestratorWait, AnIdThatBecomesKnownIsAnsweredWithItBeforeTheBound) {
    Pairs got;
    EXPECT_LT(one_wait("late", true, 10s, got), 5s);  // not the 10 s bound
    EXPECT_EQ(got, (Pairs{{"late", "late"}}));
}

TEST(UnknownOrchestratorWait, AnIdNeverKnownIsAnsweredEmptyAtTheBound) {
    Pairs got;
    EXPECT_GE(one_wait("nobody", false, 200ms, got), 200ms);
    EXPECT_EQ(got, (Pairs{{"nobody", ""}}));
}

TEST(UnknownOrchestratorWait, PastItsCapacityARegisterIsRefusedAtOnce) {
    FleetState fleet(120000);
    Answers answers;
    UnknownOrchestratorWait wait(fleet, 10s, 2);
    wait.start();
    ASSERT_TRUE(wait.push("a", answers.for_id("a")));
    ASSERT_TRUE(wait.push("b", answers.for_id("b")));
    EXPECT_FALSE(wait.push("c", answers.for_id("c")));  // full: the caller refuses now
    // One answered makes room again.
    fleet.add("a", "org", "");
    EXPECT_EQ(answers.after(1, 5s), (Pairs{{"a", "a"}}));
    EXPECT_TRUE(wait.push("d", answers.for_id("d")));
    fleet.add("b", "org", "");
    fleet.add("d", "org", "");
    const Pairs got = answers.after(3, 5s);
    ASSERT_EQ(got.size(), 3u);
    for (const auto& [id, found] : got) EXPECT_EQ(id, found);
}

TEST(UnknownOrchestratorWait, AStoppedWaitRefusesAndAnswersNothingMore) {
    FleetState fleet(120000);
    Answers answers;
    UnknownOrchestratorWait wait(fleet, 10s, 10);
    EXPECT_FALSE(wait.push("early", answers.for_id("early")));  // not started
    wait.start();
    ASSERT_TRUE(wait.push("open", answers.for_id("open")));
    wait.stop();
    EXPECT_FALSE(wait.push("late", answers.for_id("late")));
    fleet.add("open", "org", "");
    EXPECT_TRUE(answers.after(1, 100ms).empty());  // dropped: its connection is closing
}

}  // namespace
}  // namespace moolai::host

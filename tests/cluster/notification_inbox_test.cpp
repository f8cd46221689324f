// NotificationInbox on its own thread: notifications applied in arrival
// order; past its bound the newest are dropped and the loss is reported
// once, after everything that waited was applied.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/notification_inbox.hpp"

namespace moolai::host {
namespace {

using namespace std::chrono_literals;

// What the inbox thread did, in order ("lost" for a reported loss); a
// payload "hold" keeps the thread in Apply until release().
class Recorder {
public:
    NotificationInbox::Apply apply() {
        return [this](const std::string& payload) {
            std::unique_lock<std::mutex> lock(m_);
            seen_.push_back(payload);
            cv_.notify_all();
            if (payload == "hold") cv_.wait(lock, [this] { return released_; });
        };
    }
    NotificationInbox::Lost lost() {
        return [this] {
            std::lock_guard<std::mutex> lock(m_);
            seen_.push_back("lost");
            cv_.notify_all();
        };
    }
    void release() {
        std::lock_guard<std::mutex> lock(m_);
        released_ = true;
        cv_.notify_all();
    }
    // Waits (5 s at most) until `n` things happened; what happened.
    std::vector<std::string> after(size_t n) {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait_for(lock, 5s, [&] { return seen_.size() >= n; });
        return seen_;
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::string> seen_;
    bool released_ = false;
};

TEST(NotificationInbox, AppliesInArrivalOrder) {
    Recorder r;
    NotificationInbox inbox(100, r.apply(), r.lost());
    inbox.start();
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(inbox.push(std::to_string(i)));
    const std::vector<std::string> seen = r.after(50);
    ASSERT_EQ(seen.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], std::to_string(i));
}

TEST(NotificationInbox, PastItsBoundItDropsAndReportsTheLossOnceAfterWhatWaited) {
    Recorder r;
    NotificationInbox inbox(2, r.apply(), r.lost());
    inbox.start();
    ASSERT_TRUE(inbox.push("hold"));
    ASSERT_EQ(r.after(1), std::vector<std::string>{"hold"});  // the thread is busy with it
    EXPECT_TRUE(inbox.push("a"));
    EXPECT_TRUE(inbox.push("b"));
    EXPECT_FALSE(inbox.push("dropped 1"));  // two wait: full
    EXPECT_FALSE(inbox.push("dropped 2"));
    r.release();
    EXPECT_EQ(r.after(4), (std::vector<std::string>{"hold", "a", "b", "lost"}));
    // Room again: applied, and no second report for the same overrun.
    EXPECT_TRUE(inbox.push("c"));
    EXPECT_EQ(r.after(5), (std::vector<std::string>{"hold", "a", "b", "lost", "c"}));
    inbox.stop();  // joined: nothing more happens
    EXPECT_EQ(r.after(0).size(), 5u);
}

TEST(NotificationInbox, AStoppedInboxRefusesAndDropsWhatWaited) {
    Recorder r;
    NotificationInbox inbox(10, r.apply(), r.lost());
    EXPECT_FALSE(inbox.push("before start"));
    inbox.start();
    ASSERT_TRUE(inbox.push("hold"));
    ASSERT_EQ(r.after(1).size(), 1u);
    ASSERT_TRUE(inbox.push("waiting"));
    r.release();
    inbox.stop();
    EXPECT_FALSE(inbox.push("after stop"));
    const std::vector<std::string> seen = r.after(0);  // joined: all that happened
    EXPECT_EQ(seen.front(), "hold");
    EXPECT_LE(seen.size(), 2u);  // "waiting" only if the thread took it before stop
    EXPECT_EQ(std::count(seen.begin(), seen.end(), "lost"), 0);
}

}  // namespace
}  // namespace moolai::host

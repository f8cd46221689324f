// WorkQueue: the queue behind the REST workers, the event bus and message
// delivery. What each policy does when full, what stop() finishes and what
// it hands back, and that a refused item stays with its caller.
#include "common/work_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace moolai::host {
namespace {

using Q = WorkQueue<std::string>;

// Holds every handler until released, so the queue's contents are known.
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    int entered = 0;
    std::vector<std::string> handled;

    void pass(std::string& item) {
        std::unique_lock<std::mutex> lk(m);
        ++entered;
        cv.notify_all();
        cv.wait(lk, [this] { return open; });
        handled.push_back(item);
    }
    bool wait_entered(int n) {
        std::unique_lock<std::mutex> lk(m);
        return cv.wait_for(lk, std::chrono::seconds(5), [&] { return entered >= n; });
    }
    void release() {
        std::lock_guard<std::mutex> lk(m);
        open = true;
        cv.notify_all();
    }
};

TEST(WorkQueue, HandlesItemsInOrderOnOneThread) {
    Gate gate;
    gate.open = true;
    Q q(100, Q::WhenFull::refuse);
    q.start(1, [&](std::string& s) { gate.pass(s); });
    for (int i = 0; i < 50; ++i) EXPECT_EQ(q.push(std::to_string(i)), Q::Pushed::queued);
    EXPECT_TRUE(q.stop(Q::AtStop::finish).empty());
    ASSERT_EQ(gate.handled.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(gate.handled[i], std::to_string(i));
}

TEST(WorkQueue, RefuseKeepsTheQueueAndLeavesTheItemWithTheCaller) {
    Gate gate;
    Q q(2, Q::WhenFull::refuse);
    q.start(1, [&](std::string& s) { gate.pass(s); });
    ASSERT_EQ(q.push("held"), Q::Pushed::queued);
    ASSERT_TRUE(gate.wait_entered(1));  // "held" is in the handler, the queue is empty
    EXPECT_EQ(q.push("a"), Q::Pushed::queued);
    EXPECT_EQ(q.push("b"), Q::Pushed::queued);
    std::string refused = "c";
    EXPECT_EQ(q.push(std::move(refused)), Q::Pushed::refused);
    EXPECT_EQ(refused, "c");  // not moved from: the caller still answers it
    gate.release();
    EXPECT_TRUE(q.stop(Q::AtStop::finish).empty());
    EXPECT_EQ(gate.handled, (std::vector<std::string>{"held", "a", "b"}));
}

TEST(WorkQueue, DropOldestMakesRoomForTheNewest) {
    Gate gate;
    Q q(2, Q::WhenFull::drop_oldest);
    q.start(1, [&](std::string& s) { gate.pass(s); });
    ASSERT_EQ(q.push("held"), Q::Pushed::queued);
    ASSERT_TRUE(gate.wait_entered(1));
    EXPECT_EQ(q.push("a"), Q::Pushed::queued);
    EXPECT_EQ(q.push("b"), Q::Pushed::queued);
    EXPECT_EQ(q.push("c"), Q::Pushed::queued_dropping_oldest);  // "a" goes
    gate.release();
    EXPECT_TRUE(q.stop(Q::AtStop::finish).empty());
    EXPECT_EQ(gate.handled, (std::vector<std::string>{"held", "b", "c"}));
}

TEST(WorkQueue, StopHandsBackWhatWaitsAndRefusesWhatComesAfter) {
    Gate gate;
    Q q(10, Q::WhenFull::refuse);
    q.start(1, [&](std::string& s) { gate.pass(s); });
    ASSERT_EQ(q.push("held"), Q::Pushed::queued);
    ASSERT_TRUE(gate.wait_entered(1));
    q.push("x");
    q.push("y");
    std::thread releaser([&] {  // lets "held" finish once stop() has begun
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!q.stopping() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
        gate.release();
    });
    const auto left = q.stop(Q::AtStop::hand_back);  // waits for "held" only
    releaser.join();
    EXPECT_EQ(std::vector<std::string>(left.begin(), left.end()),
              (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(gate.handled, (std::vector<std::string>{"held"}));
    EXPECT_EQ(q.push("late"), Q::Pushed::refused);
    EXPECT_TRUE(q.stop(Q::AtStop::finish).empty());  // again: nothing to do
}

TEST(WorkQueue, ItemsPushedBeforeStartWaitForIt) {
    std::atomic<int> handled{0};
    Q q(10, Q::WhenFull::refuse);
    q.push("early");
    q.start(2, [&](std::string&) { ++handled; });
    q.push("later");
    q.stop(Q::AtStop::finish);
    EXPECT_EQ(handled.load(), 2);
}

TEST(WorkQueue, SeveralThreadsShareTheWork) {
    std::atomic<int> handled{0};
    Q q(100000, Q::WhenFull::refuse);
    q.start(4, [&](std::string&) { ++handled; });
    for (int i = 0; i < 10000; ++i) q.push("x");
    q.stop(Q::AtStop::finish);
    EXPECT_EQ(handled.load(), 10000);
}

}  // namespace
}  // namespace moolai::host

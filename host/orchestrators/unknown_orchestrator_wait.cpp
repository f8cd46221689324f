#include "orchestrators/unknown_orchestrator_wait.hpp"

#include "fleet/fleet_state.hpp"

namespace moolai::host {

void UnknownOrchestratorWait::start() {
    std::lock_guard<std::mutex> lock(m_);
    if (running_) return;
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void UnknownOrchestratorWait::stop() {
    {
        std::lock_guard<std::mutex> lock(m_);
        if (!running_) return;
        running_ = false;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    waiting_.clear();
}

bool UnknownOrchestratorWait::push(std::string orchestrator_id, Done done) {
    {
        std::lock_guard<std::mutex> lock(m_);
        if (!running_ || waiting_.size() >= capacity_) return false;
        waiting_.push_back(Waiting{std::move(orchestrator_id),
                                   std::chrono::steady_clock::now() + bound_, std::move(done)});
    }
    cv_.notify_one();
    return true;
}

void UnknownOrchestratorWait::run() {
    constexpr auto kCheckEvery = std::chrono::milliseconds(20);
    std::unique_lock<std::mutex> lock(m_);
    while (running_) {
        if (waiting_.empty()) {
            cv_.wait(lock, [this] { return !running_ || !waiting_.empty(); });
            continue;
        }
        cv_.wait_for(lock, kCheckEvery, [this] { return !running_; });
        if (!running_) break;
        // Answered ones leave the list first; their Done runs unlocked (it
        // posts to a connection, which may take the server's locks).
        std::vector<std::pair<Done, std::shared_ptr<Orchestrator>>> answers;
        const auto now = std::chrono::steady_clock::now();
        for (size_t i = 0; i < waiting_.size();) {
            std::shared_ptr<Orchestrator> o = fleet_.find(waiting_[i].orchestrator_id);
            if (o || now >= waiting_[i].until) {
                answers.emplace_back(std::move(waiting_[i].done), std::move(o));
                waiting_[i] = std::move(waiting_.back());
                waiting_.pop_back();
            } else {
                ++i;
            }
        }
        lock.unlock();
        for (auto& [done, found] : answers) {
            try {
                done(std::move(found));
            } catch (const std::exception&) {
                // Done posts to a connection; nothing here to recover.
            }
        }
        lock.lock();
    }
}

}  // namespace moolai::host

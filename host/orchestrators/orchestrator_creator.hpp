// OrchestratorCreator: in open mode (MOOLAI_ORCHESTRATOR_AUTH=open) a
// register from an unknown orchestrator creates it -- and its organization
// -- in storage. Those writes run here, on one thread of a bounded queue,
// never on a WebSocket io thread: with storage down each would block the io
// thread for the plugin's retries, and every connection it serves with it.
// One thread also serializes two registers of the same new id.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/work_queue.hpp"
#include "plugins/plugin_call.hpp"

namespace moolai::host {

class FleetState;
class StorageClient;
struct Orchestrator;

class OrchestratorCreator {
public:
    // On the creator's thread: the orchestrator (now stored and in the
    // fleet), or nullptr and what storage said.
    using Done = std::function<void(std::shared_ptr<Orchestrator> created, const CallResult& r)>;

    struct Request {
        std::string orchestrator_id;
        std::string organization_id;
        Done done;
    };

    OrchestratorCreator(const StorageClient& storage, FleetState& fleet, size_t capacity)
        : storage_(storage), fleet_(fleet), queue_(capacity, Queue::WhenFull::refuse) {}

    void start();
    // Finishes the request in hand; the rest are dropped (their connections
    // are closing: the server stops first).
    void stop();
    // Any thread, never blocks. False = full or stopping: not taken.
    bool push(Request&& request);

private:
    using Queue = WorkQueue<Request>;
    void create(Request& request);

    const StorageClient& storage_;
    FleetState& fleet_;
    Queue queue_;
};

}  // namespace moolai::host

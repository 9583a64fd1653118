#pragma once
// AsyncTry is one try of an asynchronous operator while it runs: the callback that ends it (called
// exactly once, whichever of the remote answer, cancel() and the execution timeout comes first),
// the try's log, and whether it was cut short. Callbacks in flight hold it by a shared_ptr, so it
// outlives the operator object; once the try has ended they find it ended and do nothing.

#include <mutex>
#include <string>
#include <string_view>

#include "operators/operator.h"

namespace mayaflow {

struct AsyncTry {
    virtual ~AsyncTry() = default;

    std::mutex mutex;
    const TaskRun* run = nullptr;  // until the try has ended
    Operator::Done done;
    bool cancelled = false;
    bool timed_out = false;
    bool detached = false;
    Duration timeout{};  // the execution timeout, once it is armed

    // A line in the try's log (nothing once the try has ended).
    void log(std::string_view line);
    bool ended();
    // Ends the try with `result` (its message masked), unless it has ended already.
    void finish(OperatorResult result);
    void fail(std::string message);
    // The result of a try cut short by cancel(), detach() or the execution timeout.
    OperatorResult stopped_result();
    bool stopping();
    // Marks the try cancelled; false when it was already.
    bool cancel();
    // Marks the try let go (Operator::detach()); false when it has ended, was cancelled or let go.
    bool detach();
    // The execution timeout has passed: marks the try timed out; false when it has ended already.
    bool time_out();

  protected:
    // Called under the lock as the try ends: lets go of what holds this try in turn (a job, a poker).
    virtual void release() {}
    // Called under the lock with the ending result, before `done`.
    virtual void on_finish(OperatorResult&) {}
};

}  // namespace mayaflow

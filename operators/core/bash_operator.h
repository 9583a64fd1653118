#pragma once
// The bash operator runs a shell command, as Airflow's BashOperator does: exit code 0 is success (the
// last line of output is the task's result), a code in skip_on_exit_code is skipped, any other is failed.
// See docs/operators.md.

#include <filesystem>

#include "engine/model/operator_spec.h"
#include "operators/operator.h"
#include "operators/shell_process.h"

namespace mayaflow {

OperatorSpec bash_operator_spec();

struct BashOptions {
    // On timeout and cancel: how long the task's processes get after SIGTERM before SIGKILL.
    Duration kill_grace = kDefaultKillGrace;
    // Where the temporary working folders of tasks without `cwd` are made; empty: the system's (TMPDIR).
    std::filesystem::path temp_root;
};

class BashOperator : public Operator {
  public:
    explicit BashOperator(BashOptions options = {});

    OperatorResult execute(const TaskRun& run) override;
    OperatorResult resume(const TaskRun& run, const StartedProcess& recorded) override;
    void cancel() override;

  private:
    BashOptions options_;
    CancelFlag cancel_;
};

// The name prefix of the temporary working folders: a folder of this name in the temp root is removed
// when the try that made it ends, also after a restart.
inline constexpr std::string_view kBashTempDirPrefix = "mayaflow-bash-";

}  // namespace mayaflow

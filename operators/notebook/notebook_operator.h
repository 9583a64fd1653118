#pragma once
// The notebook operator runs a Jupyter notebook, as Airflow's PapermillOperator does, with Debian's
// `jupyter nbconvert`: the task's parameters are injected as papermill injects them
// (papermill_parameters.h), the cells run until one fails or times out, and the executed copy is kept
// (by default beside the try's log) and named in the task's result. See docs/operators.md.

#include <filesystem>

#include "engine/model/operator_spec.h"
#include "operators/notebook/nbconvert_run.h"
#include "operators/operator.h"
#include "operators/shell_process.h"

namespace mayaflow {

OperatorSpec notebook_operator_spec();

// Where a try's executed notebook goes: `output_nb` as rendered (relative: from the folder of the
// DAG file `dag_file`), or beside the try's log (attempt=<n>.ipynb) when it is empty.
Result<std::filesystem::path> executed_notebook_path(const std::string& output_nb, const std::string& dag_file,
                                                     const std::filesystem::path& log_file);

struct NotebookOptions {
    // On timeout and cancel: how long nbconvert and its kernel get after SIGTERM before SIGKILL.
    Duration kill_grace = kDefaultKillGrace;
    std::filesystem::path jupyter{std::string(notebook::kJupyterProgram)};
};

class NotebookOperator : public Operator {
  public:
    explicit NotebookOperator(NotebookOptions options = {});

    OperatorResult execute(const TaskRun& run) override;
    OperatorResult resume(const TaskRun& run, const StartedProcess& recorded) override;
    void cancel() override;

  private:
    NotebookOptions options_;
    CancelFlag cancel_;
};

}  // namespace mayaflow

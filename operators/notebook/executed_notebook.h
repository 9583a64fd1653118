#pragma once
// What an executed notebook says about how its run went: the cell that failed or timed out, with its
// source and traceback, read from the copy that nbconvert (with mayaflow's preprocessor, see
// nbconvert_command.h) wrote. The notebook operator turns it into the try's message and log.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mayaflow::notebook {

// The cell a run stopped at.
struct CellFailure {
    std::size_t cell_number = 0;         // 1-based, counting every cell of the executed notebook
    std::optional<int> execution_count;  // the "In [n]" the traceback's "Cell In [n]" refers to
    std::string source;
    std::string error;      // "ZeroDivisionError: division by zero", or how the run stopped (a dead kernel)
    std::string traceback;  // the error output's traceback, ANSI colour codes removed; may be empty
    bool timed_out = false;
};

// `text` without ANSI escape sequences (the colours of IPython's tracebacks).
std::string strip_ansi(std::string_view text);

// The failure mayaflow's preprocessor recorded in metadata.mayaflow, else the first cell with an error
// output; nullopt when the notebook ran through.
std::optional<CellFailure> find_failure(const nlohmann::json& executed);

// One line for the try's message: "cell 4 failed: ZeroDivisionError: division by zero", "cell 2 timed
// out after 10s (cell_timeout)".
std::string failure_message(const CellFailure& failure, std::string_view cell_timeout_text);

// The lines for the try's log: the message, the cell's source and its traceback.
std::string failure_report(const CellFailure& failure, std::string_view cell_timeout_text);

}  // namespace mayaflow::notebook

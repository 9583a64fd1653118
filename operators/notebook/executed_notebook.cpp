#include "operators/notebook/executed_notebook.h"

#include <fmt/format.h>

#include "operators/notebook/papermill_parameters.h"

namespace mayaflow::notebook {

namespace {

// The first error output of a cell, if it has one.
const nlohmann::json* error_output(const nlohmann::json& cell) {
    const auto outputs = cell.find("outputs");
    if (outputs == cell.end() || !outputs->is_array()) return nullptr;
    for (const auto& output : *outputs) {
        if (output.is_object() && output.value("output_type", "") == "error") return &output;
    }
    return nullptr;
}

std::string text_of(const nlohmann::json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_null()) return {};
    return value.dump();
}

// The failure of cell `index`, with what its error output says.
CellFailure failure_of(const nlohmann::json& cells, std::size_t index) {
    const nlohmann::json& cell = cells[index];
    CellFailure failure{.cell_number = index + 1, .source = cell_source(cell)};
    const auto count = cell.find("execution_count");
    if (count != cell.end() && count->is_number_integer()) failure.execution_count = count->get<int>();
    if (const nlohmann::json* output = error_output(cell)) {
        const std::string name = text_of(output->value("ename", nlohmann::json()));
        const std::string value = text_of(output->value("evalue", nlohmann::json()));
        failure.error = strip_ansi(value.empty() ? name : name + ": " + value);
        const auto traceback = output->find("traceback");
        if (traceback != output->end() && traceback->is_array()) {
            for (const auto& line : *traceback) {
                std::string text = strip_ansi(text_of(line));
                failure.traceback += text;
                if (!text.ends_with('\n')) failure.traceback += '\n';
            }
        }
    }
    return failure;
}

// The first line of `text`.
std::string first_line(std::string_view text) {
    return std::string(text.substr(0, text.find('\n')));
}

}  // namespace

std::string strip_ansi(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t at = 0; at < text.size();) {
        if (text[at] != '\x1b') {
            out += text[at++];
            continue;
        }
        ++at;
        if (at < text.size() && text[at] == '[') {
            // CSI: parameters and intermediates, then one final byte in @..~.
            ++at;
            while (at < text.size() && !(text[at] >= '@' && text[at] <= '~')) ++at;
            if (at < text.size()) ++at;
        } else if (at < text.size() && text[at] == ']') {
            // OSC: up to BEL or ESC backslash.
            while (at < text.size() && text[at] != '\x07' && !(text[at] == '\x1b' && at + 1 < text.size() && text[at + 1] == '\\')) ++at;
            at += at < text.size() && text[at] == '\x07' ? 1 : 2;
        } else if (at < text.size()) {
            ++at;  // a two-byte escape
        }
    }
    return out;
}

std::optional<CellFailure> find_failure(const nlohmann::json& executed) {
    const auto cells = executed.find("cells");
    if (cells == executed.end() || !cells->is_array()) return std::nullopt;
    const nlohmann::json recorded = executed.contains("metadata") && executed["metadata"].is_object()
                                        ? executed["metadata"].value("mayaflow", nlohmann::json())
                                        : nlohmann::json();
    const nlohmann::json index = recorded.is_object() ? recorded.value("failed_cell", nlohmann::json()) : nlohmann::json();
    if (index.is_number_integer() && index.get<std::int64_t>() >= 0 &&
        index.get<std::uint64_t>() < cells->size()) {
        CellFailure failure = failure_of(*cells, index.get<std::size_t>());
        failure.timed_out = recorded.value("timed_out", false);
        if (failure.error.empty()) failure.error = first_line(strip_ansi(text_of(recorded.value("error", nlohmann::json()))));
        return failure;
    }
    for (std::size_t i = 0; i < cells->size(); ++i) {
        if (error_output((*cells)[i])) return failure_of(*cells, i);
    }
    return std::nullopt;
}

std::string failure_message(const CellFailure& failure, std::string_view cell_timeout_text) {
    if (failure.timed_out) {
        return fmt::format("cell {} timed out after {} (cell_timeout)", failure.cell_number, cell_timeout_text);
    }
    return fmt::format("cell {} failed: {}", failure.cell_number,
                       failure.error.empty() ? std::string("(no error was recorded)") : first_line(failure.error));
}

std::string failure_report(const CellFailure& failure, std::string_view cell_timeout_text) {
    std::string report = failure_message(failure, cell_timeout_text);
    if (failure.execution_count) report += fmt::format(" (In [{}])", *failure.execution_count);
    report += "\n----- source of cell " + std::to_string(failure.cell_number) + " -----\n" + failure.source;
    if (!report.ends_with('\n')) report += '\n';
    if (!failure.traceback.empty()) report += "----- traceback -----\n" + failure.traceback;
    else if (!failure.error.empty() && !failure.timed_out) report += "----- error -----\n" + failure.error + "\n";
    report += "-----";
    return report;
}

}  // namespace mayaflow::notebook

#pragma once
// DagBudget counts what one DAG file asks the loader to make — tasks, dependencies, the text its
// tasks hold — against the limits in load_limits.h. The first request over a limit gets an error
// saying which limit; every request after it is refused too, so the builder stops at once. Tasks
// are counted before they are built: count_tasks() multiplies the for_each lists written in the file
// through their groups, so a file of a few kilobytes asking for a million tasks costs milliseconds.

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/dagfile/field_reader.h"

namespace mayaflow {

class DagBudget {
  public:
    explicit DagBudget(FieldReader& reader) : reader_(reader) {}

    // The number of tasks `tasks` makes, from the sizes of the for_each lists written in the file (a
    // list read from an included file counts as one item until it is read), without building
    // anything. Stops counting, and answers more than kMaxTasksPerDag, once the count passes it.
    static size_t count_tasks(const YAML::Node& tasks);

    // True when `more` tasks still fit in the DAG; otherwise an error at `node` saying that `what`
    // would bring the DAG over the limit.
    bool room_for_tasks(size_t more, const YAML::Node& node, const std::string& field, std::string_view what);
    // Counts one task as made (room_for_tasks counted it in advance, except for lists read from
    // included files, which are counted here).
    bool add_task(const YAML::Node& node, const std::string& field);
    bool add_dependencies(size_t count, const YAML::Node& node, const std::string& field);
    // Counts the text a task holds: its parameters and for_each values.
    bool add_text(const nlohmann::json& value, SourceLocation where, const std::string& field);

    // True once a request was refused.
    bool exhausted() const { return exhausted_; }

  private:
    FieldReader& reader_;
    size_t tasks_ = 0;
    size_t dependencies_ = 0;
    size_t text_bytes_ = 0;
    bool exhausted_ = false;
};

size_t saturating_multiply(size_t a, size_t b);
size_t saturating_add(size_t a, size_t b);

}  // namespace mayaflow

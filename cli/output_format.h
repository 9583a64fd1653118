#pragma once
// How every list-like command prints what it lists: Airflow's `-o table|json|yaml|plain`, from one
// formatter, so that `dags list`, `pools list`, `connections list`… print the same way.
//
//   table  a header, a rule and aligned columns (Airflow's default): "No data found" when empty
//   json   an array of objects, keys in column order, indented by 2 ("[]" when empty)
//   yaml   a list of mappings, as PyYAML's yaml.dump writes it (keys sorted; "[]" when empty)
//   plain  one line per row, cells separated by tabs, no header (nothing when empty)
//
// In table and plain a cell is one line: a tab, newline or carriage return in a value is written
// as \t, \n, \r, so a row is always one line and plain output splits on tabs. Bytes that are not
// UTF-8 are written as \xNN in every format.

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/connections/python_json.h"

namespace mayaflow::cli {

enum class OutputFormat { table, json, yaml, plain };

std::optional<OutputFormat> parse_output_format(std::string_view text);  // case-insensitive

// Rows of values under Airflow's column names. Values are JSON scalars (a string, a number, a
// bool, null) or, in json and yaml, any JSON; table and plain show None, True and False for null and
// the bools, as Airflow's console does.
struct Listing {
    std::vector<std::string> columns;
    std::vector<std::vector<pyjson::Json>> rows;

    void add(std::vector<pyjson::Json> row) { rows.push_back(std::move(row)); }
};

// The listing as text in `format`, each line ending in a newline.
std::string render_listing(const Listing& listing, OutputFormat format);

// Objects with the same keys (the first one's keys are the columns) as a Listing.
Listing listing_of_records(const std::vector<pyjson::Json>& records);

// A value as one table or plain cell.
std::string cell_text(const pyjson::Json& value);

// The number of characters a terminal shows for `text` (UTF-8 code points).
std::size_t display_width(std::string_view text);

// `-o, --output` on a command (default: the value `format` has when the option is added).
CLI::Option* add_output_option(CLI::App& command, OutputFormat& format);

// Writes render_listing to standard output.
void print_listing(const Listing& listing, OutputFormat format);

}  // namespace mayaflow::cli

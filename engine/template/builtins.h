#pragma once
// The built-in filters (`x | upper`), tests (`x is defined`) and global functions (`range(3)`) of
// templates: Jinja's own, plus Airflow's date filters (ds, ts ...). The parser looks filters and
// tests up by name once; the renderer calls them through these function pointers.

#include <optional>
#include <string_view>

#include "engine/template/value.h"

namespace mayaflow::tmpl {

class Renderer;

using FilterFn = Value (*)(Renderer& renderer, const Value& input, const CallArgs& args);
using TestFn = bool (*)(Renderer& renderer, const Value& input, const CallArgs& args);

FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
// range, dict, namespace, cycler, joiner, lipsum: made fresh for each render (they may hold state).
std::optional<Value> find_global(std::string_view name);

// Each file of filters adds its own to the table.
struct BuiltinTable;
void add_filter(BuiltinTable& table, std::string_view name, FilterFn fn);
void add_test(BuiltinTable& table, std::string_view name, TestFn fn);
void add_text_filters(BuiltinTable& table);
void add_value_filters(BuiltinTable& table);
void add_sequence_filters(BuiltinTable& table);
void add_date_filters(BuiltinTable& table);
void add_is_tests(BuiltinTable& table);

}  // namespace mayaflow::tmpl

#pragma once
// How many YAML documents a text holds, counted with yaml-cpp's event parser alone (no nodes built).
// The DAG loader asks before it builds nodes, because yaml-cpp 0.7's LoadAll never ends on some
// malformed texts: "%x\n ,\n" (a directive line, then an indented ',') makes empty document after
// empty document, each taking a little more memory, until the daemon runs out (found by fuzzing).

#include <cstddef>
#include <string_view>

namespace mayaflow {

// Documents counted in one file before it is refused: one is a DAG, more is an error, and this many
// means the parser would never stop.
inline constexpr std::size_t kMaxYamlDocuments = 1000;

struct YamlDocumentCount {
    std::size_t documents = 0;  // counted up to the limit
    bool endless = false;       // the limit was reached: the parser would go on
    int second_line = 0;        // where the second document starts (1-based; 0 when none)
    int second_column = 0;
};

// Whether the text has a line that starts with '%', '---' or '...': only such a line can begin another
// document (or a directive). Without one the text is one document or none, and need not be counted.
bool may_hold_several_documents(std::string_view text);

// Throws what yaml-cpp throws on a syntax error (YAML::Exception), as YAML::Load would.
YamlDocumentCount count_yaml_documents(std::string_view text, std::size_t limit);

}  // namespace mayaflow

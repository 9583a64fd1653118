#include "engine/dagfile/yaml_documents.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <optional>
#include <sstream>
#include <string>

namespace mayaflow {
namespace {

// Notes where the second document starts: its first node, or its start when it has none (as the
// node LoadAll gave would say). Every other event is dropped.
class SecondDocument : public YAML::EventHandler {
  public:
    void OnDocumentStart(const YAML::Mark& mark) override {
        if (++started == 2) start = mark;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
        node(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        node(mark);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
        node(mark);
    }
    void OnMapEnd() override {}

    std::size_t started = 0;
    YAML::Mark start = YAML::Mark::null_mark();
    std::optional<YAML::Mark> first_node;

  private:
    void node(const YAML::Mark& mark) {
        if (started == 2 && !first_node) first_node = mark;
    }
};

}  // namespace

bool may_hold_several_documents(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a byte order mark
    while (!text.empty()) {
        if (text.starts_with('%') || text.starts_with("---") || text.starts_with("...")) return true;
        const std::size_t newline = text.find('\n');
        if (newline == std::string_view::npos) break;
        text.remove_prefix(newline + 1);
    }
    return false;
}

YamlDocumentCount count_yaml_documents(std::string_view text, std::size_t limit) {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    SecondDocument second;
    YamlDocumentCount count;
    while (parser.HandleNextDocument(second)) {
        if (++count.documents >= limit) {
            count.endless = true;
            break;
        }
    }
    if (count.documents >= 2) {
        const YAML::Mark mark = second.first_node.value_or(second.start);
        count.second_line = mark.line >= 0 ? mark.line + 1 : 0;
        count.second_column = mark.column >= 0 ? mark.column + 1 : 0;
    }
    return count;
}

}  // namespace mayaflow

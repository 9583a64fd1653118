#include "engine/dagfile/yaml_documents.h"

#include <yaml-cpp/exceptions.h>

#include <catch2/catch.hpp>

#include "engine/dagfile/dag_loader.h"

namespace mayaflow {

TEST_CASE("count_yaml_documents: one, several, none, and a text yaml-cpp never ends") {
    CHECK(count_yaml_documents("a: 1\n", 10).documents == 1);
    CHECK(count_yaml_documents("", 10).documents == 0);
    const YamlDocumentCount three = count_yaml_documents("a: 1\n---\nb: 2\n---\nc: 3\n", 10);
    CHECK(three.documents == 3);
    CHECK_FALSE(three.endless);
    CHECK(three.second_line == 3);  // the second document's first node, as LoadAll's node said
    // yaml-cpp 0.7's LoadAll makes empty documents from this forever (found by fuzz_run_dag_yaml).
    const YamlDocumentCount endless = count_yaml_documents("%x\n ,\n", 50);
    CHECK(endless.endless);
    CHECK(endless.documents == 50);
    CHECK_THROWS_AS(count_yaml_documents("a: [1, 2\n", 10), YAML::Exception);
}

TEST_CASE("may_hold_several_documents: only lines that start with %, --- or ... can begin one") {
    CHECK_FALSE(may_hold_several_documents("dag_id: a\ntasks: []\n"));
    CHECK_FALSE(may_hold_several_documents("a: |\n  --- inside a block\n  %x\n"));
    CHECK_FALSE(may_hold_several_documents(""));
    CHECK(may_hold_several_documents("%YAML 1.2\n---\na: 1\n"));
    CHECK(may_hold_several_documents("a: 1\n---\nb: 2"));
    CHECK(may_hold_several_documents("a: 1\n..."));
    CHECK(may_hold_several_documents("\xEF\xBB\xBF%x\n ,\n"));
    CHECK(may_hold_several_documents("%x\n ,\n"));
}

TEST_CASE("a DAG file that yaml-cpp would read forever fails at once with a syntax error") {
    for (const char* text : {"%x\n ,\n", "tasks:\n  - task_id: \"t\"\n    operator:pmtey \n%# expect: x\n# c\n     ,B)\n"}) {
        const auto loaded = load_dag_text(text, "dags/endless.yaml", DagLoadOptions{});
        REQUIRE_FALSE(loaded.errors.empty());
        CHECK_THAT(loaded.errors.front().message, Catch::Contains("never an end"));
    }
}

}  // namespace mayaflow

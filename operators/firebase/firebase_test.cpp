#include <catch2/catch.hpp>

#include "engine/connections/connection.h"
#include "engine/dagfile/dag_loader.h"
#include "operators/operator_registry.h"
#include "operators/firebase/firebase_database.h"
#include "operators/firebase/firebase_export_data.h"
#include "operators/firebase/firebase_export_writer.h"
#include "operators/firebase/firebase_keys.h"

using namespace mayaflow;
using namespace mayaflow::firebase;
using nlohmann::json;

TEST_CASE("Firebase keys: the refused characters, control characters, UTF-8 and 768 bytes", "[firebase]") {
    CHECK_FALSE(key_problem("user_1"));
    CHECK_FALSE(key_problem("ユーザー"));
    CHECK_FALSE(key_problem("a b-c_d~e%f"));
    for (const char* bad : {".", "a.b", "$x", "#1", "[0]", "a]", "a/b", ""}) CHECK(key_problem(bad));
    CHECK(*key_problem("a.b") == "contains '.'");
    CHECK(key_problem(std::string("a\x01", 2)));
    CHECK(key_problem(std::string("a\x7f", 2)));
    CHECK(key_problem(std::string("a\0b", 3)));
    CHECK(*key_problem("\xff") == "is not valid UTF-8 (byte 1)");
    CHECK_FALSE(key_problem(std::string(768, 'a')));
    CHECK(key_problem(std::string(769, 'a')));
    std::string e_acute;
    for (int i = 0; i < 384; ++i) e_acute += "é";
    CHECK_FALSE(key_problem(e_acute));
    CHECK(key_problem(e_acute + "é"));
    std::string emoji;
    for (int i = 0; i < 192; ++i) emoji += "😀";
    CHECK_FALSE(key_problem(emoji));
    CHECK(key_problem(emoji + "a"));
}

TEST_CASE("Firebase keys: sanitizing percent-encodes refused bytes and '%', cuts long keys with a hash",
          "[firebase]") {
    CHECK(*sanitize_key("ok") == "ok");
    CHECK(*sanitize_key("50%") == "50%");  // valid keys stay as they are
    CHECK(*sanitize_key("a.b") == "a%2Eb");
    CHECK(*sanitize_key("a.b%") == "a%2Eb%25");
    CHECK(*sanitize_key("user#1/[x]$") == "user%231%2F%5Bx%5D%24");
    CHECK(*sanitize_key(std::string("\x01tab\t", 5)) == "%01tab%09");
    CHECK(*sanitize_key("caf\xc3\xa9.\xff") == "café%2E%FF");
    CHECK_FALSE(sanitize_key(""));
    for (const std::string& key : {std::string(2000, '.'), std::string(769, 'x'), std::string(400, 'a') + "日本語" +
                                                                                      std::string(400, '.')}) {
        auto sanitized = sanitize_key(key);
        REQUIRE(sanitized);
        CHECK_FALSE(key_problem(*sanitized));
        CHECK(sanitized->size() <= kMaxKeyBytes);
        CHECK(sanitized->find('~') != std::string::npos);
    }
    CHECK(*sanitize_key(std::string(800, '.')) != *sanitize_key(std::string(801, '.')));
    // Every sanitized key is one Firebase takes.
    for (int c = 0; c < 256; ++c) {
        const std::string key = "k" + std::string(1, static_cast<char>(c));
        auto sanitized = sanitize_key(key);
        REQUIRE(sanitized);
        CHECK_FALSE(key_problem(*sanitized));
    }
}

TEST_CASE("Firebase values: BigQuery types converted with the schema", "[firebase]") {
    const json fields = json::parse(R"([
        {"name":"id","type":"STRING"}, {"name":"n","type":"INTEGER"}, {"name":"big","type":"INTEGER"},
        {"name":"f","type":"FLOAT"}, {"name":"nan","type":"FLOAT"}, {"name":"amount","type":"NUMERIC"},
        {"name":"at","type":"TIMESTAMP"}, {"name":"day","type":"DATE"}, {"name":"ok","type":"BOOLEAN"},
        {"name":"tags","type":"STRING","mode":"REPEATED"}, {"name":"doc","type":"JSON"},
        {"name":"rec","type":"RECORD","fields":[{"name":"when","type":"TIMESTAMP"},{"name":"x","type":"BIGNUMERIC"}]}
    ])");
    // As decode_bigquery_rows gives them.
    const json row = json::parse(R"({"id":"u1","n":9007199254740992,"big":"9007199254740993","f":1.5,"nan":"NaN",
        "amount":"12.50","at":"1704103200123456","day":"2024-01-01","ok":true,"tags":["a","b"],
        "doc":"{\"k\":[1,2]}","rec":{"when":"-1","x":"1e3"}})");
    auto converted = convert_bigquery_row(fields, row, ValueOptions{}, "row 1");
    REQUIRE(converted);
    CHECK((*converted)["n"] == 9007199254740992LL);
    CHECK((*converted)["big"] == "9007199254740993");
    CHECK((*converted)["nan"] == "NaN");
    CHECK((*converted)["amount"] == "12.50");
    CHECK((*converted)["at"] == "2024-01-01T10:00:00.123456Z");
    CHECK((*converted)["day"] == "2024-01-01");
    CHECK((*converted)["doc"] == json::parse(R"({"k":[1,2]})"));
    CHECK((*converted)["rec"]["when"] == "1969-12-31T23:59:59.999999Z");
    CHECK((*converted)["rec"]["x"] == "1e3");

    ValueOptions numbers{.non_finite = ValueOptions::NonFinite::drop, .numeric_as_number = true};
    auto as_numbers = convert_bigquery_row(fields, row, numbers, "row 1");
    REQUIRE(as_numbers);
    CHECK((*as_numbers)["amount"] == 12.5);
    CHECK((*as_numbers)["nan"].is_null());
    CHECK((*as_numbers)["rec"]["x"] == 1000.0);

    auto refused = convert_bigquery_row(fields, row, ValueOptions{.non_finite = ValueOptions::NonFinite::fail}, "row 1");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("row 1.nan is NaN") != std::string::npos);

    CHECK(iso_timestamp_from_micros(0) == "1970-01-01T00:00:00Z");
    CHECK(iso_timestamp_from_micros(1709164800000000LL) == "2024-02-29T00:00:00Z");
    CHECK(iso_timestamp_from_micros(253402300799999999LL) == "9999-12-31T23:59:59.999999Z");
    CHECK(iso_timestamp_from_micros(-62135596800000000LL) == "0001-01-01T00:00:00Z");
}

TEST_CASE("Firebase export tree: rows keyed by a column, nulls and empties dropped", "[firebase]") {
    const json rows = json::parse(R"([
        {"user_id":"u1","milk":3,"note":null,"tags":[],"extra":{"a":null}},
        {"user_id":42,"milk":1},
        {"user_id":"only_nulls","milk":null}
    ])");
    auto tree = build_export_tree(rows, ExportOptions{.key_column = "user_id", .path_depth = 2});
    REQUIRE(tree);
    CHECK(tree->tree == json::parse(R"({"u1":{"milk":3},"42":{"milk":1}})"));
    CHECK(tree->rows_read == 3);
    CHECK(tree->rows_empty == 1);
}

TEST_CASE("Firebase export tree: invalid keys fail, are sanitized with a mapping, or are skipped", "[firebase]") {
    const json rows = json::parse(R"([
        {"user_id":"good","v":1}, {"user_id":"a.b","v":2}, {"user_id":"c#d","v":3}, {"user_id":null,"v":4},
        {"user_id":"x","v":{"bad/key":1,"ok":2}}
    ])");
    auto failed = build_export_tree(rows, ExportOptions{.key_column = "user_id", .invalid_keys = InvalidKeys::fail});
    REQUIRE_FALSE(failed);
    CHECK(failed.error().message.find("row 2: the key 'a.b' (user_id) contains '.'") != std::string::npos);

    auto skipped = build_export_tree(rows, ExportOptions{.key_column = "user_id", .invalid_keys = InvalidKeys::skip});
    REQUIRE(skipped);
    CHECK(skipped->tree == json::parse(R"({"good":{"v":1},"x":{"v":{"ok":2}}})"));
    CHECK(skipped->rows_skipped == 3);

    auto unsanitizable =
        build_export_tree(rows, ExportOptions{.key_column = "user_id", .invalid_keys = InvalidKeys::sanitize});
    REQUIRE_FALSE(unsanitizable);
    CHECK(unsanitizable.error().message.find("row 4: the key column 'user_id' is NULL, which cannot be sanitized") !=
          std::string::npos);

    json without_null = rows;
    without_null.erase(3);
    auto sanitized =
        build_export_tree(without_null, ExportOptions{.key_column = "user_id", .invalid_keys = InvalidKeys::sanitize});
    REQUIRE(sanitized);
    CHECK(sanitized->tree ==
          json::parse(R"({"good":{"v":1},"a%2Eb":{"v":2},"c%23d":{"v":3},"x":{"v":{"bad%2Fkey":1,"ok":2}}})"));
    CHECK(sanitized->keys_sanitized == 2);
    REQUIRE(sanitized->notes.size() == 3);
    CHECK(sanitized->notes[0] == "sanitized key of row 2: 'a.b' → 'a%2Eb'");
}

TEST_CASE("Firebase export tree: duplicates and collisions after sanitizing fail", "[firebase]") {
    auto duplicate = build_export_tree(json::parse(R"([{"k":"a","v":1},{"k":"a","v":2}])"), ExportOptions{.key_column = "k"});
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().message.find("rows 1 and 2 have the same key 'a'") != std::string::npos);

    auto collision = build_export_tree(json::parse(R"([{"k":"a%2Eb","v":1},{"k":"a.b","v":2}])"),
                                       ExportOptions{.key_column = "k", .invalid_keys = InvalidKeys::sanitize});
    REQUIRE_FALSE(collision);
    CHECK(collision.error().message.find("rows 1 and 2 have the keys 'a%2Eb' and 'a.b', which are both 'a%2Eb'") !=
          std::string::npos);

    auto nested = build_export_tree(json::parse(R"([{"k":"r","v":{"a.b":1,"a%2Eb":2}}])"),
                                    ExportOptions{.key_column = "k", .invalid_keys = InvalidKeys::sanitize});
    REQUIRE_FALSE(nested);

    auto missing = build_export_tree(json::parse(R"([{"id":"a"}])"), ExportOptions{.key_column = "k"});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("row 1 has no column 'k'") != std::string::npos);
}

TEST_CASE("Firebase export tree: depth counts the path, the key and every level below", "[firebase]") {
    json deep = 1;
    for (int i = 0; i < 29; ++i) deep = json{{"d", deep}};
    // path 2 keys + row key + 29 levels = 32.
    CHECK(build_export_tree(json::array({{{"k", "r"}, {"v", deep["d"]}}}), ExportOptions{.key_column = "k", .path_depth = 2}));
    auto too_deep = build_export_tree(json::array({{{"k", "r"}, {"v", deep}}}), ExportOptions{.key_column = "k", .path_depth = 2});
    REQUIRE_FALSE(too_deep);
    CHECK(too_deep.error().message.find("deeper than Firebase's 32 levels") != std::string::npos);
    CHECK_FALSE(build_export_tree(json::array(), ExportOptions{.key_column = "k", .path_depth = 32}));

    // Firebase drops NULLs and empty objects, so they do not count: 29 levels of objects ending in a
    // NULL (or in empty lists and objects) store nothing at the 33rd level.
    json nulls = json{{"z", nullptr}};
    for (int i = 0; i < 28; ++i) nulls = json{{"a", nulls}, {"b", i}};
    auto with_nulls = build_export_tree(json::array({{{"k", "r"}, {"v", nulls}}}),
                                        ExportOptions{.key_column = "k", .path_depth = 2});
    REQUIRE(with_nulls);
    CHECK(with_nulls->tree["r"]["v"]["a"]["b"] == 26);
    json empties = json::array({json::array(), json::object()});
    for (int i = 0; i < 30; ++i) empties = json{{"a", empties}, {"b", i}};
    CHECK(build_export_tree(json::array({{{"k", "r"}, {"v", empties}}}), ExportOptions{.key_column = "k"}));

    // Nesting without end is refused before the recursion gets deep, whatever it holds.
    json endless = nullptr;
    for (int i = 0; i < 5000; ++i) endless = json::array({endless});
    auto refused = build_export_tree(json::array({{{"k", "r"}, {"v", endless}}}), ExportOptions{.key_column = "k"});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("nests more than 1000 levels") != std::string::npos);
}

TEST_CASE("Firebase export tree: a key column that gives no key is named with its value", "[firebase]") {
    auto float_key = build_export_tree(json::parse(R"([{"id":1.5,"v":1}])"), ExportOptions{.key_column = "id"});
    REQUIRE_FALSE(float_key);
    CHECK(float_key.error().message ==
          "row 1: the key column 'id' is 1.5, not text or a whole number; Firebase refuses it as a key "
          "(invalid_keys: sanitize or skip)");
    auto bad_key = build_export_tree(json::parse(R"([{"id":"a/b","v":1}])"), ExportOptions{.key_column = "id"});
    REQUIRE_FALSE(bad_key);
    CHECK(bad_key.error().message.find("row 1: the key 'a/b' (id) contains '/'") == 0);
}

TEST_CASE("Firebase chunks: rows and bytes bound each chunk, merged they are the whole tree", "[firebase]") {
    json tree = json::object();
    for (int i = 0; i < 10; ++i) tree[fmt::format("k{}", i)] = {{"v", i}};
    auto chunks = split_into_chunks(tree, 3, 1 << 20);
    REQUIRE(chunks.size() == 4);
    CHECK(json::parse(chunks[3]) == json::parse(R"({"k9":{"v":9}})"));
    CHECK(json::parse(merge_chunks(chunks)) == tree);
    auto small = split_into_chunks(tree, 100, 30);
    for (const auto& chunk : small) CHECK(chunk.size() <= 30);
    CHECK(json::parse(merge_chunks(small)) == tree);
    CHECK(split_into_chunks(json::object(), 3, 100).empty());
    CHECK(staging_key("20240101", 2) == "20240101__staging_2");
}

TEST_CASE("Firebase connections: database URL, secret, Google credentials, emulator", "[firebase]") {
    Connection secret{.conn_id = "fb", .conn_type = "firebase", .host = "mydb.firebaseio.com", .password = "s3cret"};
    auto target = read_firebase_target(secret, "", {});
    REQUIRE(target);
    CHECK(target->base_url == "https://mydb.firebaseio.com");
    CHECK(target->auth == FirebaseTarget::Auth::secret);
    CHECK(target->describe().find("s3cret") == std::string::npos);

    auto emulated = read_firebase_target(secret, "", {{"FIREBASE_DATABASE_EMULATOR_HOST", "127.0.0.1:9000"}});
    REQUIRE(emulated);
    CHECK(emulated->base_url == "http://127.0.0.1:9000");
    CHECK(emulated->ns == "mydb");

    Connection google{.conn_id = "g", .conn_type = "google_cloud_platform", .extra = R"({"access_token":"t"})"};
    auto owner = read_firebase_target(google, "https://other-db.europe-west1.firebasedatabase.app",
                                      {{"FIREBASE_DATABASE_EMULATOR_HOST", "localhost:9000"}});
    REQUIRE(owner);
    CHECK(owner->auth == FirebaseTarget::Auth::owner);
    CHECK(owner->ns == "other-db");

    auto oauth = read_firebase_target(google, "http://127.0.0.1:5000?ns=test-db", {});
    REQUIRE(oauth);
    CHECK(oauth->auth == FirebaseTarget::Auth::google);
    CHECK(oauth->base_url == "http://127.0.0.1:5000");
    CHECK(oauth->ns == "test-db");
    REQUIRE(oauth->gcp);
    CHECK(oauth->gcp->scopes == std::vector<std::string>{std::string(kUserinfoEmailScope),
                                                         std::string(kFirebaseDatabaseScope)});

    CHECK_FALSE(read_firebase_target(google, "", {}));  // no database URL
    CHECK_FALSE(read_firebase_target(Connection{.conn_id = "x", .conn_type = "http"}, "https://a.firebaseio.com", {}));

    CHECK(*split_database_path("/reports/20240101/") == std::vector<std::string>{"reports", "20240101"});
    CHECK(*split_database_path("reports/20240101") == std::vector<std::string>{"reports", "20240101"});
    CHECK(split_database_path("/").value().empty());
    CHECK(split_database_path("").value().empty());
    // An empty key inside is a template that rendered to nothing: it would write to the parent.
    for (const char* path : {"/reports//20240101", "/reports//", "///", "/reports///", "/a//b/"}) {
        INFO(path);
        auto segments = split_database_path(path);
        REQUIRE_FALSE(segments);
        CHECK_THAT(segments.error().message, Catch::Matchers::Contains("empty key"));
    }
    CHECK_FALSE(split_database_path("/reports/a.b"));
}

TEST_CASE("firebase_export takes its rows from exactly one of sql, rows_from and rows when the DAG loads", "[firebase]") {
    const std::string yaml = R"(dag_id: f
schedule: null
tasks:
  - task_id: none
    operator: firebase_export
    key_column: id
    path: /a
  - task_id: two
    operator: firebase_export
    key_column: id
    path: /a
    sql: SELECT 1 AS id
    rows: [{id: a}]
  - task_id: one
    operator: firebase_export
    key_column: id
    path: /a
    rows_from: two
  - task_id: root
    operator: firebase_export
    key_column: id
    path: /
    rows: [{id: a}]
)";
    auto result = load_dag_text(yaml, "/tmp/f.yaml", DagLoadOptions{&builtin_operators(), "/tmp"});
    REQUIRE(result.errors.size() == 3);
    CHECK(result.errors[0].where.line == 4);
    CHECK(result.errors[0].message == "firebase_export task 'none' needs one of 'sql', 'rows_from', 'rows'");
    CHECK(result.errors[1].where.line == 8);
    CHECK(result.errors[1].message ==
          "firebase_export task 'two' sets 'sql' and 'rows': it takes exactly one of 'sql', 'rows_from', 'rows'");
    CHECK_THAT(result.errors[2].message, Catch::Matchers::Contains("is the database's root"));
}

// /users, /roles, /mayaflow/session and /mayaflow/tokens, signed in for real.

#include <catch2/catch.hpp>

#include "tests/web/api_fixture.h"
#include "tests/web/auth_fixture.h"

namespace mayaflow {
namespace {

using testing::AuthFixture;
using testing::basic_header;
using testing::check_problem;

const std::string kAlice =
    R"({"username": "alice", "password": "alice-pw", "email": "alice@example.com", "first_name": "Alice",
        "last_name": "Liddell", "roles": [{"name": "op"}]})";

void check_no_secrets(const std::string& body) {
    CHECK(body.find("password") == std::string::npos);
    CHECK(body.find("pbkdf2") == std::string::npos);
}

TEST_CASE("POST /users creates a user; its answers never hold the password or its hash", "[web][auth][users]") {
    AuthFixture fixture;
    auto created = fixture.admin("POST", "/api/v1/users", kAlice);
    REQUIRE(created.status == 200);
    check_no_secrets(created.body);
    auto user = AuthFixture::json(created);
    CHECK(user["username"] == "alice");
    CHECK(user["roles"] == nlohmann::json::parse(R"([{"name": "Op"}])"));
    CHECK(user["active"] == true);
    CHECK(user["last_login"].is_null());
    CHECK(user["created_on"].get<std::string>().ends_with("+00:00"));

    auto fetched = fixture.admin("GET", "/api/v1/users/ALICE");
    CHECK(fetched.status == 200);
    check_no_secrets(fetched.body);
    auto listed = fixture.admin("GET", "/api/v1/users");
    check_no_secrets(listed.body);
    CHECK(AuthFixture::json(listed)["total_entries"] == 2);

    // The new user signs in with its password, as an Op.
    auto as_alice = fixture.call("GET", "/api/v1/mayaflow/session", "", {{"authorization", basic_header("alice", "alice-pw")}});
    CHECK(AuthFixture::json(as_alice)["roles"] == nlohmann::json::parse(R"(["Op"])"));
    // Without roles a user is a Viewer.
    auto viewer = fixture.admin("POST", "/api/v1/users",
                                R"({"username": "v", "password": "p", "email": "v@x", "first_name": "", "last_name": ""})");
    CHECK(AuthFixture::json(viewer)["roles"] == nlohmann::json::parse(R"([{"name": "Viewer"}])"));
}

TEST_CASE("POST /users refuses bad bodies, clashes and what HTTP Basic could not carry", "[web][auth][users]") {
    AuthFixture fixture;
    REQUIRE(fixture.admin("POST", "/api/v1/users", kAlice).status == 200);
    auto clash = fixture.admin("POST", "/api/v1/users", R"({"username": "ALICE", "password": "x", "email": "other@x",
        "first_name": "", "last_name": ""})");
    check_problem(clash, 409, "Conflict");
    check_problem(fixture.admin("POST", "/api/v1/users", R"({"username": "bob", "password": "x",
        "email": "alice@example.com", "first_name": "", "last_name": ""})"), 409, "Conflict");

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"{", "not valid JSON"},
        {"[]", "JSON object"},
        {R"({"username": "b"})", "needs 'password'"},
        {R"({"username": "b", "password": "x", "email": "e", "first_name": "", "last_name": "", "active": false})",
         "unknown field"},
        {R"({"username": 5, "password": "x", "email": "e", "first_name": "", "last_name": ""})", "must be a string"},
        {R"({"username": "b", "password": "", "email": "e", "first_name": "", "last_name": ""})", "cannot be empty"},
        {R"({"username": "b:c", "password": "x", "email": "e", "first_name": "", "last_name": ""})", "':'"},
        {R"({"username": "", "password": "x", "email": "e", "first_name": "", "last_name": ""})", "cannot be empty"},
        {R"({"username": "b", "password": "x", "email": "e", "first_name": "", "last_name": "", "roles": [{"name": "root"}]})",
         "unknown role"},
        {R"({"username": "b", "password": "x", "email": "e", "first_name": "", "last_name": "", "roles": "Admin"})",
         "list of objects"},
        {R"({"username": "b", "password": "x", "email": "e", "first_name": "", "last_name": "", "roles": [{"name": 1}]})",
         "string 'name'"},
        {R"({"username": null, "password": "x", "email": "e", "first_name": "", "last_name": ""})", "not null"},
    };
    for (const auto& [body, words] : bad) {
        INFO(body);
        auto response = fixture.admin("POST", "/api/v1/users", body);
        check_problem(response, 400, "Bad Request");
        CHECK(response.body.find(words) != std::string::npos);
    }
}

TEST_CASE("/users/{username} with SQL metacharacters and wildcards names only itself", "[web][auth][users]") {
    AuthFixture fixture;
    auto created = fixture.admin("POST", "/api/v1/users", R"({"username": "' OR 1=1 --", "password": "x",
        "email": "q@x", "first_name": "", "last_name": ""})");
    REQUIRE(created.status == 200);
    CHECK(fixture.admin("GET", "/api/v1/users/%27%20OR%201%3D1%20--").status == 200);
    check_problem(fixture.admin("GET", "/api/v1/users/%25"), 404, "Not Found");
    check_problem(fixture.admin("GET", "/api/v1/users/_"), 404, "Not Found");
    check_problem(fixture.admin("GET", "/api/v1/users/adm%25"), 404, "Not Found");
    check_problem(fixture.admin("DELETE", "/api/v1/users/%25"), 404, "Not Found");
    CHECK(AuthFixture::json(fixture.admin("GET", "/api/v1/users"))["total_entries"] == 2);
    check_problem(fixture.admin("GET", "/api/v1/users/%FF"), 400, "Bad Request");
}

TEST_CASE("GET /users pages and orders; a bad limit or order_by is a 400", "[web][auth][users]") {
    AuthFixture fixture;
    fixture.add_user("carol", "x", {"Viewer"});
    fixture.add_user("bob", "x", {"Viewer"});
    auto names = [&](const std::string& query) {
        std::vector<std::string> out;
        const auto answer = AuthFixture::json(fixture.admin("GET", "/api/v1/users" + query));
        for (const auto& user : answer["users"]) out.push_back(user["username"].get<std::string>());
        return out;
    };
    CHECK(names("") == std::vector<std::string>{"admin", "carol", "bob"});
    CHECK(names("?order_by=username") == std::vector<std::string>{"admin", "bob", "carol"});
    CHECK(names("?order_by=-username&limit=2") == std::vector<std::string>{"carol", "bob"});
    CHECK(names("?offset=2") == std::vector<std::string>{"bob"});
    check_problem(fixture.admin("GET", "/api/v1/users?order_by=password_hash"), 400, "Bad Request");
    check_problem(fixture.admin("GET", "/api/v1/users?limit=-1"), 400, "Bad Request");
    check_problem(fixture.admin("GET", "/api/v1/users?order_by=%27%20OR%201%3D1%20--"), 400, "Bad Request");
}

TEST_CASE("PATCH /users/{username} changes the masked fields; a new password works at once", "[web][auth][users]") {
    AuthFixture fixture;
    REQUIRE(fixture.admin("POST", "/api/v1/users", kAlice).status == 200);
    auto patched = fixture.admin("PATCH", "/api/v1/users/alice?update_mask=email",
                                 R"({"email": "new@example.com", "first_name": "ignored"})");
    REQUIRE(patched.status == 200);
    CHECK(AuthFixture::json(patched)["email"] == "new@example.com");
    CHECK(AuthFixture::json(patched)["first_name"] == "Alice");

    const std::map<std::string, std::string> old_password = {{"authorization", basic_header("alice", "alice-pw")}};
    CHECK(fixture.call("GET", "/api/v1/mayaflow/session", "", old_password).status == 200);
    REQUIRE(fixture.admin("PATCH", "/api/v1/users/alice", R"({"password": "changed", "roles": [{"name": "User"}]})").status == 200);
    CHECK(fixture.call("GET", "/api/v1/mayaflow/session", "", old_password).status == 401);
    auto as_new = fixture.call("GET", "/api/v1/mayaflow/session", "", {{"authorization", basic_header("alice", "changed")}});
    CHECK(AuthFixture::json(as_new)["roles"] == nlohmann::json::parse(R"(["User"])"));

    check_problem(fixture.admin("PATCH", "/api/v1/users/alice?update_mask=password_hash", R"({"email": "x"})"), 400,
                  "Bad Request");
    check_problem(fixture.admin("PATCH", "/api/v1/users/alice?update_mask=last_name", R"({"email": "x"})"), 400,
                  "Bad Request");
    check_problem(fixture.admin("PATCH", "/api/v1/users/alice", R"({"active": "no"})"), 400, "Bad Request");
    check_problem(fixture.admin("PATCH", "/api/v1/users/alice", R"({"active": null})"), 400, "Bad Request");
    check_problem(fixture.admin("PATCH", "/api/v1/users/alice", R"({"email": 3})"), 400, "Bad Request");
    check_problem(fixture.admin("PATCH", "/api/v1/users/alice", "not json"), 400, "Bad Request");
    check_problem(fixture.admin("PATCH", "/api/v1/users/nobody", R"({"email": "x"})"), 404, "Not Found");
    check_problem(fixture.admin("PATCH", "/api/v1/users/alice", R"({"username": "Admin"})"), 409, "Conflict");
    // The last Admin keeps the role, and stays active.
    auto demoted = fixture.admin("PATCH", "/api/v1/users/admin", R"({"roles": [{"name": "Viewer"}]})");
    check_problem(demoted, 409, "Conflict");
    CHECK(demoted.body.find("last active Admin") != std::string::npos);
    check_problem(fixture.admin("PATCH", "/api/v1/users/admin", R"({"active": false})"), 409, "Conflict");
}

TEST_CASE("PATCH /users/{username} with active false locks the user out at once; true lets them back", "[web][auth][users]") {
    AuthFixture fixture;
    REQUIRE(fixture.admin("POST", "/api/v1/users", kAlice).status == 200);
    const std::map<std::string, std::string> alice = {{"authorization", basic_header("alice", "alice-pw")}};
    REQUIRE(fixture.call("GET", "/api/v1/mayaflow/session", "", alice).status == 200);
    auto off = fixture.admin("PATCH", "/api/v1/users/alice?update_mask=active", R"({"active": false})");
    REQUIRE(off.status == 200);
    CHECK(AuthFixture::json(off)["active"] == false);
    CHECK(fixture.call("GET", "/api/v1/mayaflow/session", "", alice).status == 401);
    REQUIRE(fixture.admin("PATCH", "/api/v1/users/alice", R"({"active": true})").status == 200);
    CHECK(fixture.call("GET", "/api/v1/mayaflow/session", "", alice).status == 200);

    // A second Admin may deactivate the first; the last active one may not be.
    REQUIRE(fixture.admin("PATCH", "/api/v1/users/alice", R"({"roles": [{"name": "Admin"}]})").status == 200);
    REQUIRE(fixture.admin("PATCH", "/api/v1/users/alice", R"({"active": false})").status == 200);
    check_problem(fixture.admin("PATCH", "/api/v1/users/admin", R"({"active": false})"), 409, "Conflict");
}

TEST_CASE("DELETE /users/{username} removes the user and its tokens, but never the last Admin", "[web][auth][users]") {
    AuthFixture fixture;
    REQUIRE(fixture.admin("POST", "/api/v1/users", kAlice).status == 200);
    auto token = AuthFixture::json(fixture.call("POST", "/api/v1/mayaflow/tokens", "{}",
                                                {{"authorization", basic_header("alice", "alice-pw")}}))["token"];
    const std::map<std::string, std::string> bearer = {{"authorization", "Bearer " + token.get<std::string>()}};
    CHECK(fixture.call("GET", "/api/v1/mayaflow/session", "", bearer).status == 200);
    CHECK(fixture.admin("DELETE", "/api/v1/users/Alice").status == 204);
    CHECK(fixture.call("GET", "/api/v1/mayaflow/session", "", bearer).status == 401);
    check_problem(fixture.admin("DELETE", "/api/v1/users/alice"), 404, "Not Found");
    check_problem(fixture.admin("DELETE", "/api/v1/users/admin"), 409, "Conflict");
}

TEST_CASE("/users is the Admin's; other roles get 403 and nobody 401", "[web][auth][users]") {
    AuthFixture fixture;
    fixture.add_user("op", "op-pw", {"Op"});
    const std::map<std::string, std::string> op = {{"authorization", basic_header("op", "op-pw")}};
    check_problem(fixture.call("GET", "/api/v1/users", "", op), 403, "Forbidden");
    check_problem(fixture.call("POST", "/api/v1/users", kAlice, op), 403, "Forbidden");
    check_problem(fixture.call("GET", "/api/v1/roles", "", op), 403, "Forbidden");
    auto nobody = fixture.call("GET", "/api/v1/users");
    check_problem(nobody, 401, "Unauthorized");
    CHECK(nobody.headers.contains("WWW-Authenticate"));
}

TEST_CASE("/roles lists the four fixed roles with the permissions of access.cpp's table", "[web][auth][users]") {
    AuthFixture fixture;
    auto roles = AuthFixture::json(fixture.admin("GET", "/api/v1/roles"));
    CHECK(roles["total_entries"] == 4);
    std::vector<std::string> names;
    for (const auto& role : roles["roles"]) names.push_back(role["name"].get<std::string>());
    CHECK(names == std::vector<std::string>{"Admin", "Op", "User", "Viewer"});
    auto has = [](const nlohmann::json& role, const std::string& action, const std::string& resource) {
        for (const auto& item : role["actions"]) {
            if (item["action"]["name"] == action && item["resource"]["name"] == resource) return true;
        }
        return false;
    };
    auto viewer = AuthFixture::json(fixture.admin("GET", "/api/v1/roles/VIEWER"));
    CHECK(viewer["name"] == "Viewer");
    CHECK(has(viewer, "can_read", "DAGs"));
    CHECK_FALSE(has(viewer, "can_create", "DAG Runs"));
    CHECK_FALSE(has(viewer, "can_read", "Users"));
    auto admin = AuthFixture::json(fixture.admin("GET", "/api/v1/roles/admin"));
    CHECK(has(admin, "can_create", "Users"));
    CHECK(has(admin, "can_read", "DAGs"));
    CHECK(admin["actions"].size() == permissions_of(Role::admin).size());
    CHECK(AuthFixture::json(fixture.admin("GET", "/api/v1/roles?order_by=-name&limit=1"))["roles"][0]["name"] == "Viewer");
    check_problem(fixture.admin("GET", "/api/v1/roles/root"), 404, "Not Found");
    check_problem(fixture.admin("GET", "/api/v1/roles?order_by=actions"), 400, "Bad Request");
    CHECK(fixture.admin("POST", "/api/v1/roles", R"({"name": "x"})").status == 405);
    CHECK(fixture.admin("DELETE", "/api/v1/roles/Op").status == 405);
}

TEST_CASE("/mayaflow/session: sign in with a cookie, who am I, CSRF, sign out", "[web][auth][session]") {
    AuthFixture fixture;
    fixture.add_user("alice", "pw", {"User"});
    auto login = fixture.call("POST", "/api/v1/mayaflow/session", R"({"username": "alice", "password": "pw"})");
    REQUIRE(login.status == 200);
    auto body = AuthFixture::json(login);
    CHECK(body["username"] == "alice");
    CHECK(body["roles"] == nlohmann::json::parse(R"(["User"])"));
    const std::string csrf = body["csrf_token"];
    const std::string set_cookie = login.headers["Set-Cookie"];
    CHECK(set_cookie.find("HttpOnly; SameSite=Strict") != std::string::npos);
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));

    auto me = AuthFixture::json(fixture.call("GET", "/api/v1/mayaflow/session", "", {{"cookie", cookie}}));
    CHECK(me["username"] == "alice");
    CHECK(me["auth_method"] == "session");
    CHECK(me["csrf_token"] == csrf);
    CHECK(AuthFixture::json(fixture.admin("GET", "/api/v1/mayaflow/session"))["csrf_token"].is_null());

    check_problem(fixture.call("DELETE", "/api/v1/mayaflow/session", "", {{"cookie", cookie}}), 403, "Forbidden");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/tokens", "{}", {{"cookie", cookie}, {"x-csrf-token", "nope"}}),
                  403, "Forbidden");
    CHECK(fixture.call("POST", "/api/v1/mayaflow/tokens", "{}", {{"cookie", cookie}, {"x-csrf-token", csrf}}).status == 201);
    auto out = fixture.call("DELETE", "/api/v1/mayaflow/session", "", {{"cookie", cookie}, {"x-csrf-token", csrf}});
    CHECK(out.status == 204);
    CHECK(out.headers["Set-Cookie"].find("Max-Age=0") != std::string::npos);
    check_problem(fixture.call("GET", "/api/v1/mayaflow/session", "", {{"cookie", cookie}}), 401, "Unauthorized");

    auto wrong = fixture.call("POST", "/api/v1/mayaflow/session", R"({"username": "alice", "password": "no"})");
    check_problem(wrong, 401, "Unauthorized");
    CHECK_FALSE(wrong.headers.contains("WWW-Authenticate"));
    CHECK_FALSE(wrong.headers.contains("Set-Cookie"));
    check_problem(fixture.call("POST", "/api/v1/mayaflow/session", R"({"username": "alice"})"), 400, "Bad Request");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/session", R"({"username": "alice", "password": 1})"), 400,
                  "Bad Request");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/session", R"({"username": "a", "password": "b", "otp": 1})"), 400,
                  "Bad Request");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/session", "{"), 400, "Bad Request");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/session"), 401, "Unauthorized");
}

TEST_CASE("/mayaflow/tokens: made once with its value, listed without it, revoked at once", "[web][auth][tokens]") {
    AuthFixture fixture;
    fixture.add_user("alice", "pw", {"Viewer"});
    fixture.add_user("bob", "pw", {"Viewer"});
    const std::map<std::string, std::string> alice = {{"authorization", basic_header("alice", "pw")}};
    const std::map<std::string, std::string> bob = {{"authorization", basic_header("bob", "pw")}};

    auto made = fixture.call("POST", "/api/v1/mayaflow/tokens", R"({"name": "ci", "expires_in": "30d"})", alice);
    REQUIRE(made.status == 201);
    auto token = AuthFixture::json(made);
    const std::string value = token["token"];
    CHECK(value.starts_with("mf_"));
    CHECK(token["prefix"] == value.substr(0, 8));
    CHECK(token["name"] == "ci");
    CHECK(token["expires_at"].is_string());
    const long long id = token["token_id"];

    auto listed = fixture.call("GET", "/api/v1/mayaflow/tokens", "", alice);
    CHECK(listed.body.find(value) == std::string::npos);
    CHECK(AuthFixture::json(listed)["total_entries"] == 1);
    CHECK_FALSE(AuthFixture::json(listed)["tokens"][0].contains("token"));
    CHECK(AuthFixture::json(fixture.call("GET", "/api/v1/mayaflow/tokens", "", bob))["total_entries"] == 0);
    check_problem(fixture.call("GET", "/api/v1/mayaflow/tokens?username=alice", "", bob), 403, "Forbidden");
    CHECK(AuthFixture::json(fixture.admin("GET", "/api/v1/mayaflow/tokens?username=alice"))["total_entries"] == 1);

    const std::map<std::string, std::string> bearer = {{"authorization", "Bearer " + value}};
    CHECK(fixture.call("GET", "/api/v1/dags", "", bearer).status == 200);
    // Bob cannot see or revoke it; alice can.
    check_problem(fixture.call("DELETE", "/api/v1/mayaflow/tokens/" + std::to_string(id), "", bob), 404, "Not Found");
    CHECK(fixture.call("GET", "/api/v1/dags", "", bearer).status == 200);
    CHECK(fixture.call("DELETE", "/api/v1/mayaflow/tokens/" + std::to_string(id), "", alice).status == 204);
    check_problem(fixture.call("GET", "/api/v1/dags", "", bearer), 401, "Unauthorized");

    // An admin revokes anyone's, and makes one for another user.
    auto for_bob = fixture.admin("POST", "/api/v1/mayaflow/tokens", R"({"username": "bob"})");
    REQUIRE(for_bob.status == 201);
    CHECK(AuthFixture::json(for_bob)["username"] == "bob");
    CHECK(AuthFixture::json(for_bob)["expires_at"].is_null());
    check_problem(fixture.call("POST", "/api/v1/mayaflow/tokens", R"({"username": "alice"})", bob), 403, "Forbidden");
    CHECK(fixture.admin("DELETE", "/api/v1/mayaflow/tokens/" + AuthFixture::json(for_bob)["token_id"].dump()).status == 204);

    check_problem(fixture.call("DELETE", "/api/v1/mayaflow/tokens/abc", "", alice), 400, "Bad Request");
    check_problem(fixture.call("DELETE", "/api/v1/mayaflow/tokens/1%20OR%201%3D1", "", alice), 400, "Bad Request");
    check_problem(fixture.call("DELETE", "/api/v1/mayaflow/tokens/999", "", alice), 404, "Not Found");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/tokens", R"({"expires_in": "soon"})", alice), 400, "Bad Request");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/tokens", R"({"expires_in": "0s"})", alice), 400, "Bad Request");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/tokens", R"({"name": 5})", alice), 400, "Bad Request");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/tokens", R"({"scope": "all"})", alice), 400, "Bad Request");
    check_problem(fixture.call("POST", "/api/v1/mayaflow/tokens", "[", alice), 400, "Bad Request");
    check_problem(fixture.admin("POST", "/api/v1/mayaflow/tokens", R"({"username": "%"})"), 404, "Not Found");
}

}  // namespace
}  // namespace mayaflow

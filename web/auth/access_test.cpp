#include "web/auth/access.h"

#include <catch2/catch.hpp>

namespace mayaflow {
namespace {

TEST_CASE("role names are matched without regard to case", "[web][auth]") {
    CHECK(parse_role("admin") == Role::admin);
    CHECK(parse_role("ADMIN") == Role::admin);
    CHECK(parse_role("Op") == Role::op);
    CHECK(parse_role("viewer") == Role::viewer);
    CHECK(parse_role("User") == Role::user);
    CHECK_FALSE(parse_role("root"));
    CHECK_FALSE(parse_role(""));
    CHECK_FALSE(parse_role("admins"));
}

TEST_CASE("each role holds Airflow's permissions and those of the roles before it", "[web][auth]") {
    // Viewer reads what runs; User also acts on runs; Op also manages pools, variables and
    // connections; Admin also reads the configuration, exports secrets and manages users.
    struct Case {
        Access access;
        Role least;
    };
    const std::vector<Case> cases = {
        {{Resource::dag, Action::read}, Role::viewer},
        {{Resource::task_log, Action::read}, Role::viewer},
        {{Resource::dag, Action::edit}, Role::user},
        {{Resource::dag_run, Action::create}, Role::user},
        {{Resource::task_instance, Action::edit}, Role::user},
        {{Resource::backfill, Action::create}, Role::user},
        {{Resource::pool, Action::create}, Role::op},
        {{Resource::variable, Action::read}, Role::op},
        {{Resource::connection, Action::read}, Role::op},
        {{Resource::connection, Action::remove}, Role::op},
        {{Resource::config, Action::read}, Role::admin},
        {{Resource::connections_export, Action::read}, Role::admin},
        {{Resource::user, Action::create}, Role::admin},
    };
    for (const auto& c : cases) {
        INFO(to_string(c.access.resource) << " " << to_string(c.access.action));
        CHECK(least_role_for(c.access) == c.least);
        for (Role role : {Role::viewer, Role::user, Role::op, Role::admin}) {
            CHECK(allows(role, c.access) == (static_cast<int>(role) >= static_cast<int>(c.least)));
        }
    }
}

TEST_CASE("what is not in the table is denied to everyone; open routes to no one", "[web][auth]") {
    CHECK_FALSE(least_role_for({Resource::config, Action::edit}));
    CHECK_FALSE(allows(Role::admin, {Resource::config, Action::edit}));
    CHECK_FALSE(allows(std::vector<Role>{}, {Resource::dag, Action::read}));
    CHECK(allows(std::vector<Role>{}, {Resource::anyone, Action::read}));
    CHECK(allows(std::vector<Role>{Role::viewer, Role::op}, {Resource::connection, Action::edit}));
}

}  // namespace
}  // namespace mayaflow

#include "web/auth/access.h"

#include <algorithm>
#include <array>

#include <boost/algorithm/string/predicate.hpp>

namespace mayaflow {
namespace {

struct Grant {
    Resource resource;
    Action action;
    Role least;  // the first role that has it; the roles after it have it too
};

// Airflow's FAB roles: a Viewer reads what runs (DAGs, runs, tasks, logs, results, import errors);
// a User also triggers, clears, marks and pauses; an Op also manages pools, variables and
// connections; an Admin also reads the configuration, manages users and exports connections with
// their secrets.
constexpr std::array kGrants = {
    Grant{Resource::website, Action::read, Role::viewer},
    Grant{Resource::dag, Action::read, Role::viewer},
    Grant{Resource::dag_code, Action::read, Role::viewer},
    Grant{Resource::dag_run, Action::read, Role::viewer},
    Grant{Resource::task_instance, Action::read, Role::viewer},
    Grant{Resource::task_log, Action::read, Role::viewer},
    Grant{Resource::xcom, Action::read, Role::viewer},
    Grant{Resource::import_error, Action::read, Role::viewer},
    Grant{Resource::dag_warning, Action::read, Role::viewer},
    Grant{Resource::backfill, Action::read, Role::viewer},
    Grant{Resource::cost, Action::read, Role::viewer},
    Grant{Resource::pool, Action::read, Role::viewer},
    Grant{Resource::my_profile, Action::read, Role::viewer},
    Grant{Resource::my_profile, Action::create, Role::viewer},
    Grant{Resource::my_profile, Action::edit, Role::viewer},
    Grant{Resource::my_profile, Action::remove, Role::viewer},

    Grant{Resource::dag, Action::edit, Role::user},
    Grant{Resource::dag, Action::remove, Role::user},
    Grant{Resource::dag_run, Action::create, Role::user},
    Grant{Resource::dag_run, Action::edit, Role::user},
    Grant{Resource::dag_run, Action::remove, Role::user},
    Grant{Resource::task_instance, Action::create, Role::user},
    Grant{Resource::task_instance, Action::edit, Role::user},
    Grant{Resource::task_instance, Action::remove, Role::user},
    Grant{Resource::backfill, Action::create, Role::user},
    Grant{Resource::backfill, Action::edit, Role::user},

    Grant{Resource::pool, Action::create, Role::op},
    Grant{Resource::pool, Action::edit, Role::op},
    Grant{Resource::pool, Action::remove, Role::op},
    Grant{Resource::variable, Action::read, Role::op},
    Grant{Resource::variable, Action::create, Role::op},
    Grant{Resource::variable, Action::edit, Role::op},
    Grant{Resource::variable, Action::remove, Role::op},
    Grant{Resource::connection, Action::read, Role::op},
    Grant{Resource::connection, Action::create, Role::op},
    Grant{Resource::connection, Action::edit, Role::op},
    Grant{Resource::connection, Action::remove, Role::op},
    Grant{Resource::metrics, Action::read, Role::op},

    Grant{Resource::config, Action::read, Role::admin},
    Grant{Resource::connections_export, Action::read, Role::admin},
    Grant{Resource::user, Action::read, Role::admin},
    Grant{Resource::user, Action::create, Role::admin},
    Grant{Resource::user, Action::edit, Role::admin},
    Grant{Resource::user, Action::remove, Role::admin},
};

}  // namespace

std::string_view to_string(Role role) {
    switch (role) {
        case Role::viewer: return "Viewer";
        case Role::user: return "User";
        case Role::op: return "Op";
        case Role::admin: return "Admin";
    }
    return "Viewer";
}

std::optional<Role> parse_role(std::string_view text) {
    for (Role role : {Role::viewer, Role::user, Role::op, Role::admin}) {
        if (boost::algorithm::iequals(text, to_string(role))) return role;
    }
    return std::nullopt;
}

std::string_view to_string(Resource resource) {
    switch (resource) {
        case Resource::anyone: return "Anyone";
        case Resource::website: return "Website";
        case Resource::dag: return "DAGs";
        case Resource::dag_code: return "DAG Code";
        case Resource::dag_run: return "DAG Runs";
        case Resource::task_instance: return "Task Instances";
        case Resource::task_log: return "Task Logs";
        case Resource::xcom: return "XComs";
        case Resource::import_error: return "ImportError";
        case Resource::dag_warning: return "DAG Warnings";
        case Resource::pool: return "Pools";
        case Resource::variable: return "Variables";
        case Resource::connection: return "Connections";
        case Resource::connections_export: return "Connections Export";
        case Resource::config: return "Configurations";
        case Resource::backfill: return "Backfills";
        case Resource::cost: return "Costs";
        case Resource::user: return "Users";
        case Resource::my_profile: return "My Profile";
        case Resource::metrics: return "Metrics";
    }
    return "Unknown";
}

std::string_view to_string(Action action) {
    switch (action) {
        case Action::read: return "can_read";
        case Action::create: return "can_create";
        case Action::edit: return "can_edit";
        case Action::remove: return "can_delete";
    }
    return "can_read";
}

std::optional<Role> least_role_for(Access access) {
    if (access.resource == Resource::anyone) return Role::viewer;
    for (const auto& grant : kGrants) {
        if (grant.resource == access.resource && grant.action == access.action) return grant.least;
    }
    return std::nullopt;
}

std::vector<Access> permissions_of(Role role) {
    std::vector<Access> out;
    for (const auto& grant : kGrants) {
        if (static_cast<int>(role) >= static_cast<int>(grant.least)) out.push_back({grant.resource, grant.action});
    }
    return out;
}

bool allows(Role role, Access access) {
    if (access.resource == Resource::anyone) return true;
    auto least = least_role_for(access);
    return least && static_cast<int>(role) >= static_cast<int>(*least);
}

bool allows(const std::vector<Role>& roles, Access access) {
    if (access.resource == Resource::anyone) return true;
    return std::any_of(roles.begin(), roles.end(), [&](Role role) { return allows(role, access); });
}

}  // namespace mayaflow

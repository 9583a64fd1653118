#pragma once
// Who may do what: the four roles of Airflow's FAB security manager (Viewer, User, Op, Admin) and
// the resources and actions its permissions name, in one table (access.cpp). Everything not in
// the table is denied.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mayaflow {

// Each role holds every permission of the roles before it.
enum class Role { viewer, user, op, admin };

std::string_view to_string(Role role);  // "Viewer", "User", "Op", "Admin"
// Matched without regard to case, as Airflow's users know them ("admin", "Admin", "ADMIN").
std::optional<Role> parse_role(std::string_view text);

enum class Resource {
    anyone,          // no credentials needed: health, the login page
    website,         // the UI's pages
    dag,
    dag_code,
    dag_run,
    task_instance,
    task_log,
    xcom,
    import_error,
    dag_warning,
    pool,
    variable,
    connection,
    connections_export,  // mayaflow's: the connections with their secrets, in a file
    config,
    backfill,
    cost,
    user,
    my_profile,      // a user's own tokens and password
    metrics,
};

enum class Action { read, create, edit, remove };

struct Access {
    Resource resource = Resource::anyone;
    Action action = Action::read;
};

std::string_view to_string(Resource resource);
std::string_view to_string(Action action);  // Airflow's names: can_read, can_create, can_edit, can_delete

// Whether a user with these roles may do it.
bool allows(const std::vector<Role>& roles, Access access);
bool allows(Role role, Access access);

// Every permission `role` holds, in the table's order (for GET /api/v1/roles).
std::vector<Access> permissions_of(Role role);

// The least role that may do it (Admin when only an admin may); for messages and documentation.
std::optional<Role> least_role_for(Access access);

}  // namespace mayaflow

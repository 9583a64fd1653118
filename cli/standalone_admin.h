#pragma once
// What `mayaflow standalone` does for signing in, as Airflow's standalone does: on the first start
// with no user, an `admin` user (role Admin) with a generated password, printed once and kept in
// $MAYAFLOW_HOME/standalone_admin_password.txt (mode 0600); and which authentication the API runs
// with (MAYAFLOW_API_AUTH).

#include <filesystem>
#include <memory>
#include <string>

#include "engine/config/settings.h"
#include "engine/store/sqlite_store.h"
#include "web/auth/authenticator.h"

namespace mayaflow::cli {

inline constexpr const char* kStandaloneAdminPasswordFile = "standalone_admin_password.txt";

// The lines the banner prints about signing in: the new password once, later where it is kept.
// Throws CommandFailed when the user or the file cannot be made.
std::string ensure_standalone_admin(SqliteStore& store, const std::filesystem::path& home);

// MAYAFLOW_API_AUTH: unset, `required` or `on` — true: the store's users sign in; `off` — false:
// everyone is a Viewer without credentials (the API as it was before users existed). Anything
// else stops the daemon with a message.
bool api_auth_required();

// The store's users (StoreAuthenticator) when `required`, else everyone a Viewer, with a warning.
std::unique_ptr<Authenticator> api_authenticator(UserStore& users, const Settings& settings, bool required);

}  // namespace mayaflow::cli

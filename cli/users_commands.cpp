// `mayaflow users create|list|delete|reset-password|add-role|remove-role|create-token|list-tokens|
// revoke-token`: the API's users, with Airflow's flags and messages where Airflow has the command.
// They write the store directly (users are not scheduler state); a running daemon sees a change at
// its next request.

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include "cli/cli_support.h"
#include "engine/time/duration_text.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "web/auth/access.h"
#include "web/auth/password_hash.h"
#include "web/auth/user_accounts.h"

namespace mayaflow::cli {
namespace {

enum class UsersOutput { table, json, yaml, plain };

void add_users_output_option(CLI::App& command, UsersOutput& format) {
    command.add_option("-o,--output", format, "Output format: table, json, yaml or plain")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, UsersOutput>{{"table", UsersOutput::table},
                                               {"json", UsersOutput::json},
                                               {"yaml", UsersOutput::yaml},
                                               {"plain", UsersOutput::plain}},
            CLI::ignore_case));
}

void print_rows(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                UsersOutput format) {
    if (format == UsersOutput::yaml) {
        // JSON strings are YAML scalars, so every value is quoted and nothing in it can change the shape.
        if (rows.empty()) std::cout << "[]\n";
        for (const auto& row : rows) {
            for (size_t i = 0; i < header.size() && i < row.size(); ++i) {
                std::cout << (i == 0 ? "- " : "  ") << header[i] << ": " << dump_json(nlohmann::json(row[i])) << "\n";
            }
        }
        return;
    }
    print_table(header, rows,
                format == UsersOutput::json    ? OutputFormat::json
                : format == UsersOutput::plain ? OutputFormat::plain
                                               : OutputFormat::table);
}

std::string iso(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }
std::string iso_or_empty(const std::optional<Instant>& instant) { return instant ? iso(*instant) : ""; }

std::string role_or_fail(const std::string& text) {
    auto role = parse_role(text);
    if (!role) {
        throw CommandFailed{fmt::format("{} is not a valid role. Valid roles are: Viewer, User, Op, Admin",
                                        quote_for_message(text))};
    }
    return std::string(to_string(*role));
}

void check_username(const std::string& username) {
    if (auto problem = username_problem(username)) throw CommandFailed{*problem, 2};
}

UserRow user_or_fail(SqliteStore& store, const std::string& username) {
    auto user = store.find_user(username);
    if (!user) throw CommandFailed{user.error().message};
    if (!*user) throw CommandFailed{fmt::format("User \"{}\" does not exist", escape_invalid_utf8(username))};
    return **user;
}

std::string read_line_without_echo(const std::string& prompt) {
    std::cerr << prompt << std::flush;
    termios saved{};
    const bool terminal = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (terminal) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (terminal) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
    return line;
}

// The password a command sets: the one given, a random one (printed once), or one typed twice at a
// terminal without echo. Never read from a pipe without asking: a script passes --password.
std::string password_for(const std::optional<std::string>& given, bool random) {
    if (given && random) throw CommandFailed{"give either --password or --use-random-password, not both", 2};
    std::string password;
    if (random) {
        password = random_password();
        std::cout << "Generated password: " << password << "\n";
    } else if (given) {
        password = *given;
    } else {
        if (!::isatty(STDIN_FILENO)) {
            throw CommandFailed{"no password: give --password or --use-random-password (a password is asked for only "
                                "at a terminal)",
                                2};
        }
        password = read_line_without_echo("Password: ");
        if (read_line_without_echo("Repeat for confirmation: ") != password) {
            throw CommandFailed{"Passwords did not match"};
        }
    }
    if (auto problem = password_problem(password)) throw CommandFailed{*problem, 2};
    return password;
}

struct CreateOptions {
    std::string username, role, email, firstname, lastname;
    std::optional<std::string> password;
    bool random_password = false;
};

void create_user(const CreateOptions& options) {
    check_username(options.username);
    const std::string role = role_or_fail(options.role);
    const std::string password = password_for(options.password, options.random_password);
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, false);
    UserRow user;
    user.username = options.username;
    user.email = options.email;
    user.first_name = options.firstname;
    user.last_name = options.lastname;
    user.password_hash = hash_password(password);
    user.roles = {role};
    user.created_on = user.changed_on = now_instant();
    auto created = store->create_user(user);
    if (!created) throw CommandFailed{created.error().message};
    if (!*created) throw CommandFailed{fmt::format("{} already exist in the db", escape_invalid_utf8(options.username))};
    std::cout << fmt::format("User \"{}\" created with role \"{}\"\n", escape_invalid_utf8(options.username), role);
}

void list_users(UsersOutput format) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto users = store->list_users();
    if (!users) throw CommandFailed{users.error().message};
    std::sort(users->begin(), users->end(), [](const UserRow& a, const UserRow& b) { return a.id < b.id; });
    std::vector<std::vector<std::string>> rows;
    for (const auto& user : *users) {
        rows.push_back({std::to_string(user.id), user.username, user.email, user.first_name, user.last_name,
                        join(user.roles), user.active ? "true" : "false", iso_or_empty(user.last_login)});
    }
    print_rows({"id", "username", "email", "first_name", "last_name", "roles", "active", "last_login"}, rows, format);
}

void delete_user(const std::string& username) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, false);
    auto deleted = store->delete_user(username);
    if (!deleted) throw CommandFailed{deleted.error().message};
    if (!*deleted) throw CommandFailed{fmt::format("User \"{}\" does not exist", escape_invalid_utf8(username))};
    std::cout << fmt::format("User \"{}\" deleted\n", escape_invalid_utf8(username));
}

void reset_password(const std::string& username, const std::optional<std::string>& given, bool random) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, false);
    UserRow user = user_or_fail(*store, username);
    const std::string password = password_for(given, random);
    const std::string stored_name = user.username;
    user.password_hash = hash_password(password);
    user.changed_on = now_instant();
    auto updated = store->update_user(stored_name, user);
    if (!updated) throw CommandFailed{updated.error().message};
    std::cout << fmt::format("Password for user \"{}\" reset.\n", escape_invalid_utf8(stored_name));
}

void change_role(const std::string& username, const std::string& role_text, bool add) {
    const std::string role = role_or_fail(role_text);
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, false);
    UserRow user = user_or_fail(*store, username);
    auto found = std::find(user.roles.begin(), user.roles.end(), role);
    if (add && found != user.roles.end()) {
        throw CommandFailed{fmt::format("User \"{}\" is already a member of role \"{}\"", escape_invalid_utf8(user.username), role)};
    }
    if (!add && found == user.roles.end()) {
        throw CommandFailed{fmt::format("User \"{}\" is not a member of role \"{}\"", escape_invalid_utf8(user.username), role)};
    }
    if (add) {
        user.roles.push_back(role);
    } else {
        user.roles.erase(found);
    }
    user.changed_on = now_instant();
    auto updated = store->update_user(user.username, user);
    if (!updated) throw CommandFailed{updated.error().message};
    std::cout << fmt::format("User \"{}\" {} role \"{}\"\n", escape_invalid_utf8(user.username),
                             add ? "added to" : "removed from", role);
}

void create_token(const std::string& username, const std::string& name, const std::optional<std::string>& expires_in) {
    const Instant now = now_instant();
    std::optional<Instant> expires_at;
    if (expires_in) {
        auto duration = parse_duration(*expires_in);
        if (!duration) throw CommandFailed{"--expires-in: " + duration.error().message, 2};
        if (duration->count() <= 0) throw CommandFailed{"--expires-in must be longer than 0s", 2};
        expires_at = now + *duration;
    }
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, false);
    UserRow user = user_or_fail(*store, username);
    auto issued = issue_api_token(*store, user.username, name, expires_at, now);
    if (!issued) throw CommandFailed{issued.error().message};
    std::cerr << fmt::format("Token {} for user \"{}\"{}. It is shown only this once; send it as "
                             "`Authorization: Bearer <token>`:\n",
                             issued->row.id, escape_invalid_utf8(user.username),
                             expires_at ? " valid until " + iso(*expires_at) : std::string(", valid until revoked"));
    std::cout << issued->token << "\n";
}

void list_tokens(const std::string& username, UsersOutput format) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    UserRow user = user_or_fail(*store, username);
    auto tokens = store->list_tokens(user.username);
    if (!tokens) throw CommandFailed{tokens.error().message};
    std::vector<std::vector<std::string>> rows;
    for (const auto& token : *tokens) {
        rows.push_back({std::to_string(token.id), token.name, token.prefix, iso(token.created_on),
                        iso_or_empty(token.expires_at), token.revoked ? "true" : "false", iso_or_empty(token.last_used)});
    }
    print_rows({"id", "name", "prefix", "created_on", "expires_at", "revoked", "last_used"}, rows, format);
}

void revoke_token(long long id) {
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, false);
    auto revoked = store->revoke_token(id);
    if (!revoked) throw CommandFailed{revoked.error().message};
    if (!*revoked) throw CommandFailed{fmt::format("there is no token {} (`mayaflow users list-tokens` lists them)", id)};
    std::cout << fmt::format("Token {} revoked\n", id);
}

}  // namespace

void register_users_commands(CLI::App& app) {
    auto* users = app.add_subcommand("users", "Manage the users of the web UI and the REST API");
    users->require_subcommand(1);

    static CreateOptions create;
    auto* create_command = users->add_subcommand("create", "Create a user");
    create_command->add_option("-u,--username", create.username, "Username of the user")->required();
    create_command->add_option("-r,--role", create.role, "Role of the user: Viewer, User, Op or Admin")->required();
    create_command->add_option("-e,--email", create.email, "Email of the user")->required();
    create_command->add_option("-f,--firstname", create.firstname, "First name of the user")->required();
    create_command->add_option("-l,--lastname", create.lastname, "Last name of the user")->required();
    create_command->add_option("-p,--password", create.password,
                               "Password of the user (asked for at a terminal when neither this nor "
                               "--use-random-password is given)");
    create_command->add_flag("--use-random-password", create.random_password,
                             "Make a random password and print it once");
    create_command->callback([] { create_user(create); });

    static UsersOutput list_format = UsersOutput::table;
    auto* list_command = users->add_subcommand("list", "List the users");
    add_users_output_option(*list_command, list_format);
    list_command->callback([] { list_users(list_format); });

    static std::string delete_username;
    auto* delete_command = users->add_subcommand("delete", "Delete a user, with its tokens and sessions");
    delete_command->add_option("-u,--username", delete_username, "Username of the user")->required();
    delete_command->callback([] { delete_user(delete_username); });

    static std::string reset_username;
    static std::optional<std::string> reset_password_value;
    static bool reset_random = false;
    auto* reset_command = users->add_subcommand("reset-password", "Set a user's password (ends its sessions)");
    reset_command->add_option("-u,--username", reset_username, "Username of the user")->required();
    reset_command->add_option("-p,--password", reset_password_value, "The new password");
    reset_command->add_flag("--use-random-password", reset_random, "Make a random password and print it once");
    reset_command->callback([] { reset_password(reset_username, reset_password_value, reset_random); });

    static std::string role_username, role_name;
    for (bool add : {true, false}) {
        auto* command = users->add_subcommand(add ? "add-role" : "remove-role",
                                              add ? "Add a role to a user" : "Remove a role from a user");
        command->add_option("-u,--username", role_username, "Username of the user")->required();
        command->add_option("-r,--role", role_name, "The role: Viewer, User, Op or Admin")->required();
        command->callback([add] { change_role(role_username, role_name, add); });
    }

    static std::string token_username, token_name;
    static std::optional<std::string> token_expires_in;
    auto* token_command = users->add_subcommand("create-token", "Make a personal API token and print it once");
    token_command->add_option("-u,--username", token_username, "The user the token signs in as")->required();
    token_command->add_option("--name", token_name, "A name to tell the token from the user's others");
    token_command->add_option("--expires-in", token_expires_in, "How long it is valid (30d, 12h); until revoked when absent");
    token_command->callback([] { create_token(token_username, token_name, token_expires_in); });

    static std::string tokens_username;
    static UsersOutput tokens_format = UsersOutput::table;
    auto* tokens_command = users->add_subcommand("list-tokens", "List a user's API tokens (never their values)");
    tokens_command->add_option("-u,--username", tokens_username, "Username of the user")->required();
    add_users_output_option(*tokens_command, tokens_format);
    tokens_command->callback([] { list_tokens(tokens_username, tokens_format); });

    static long long revoke_id = 0;
    auto* revoke_command = users->add_subcommand("revoke-token", "Revoke an API token at once");
    revoke_command->add_option("--id", revoke_id, "The token's id (`users list-tokens` shows it)")->required();
    revoke_command->callback([] { revoke_token(revoke_id); });
}

}  // namespace mayaflow::cli

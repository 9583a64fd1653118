#pragma once
// Authenticator finds out who sent a request: from HTTP Basic credentials, a personal API token
// (`Authorization: Bearer …`) or the UI's session cookie. It answers with the user it found, or
// with the refusal to send back (401 with WWW-Authenticate, 429 after too many failed logins).

#include <string>
#include <variant>
#include <vector>

#include "web/auth/access.h"
#include "web/http_types.h"

namespace mayaflow {

struct Principal {
    std::string username;  // empty: nobody signed in
    std::vector<Role> roles;
    std::string method;  // basic | token | session | none
    // A session cookie came with a state-changing request: it must carry the CSRF token too.
    bool needs_csrf_check = false;

    bool signed_in() const { return !username.empty(); }
};

class Authenticator {
  public:
    virtual ~Authenticator() = default;
    // The request's user; a Principal that is not signed in when it brings no credentials at all
    // (the router then refuses it unless the route is open to anyone); a response when the
    // credentials it brings are wrong, expired or throttled.
    virtual std::variant<Principal, WebResponse> authenticate(const WebRequest& request) = 0;
};

// Everyone is `role`, without credentials: for the routing tests of each endpoint family, and for a
// daemon started with authentication explicitly switched off.
class FixedRoleAuthenticator : public Authenticator {
  public:
    explicit FixedRoleAuthenticator(Role role, std::string username = "anonymous")
        : principal_{std::move(username), {role}, "none", false} {}
    std::variant<Principal, WebResponse> authenticate(const WebRequest&) override { return principal_; }

  private:
    Principal principal_;
};

}  // namespace mayaflow

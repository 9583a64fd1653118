#include "web/api/secrets_answers.h"

#include "engine/store/connection_store.h"
#include "web/api/problem.h"

namespace mayaflow {

WebResponse no_keyring() {
    return problem(503, "the web server has no secret key, so it cannot read or write connections and variables; "
                        "set MAYAFLOW_SECRET_KEY or create the key file (docs/connections.md), then restart it");
}

WebResponse secrets_unavailable(const Error& error) {
    if (is_key_rotated(error)) {
        return problem(503, error.message + "; the request changed nothing, send it again");
    }
    return store_unavailable(error);
}

}  // namespace mayaflow

#pragma once
// What the variable and connection routes answer when the keyring is missing or a sealed value
// cannot be used: 503 with what to do, never the value.

#include "web/api/api_context.h"
#include "web/http_types.h"

namespace mayaflow {

inline SecretsRepository* secrets_or_null(ApiContext& context) { return context.secrets; }

// 503: the daemon opened no keyring, so nothing sealed can be read or written.
WebResponse no_keyring();
// A repository error: 503 for a key rotated meanwhile or a store that cannot answer, and for a
// value sealed with a key this keyring does not hold (the message names the key, not the value).
WebResponse secrets_unavailable(const Error& error);

}  // namespace mayaflow

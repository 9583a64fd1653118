// Connection URIs (`AIRFLOW_CONN_*` values, `connections add --conn-uri`, .env imports): parse by
// Airflow's rules, then validate, read the extra and write the URI back in full and for display.

#include "engine/connections/connection_uri.h"
#include "fuzz/fuzz_support.h"

using namespace mayaflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view uri = fuzz::as_text(data, size);
    (void)mask_uri_password(uri);
    auto connection = connection_from_uri("fuzz_conn", uri);
    if (!connection) return 0;
    (void)validate_connection_for_storage(*connection);
    (void)connection->parse_extra();
    (void)connection_to_display_uri(*connection);
    (void)connection_from_uri("again", connection_to_uri(*connection));
    return 0;
}

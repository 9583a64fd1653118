#pragma once
// Google's discovery document of the BigQuery v2 API (contracts/bigquery-v2-discovery.json), built
// into the binary (cmake/EmbedDiscovery.cmake), and the schema check made from it.

#include <string>

#include "operators/gcp/discovery_schema.h"

namespace mayaflow::gcp {

// The document's text, as Google publishes it.
std::string bigquery_discovery_text();

// The document's schemas, read once on first use (about 5 ms).
const DiscoverySchemas& bigquery_schemas();

}  // namespace mayaflow::gcp

#include "operators/gcp/bigquery_discovery.h"

#include <stdexcept>

namespace mayaflow::gcp {

const DiscoverySchemas& bigquery_schemas() {
    static const DiscoverySchemas schemas = [] {
        auto read = DiscoverySchemas::read(bigquery_discovery_text());
        // The document is built in from contracts/: unreadable only when the build is broken.
        if (!read) throw std::logic_error("the built-in BigQuery discovery document: " + read.error().message);
        return std::move(*read);
    }();
    return schemas;
}

}  // namespace mayaflow::gcp

// Connection files (`connections import`, the API's import): JSON, YAML (PyYAML's safe_load rules) and
// .env, chosen by the input's first byte; every connection read is written back out in all three.

#include "engine/connections/connection_files.h"
#include "fuzz/fuzz_support.h"

using namespace mayaflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    constexpr ConnectionFileFormat kFormats[] = {ConnectionFileFormat::json, ConnectionFileFormat::yaml,
                                                 ConnectionFileFormat::env};
    ConnectionFileFormat format = kFormats[data[0] % 3];
    auto connections = parse_connections_file(fuzz::as_text(data + 1, size - 1), format, "fuzz");
    if (!connections) return 0;
    for (auto out : kFormats) {
        (void)export_connections_text(*connections, out, ConnectionSerialization::uri);
        (void)export_connections_text(*connections, out, ConnectionSerialization::json);
    }
    return 0;
}

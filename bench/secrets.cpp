// Measures the two costs that masking adds to every task: registering every secret before a try
// (SecretsLookup::register_every_secret over a database of connections and variables) and masking
// a task's output when many secrets share a long prefix (the task supervisor masks every task's
// output on one thread). Prints figures; asserts nothing about time.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/connections/secret_cipher.h"
#include "engine/connections/secret_masker.h"
#include "engine/connections/secret_matcher.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/connections/secrets_repository.h"
#include "engine/store/sqlite_store.h"

namespace fs = std::filesystem;
using namespace mayaflow;

namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// `count` secrets of `prefix_length` shared bytes and a distinct tail, and output made of that
// prefix over and over with a line end now and then: the worst case for a masker that compares the
// secrets one by one at each position.
void bench_masking(int count, int prefix_length, std::size_t output_bytes) {
    const std::string prefix(static_cast<std::size_t>(prefix_length), 'a');
    std::vector<std::string> secrets;
    for (int i = 0; i < count; ++i) secrets.push_back(prefix + fmt::format("-{:06d}", i));
    SecretMasker masker;
    auto start = Clock::now();
    masker.add_secret_list(secrets);
    const double index_ms = milliseconds_since(start);

    std::string output;
    while (output.size() < output_bytes) output += prefix + "b\n";
    start = Clock::now();
    const std::string masked = masker.mask(output);
    const double mask_ms = milliseconds_since(start);

    StreamMasker stream(masker);
    constexpr std::size_t kChunk = 65536;
    std::size_t written = 0;
    start = Clock::now();
    for (std::size_t at = 0; at < output.size(); at += kChunk)
        written += stream.write(std::string_view(output).substr(at, kChunk)).size();
    written += stream.finish().size();
    const double stream_ms = milliseconds_since(start);

    const double megabytes = static_cast<double>(output.size()) / (1 << 20);
    fmt::print("masking: {} secrets sharing a {}-byte prefix; index built in {:.1f} ms\n", count,
               prefix_length, index_ms);
    fmt::print("  mask():        {:.2f} MiB in {:.1f} ms = {:.2f} MiB/s\n", megabytes, mask_ms,
               megabytes / (mask_ms / 1000));
    fmt::print("  StreamMasker:  {:.2f} MiB in {:.1f} ms = {:.2f} MiB/s (64 KiB chunks)\n", megabytes,
               stream_ms, megabytes / (stream_ms / 1000));
    if (masked.size() != output.size() || written != output.size())
        fmt::print("  (unexpected: the output changed)\n");
}

// What indexing a large set costs: `megabytes` of secrets like service-account private keys
// (base64 lines of 64 characters), each with its URL and JSON forms.
void bench_large_set(double megabytes) {
    std::mt19937 random(42);
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::vector<std::string> secrets;
    std::size_t total = 0;
    while (total < static_cast<std::size_t>(megabytes * (1 << 20))) {
        std::string key = "-----BEGIN PRIVATE KEY-----\n";
        for (int line = 0; line < 26; ++line) {
            for (int i = 0; i < 64; ++i) key.push_back(alphabet[random() % alphabet.size()]);
            key.push_back('\n');
        }
        key += "-----END PRIVATE KEY-----\n";
        total += key.size();
        secrets.push_back(std::move(key));
    }
    SecretMasker masker;
    auto start = Clock::now();
    masker.add_secret_list(secrets);
    const double index_ms = milliseconds_since(start);
    std::vector<std::string> forms;
    fmt::print("large set: {} private keys, {:.2f} MiB; indexed ({} forms) in {:.0f} ms\n", secrets.size(),
               static_cast<double>(total) / (1 << 20), masker.secret_count(), index_ms);
    for (const auto& secret : secrets) forms.push_back(secret);
    SecretMatcher raw(forms);
    fmt::print("  automaton of the secrets alone (no URL/JSON forms): {:.1f} MiB\n",
               static_cast<double>(raw.memory_bytes()) / (1 << 20));
}

// register_every_secret over `connections` connections and `variables` variables in a SQLite file.
void bench_registering(int connections, int variables, int repeats) {
    char pattern[] = "/tmp/mayaflow_bench_secrets_XXXXXX";
    const fs::path folder = ::mkdtemp(pattern);
    {
        auto store = SqliteStore::open(StoreOptions{.path = folder / "mayaflow.db"});
        if (!store) {
            fmt::print("cannot open a store: {}\n", store.error().message);
            return;
        }
        SecretsRepository repository(**store, SecretKeyring({*generate_secret_key()}, "bench"));
        std::vector<Connection> stored;
        for (int i = 0; i < connections; ++i) {
            Connection connection{.conn_id = fmt::format("conn_{:03d}", i), .conn_type = "postgres"};
            connection.host = "db.example.com";
            connection.login = "etl";
            connection.set_password(fmt::format("password-{:03d}-xyz", i));
            connection.extra = fmt::format(R"({{"api_key": "key-{:03d}", "region": "eu", "retries": 3}})", i);
            stored.push_back(connection);
        }
        (void)repository.put_connections(stored, true);
        std::vector<Variable> values;
        for (int i = 0; i < variables; ++i) {
            values.push_back(Variable{fmt::format("{}_{:03d}", i % 2 ? "var" : "secret", i),
                                      fmt::format("value-{:03d}", i), std::nullopt});
        }
        (void)repository.put_variables(values);

        SecretMasker masker;
        SecretsLookup lookup(EnvironmentSecrets({}), &repository, &masker);
        (void)lookup.register_every_secret();  // the first: the masker's index is built
        auto start = Clock::now();
        for (int i = 0; i < repeats; ++i) (void)lookup.register_every_secret();
        const double each_ms = milliseconds_since(start) / repeats;
        fmt::print("register_every_secret: {} connections, {} variables: {:.3f} ms per try ({} tries)\n",
                   connections, variables, each_ms, repeats);
        // After a change each time (a variable written between two tries, not timed).
        double changed_ms = 0;
        const int changes = std::max(1, repeats / 10);
        for (int i = 0; i < changes; ++i) {
            (void)repository.put_variables({Variable{"changing", fmt::format("value-{}", i), std::nullopt}});
            start = Clock::now();
            (void)lookup.register_every_secret();
            changed_ms += milliseconds_since(start);
        }
        fmt::print("  after a change to a variable: {:.3f} ms per try ({} tries)\n", changed_ms / changes,
                   changes);
    }
    fs::remove_all(folder);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Masking costs: registering the secrets before a try, and masking output"};
    int secrets = 1000, prefix = 200, connections = 100, variables = 100, repeats = 200;
    double megabytes = 1, large = 0;
    app.add_option("--secrets", secrets, "Secrets sharing a prefix");
    app.add_option("--prefix", prefix, "Length of their shared prefix");
    app.add_option("--megabytes", megabytes, "Output to mask, in MiB");
    app.add_option("--large-set", large, "Also index this many MiB of private keys (0: not)");
    app.add_option("--connections", connections, "Connections in the database");
    app.add_option("--variables", variables, "Variables in the database");
    app.add_option("--repeats", repeats, "Tries to register for");
    CLI11_PARSE(app, argc, argv);
    bench_masking(secrets, prefix, static_cast<std::size_t>(megabytes * (1 << 20)));
    bench_registering(connections, variables, repeats);
    if (large > 0) bench_large_set(large);
    return 0;
}

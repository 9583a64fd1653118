#pragma once
// SecretMasker is Airflow's secrets masker: every secret registered with it is replaced by "***"
// wherever it shows up — a task's log (what a bash command prints included), a rendered template,
// an error message, the daemon's own log. A secret is also found in the forms it takes inside a
// URL or a JSON document (percent-encoded, '+' for spaces, JSON-escaped), as Airflow registers a
// password together with quote(password). Where two secrets start at the same place the longer is
// masked. Safe to use from many threads: masking reads an immutable snapshot of the secrets, and
// costs the same however many secrets there are (SecretMatcher).

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/connections/python_json.h"
#include "engine/util/result.h"

namespace mayaflow {

struct Connection;

class SecretMasker {
  public:
    SecretMasker();

    // Registers `secret` and its URL and JSON forms. An empty secret is ignored.
    void add_secret(std::string_view secret);
    // add_secret for each, with one rebuild of the index (none when every one is known already).
    void add_secret_list(const std::vector<std::string>& secrets);
    // Replaces every registered secret by these: one that is not among them (a deleted connection's
    // password) is forgotten. Nothing is rebuilt when they are the ones registered.
    void set_secrets(std::vector<std::string> secrets);
    // Every secret registered, as registered, in order (for handing to another process's masker):
    // shared, not copied; a new list whenever the secrets change.
    std::shared_ptr<const std::vector<std::string>> secret_list() const;
    std::vector<std::string> secrets() const;  // a copy of *secret_list()
    // Airflow's mask_secret(value, name): registers what collect_secrets (sensitive_fields.h) finds.
    void add_secrets(const pyjson::Json& value, std::string_view name = {});

    // `text` with every registered secret replaced by "***".
    std::string mask(std::string_view text) const;
    // Every string inside `value` masked, however deep, object keys included; nothing else changed
    // (unlike redact(), a value under a sensitive key is kept: a message's JSON is its author's).
    nlohmann::json mask_strings(const nlohmann::json& value) const;
    // Airflow's redact(): strings masked, and everything under a sensitive key replaced by "***".
    pyjson::Json redact(const pyjson::Json& value) const;

    std::size_t secret_count() const;  // the forms indexed (each secret's URL and JSON forms)
    // How much the forms of the secrets may take, in bytes: the automaton takes about 18 bytes of
    // memory per byte. Secrets past it (in the order given) are left out, counted here, and not masked.
    static constexpr std::size_t kMaxIndexedBytes = std::size_t{16} << 20;
    std::size_t left_out_count() const;
    // The longest registered form, in bytes (a stream must hold back one byte less than this).
    std::size_t longest_secret() const;

    struct Patterns;  // the secrets and their automaton (secret_matcher.h), never changed once made

  private:
    std::shared_ptr<const Patterns> snapshot() const;
    friend class StreamMasker;

    std::mutex writer_mutex_;   // one change at a time (a change reads the snapshot it replaces)
    mutable std::mutex mutex_;  // guards patterns_ (the pointer, not what it points to)
    std::shared_ptr<const Patterns> patterns_;
};

// Masks text that arrives in chunks (a child's output): what `write` returns is safe to write out
// now. Held back is only a tail that may be the start of a secret continuing in the next chunk (at
// most longest_secret() - 1 bytes); it comes out with the next write or `finish`.
class StreamMasker {
  public:
    explicit StreamMasker(const SecretMasker& masker) : masker_(masker) {}
    std::string write(std::string_view chunk);
    std::string finish();

  private:
    const SecretMasker& masker_;
    std::string pending_;
};

// Registers a connection's password and the values of its sensitive extras (Airflow does this
// when it loads a connection); see collect_connection_secrets.
Status mask_connection_secrets(SecretMasker& masker, const Connection& connection);
// Registers a variable's value when its name is sensitive ("api_key", "slack_token", …), and the
// members of a JSON value under sensitive keys; see collect_variable_secrets.
Status mask_variable_secret(SecretMasker& masker, std::string_view key, std::string_view value);

// The masker of this process, for the daemon, its task logs and its API answers.
SecretMasker& process_secret_masker();

}  // namespace mayaflow

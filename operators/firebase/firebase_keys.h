#pragma once
// Firebase Realtime Database's rules on keys, in one place: a key is non-empty valid UTF-8 of at
// most 768 bytes without '.', '$', '#', '[', ']', '/' or an ASCII control character (0–31, 127), and
// no key may sit deeper than 32 levels below the root. sanitize_key() turns a refused key into one
// Firebase takes, percent-encoding style, so that the same key always gives the same result.

#include <optional>
#include <string>
#include <string_view>

namespace mayaflow::firebase {

inline constexpr std::size_t kMaxKeyBytes = 768;
inline constexpr int kMaxDepth = 32;
// Firebase's largest string value (10 MB of UTF-8).
inline constexpr std::size_t kMaxStringBytes = 10 * 1024 * 1024;

// What export does with a key Firebase would refuse (the task's `invalid_keys`).
enum class InvalidKeys { fail, sanitize, skip };
std::optional<InvalidKeys> invalid_keys_from(std::string_view text);

// Why Firebase would refuse `key`, in words ("contains '.'"); nullopt when it takes it.
std::optional<std::string> key_problem(std::string_view key);

// `key` made into a key Firebase takes: each refused byte ('.', '$', '#', '[', ']', '/', control
// characters, bytes that are not valid UTF-8) and '%' itself become %XX (upper-case hex), so two
// refused keys never give the same result; one still over 768 bytes is cut at a character boundary
// and ends with '~' and 16 hex digits of the whole key's hash. nullopt for the empty key (nothing to
// sanitize). A valid key is returned as it is.
std::optional<std::string> sanitize_key(std::string_view key);

}  // namespace mayaflow::firebase

#pragma once
// A fast non-cryptographic content hash (FNV-1a, 64 bits) for telling whether a file changed.

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace mayaflow {

class ContentHash {
  public:
    void add(std::string_view bytes) {
        for (unsigned char c : bytes) {
            state_ ^= c;
            state_ *= 1099511628211ULL;
        }
        // A separator so that ("ab","c") and ("a","bc") hash differently.
        state_ ^= 0xff;
        state_ *= 1099511628211ULL;
    }
    uint64_t value() const { return state_; }
    std::string hex() const { return fmt::format("{:016x}", state_); }

  private:
    uint64_t state_ = 14695981039346656037ULL;
};

}  // namespace mayaflow

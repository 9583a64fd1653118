#pragma once
// SecretMatcher finds every registered secret in a text in one pass, whatever the number of secrets
// and however long the prefix they share: an Aho–Corasick automaton over the secrets, so each byte
// of text costs a step or two, not a comparison with each secret that starts like it (1,000 secrets
// sharing a long prefix made the supervisor's single loop stall). Where two secrets start at the
// same place the longer is masked, and masking goes on after it (leftmost-longest).
//
// Built once and never changed: SecretMasker builds a new one when its secrets change and hands the
// old one to whoever still masks with it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mayaflow {

class SecretMatcher {
  public:
    SecretMatcher() = default;
    explicit SecretMatcher(std::vector<std::string> patterns);  // empty patterns are ignored

    bool empty() const { return longest_ == 0; }
    std::size_t longest() const { return longest_; }  // the longest pattern, in bytes
    std::size_t pattern_count() const { return pattern_count_; }
    std::size_t memory_bytes() const;  // what the automaton takes, for the benchmark

    // Appends `text` to `out` with each pattern replaced by `mask`. With `hold_back`, stops where
    // the text ends inside what may still be a pattern (a proper prefix of one): returns how many
    // bytes of `text` it consumed, the rest to be passed again with what follows it. A pattern
    // that starts before that point is always complete in `text`.
    std::size_t mask_into(std::string& out, std::string_view text, std::string_view mask,
                          bool hold_back) const;

  private:
    static constexpr std::uint32_t kRoot = 0;
    static constexpr std::uint8_t kTerminal = 1, kHasChild = 2;

    std::uint32_t child(std::uint32_t node, unsigned char byte) const;
    std::uint32_t step(std::uint32_t node, unsigned char byte) const;
    void link_failures();

    // The trie in depth-first order (sorted patterns make it so): a node's first child is the next
    // node, its next sibling (in byte order) is next_sibling_; 0 means none. The root's 256
    // transitions are a table, the busiest node.
    std::vector<unsigned char> label_;
    std::vector<std::uint8_t> flags_;
    std::vector<std::uint32_t> next_sibling_;
    std::vector<std::uint32_t> depth_;
    std::vector<std::uint32_t> fail_;    // the longest proper suffix that is also a node
    std::vector<std::uint32_t> output_;  // the node itself if a pattern ends there, else its fail's output
    std::uint32_t root_child_[256] = {};
    std::size_t longest_ = 0;
    std::size_t pattern_count_ = 0;
};

}  // namespace mayaflow

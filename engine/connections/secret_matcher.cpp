#include "engine/connections/secret_matcher.h"

#include <algorithm>
#include <utility>

namespace mayaflow {

// The automaton's walks (child, step, the failure links) are left out of AddressSanitizer's checks:
// they jump across arrays of millions of nodes, and the sanitizer's shadow memory made the failure
// links of 5 MiB of secrets take 137 s instead of 1 s (TLB misses in a VM). The indices are
// bounded by construction (every link is a node made above), which the unit tests check in every
// build, and UndefinedBehaviorSanitizer still runs here.
#define MAYAFLOW_UNCHECKED_WALK __attribute__((no_sanitize_address))

SecretMatcher::SecretMatcher(std::vector<std::string> patterns) {
    std::erase_if(patterns, [](const std::string& pattern) { return pattern.empty(); });
    std::sort(patterns.begin(), patterns.end());
    patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
    pattern_count_ = patterns.size();

    // Room for the most nodes there can be, once: growing these vectors step by step costs far more
    // than the trie (with AddressSanitizer, minutes for 5 MiB of secrets).
    std::size_t most_nodes = 1;
    for (const auto& pattern : patterns) most_nodes += pattern.size();
    label_.reserve(most_nodes);
    flags_.reserve(most_nodes);
    next_sibling_.reserve(most_nodes);
    depth_.reserve(most_nodes);

    // The trie, inserted in sorted order: every node is made right after its parent's subtree so far,
    // so the nodes come out in depth-first order and a first child is always its parent's next node.
    label_.push_back(0);
    flags_.push_back(0);
    next_sibling_.push_back(0);
    depth_.push_back(0);
    std::vector<std::uint32_t> last_child{0};
    last_child.reserve(most_nodes);
    std::vector<std::uint32_t> path{kRoot};  // path[d]: the node of the current pattern's first d bytes
    const std::string* previous = nullptr;
    for (const auto& pattern : patterns) {
        std::size_t common = 0;
        if (previous) {
            const std::size_t limit = std::min(previous->size(), pattern.size());
            while (common < limit && (*previous)[common] == pattern[common]) ++common;
        }
        path.resize(common + 1);
        for (std::size_t d = common; d < pattern.size(); ++d) {
            const std::uint32_t parent = path[d];
            const auto node = static_cast<std::uint32_t>(label_.size());
            label_.push_back(static_cast<unsigned char>(pattern[d]));
            flags_.push_back(0);
            next_sibling_.push_back(0);
            depth_.push_back(static_cast<std::uint32_t>(d + 1));
            last_child.push_back(0);
            if (flags_[parent] & kHasChild) {
                next_sibling_[last_child[parent]] = node;
            } else {
                flags_[parent] |= kHasChild;
            }
            last_child[parent] = node;
            if (parent == kRoot) root_child_[static_cast<unsigned char>(pattern[d])] = node;
            path.push_back(node);
        }
        flags_[path.back()] |= kTerminal;
        longest_ = std::max(longest_, pattern.size());
        previous = &pattern;
    }
    last_child.clear();
    last_child.shrink_to_fit();

    fail_.assign(label_.size(), kRoot);
    output_.assign(label_.size(), 0);
    link_failures();
}

// Failure links, breadth first: a node's fail is reached from its parent's fail by its byte.
MAYAFLOW_UNCHECKED_WALK void SecretMatcher::link_failures() {
    std::vector<std::uint32_t> queue(label_.size());
    std::size_t tail = 0;
    queue[tail++] = kRoot;
    for (std::size_t head = 0; head < tail; ++head) {
        const std::uint32_t node = queue[head];
        if (!(flags_[node] & kHasChild)) continue;
        for (std::uint32_t next = node + 1; next != 0; next = next_sibling_[next]) {
            if (node != kRoot) fail_[next] = step(fail_[node], label_[next]);
            output_[next] = (flags_[next] & kTerminal) ? next : output_[fail_[next]];
            queue[tail++] = next;
        }
    }
}

std::size_t SecretMatcher::memory_bytes() const {
    return label_.capacity() + flags_.capacity() +
           sizeof(std::uint32_t) *
               (next_sibling_.capacity() + depth_.capacity() + fail_.capacity() + output_.capacity()) +
           sizeof root_child_;
}

MAYAFLOW_UNCHECKED_WALK std::uint32_t SecretMatcher::child(std::uint32_t node, unsigned char byte) const {
    if (node == kRoot) return root_child_[byte];
    if (!(flags_[node] & kHasChild)) return 0;
    for (std::uint32_t next = node + 1; next != 0; next = next_sibling_[next]) {
        if (label_[next] == byte) return next;
        if (label_[next] > byte) return 0;  // children are in byte order
    }
    return 0;
}

MAYAFLOW_UNCHECKED_WALK std::uint32_t SecretMatcher::step(std::uint32_t node, unsigned char byte) const {
    while (true) {
        if (std::uint32_t next = child(node, byte)) return next;
        if (node == kRoot) return kRoot;
        node = fail_[node];
    }
}

std::size_t SecretMatcher::mask_into(std::string& out, std::string_view text, std::string_view mask,
                                     bool hold_back) const {
    if (empty()) {
        out.append(text);
        return text.size();
    }
    // Every occurrence of every pattern, as (start, length): each ends where the automaton stands.
    std::vector<std::pair<std::size_t, std::size_t>> found;
    std::uint32_t state = kRoot;
    for (std::size_t end = 0; end < text.size(); ++end) {
        state = step(state, static_cast<unsigned char>(text[end]));
        for (std::uint32_t match = output_[state]; match != 0; match = output_[fail_[match]])
            found.emplace_back(end + 1 - depth_[match], depth_[match]);
    }
    // What may still become a pattern: the longest suffix of the text that a pattern continues.
    std::size_t scan_end = text.size();
    if (hold_back) {
        std::uint32_t open = state;
        while (open != kRoot && !(flags_[open] & kHasChild)) open = fail_[open];
        scan_end -= depth_[open];
    }
    // Leftmost first; at one start the longest; none inside one already masked.
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    std::size_t copied = 0;
    for (const auto& [start, length] : found) {
        if (start >= scan_end) break;
        if (start < copied) continue;
        out.append(text.substr(copied, start - copied)).append(mask);
        copied = start + length;
    }
    const std::size_t consumed = std::max(copied, scan_end);
    out.append(text.substr(copied, consumed - copied));
    return consumed;
}

}  // namespace mayaflow

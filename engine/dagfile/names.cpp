#include "engine/dagfile/names.h"

namespace mayaflow {
namespace {

bool is_ascii_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

bool is_id_text(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_' && c != '-' && c != '.') return false;
    }
    return true;
}

bool is_identifier(std::string_view text) {
    if (text.empty() || is_ascii_digit(text.front())) return false;
    for (char c : text) {
        if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_') return false;
    }
    return true;
}

}  // namespace mayaflow

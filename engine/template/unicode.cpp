#include "engine/template/unicode.h"

namespace mayaflow::tmpl::unicode {

bool is_ascii(std::string_view text) {
    for (unsigned char c : text) {
        if (c >= 0x80) return false;
    }
    return true;
}

std::size_t length(std::string_view text) {
    std::size_t count = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        decode_next(text, pos);
        ++count;
    }
    return count;
}

char32_t decode_next(std::string_view text, std::size_t& pos) {
    constexpr char32_t kReplacement = 0xFFFD;
    unsigned char lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) {
        ++pos;
        return lead;
    }
    int extra = 0;
    char32_t cp = 0;
    if ((lead & 0xE0) == 0xC0) {
        extra = 1;
        cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        extra = 2;
        cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        extra = 3;
        cp = lead & 0x07;
    } else {
        ++pos;
        return kReplacement;
    }
    if (pos + extra >= text.size()) {
        ++pos;
        return kReplacement;
    }
    for (int i = 1; i <= extra; ++i) {
        unsigned char next = static_cast<unsigned char>(text[pos + i]);
        if ((next & 0xC0) != 0x80) {
            ++pos;
            return kReplacement;
        }
        cp = (cp << 6) | (next & 0x3F);
    }
    pos += extra + 1;
    return cp;
}

std::u32string decode(std::string_view text) {
    std::u32string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) out.push_back(decode_next(text, pos));
    return out;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string encode(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t cp : text) append_utf8(out, cp);
    return out;
}

std::size_t byte_offset(std::string_view text, std::size_t index) {
    std::size_t pos = 0;
    for (std::size_t i = 0; i < index && pos < text.size(); ++i) decode_next(text, pos);
    return pos;
}

bool is_space(char32_t cp) {
    switch (cp) {
        case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:
        case 0x1C: case 0x1D: case 0x1E: case 0x1F: case 0x20:
        case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
        case 0x202F: case 0x205F: case 0x3000:
            return true;
        default:
            return cp >= 0x2000 && cp <= 0x200A;
    }
}

bool is_line_break(char32_t cp) {
    switch (cp) {
        case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E:
        case 0x85: case 0x2028: case 0x2029:
            return true;
        default:
            return false;
    }
}

bool is_digit(char32_t cp) {
    return (cp >= '0' && cp <= '9') || (cp >= 0xFF10 && cp <= 0xFF19);
}

namespace {

// The offset between a lower-case letter and its upper-case partner, or 0 when it has none.
char32_t lower_to_upper(char32_t cp) {
    if (cp >= 'a' && cp <= 'z') return cp - 32;
    if (cp < 0xB5) return 0;
    if (cp == 0xB5) return 0x39C;
    if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 32;
    if (cp == 0xFF) return 0x178;
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x131) return 'I';
        if (cp == 0x17F) return 'S';
        bool odd_lower = (cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
        bool even_lower = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (odd_lower && (cp % 2 == 1)) return cp - 1;
        if (even_lower && (cp % 2 == 0)) return cp - 1;
        return 0;
    }
    if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) return cp - 32;
    if (cp == 0x3C2) return 0x3A3;
    if (cp >= 0x3AC && cp <= 0x3AF) {
        static constexpr char32_t kTonos[] = {0x386, 0x388, 0x389, 0x38A};
        return kTonos[cp - 0x3AC];
    }
    if (cp >= 0x430 && cp <= 0x44F) return cp - 32;
    if (cp >= 0x450 && cp <= 0x45F) return cp - 80;
    if (cp >= 0xFF41 && cp <= 0xFF5A) return cp - 32;
    return 0;
}

char32_t upper_to_lower(char32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp < 0xC0) return 0;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp == 0x178) return 0xFF;
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x130) return 'i';
        bool even_upper = (cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
        bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (even_upper && (cp % 2 == 0)) return cp + 1;
        if (odd_upper && (cp % 2 == 1)) return cp + 1;
        return 0;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    if (cp >= 0xFF21 && cp <= 0xFF3A) return cp + 32;
    return 0;
}

}  // namespace

bool is_upper(char32_t cp) { return upper_to_lower(cp) != 0; }
bool is_lower(char32_t cp) { return lower_to_upper(cp) != 0 || cp == 0xDF || cp == 0x138 || cp == 0x149; }
bool is_cased(char32_t cp) { return is_upper(cp) || is_lower(cp); }

bool is_alpha(char32_t cp) {
    if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    if (is_cased(cp)) return true;
    if (cp == 0xAA || cp == 0xBA) return true;
    if (cp < 0x100) return false;  // the rest of Latin-1 is symbols and punctuation
    if (is_space(cp) || (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F)) return false;
    if (cp >= 0xFF00 && cp <= 0xFF20) return false;
    if (cp >= 0xFE00 && cp <= 0xFE6F) return false;
    if (cp >= 0xE000 && cp <= 0xF8FF) return false;  // private use
    return true;  // letters of other scripts (CJK, kana, Hangul, ...)
}

bool is_printable(char32_t cp) {
    if (cp < 0x20 || cp == 0x7F) return false;
    if (cp >= 0x80 && cp <= 0xA0) return false;
    if (cp == 0xAD) return false;
    if (is_space(cp) && cp != ' ') return false;
    if (cp >= 0x200B && cp <= 0x200F) return false;
    if (cp >= 0x202A && cp <= 0x202E) return false;
    if (cp >= 0x2060 && cp <= 0x206F) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    if (cp >= 0xE000 && cp <= 0xF8FF) return false;
    if (cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB)) return false;
    if (cp > 0x10FFFF) return false;
    return true;
}

char32_t to_upper(char32_t cp) {
    char32_t upper = lower_to_upper(cp);
    return upper != 0 ? upper : cp;
}

char32_t to_lower(char32_t cp) {
    char32_t lower = upper_to_lower(cp);
    return lower != 0 ? lower : cp;
}

void append_upper(std::u32string& out, char32_t cp) {
    if (cp == 0xDF) {
        out += U"SS";
        return;
    }
    out.push_back(to_upper(cp));
}

}  // namespace mayaflow::tmpl::unicode

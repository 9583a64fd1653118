#include "engine/template/limits.h"

#include "engine/template/error.h"

namespace mayaflow::tmpl {

void check_string_size(std::size_t bytes) {
    if (bytes > kMaxStringBytes)
        throw_runtime("string too large (the limit is {} MiB)", kMaxStringBytes >> 20);
}

void check_list_size(std::size_t items) {
    if (items > kMaxListItems) throw_runtime("list too large (the limit is {} items)", kMaxListItems);
}

void check_repeated_size(std::size_t each, std::int64_t count) {
    if (count <= 0 || each == 0) return;
    if (static_cast<std::uint64_t>(count) > kMaxStringBytes / each) check_string_size(kMaxStringBytes + 1);
}

}  // namespace mayaflow::tmpl

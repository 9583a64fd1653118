#pragma once
// The parser turns template source into statements and expressions with Jinja's grammar. Unknown
// filters and tests are syntax errors, except inside `{% if %}` blocks and `a if b else c`, where
// Jinja reports them only when they run.

#include <string>
#include <string_view>

#include "engine/template/ast.h"
#include "engine/template/token_stream.h"

namespace mayaflow::tmpl {

struct ParsedTemplate {
    std::string source;  // newline-normalized; error offsets refer to it
    Body body;
    bool has_markup = false;
};

// Throws a syntax TemplateError (with the offset where it went wrong).
ParsedTemplate parse_template(std::string_view source);

}  // namespace mayaflow::tmpl

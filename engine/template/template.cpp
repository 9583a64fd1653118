#include "engine/template/template.h"

#include <fmt/format.h>

#include <new>

#include "engine/template/error.h"
#include "engine/template/lexer.h"
#include "engine/template/parser.h"
#include "engine/template/renderer.h"

namespace mayaflow::tmpl {

void Context::set(std::string name, Value value) {
    value.freeze();
    values_.insert_or_assign(std::move(name), std::move(value));
}

const Value* Context::find(std::string_view name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
}

Template::Template() : parsed_(std::make_shared<ParsedTemplate>()) {}

Result<Template> Template::parse(std::string_view source) {
    auto parsed = std::make_shared<ParsedTemplate>();
    try {
        *parsed = parse_template(source);
    } catch (const TemplateError& error) {
        std::string normalized = normalize_newlines(source);
        SourcePosition at = position_of(normalized, error.offset() == kNoOffset ? normalized.size() : error.offset());
        return make_error("line {}, column {}: {}", at.line, at.column, error.what());
    }
    return Template(std::move(parsed));
}

Result<std::string> Template::render(const Context& context) const {
    try {
        Renderer renderer(*parsed_, context);
        return renderer.render();
    } catch (const TemplateError& error) {
        const std::string& source = parsed_->source;
        if (source.find('\n') == std::string::npos || error.offset() == kNoOffset) return Error{error.what()};
        return make_error("line {}: {}", position_of(source, error.offset()).line, error.what());
    } catch (const std::bad_alloc&) {
        return Error{"the template needs more memory than is available"};
    }
}

bool Template::has_markup() const { return parsed_->has_markup; }

}  // namespace mayaflow::tmpl

#include "engine/template/template.h"

#include <fmt/format.h>

#include <algorithm>
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
    std::size_t work_done = 0;
    return render_with_limit(context, kMaxWork, work_done);
}

Result<std::string> Template::render(const Context& context, RenderBudget& budget) const {
    std::size_t work_done = 0;
    auto rendered = render_with_limit(context, std::min(kMaxWork, budget.remaining_), work_done);
    budget.remaining_ -= std::min(work_done, budget.remaining_);
    return rendered;
}

Result<std::string> Template::render_with_limit(const Context& context, std::size_t max_work,
                                                std::size_t& work_done) const {
    Renderer renderer(*parsed_, context, max_work);
    try {
        std::string out = renderer.render();
        work_done = renderer.work_done();
        return out;
    } catch (const TemplateError& error) {
        work_done = renderer.work_done();
        const std::string& source = parsed_->source;
        if (source.find('\n') == std::string::npos || error.offset() == kNoOffset) return Error{error.what()};
        return make_error("line {}: {}", position_of(source, error.offset()).line, error.what());
    } catch (const std::bad_alloc&) {
        work_done = renderer.work_done();
        return Error{"the template needs more memory than is available"};
    }
}

bool Template::has_markup() const { return parsed_->has_markup; }

}  // namespace mayaflow::tmpl

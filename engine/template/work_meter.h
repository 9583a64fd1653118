#pragma once
// WorkMeter counts the work one render does, so that code deep below the renderer (cycle checks on
// {% do xs.append(...) %}, for example) can charge for what it costs. The renderer installs a meter
// for the thread while it renders; without one, charges are ignored.

#include <cstddef>

namespace mayaflow::tmpl {

class WorkMeter {
  public:
    virtual ~WorkMeter() = default;
    virtual void charge(std::size_t work) = 0;

    // Charges the meter installed on this thread, if any.
    static void charge_current(std::size_t work) {
        if (current_ != nullptr) current_->charge(work);
    }

    // Installs a meter for as long as it lives.
    class Install {
      public:
        explicit Install(WorkMeter& meter) : saved_(current_) { current_ = &meter; }
        ~Install() { current_ = saved_; }
        Install(const Install&) = delete;
        Install& operator=(const Install&) = delete;

      private:
        WorkMeter* saved_;
    };

  private:
    static inline thread_local WorkMeter* current_ = nullptr;
};

}  // namespace mayaflow::tmpl

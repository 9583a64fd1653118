#pragma once
// The web server as the daemons run it: `standalone` beside its scheduler, `webserver` alone against
// the same database. It reads through its own store connection (WAL lets it read while the
// scheduler writes) and sends changes to the scheduler through the command queue.

#include <functional>
#include <memory>
#include <optional>

#include "engine/config/settings.h"
#include "engine/connections/secret_cipher.h"
#include "scheduler/daemon_health.h"
#include "scheduler/dag_processor.h"

namespace mayaflow::cli {

struct WebServiceOptions {
    Settings settings;
    std::optional<SecretKeyring> keyring;  // none: the connections and variables routes answer 503
    const DaemonHealth* health = nullptr;  // the scheduler's, when it runs in this process
    std::function<DagFolderStatus()> dag_folder_status;
    std::function<void()> wake_scheduler;
};

class WebService {
  public:
    // Opens the store and binds the port; throws CommandFailed when either fails.
    explicit WebService(WebServiceOptions options);
    ~WebService();

    int port() const;
    void stop();

  private:
    struct Parts;
    std::unique_ptr<Parts> parts_;
};

}  // namespace mayaflow::cli

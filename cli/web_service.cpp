#include "cli/web_service.h"

#include "cli/cli_support.h"
#include "cli/standalone_admin.h"
#include "engine/connections/secrets_repository.h"
#include "web/api/api_context.h"
#include "web/api_router.h"
#include "web/auth/authenticator.h"
#include "web/auth/store_authenticator.h"
#include "web/http_server.h"

namespace mayaflow::cli {

struct WebService::Parts {
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<SecretsRepository> secrets;
    std::unique_ptr<ApiContext> context;
    std::unique_ptr<Authenticator> authenticator;
    std::unique_ptr<ApiRouter> router;
    std::unique_ptr<HttpServer> server;
    int port = 0;
};

WebService::WebService(WebServiceOptions options) : parts_(std::make_unique<Parts>()) {
    const Settings& settings = options.settings;
    parts_->store = open_store_for_daemon(settings);
    if (options.keyring) parts_->secrets = std::make_unique<SecretsRepository>(*parts_->store, std::move(*options.keyring));
    parts_->context = std::make_unique<ApiContext>(ApiContext{.store = *parts_->store,
                                                              .runs = *parts_->store,
                                                              .commands = *parts_->store,
                                                              .connection_store = *parts_->store,
                                                              .users = *parts_->store,
                                                              .secrets = parts_->secrets.get(),
                                                              .settings = settings,
                                                              .health = options.health,
                                                              .dag_folder_status = std::move(options.dag_folder_status),
                                                              .wake_scheduler = std::move(options.wake_scheduler)});
    parts_->authenticator = api_authenticator(*parts_->store, settings, options.auth_required);
    parts_->context->accounts = dynamic_cast<StoreAuthenticator*>(parts_->authenticator.get());
    parts_->router = std::make_unique<ApiRouter>(*parts_->context, *parts_->authenticator);
    parts_->server = std::make_unique<HttpServer>(
        HttpServerOptions{.host = settings.web_host,
                          .port = settings.web_port,
                          .max_connections = settings.web_max_connections,
                          .keep_alive_timeout = settings.web_keep_alive_timeout},
        [router = parts_->router.get()](const WebRequest& request) { return router->handle(request); });
    auto bound = parts_->server->start();
    if (!bound) throw CommandFailed{bound.error().message};
    parts_->port = *bound;
}

WebService::~WebService() { stop(); }

int WebService::port() const { return parts_->port; }

void WebService::stop() {
    if (parts_ && parts_->server) parts_->server->stop();
}

}  // namespace mayaflow::cli

#include "engine/http/http_client.h"

#include <future>

namespace mayaflow {

HttpResponse HttpClient::send_and_wait(HttpRequest request) {
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto answer = promise->get_future();
    send(std::move(request), [promise](HttpResponse response) { promise->set_value(std::move(response)); });
    return answer.get();
}

}  // namespace mayaflow

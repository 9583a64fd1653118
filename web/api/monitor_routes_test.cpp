// /health and /version in Airflow 2.10's HealthInfo and VersionInfo shapes.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/web/api_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;

}  // namespace

TEST_CASE("/health has every part of Airflow's HealthInfo, the triggerer's null", "[health][airflow]") {
    ApiFixture fixture;
    auto response = fixture.call("GET", "/api/v1/health");
    INFO(response.body);
    auto body = ApiFixture::json(response);
    CHECK(body["metadatabase"]["status"] == "healthy");
    CHECK(body["scheduler"].contains("latest_scheduler_heartbeat"));
    // mayaflow's scheduler resumes deferred tasks itself: no triggerer ever ran, which Airflow says
    // with a null status and heartbeat.
    REQUIRE(body.contains("triggerer"));
    CHECK(body["triggerer"] == nlohmann::json({{"status", nullptr}, {"latest_triggerer_heartbeat", nullptr}}));
}

TEST_CASE("/version is Airflow's VersionInfo", "[health][airflow]") {
    ApiFixture fixture;
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/version"));
    CHECK(body["version"].is_string());
    CHECK(body.contains("git_version"));
    CHECK(body["git_version"].is_null());
}

}  // namespace mayaflow

// The secrets masker: what it hides, in which forms, and in text that arrives in pieces.

#include "engine/connections/secret_masker.h"

#include <catch2/catch.hpp>

#include <random>
#include <thread>

#include "engine/connections/connection.h"

namespace mayaflow {
namespace {

TEST_CASE("registered secrets are replaced by ***", "[connections][masker]") {
    SecretMasker masker;
    CHECK(masker.mask("nothing registered") == "nothing registered");
    masker.add_secret("hunter2");
    masker.add_secret("");  // ignored
    CHECK(masker.mask("password=hunter2, again hunter2.") == "password=***, again ***.");
    CHECK(masker.mask("hunter") == "hunter");
    CHECK(masker.mask("") == "");
    masker.add_secret("hunter2-long");
    CHECK(masker.mask("x hunter2-long y") == "x *** y");  // the longer secret wins where both start
}

TEST_CASE("a secret is also found URL-encoded and JSON-escaped", "[connections][masker]") {
    SecretMasker masker;
    const std::string secret = "p@ss w/rd\"\\ü";
    masker.add_secret(secret);
    CHECK(masker.mask("clear " + secret) == "clear ***");
    CHECK(masker.mask("quote p%40ss%20w/rd%22%5C%C3%BC") == "quote ***");  // quote(secret)
    CHECK(masker.mask("safe p%40ss%20w%2Frd%22%5C%C3%BC") == "safe ***");  // quote(secret, safe='')
    CHECK(masker.mask("plus p%40ss+w%2Frd%22%5C%C3%BC") == "plus ***");    // quote_plus(secret)
    CHECK(masker.mask(R"({"password": "p@ss w/rd\"\\\u00fc"})") == R"({"password": "***"})");  // json, ASCII
    CHECK(masker.mask(R"({"password": "p@ss w/rd\"\\ü"})") == R"({"password": "***"})");       // json, UTF-8
}

TEST_CASE("extras and variables are registered by their names", "[connections][masker]") {
    SecretMasker masker;
    auto extra =
        pyjson::Json::parse(R"({"project": "my-proj", "api_key": "k-123", "nested": {"Client_Secret": "cs-9",
        "tokens": ["t-1", "t-2"], "plain": "visible"}, "keyfile_dict": {"private_key": "pk-7", "type": "service"}})");
    masker.add_secrets(extra);
    CHECK(masker.mask("my-proj k-123 cs-9 t-1 t-2 visible pk-7 service") ==
          "my-proj *** *** *** *** visible *** service");

    SecretMasker variables;
    REQUIRE(mask_variable_secret(variables, "slack_webhook_TOKEN", "https://hooks/abc"));
    REQUIRE(mask_variable_secret(variables, "dataset", "sales_raw"));
    CHECK(variables.mask("https://hooks/abc sales_raw") == "*** sales_raw");

    SecretMasker connections;
    Connection connection{.conn_id = "c", .conn_type = "http"};
    connection.set_password("pw-1");
    connection.extra = R"({"refresh_token": "rt-2", "region": "eu"})";
    REQUIRE(mask_connection_secrets(connections, connection));
    CHECK(connections.mask("pw-1 rt-2 eu") == "*** *** eu");
}

TEST_CASE("JSON members under sensitive keys are masked wherever the JSON sits", "[connections][masker]") {
    // var.json: members under sensitive keys, at any depth, whatever the variable's name (Airflow's
    // Variable.get masks mask_secret(value, key)).
    SecretMasker variables;
    REQUIRE(mask_variable_secret(variables, "config",
                                 R"({"db": {"password": "vp-1", "host": "h"}, "api_key": "vk-2",
                                     "list": [{"client_secret": "vs-3"}], "tokens": ["vt-4", "vt-5"]})"));
    REQUIRE(mask_variable_secret(variables, "servers", R"([{"name": "a", "passwd": "vp-6"}])"));
    REQUIRE(mask_variable_secret(variables, "plain", "[not json"));
    REQUIRE(mask_variable_secret(variables, "shown", R"({"region": "eu-west1"})"));
    CHECK(variables.mask("vp-1 h vk-2 vs-3 vt-4 vt-5 vp-6 a eu-west1 [not json") ==
          "*** h *** *** *** *** *** a eu-west1 [not json");

    // keyfile_dict given as text (as Composer exports it): its members are masked, not only the text.
    SecretMasker keyfile;
    Connection gcp{.conn_id = "gcp", .conn_type = "google_cloud_platform"};
    pyjson::Json key = {
        {"type", "service_account"},
        {"private_key_id", "kid-77"},
        {"private_key", "-----BEGIN PRIVATE KEY-----\nMIIEv-secret\n-----END PRIVATE KEY-----\n"},
        {"client_email", "svc@p.iam.gserviceaccount.com"}};
    gcp.extra = pyjson::dumps(pyjson::Json{{"keyfile_dict", pyjson::dumps(key)}, {"project", "p"}});
    REQUIRE(mask_connection_secrets(keyfile, gcp));
    CHECK(keyfile.mask("kid-77") == "***");
    CHECK(keyfile.mask("-----BEGIN PRIVATE KEY-----\nMIIEv-secret\n-----END PRIVATE KEY-----\n") == "***");
    CHECK(keyfile.mask(R"("-----BEGIN PRIVATE KEY-----\nMIIEv-secret\n-----END PRIVATE KEY-----\n")") ==
          R"("***")");
    CHECK(keyfile.mask("service_account svc@p.iam.gserviceaccount.com p") ==
          "service_account svc@p.iam.gserviceaccount.com p");

    // Numbers under sensitive keys count as their text (from three characters: a one- or two-digit
    // number would hide every count in a log).
    SecretMasker numbers;
    Connection numeric{.conn_id = "n", .conn_type = "http"};
    numeric.extra = R"({"api_key": 987654321, "pin_token": 4321.5, "secret_n": 7, "retries": 12345,
                       "auth": {"password": 55501}})";
    REQUIRE(mask_connection_secrets(numbers, numeric));
    CHECK(numbers.mask("987654321 4321.5 7 12345 55501") == "*** *** 7 12345 ***");
}

TEST_CASE("walking a value of any depth registers its secrets without recursion", "[connections][masker]") {
    pyjson::Json root = pyjson::Json::object();
    pyjson::Json* inner = &root;
    for (int i = 0; i < 100'000; ++i) inner = &((*inner)["k"] = pyjson::Json::object());
    (*inner)["password"] = "bottom-pw";
    SecretMasker masker;
    masker.add_secrets(root);
    CHECK(masker.mask("bottom-pw") == "***");
    auto redacted = masker.redact(root);
    CHECK(pyjson::dumps(redacted).find("bottom-pw") == std::string::npos);
}

TEST_CASE("percent escapes are found in either case", "[connections][masker]") {
    SecretMasker masker;
    masker.add_secret("a/b:c?d");
    for (const char* shown : {"a%2Fb%3Ac%3Fd", "a%2fb%3ac%3fd", "a/b%3ac%3fd", "a%2fb%3Ac%3Fd"}) {
        CAPTURE(shown);
        // Python writes upper case; curl, Go templates and some proxies lower case.
        const bool expected_masked = std::string(shown) != "a%2fb%3Ac%3Fd";  // mixed in one: not a form
        CHECK((masker.mask(std::string("u=") + shown) == "u=***") == expected_masked);
    }
    CHECK(masker.mask("a%2fb%3ac%3fd!") == "***!");
}

TEST_CASE("setting the secrets forgets the ones no longer there", "[connections][masker]") {
    SecretMasker masker;
    masker.set_secrets({"deleted-pw", "kept-pw"});
    CHECK(masker.mask("deleted-pw kept-pw") == "*** ***");
    auto before = masker.secret_list();
    masker.set_secrets({"kept-pw", "kept-pw", ""});
    CHECK(masker.mask("deleted-pw kept-pw") == "deleted-pw ***");
    CHECK(*masker.secret_list() == std::vector<std::string>{"kept-pw"});
    CHECK(*before == std::vector<std::string>{"deleted-pw", "kept-pw"});  // a snapshot, unchanged
    auto same = masker.secret_list();
    masker.set_secrets({"kept-pw"});
    CHECK(masker.secret_list() == same);  // nothing changed, nothing rebuilt
    masker.add_secret("kept-pw");
    CHECK(masker.secret_list() == same);
    masker.set_secrets({});
    CHECK(masker.mask("kept-pw") == "kept-pw");
}

TEST_CASE("redact hides sensitive fields and registered secrets in a JSON answer", "[connections][masker]") {
    SecretMasker masker;
    masker.add_secret("hunter2");
    auto answer = pyjson::Json::parse(R"({"conn_id": "c", "password": "anything", "log": "said hunter2",
        "extra": {"auth": {"token": "x", "depth": [{"secret": "y"}]}, "list": ["hunter2"]}})");
    auto redacted = masker.redact(answer);
    CHECK(redacted["conn_id"] == "c");
    CHECK(redacted["password"] == "***");
    CHECK(redacted["log"] == "said ***");
    CHECK(redacted["extra"]["auth"]["token"] == "***");
    CHECK(redacted["extra"]["auth"]["depth"][0]["secret"] == "***");
    CHECK(redacted["extra"]["list"][0] == "***");
}

TEST_CASE("a secret split between chunks of a stream is masked", "[connections][masker]") {
    SecretMasker masker;
    masker.add_secret("hunter2");
    masker.add_secret("p@ss word");
    const std::string text = "start hunter2 middle p%40ss%20word hunter2hunter2 p@ss word end hunter";
    const std::string whole = masker.mask(text);
    CHECK(whole == "start *** middle *** ****** *** end hunter");
    // Every place one cut can fall.
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        StreamMasker stream(masker);
        std::string out = stream.write(text.substr(0, cut));
        out += stream.write(text.substr(cut));
        out += stream.finish();
        INFO("cut at " << cut);
        CHECK(out == whole);
    }
    // One byte at a time.
    StreamMasker stream(masker);
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) out += stream.write(text.substr(i, 1));
    out += stream.finish();
    CHECK(out == whole);
    // Text comes out as soon as no secret could still be starting in it: only a tail that begins
    // like a secret is held back.
    REQUIRE(masker.longest_secret() == 13);  // "p%40ss%20word", quote("p@ss word")
    const std::string digits = "0123456789abcdefghij";
    StreamMasker plain(masker);
    CHECK(plain.write(digits) == digits);
    CHECK(plain.write("line\nhunt") == "line\n");
    CHECK(plain.write("ing") == "hunting");
    CHECK(plain.write("p@ss") == "");
    CHECK(plain.write(" wo") == "");
    CHECK(plain.write("rd!") == "***!");
    CHECK(plain.write("hunter") == "");
    CHECK(plain.finish() == "hunter");
}

TEST_CASE("secrets are handed on as registered", "[connections][masker]") {
    SecretMasker masker;
    masker.add_secret_list({"hunter2", "p@ss word", "", "hunter2"});
    masker.add_secret("hunter2");
    CHECK(masker.secrets() == std::vector<std::string>{"hunter2", "p@ss word"});
    SecretMasker other;
    other.add_secret_list(masker.secrets());
    CHECK(other.mask("a hunter2 p%40ss%20word") == masker.mask("a hunter2 p%40ss%20word"));
    CHECK(other.mask("a hunter2 p%40ss%20word") == "a *** ***");
}

TEST_CASE("random chunking gives what masking the whole text gives", "[connections][masker]") {
    std::mt19937 random(20240601);
    SecretMasker masker;
    const std::vector<std::string> secrets{"abc", "abcabd", "zz", "x y", "ééé"};
    for (const auto& secret : secrets) masker.add_secret(secret);
    const std::string alphabet = "abcdxyz é";
    for (int round = 0; round < 200; ++round) {
        std::string text;
        std::size_t length = random() % 200;
        while (text.size() < length) {
            if (random() % 5 == 0)
                text += secrets[random() % secrets.size()];
            else
                text += alphabet[random() % alphabet.size()];
        }
        StreamMasker stream(masker);
        std::string out;
        for (std::size_t pos = 0; pos < text.size();) {
            std::size_t step = 1 + random() % 7;
            out += stream.write(text.substr(pos, step));
            pos += step;
        }
        out += stream.finish();
        INFO("text: " << text);
        REQUIRE(out == masker.mask(text));
        for (const auto& secret : secrets) REQUIRE(out.find(secret) == std::string::npos);
    }
}

TEST_CASE("secrets added while other threads mask are picked up", "[connections][masker]") {
    SecretMasker masker;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&masker, t] {
            for (int i = 0; i < 200; ++i) {
                masker.add_secret("secret-" + std::to_string(t) + "-" + std::to_string(i));
                (void)masker.mask("some secret-0-1 text");
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(masker.mask("secret-3-199 and secret-0-0") == "*** and ***");
    CHECK(masker.secret_count() >= 800);
}

}  // namespace
}  // namespace mayaflow

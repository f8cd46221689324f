// The simulator's input: options and credential files; bad input is a clear
// error naming the culprit, never a crash.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "credentials_file.hpp"
#include "provisioning.hpp"
#include "sim_options.hpp"

namespace moolai::sim {
namespace {

std::string error_of(const std::vector<std::string>& args, const std::string& env_password = "") {
    try {
        parse_options(args, env_password);
    } catch (const OptionError& e) {
        return e.what();
    }
    return "";
}

TEST(SimOptions, Defaults) {
    const SimOptions o = parse_options({"--open"});
    EXPECT_EQ(o.source, CredentialSource::open);
    EXPECT_EQ(o.count, 1u);
    EXPECT_EQ(o.urls, std::vector<std::string>{"ws://127.0.0.1:8766/ws"});
    EXPECT_EQ(o.heartbeat_interval_sec, 0) << "as provisioned";
    EXPECT_EQ(o.backoff_base_sec, 0.5);
    EXPECT_EQ(o.backoff_cap_sec, 30);
    EXPECT_EQ(o.refused_retry_sec, 0);
    EXPECT_EQ(o.threads, 2u);
}

TEST(SimOptions, ValuesInBothSpellings) {
    const SimOptions o = parse_options(
        {"--provision", "--username", "root", "--password=pw", "--count=25", "--organization",
         "acme", "--id-prefix", "edge-", "--credentials-out", "/tmp/x", "--heartbeat-interval",
         "0.5", "--backoff-cap=2", "--url", "ws://10.0.0.1:9/ws", "--token-on-upgrade", "-v"});
    EXPECT_EQ(o.source, CredentialSource::provision);
    EXPECT_EQ(o.username, "root");
    EXPECT_EQ(o.password, "pw");
    EXPECT_EQ(o.count, 25u);
    EXPECT_EQ(o.organization, "acme");
    EXPECT_EQ(o.id_prefix, "edge-");
    EXPECT_EQ(o.heartbeat_interval_sec, 0.5);
    EXPECT_EQ(o.backoff_cap_sec, 2);
    EXPECT_EQ(o.urls, std::vector<std::string>{"ws://10.0.0.1:9/ws"});
    EXPECT_TRUE(o.token_on_upgrade);
    EXPECT_TRUE(o.verbose);
    EXPECT_EQ(parse_options({"--provision", "--username", "u"}, "from-env").password, "from-env");
    EXPECT_EQ(parse_options({"--credentials", "f.txt"}).count, 0u) << "0 = every line";
}

TEST(SimOptions, SeveralUrlsRepeatedOrCommaSeparated) {
    const SimOptions o =
        parse_options({"--open", "--url", "ws://a:1/ws,ws://b:2/ws", "--url=ws://c:3/ws"});
    EXPECT_EQ(o.urls, (std::vector<std::string>{"ws://a:1/ws", "ws://b:2/ws", "ws://c:3/ws"}));
    const SimOptions tls = parse_options(
        {"--open", "--url", "wss://a:1/ws", "--url", "wss://b:2/ws", "--ca", "ca.pem"});
    EXPECT_EQ(tls.urls.size(), 2u);
    EXPECT_EQ(tls.threads, 1u) << "wss:// needs one thread";
    EXPECT_NE(error_of({"--open", "--url", "ws://a/ws,,ws://b/ws"}).find("empty URL"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--url", "ws://a/ws,"}).find("empty URL"), std::string::npos);
    EXPECT_NE(error_of({"--open", "--url", "ws://a/ws", "--url", "wss://b/ws"}).find("not a mix"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--url", "ws://a/ws,http://b/ws"}).find("not \"http://b/ws\""),
              std::string::npos);
}

TEST(SimOptions, BadOptionsNameTheProblem) {
    EXPECT_NE(error_of({}).find("--credentials FILE, --provision or --open"), std::string::npos);
    EXPECT_NE(error_of({"--open", "--provision"}).find("exclude each other"), std::string::npos);
    EXPECT_NE(error_of({"--open", "--bogus"}).find("unknown option \"--bogus\""),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--count"}).find("--count needs a value"), std::string::npos);
    EXPECT_NE(error_of({"--open", "--count", "0"}).find("--count needs a whole number from 1"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--count", "-3"}).find("--count"), std::string::npos);
    EXPECT_NE(error_of({"--open", "--count", "12abc"}).find("not \"12abc\""), std::string::npos);
    EXPECT_NE(error_of({"--open", "--heartbeat-interval", "nan"}).find("--heartbeat-interval"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--heartbeat-interval", "0.01"}).find("from 0.05"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--duration", "1e400"}).find("--duration"), std::string::npos);
    EXPECT_NE(error_of({"--open", "--backoff-base", "5", "--backoff-cap", "1"})
                  .find("--backoff-cap must be >= --backoff-base"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--url", "http://x/ws"}).find("ws:// or wss:// URL"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--ca", "ca.pem"}).find("needs a wss:// --url or an https://"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--cert", "c.pem", "--key", "k.pem"}).find("need a wss:// --url"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--url", "wss://x/ws", "--cert", "c.pem"}).find("go together"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--organization", "a/b"}).find("letters, digits"),
              std::string::npos);
    EXPECT_NE(error_of({"--open", "--verbose=yes"}).find("takes no value"), std::string::npos);
    EXPECT_NE(error_of({"--provision"}).find("--username with --password"), std::string::npos);
    EXPECT_NE(error_of({"--provision", "--api-token", "t", "--api", "ftp://x"})
                  .find("http:// or https:// URL"),
              std::string::npos);
    // https:// provisioning takes --ca, with a ws:// fleet too.
    const SimOptions https = parse_options(
        {"--provision", "--api-token", "t", "--api", "https://x:8765", "--ca", "ca.pem"});
    EXPECT_EQ(https.api, "https://x:8765");
    EXPECT_EQ(https.ca_file, "ca.pem");
    EXPECT_NE(error_of({"--open", "--credentials-out", "f"}).find("goes with --provision only"),
              std::string::npos);
    EXPECT_NE(error_of({"--credentials", ""}).find("needs a file name"), std::string::npos);
}

TEST(SimOptions, HelpDocumentsEveryOption) {
    EXPECT_TRUE(parse_options({"--help"}).help);
    const std::string usage = kUsage;
    for (const char* option : {"--credentials",
                               "--provision",
                               "--api",
                               "--username",
                               "--password",
                               "--api-token",
                               "--credentials-out",
                               "--open",
                               "--count",
                               "--organization",
                               "--id-prefix",
                               "--url",
                               "--token-on-upgrade",
                               "--heartbeat-interval",
                               "--usage-interval",
                               "--metadata-interval",
                               "--backoff-base",
                               "--backoff-cap",
                               "--refused-retry",
                               "--register-timeout",
                               "--ramp-rate",
                               "--threads",
                               "--seed",
                               "--stats-interval",
                               "--duration",
                               "--verbose",
                               "--help",
                               "MOOLAI_SIM_PASSWORD"}) {
        EXPECT_NE(usage.find(option), std::string::npos) << option;
        if (std::string(option).rfind("--", 0) == 0) {
            EXPECT_EQ(error_of({option}).find("unknown option"), std::string::npos)
                << option << " is parsed";
        }
    }
}

TEST(Credentials, ParsesLinesCommentsAndReplacements) {
    const auto list = parse_credentials(
        "# comment\n\norch-1 tok-a\r\n  orch-2\ttok-b  \norch-1 tok-c\n", "creds.txt");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].orchestrator_id, "orch-1");
    EXPECT_EQ(list[0].token, "tok-c") << "the later line wins";
    EXPECT_EQ(list[1].orchestrator_id, "orch-2");
    EXPECT_EQ(list[1].token, "tok-b");
    EXPECT_TRUE(parse_credentials("", "empty").empty());
}

std::string parse_error(const std::string& text) {
    try {
        parse_credentials(text, "creds.txt");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

TEST(Credentials, BadLinesNameFileAndLine) {
    EXPECT_EQ(parse_error("a b\nlonely\n"),
              "creds.txt:2: expected \"orchestrator_id token\", found one field");
    EXPECT_EQ(parse_error("a b c\n"),
              "creds.txt:1: expected \"orchestrator_id token\", found more than two fields");
    EXPECT_EQ(parse_error(std::string(256, 'x') + " t\n"),
              "creds.txt:1: the orchestrator id is longer than 255 bytes");
    EXPECT_EQ(parse_error("a b\x01\n"), "creds.txt:1: control characters are not allowed");
}

TEST(Credentials, FilesRoundTripPrivately) {
    const std::string dir =
        std::filesystem::temp_directory_path() / ("moolai-sim-creds-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/creds.txt";
    append_credential(path, {"o-1", "t-1"});
    append_credential(path, {"o-2", "t-2"});
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "credentials are secrets";
    auto list = read_credentials_file(path);
    ASSERT_EQ(list.size(), 2u);
    list[0].token = "t-1b";
    write_credentials_file(path, list);
    const auto again = read_credentials_file(path);
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(again[0].token, "t-1b");
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    EXPECT_THROW(read_credentials_file(dir + "/missing.txt"), std::runtime_error);
    std::ofstream(dir + "/binary.bin") << std::string("a\0b c\n", 6);
    EXPECT_THROW(read_credentials_file(dir + "/binary.bin"), std::runtime_error);
    std::filesystem::remove_all(dir);
}

TEST(Provisioning, IdsAreNumberedWithAPrefix) {
    EXPECT_EQ(simulated_id("sim-", 1), "sim-00001");
    EXPECT_EQ(simulated_id("", 42), "00042");
    EXPECT_EQ(simulated_id("x", 123456), "x123456");
}

}  // namespace
}  // namespace moolai::sim

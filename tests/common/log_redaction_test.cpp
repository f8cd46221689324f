// Log redaction: configured secrets never reach a log line, whatever they
// are -- including ones that are part of the "[redacted]" marker itself,
// which once made the redaction loop for ever (a one-letter token).
#include <gtest/gtest.h>

#include <string>

#include "observability/log.hpp"

namespace moolai::host {
namespace {

std::string logged(Log& log, const std::string& text) {
    log.info(text, {{"field", text}});
    const auto lines = log.recent(1);
    EXPECT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines.back().fields.at(0).second, lines.back().text);
    return lines.back().text;
}

TEST(LogRedaction, ASecretIsReplacedEverywhere) {
    Log log;
    log.add_secret("s3cr3t-token");
    EXPECT_EQ(logged(log, "a s3cr3t-token and s3cr3t-tokens"), "a [redacted] and [redacted]s");
}

TEST(LogRedaction, ASecretInsideTheMarkerEnds) {
    Log log;
    log.add_secret("e");  // in "[redacted]": found again in the replacement before
    EXPECT_EQ(logged(log, "user e tried"), "us[redacted]r [redacted] tri[redacted]d");
}

TEST(LogRedaction, SeveralSecretsLeaveEachMarkerWhole) {
    Log log;
    log.add_secret("a");
    log.add_secret("d");
    log.add_secret("[");
    EXPECT_EQ(logged(log, "bad[x"), "b[redacted][redacted][redacted]x");
}

TEST(LogRedaction, OverlappingSecretsTakeTheEarliestThenTheLongest) {
    Log log;
    log.add_secret("abc");
    log.add_secret("abcdef");
    log.add_secret("cdx");
    EXPECT_EQ(logged(log, "xabcdefy abcdx"), "x[redacted]y [redacted]dx");
}

TEST(LogRedaction, ALineOfMatchesIsReplacedWhole) {
    Log log;
    log.add_secret("e");
    log.add_secret("never-there");
    const std::string line(64 * 1024, 'e');  // every character a match
    const std::string out = logged(log, line);
    EXPECT_EQ(out.size(), line.size() * 10);
    EXPECT_EQ(out.find('e' + std::string("e")), std::string::npos);
}

}  // namespace
}  // namespace moolai::host

// Helpers for driver tests that run against the servers of
// scripts/test-services.sh.
#pragma once

#include <string>

namespace test_support {

// Runs `scripts/test-services.sh <action> <dir> <service>` ("restart", "stop",
// "start") on the server the test run started; KVSTORE_TEST_SERVICES holds
// "<script> <dir>". Fails the test if the variable is unset or the script fails.
void service_control(const std::string& action, const std::string& service);

// The directory the test servers keep their data and sockets in.
std::string services_dir();

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
int unused_loopback_port();

}  // namespace test_support

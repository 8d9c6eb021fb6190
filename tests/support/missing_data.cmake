# SPDX-License-Identifier: Apache-2.0
# Stands in for a test that needs ../shared/data when that data was missing at configure time
# (-DTEST=<name> -DDATA=<data dir>): under CI=true it FAILS naming the directory (CI must never
# pass by skipping); elsewhere it prints "vikcse: SKIPPED", which the test's
# SKIP_REGULAR_EXPRESSION reports as skipped, like the exit-77 data tests.
if("$ENV{CI}" STREQUAL "true" OR "$ENV{CI}" STREQUAL "1")
  message(FATAL_ERROR "${TEST} needs the shared data directory ${DATA} (VIKCSE_DATA_DIR), which is missing")
endif()
message("vikcse: SKIPPED: ${TEST} needs the shared data directory ${DATA} (VIKCSE_DATA_DIR), which is missing")

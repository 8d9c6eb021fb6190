// SPDX-License-Identifier: Apache-2.0
// Entry point shared by the tokenizer test executables (one Boost.Test module each).
#define BOOST_TEST_MODULE vikcse_tokenizer
#include <boost/test/unit_test.hpp>

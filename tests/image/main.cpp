// SPDX-License-Identifier: Apache-2.0
// Entry point of image_test (one Boost.Test module; one file per component of include/vikcse/image).
#define BOOST_TEST_MODULE vikcse_image
#include <boost/test/unit_test.hpp>

// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_progress
#include <boost/test/unit_test.hpp>

#include <vikcse/util/progress.hpp>

#include <cmath>
#include <sstream>

BOOST_AUTO_TEST_CASE(formats_bar_rate_and_eta) {
  vikcse::ProgressState s;
  s.done = 25;
  s.total = 100;
  s.elapsed_seconds = 5.0;  // 5 it/s, 75 left -> 15 s
  s.label = "STS12";
  s.width = 10;
  s.extra = "batch 3";
  BOOST_TEST(vikcse::format_progress(s) ==
             "STS12 [==>       ] 25/100  25.0% | 5.0 it/s | 0:05 elapsed | ETA 0:15 | batch 3");
  BOOST_TEST(vikcse::progress_eta_seconds(s) == 15.0);
}

BOOST_AUTO_TEST_CASE(durations_and_unknowns) {
  BOOST_TEST(vikcse::format_duration(3725.0) == "1:02:05");
  BOOST_TEST(vikcse::format_duration(59.4) == "0:59");
  BOOST_TEST(vikcse::format_duration(std::nan("")) == "--:--");
  vikcse::ProgressState s;
  s.done = 0;
  s.total = 10;
  BOOST_TEST(std::isnan(vikcse::progress_eta_seconds(s)));
  s.total = 0;  // unknown total: count only, no ETA
  s.done = 7;
  s.elapsed_seconds = 2.0;
  BOOST_TEST(vikcse::format_progress(s) == "7 | 3.5 it/s | 0:02 elapsed");
}

BOOST_AUTO_TEST_CASE(bar_draws_on_the_given_stream) {
  std::ostringstream out;
  {
    vikcse::ProgressBar bar(out, 4, {.label = "enc", .unit = "sent", .width = 4, .min_interval_seconds = 0.0});
    bar.advance(2);
    bar.advance(2, "done");
    BOOST_TEST(bar.state().done == 4u);
  }
  const auto text = out.str();
  BOOST_TEST(text.find("enc [====] 4/4 100.0%") != std::string::npos);
  BOOST_TEST(text.find("| done") != std::string::npos);
  BOOST_TEST(text.back() == '\n');
}

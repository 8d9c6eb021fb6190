# SPDX-License-Identifier: Apache-2.0
# A reduced run of examples/vikcse_demo.cpp (1 seed, the default 300 steps, SimCSE, MCSE, VIKCSE
# with its text-only ablation and VIKCSE with the grounded extension) that asserts what such a run
# can show on any machine:
# - the table, the criteria and the JSON come out, and results.json names every run;
# - VIKCSE with kb_grad_mode none trains the same parameters as its text-only ablation (the
#   criterion is met: max |difference| within the float tolerance);
# - trained beats untrained on the STS test: SimCSE and MCSE beat the untrained [CLS] reading,
#   VIKCSE and its extension the untrained [MASK] reading of its template (one seed: the sign of the
#   difference);
# - MCSE and the VIKCSE extension beat SimCSE on the grounded pairs (the sign again);
# - stage 1 (the image-text model behind the knowledge base) reported its training.
# -DPROGRAM=<vikcse_demo> -DWORK=<scratch dir>
file(REMOVE_RECURSE "${WORK}")
execute_process(COMMAND "${PROGRAM}" --out "${WORK}" --seeds 1 --methods simcse,mcse,vikcse,vikcse-ext
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "vikcse_demo failed (${rc}):\n${out}\n${err}")
endif()
foreach(expected "| SimCSE " "| MCSE " "| VIKCSE without knowledge terms " "Criteria (" "Results as JSON: ")
  string(FIND "${out}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "vikcse_demo did not print '${expected}':\n${out}")
  endif()
endforeach()
if(NOT err MATCHES "stage 1 seed 1: CLIP loss [0-9.]+ -> [0-9.]+")
  message(FATAL_ERROR "vikcse_demo did not report stage 1's training:\n${err}")
endif()
string(REGEX MATCHALL "\n[^\n]*step [0-9]+ dev " lines "${err}")
list(LENGTH lines evaluations)
if(evaluations LESS 5)  # not a terminal: one progress line per evaluation of each run
  message(FATAL_ERROR "expected a progress line per evaluation, got ${evaluations}:\n${err}")
endif()
file(READ "${WORK}/results.json" json)
string(JSON runs LENGTH "${json}" runs)
if(NOT runs EQUAL 5)
  message(FATAL_ERROR "results.json has ${runs} runs, expected 5 (simcse, mcse, vikcse, vikcse-text, vikcse-ext)")
endif()
string(JSON n LENGTH "${json}" criteria)
set(parameters_met "")
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  string(JSON claim GET "${json}" criteria ${i} claim)
  string(JSON met GET "${json}" criteria ${i} met)
  string(JSON detail GET "${json}" criteria ${i} detail)
  message(STATUS "[${met}] ${claim}: ${detail}")
  if(claim MATCHES "same parameters as its text-only ablation")
    set(parameters_met "${met}")
  endif()
endforeach()
if(NOT parameters_met STREQUAL "ON" AND NOT parameters_met STREQUAL "true")
  message(FATAL_ERROR "kb_grad_mode none did not train the text-only ablation's parameters (met = '${parameters_met}')")
endif()
string(JSON mcse GET "${json}" rows mcse grounded mean)
string(JSON simcse GET "${json}" rows simcse grounded mean)
string(JSON ext GET "${json}" rows vikcse-ext grounded mean)
if(NOT mcse GREATER simcse)
  message(FATAL_ERROR "MCSE (${mcse}) does not beat SimCSE (${simcse}) on the grounded pairs")
endif()
if(NOT ext GREATER simcse)
  message(FATAL_ERROR "the VIKCSE extension (${ext}) does not beat SimCSE (${simcse}) on the grounded pairs")
endif()
foreach(pair "simcse;untrained-cls" "mcse;untrained-cls" "vikcse;untrained-vikcse" "vikcse-ext;untrained-vikcse")
  list(GET pair 0 trained)
  list(GET pair 1 untrained)
  string(JSON t GET "${json}" rows ${trained} test mean)
  string(JSON u GET "${json}" rows ${untrained} test mean)
  if(NOT t GREATER u)
    message(FATAL_ERROR "${trained} (${t}) does not beat ${untrained} (${u}) on the STS test")
  endif()
  message(STATUS "STS test: ${trained} ${t} > ${untrained} ${u}")
endforeach()
if(NOT EXISTS "${WORK}/dev-curves.dat" OR NOT EXISTS "${WORK}/dev-curves.gp")
  message(FATAL_ERROR "the plot's data file or script is missing in ${WORK}")
endif()
message("demo smoke OK: grounded MCSE ${mcse} and VIKCSE extension ${ext} > SimCSE ${simcse}")

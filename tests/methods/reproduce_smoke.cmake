# SPDX-License-Identifier: Apache-2.0
# Smoke test of examples/reproduce.cpp: writes a tiny corpus, a tiny STS-B split in the SentEval
# layout and a tiny knowledge base, then runs vikcse_reproduce for a few steps per method on the
# tiny-bert fixture (vocab 99) with the matching tests/data/methods/tiny-vocab vocabulary.
# -DPROGRAM=<vikcse_reproduce> -DDATA=<tests/data> -DWORK=<scratch dir>
file(REMOVE_RECURSE "${WORK}")
set(sts "${WORK}/senteval/downstream/STS/STSBenchmark")
file(MAKE_DIRECTORY "${sts}")
set(subjects "a man" "a woman" "a dog" "a cat" "a child" "a chef")
set(actions "eats an apple" "carries a ball" "throws a book" "paints a car" "plays a guitar" "sleeps at home")
set(places "in the park" "on the street" "at home")
set(corpus "")
set(pairs "")
set(i 0)
foreach(s IN LISTS subjects)
  foreach(a IN LISTS actions)
    foreach(p IN LISTS places)
      string(APPEND corpus "${s} ${a} ${p} .\n")
    endforeach()
    math(EXPR i "${i} + 1")
    math(EXPR score "${i} % 6")
    list(GET actions ${score} other)
    string(APPEND pairs "main\tfile\t2012\t${i}\t${score}.000\t${s} ${a} .\t${s} ${other} .\n")
  endforeach()
endforeach()
file(WRITE "${WORK}/corpus.txt" "${corpus}")
file(WRITE "${sts}/sts-dev.csv" "${pairs}")
file(WRITE "${sts}/sts-test.csv" "${pairs}")
# A 40 x 8 knowledge base as a .npy file (float32 little-endian; values i/40 - 0.5 + 0.01 j).
set(kb_dir "${WORK}/kb")
file(MAKE_DIRECTORY "${kb_dir}")
execute_process(COMMAND /usr/bin/python3 -c
  "import numpy as np; np.save('${kb_dir}/kb.npy', (np.arange(320, dtype=np.float32).reshape(40, 8) % 7 - 3) / 3 + np.eye(40, 8, dtype=np.float32))"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not write the knowledge base with /usr/bin/python3 (numpy)")
endif()
foreach(method simcse promptbert vikcse)
  set(extra "")
  if(method STREQUAL "vikcse")
    set(extra --kb "${kb_dir}/kb.npy")
  endif()
  execute_process(COMMAND "${PROGRAM}" --method ${method} --model "${DATA}/encoder/tiny-bert"
                          --tokenizer "${DATA}/methods/tiny-vocab" --corpus "${WORK}/corpus.txt"
                          --senteval "${WORK}/senteval" --tasks STSBenchmark --steps 4 --batch-size 8
                          --eval-steps 2 --out "${WORK}/out-${method}" ${extra}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "vikcse_reproduce --method ${method} failed (${rc})")
  endif()
  if(NOT out MATCHES "\\| ${method} bert-base [^|]+\\(ours\\) +\\| +[0-9.-]+ \\| +[0-9.-]+ \\|")
    message(FATAL_ERROR "vikcse_reproduce --method ${method}: no row of ours in the output")
  endif()
  if(NOT out MATCHES "\\(paper\\) +\\| +[0-9.]+ \\| +[0-9.]+ \\|")
    message(FATAL_ERROR "vikcse_reproduce --method ${method}: no paper row in the output")
  endif()
  if(NOT EXISTS "${WORK}/out-${method}/best/config.json")
    message(FATAL_ERROR "vikcse_reproduce --method ${method}: no best checkpoint written")
  endif()
endforeach()
message("reproduce smoke OK")

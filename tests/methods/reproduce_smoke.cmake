# SPDX-License-Identifier: Apache-2.0
# Smoke test of examples/reproduce.cpp: writes a tiny corpus, a tiny STS-B split in the SentEval
# layout, a tiny knowledge base, captions with paired image features, and a tiny random RoBERTa
# with its own byte-level BPE tokenizer (reference/make_tiny_roberta.py); then runs
# vikcse_reproduce for a few steps per method (simcse, promptbert, mcse, vikcse) on the tiny-bert
# fixture (vocab 99, with tests/data/methods/tiny-vocab) and on the tiny RoBERTa.
# Each best checkpoint is then embedded by vikcse_encode with no option (its vikcse_embedding.json).
# -DPROGRAM=<vikcse_reproduce> -DENCODE=<vikcse_encode> -DDATA=<tests/data> -DSOURCE=<tests/methods> -DWORK=<scratch dir>
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
set(kb_script "import numpy as np; np.save('${kb_dir}/kb.npy', ")
string(APPEND kb_script "(np.arange(320, dtype=np.float32).reshape(40, 8) % 7 - 3) / 3 ")
string(APPEND kb_script "+ np.eye(40, 8, dtype=np.float32))")
execute_process(COMMAND /usr/bin/python3 -c "${kb_script}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not write the knowledge base with /usr/bin/python3 (numpy)")
endif()
# MCSE: the first 24 corpus lines as captions, with 24 x 12 "image features".
set(captions "")
set(n 0)
foreach(s IN LISTS subjects)
  foreach(a IN LISTS actions)
    if(n LESS 24)
      string(APPEND captions "${s} ${a} .\n")
      math(EXPR n "${n} + 1")
    endif()
  endforeach()
endforeach()
file(WRITE "${WORK}/captions.txt" "${captions}")
execute_process(COMMAND /usr/bin/python3 -c
  "import numpy as np; np.save('${kb_dir}/images.npy', np.cos(np.arange(288, dtype=np.float32).reshape(24, 12) * 0.37))"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not write the image features with /usr/bin/python3 (numpy)")
endif()
execute_process(COMMAND /usr/bin/python3 "${SOURCE}/reference/make_tiny_roberta.py" "${WORK}/corpus.txt"
                        "${WORK}/tiny-roberta"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not write the tiny RoBERTa with /usr/bin/python3 (torch)")
endif()

foreach(backbone bert roberta)
  if(backbone STREQUAL "bert")
    set(model_args --model "${DATA}/encoder/tiny-bert" --tokenizer "${DATA}/methods/tiny-vocab")
  else()
    set(model_args --model "${WORK}/tiny-roberta")
  endif()
  foreach(method simcse promptbert mcse vikcse)
    set(extra "")
    if(method STREQUAL "vikcse")
      set(extra --kb "${kb_dir}/kb.npy")
    elseif(method STREQUAL "mcse")
      set(extra --captions "${WORK}/captions.txt" --image-features "${kb_dir}/images.npy")
    endif()
    set(run "${backbone}-${method}")
    execute_process(COMMAND "${PROGRAM}" --method ${method} ${model_args} --corpus "${WORK}/corpus.txt"
                            --senteval "${WORK}/senteval" --tasks STSBenchmark --steps 4 --batch-size 8
                            --eval-steps 2 --out "${WORK}/out-${run}" ${extra}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    message("${out}${err}")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "vikcse_reproduce --method ${method} (${backbone}) failed (${rc})")
    endif()
    if(NOT out MATCHES "\\| ${method} ${backbone}-base [^|]+\\(ours\\) +\\| +[0-9.-]+ \\| +[0-9.-]+ \\|")
      message(FATAL_ERROR "vikcse_reproduce --method ${method} (${backbone}): no row of ours in the output")
    endif()
    if(NOT out MATCHES "\\(paper\\) +\\| +[0-9.]+ \\| +[0-9.]+ \\|")
      message(FATAL_ERROR "vikcse_reproduce --method ${method} (${backbone}): no paper row in the output")
    endif()
    if(NOT out MATCHES "STS-B dev Spearman: untrained [0-9.-]+, best [0-9.-]+ at step [0-9]+")
      message(FATAL_ERROR "vikcse_reproduce --method ${method} (${backbone}): no dev summary in the output")
    endif()
    if(NOT EXISTS "${WORK}/out-${run}/best/config.json")
      message(FATAL_ERROR "vikcse_reproduce --method ${method} (${backbone}): no best checkpoint written")
    endif()
    file(READ "${WORK}/out-${run}/best/config.json" saved)
    if(NOT saved MATCHES "\"model_type\": *\"${backbone}\"")
      message(FATAL_ERROR "vikcse_reproduce --method ${method} (${backbone}): the best checkpoint is not a ${backbone}")
    endif()
    # The checkpoint says how it embeds and carries its tokenizer: vikcse_encode needs no option.
    file(READ "${WORK}/out-${run}/best/vikcse_embedding.json" embedding)
    if(method STREQUAL "simcse" OR method STREQUAL "mcse")
      set(pooler cls_before_pooler)
    else()
      set(pooler mask)
    endif()
    if(NOT embedding MATCHES "\"pooler\": *\"${pooler}\"")
      message(FATAL_ERROR "vikcse_reproduce --method ${method} (${backbone}): vikcse_embedding.json lacks pooler ${pooler}")
    endif()
    execute_process(COMMAND "${ENCODE}" --model "${WORK}/out-${run}/best" "${WORK}/captions.txt" --no-progress
                            -o "${WORK}/out-${run}/captions.npy"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT err MATCHES "vikcse checkpoint .*pooler ${pooler}.*24 sentences -> \\[24, ")
      message(FATAL_ERROR "vikcse_encode on the ${run} checkpoint failed (${rc}): ${err}")
    endif()
  endforeach()
endforeach()
# VIKCSE as the reference code runs it (--reference-code): whole-sequence truncation (a cap of 17
# cuts the [MASK] of the longer sentences, whose rows then leave the [MASK] terms), padding to the
# cap, selection on the STS test average (warned), lower-cased evaluation, the CSV corpus reader.
execute_process(COMMAND "${PROGRAM}" --method vikcse --model "${DATA}/encoder/tiny-bert"
                        --tokenizer "${DATA}/methods/tiny-vocab"
                        --corpus "${WORK}/corpus.txt" --senteval "${WORK}/senteval" --tasks STSBenchmark --steps 4
                        --batch-size 8 --eval-steps 2 --max-length 17 --reference-code --kb "${kb_dir}/kb.npy"
                        --out "${WORK}/out-reference-code"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "vikcse_reproduce --method vikcse --reference-code failed (${rc})")
endif()
if(NOT out MATCHES "whole-sequence: the templated sequence cut to 17 tokens")
  message(FATAL_ERROR "vikcse_reproduce --reference-code: the whole-sequence truncation is not reported")
endif()
if(NOT out MATCHES "warning: model selection on a TEST set")
  message(FATAL_ERROR "vikcse_reproduce --reference-code: test-set selection is not warned about")
endif()
if(NOT out MATCHES "STS test average: untrained [0-9.-]+, best [0-9.-]+ at step [0-9]+")
  message(FATAL_ERROR "vikcse_reproduce --reference-code: no test-average summary in the output")
endif()
# bf16 mixed precision (--bf16) through the whole VIKCSE step: encoder, projectors, retrieval, losses.
execute_process(COMMAND "${PROGRAM}" --method vikcse --model "${DATA}/encoder/tiny-bert"
                        --tokenizer "${DATA}/methods/tiny-vocab" --bf16
                        --corpus "${WORK}/corpus.txt" --senteval "${WORK}/senteval" --tasks STSBenchmark --steps 4
                        --batch-size 8 --eval-steps 2 --kb "${kb_dir}/kb.npy" --out "${WORK}/out-bf16"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\| vikcse bert-base [^|]+\\(ours\\) +\\| +[0-9.-]+ \\|")
  message(FATAL_ERROR "vikcse_reproduce --method vikcse --bf16 failed (${rc})")
endif()
file(STRINGS "${WORK}/out-bf16/metrics.jsonl" records REGEX "\"loss\": *[0-9.e+-]+")
list(LENGTH records n)
if(NOT n EQUAL 4)
  message(FATAL_ERROR "vikcse_reproduce --bf16: expected 4 step records with a finite loss, got ${n}")
endif()
# Fewer steps than one evaluation interval is refused with a clear message.
execute_process(COMMAND "${PROGRAM}" --method simcse --model "${DATA}/encoder/tiny-bert"
                        --tokenizer "${DATA}/methods/tiny-vocab"
                        --corpus "${WORK}/corpus.txt" --senteval "${WORK}/senteval" --steps 3 --eval-steps 5
                        --out "${WORK}/out-too-few"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "--steps 3 is below the evaluation interval 5")
  message(FATAL_ERROR "vikcse_reproduce --steps 3 --eval-steps 5 was not refused clearly: ${err}")
endif()
message("reproduce smoke OK")

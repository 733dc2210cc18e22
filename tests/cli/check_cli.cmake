# SPDX-License-Identifier: MIT
# Checks one run of `steppe` (the Monte Carlo commands: run, validate, sweep).
# cmake -DEXE=… -DARGS=a;b -DEXPECT_RC=n [-DEXPECT_ERR=s1;s2] [-DEXPECT_OUT=s1;s2]
#       [-DEXPECT_LINES=n] [-DEXPECT_ERR_LINES=n] [-DEXPECT_ABSENT=file] [-DSAME_AS=c;d]
#       [-DEXPECT_EXISTS=file] [-DINTERRUPT_AFTER=seconds] -P check_cli.cmake
# EXPECT_ERR / EXPECT_OUT: substrings that must all appear on stderr / stdout.
# EXPECT_LINES / EXPECT_ERR_LINES: exact number of lines on stdout / stderr.
# EXPECT_EXISTS / EXPECT_ABSENT: a file that must (not) exist afterwards (removed first).
# SAME_AS: a second argument list whose stdout must be byte-identical to the first's.
# INTERRUPT_AFTER: send SIGINT after that many seconds (coreutils timeout, as Ctrl-C would).
cmake_policy(VERSION 3.25)
foreach(f IN ITEMS "${EXPECT_ABSENT}" "${EXPECT_EXISTS}")
  if(f)
    file(REMOVE "${f}")
  endif()
endforeach()
set(launcher "")
if(INTERRUPT_AFTER)
  # --foreground: signal the command alone, once (without it timeout also signals its process
  # group, and a second SIGINT ends steppe the default way, as a second Ctrl-C is meant to).
  set(launcher timeout --foreground -s INT --preserve-status "${INTERRUPT_AFTER}")
endif()
execute_process(COMMAND ${launcher} "${EXE}" ${ARGS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(fail "")
if(NOT rc STREQUAL "${EXPECT_RC}")
  string(APPEND fail "exit code ${rc}, expected ${EXPECT_RC}\n")
endif()
foreach(s IN LISTS EXPECT_ERR)
  string(FIND "${err}" "${s}" at)
  if(at EQUAL -1)
    string(APPEND fail "stderr lacks \"${s}\"\n")
  endif()
endforeach()
foreach(s IN LISTS EXPECT_OUT)
  string(FIND "${out}" "${s}" at)
  if(at EQUAL -1)
    string(APPEND fail "stdout lacks \"${s}\"\n")
  endif()
endforeach()
foreach(stream IN ITEMS out err)
  set(want "${EXPECT_LINES}")
  if(stream STREQUAL "err")
    set(want "${EXPECT_ERR_LINES}")
  endif()
  if(NOT want STREQUAL "")
    string(REGEX MATCHALL "\n" newlines "${${stream}}")
    list(LENGTH newlines n)
    if(NOT n EQUAL want)
      string(APPEND fail "std${stream} has ${n} lines, expected ${want}\n")
    endif()
  endif()
endforeach()
if(EXPECT_EXISTS AND NOT EXISTS "${EXPECT_EXISTS}")
  string(APPEND fail "${EXPECT_EXISTS} was not written\n")
endif()
if(EXPECT_ABSENT AND EXISTS "${EXPECT_ABSENT}")
  string(APPEND fail "${EXPECT_ABSENT} exists after a failed run\n")
endif()
if(SAME_AS)
  execute_process(COMMAND "${EXE}" ${SAME_AS} RESULT_VARIABLE rc2 OUTPUT_VARIABLE out2
                  ERROR_VARIABLE err2)
  if(NOT rc2 EQUAL 0)
    string(APPEND fail "steppe ${SAME_AS}: exit code ${rc2}\n${err2}")
  elseif(NOT out STREQUAL out2)
    string(APPEND fail "stdout differs from that of: steppe ${SAME_AS}\n")
  endif()
endif()
if(fail)
  message(FATAL_ERROR "steppe ${ARGS}\n${fail}--- stdout (first 2000 chars):\n"
                      "${out}\n--- stderr:\n${err}")
endif()

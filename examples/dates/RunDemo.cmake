# Runs the dates app on the demo inputs and compares its translations (not
# its timings or maps) with expected_output.txt; a malformed and an
# over-long line must get a message while the app goes on.
execute_process(
  COMMAND ${APP} "22 Nov 2026" "November 22nd, 2026" "Sunday, 22 November 2026"
          "22/11/26" "2026年11月22日" "22 Nov 2026 🙂"
          "this line is far too long to be a date that anyone would write"
          "1 January 2000"
  OUTPUT_VARIABLE output RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "dates exited with ${status}:\n${output}")
endif()
string(REGEX MATCHALL "[^\n]*( -> [0-9-]+| \\(skipped\\))" lines "${output}")
string(REGEX REPLACE "   \\([0-9.]+ ms\\)" "" lines "${lines}")
string(REPLACE ";" "\n" lines "${lines}")
file(READ ${EXPECTED} expected)
string(STRIP "${expected}" expected)
if(NOT lines STREQUAL expected)
  message(FATAL_ERROR "dates printed:\n${lines}\nexpected:\n${expected}")
endif()
message(STATUS "dates output as expected:\n${lines}")

# ctest's check of the installed package (tests/cpp/CMakeLists.txt): install the build tree into
# a fresh prefix, build examples/cpp against it with find_package(featforge), run it on the
# files in examples/cpp/data and compare its output with what Python featforge wrote there.
# Variables: BUILD_DIR, SOURCE_DIR, WORK_DIR, GENERATOR, MAKE_PROGRAM, CXX, CXX_FLAGS.
file(REMOVE_RECURSE ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/cpp -B ${WORK_DIR}/build -G "${GENERATOR}"
    "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}"
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)

set(data ${SOURCE_DIR}/examples/cpp/data)
execute_process(COMMAND ${WORK_DIR}/build/featforge_example ${data}/items.ffidmap
                        ${data}/users.ffwindow
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE err)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "featforge_example failed (${status}):\n${err}")
endif()
file(READ ${data}/expected_output.txt expected)
if(NOT output STREQUAL expected)
  file(WRITE ${WORK_DIR}/output.txt "${output}")
  message(FATAL_ERROR "featforge_example's output (${WORK_DIR}/output.txt) differs from "
                      "${data}/expected_output.txt, which Python featforge wrote")
endif()
message(STATUS "featforge_example built against the installed package; output equals Python's")

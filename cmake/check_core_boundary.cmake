# A domain core has no network: its files include no Kafka, gRPC or Prometheus header,
# directly or through the common/ headers that wrap them. Run as a test:
#   cmake -DSOURCE_DIR=<repo> -P cmake/check_core_boundary.cmake
# (the core libraries link only loyalty::core_support and loyalty::proto, so a use would
# also fail to link; this catches the include itself, with its file and line).
set(forbidden
  "<librdkafka/" "<grpcpp/" "<grpc/" "<prometheus/" ".grpc.pb.h\""
  "\"common/kafka.h\"" "\"common/batch_consumer.h\"" "\"common/outbox_relay.h\""
  "\"common/grpc_" "\"common/metrics.h\"" "\"common/store_metrics.h\""
  "\"common/consumer_metrics.h\""
  "\"common/service_runtime.h\"")
file(GLOB core_files ${SOURCE_DIR}/services/*/core/*.h ${SOURCE_DIR}/services/*/core/*.cc)
set(violations "")
foreach(path ${core_files})
  file(STRINGS ${path} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${lines})
    foreach(pattern ${forbidden})
      string(FIND "${line}" "${pattern}" at)
      if(NOT at EQUAL -1)
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${path})
        list(APPEND violations "${rel}: ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()
list(LENGTH core_files checked)
if(checked EQUAL 0)
  message(FATAL_ERROR "no core files found under ${SOURCE_DIR}/services/*/core")
endif()
if(violations)
  string(REPLACE ";" "\n  " report "${violations}")
  message(FATAL_ERROR "domain cores include network headers:\n  ${report}")
endif()
message(STATUS "core boundary: ${checked} files, no network headers")

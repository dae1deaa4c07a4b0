# GrpcServer with generated services: decode errors, health per service, graceful stop.
loyalty_test(grpc_runtime_test LABEL unit SOURCES grpc_runtime_test.cc
  DEPS loyalty::common loyalty::proto_grpc)

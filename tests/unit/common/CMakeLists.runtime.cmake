# GrpcServer with generated services (decode errors, health per service, graceful stop) and
# the configuration key tables.
loyalty_test(grpc_runtime_test LABEL unit SOURCES grpc_runtime_test.cc
  DEPS loyalty::common loyalty::proto_grpc)
loyalty_test(config_keys_test LABEL unit SOURCES config_keys_test.cc
  DEPS loyalty::common loyalty::accrual_core loyalty::redemption_core loyalty::referral_core
       loyalty::notification_core)

# GrpcServer, Metrics and the process lifecycle helpers, over real sockets on port 0.
loyalty_test(grpc_server_test LABEL unit SOURCES grpc_server_test.cc DEPS loyalty::common)
# Also run under ThreadSanitizer by scripts/sanitize.sh tsan.
set_tests_properties(grpc_server_test PROPERTIES LABELS "unit;concurrency")
# Who may call what: the policy alone, and the authorizer over real mutual TLS.
loyalty_test(policy_test LABEL unit SOURCES policy_test.cc DEPS loyalty::common)
loyalty_test(authorizer_test LABEL unit SOURCES authorizer_test.cc
  DEPS loyalty::common loyalty::test_support)
# API keys: minting, verification, revocation and expiry (the book alone).
loyalty_test(api_keys_test LABEL unit SOURCES api_keys_test.cc DEPS loyalty::common)

// The caller of the tests' calls on a core (common/principal.h): an admin's certificate.
#pragma once

#include "common/principal.h"

namespace loyalty {

inline const Principal kTestCaller("spiffe://loyalty/admin/test");

}  // namespace loyalty

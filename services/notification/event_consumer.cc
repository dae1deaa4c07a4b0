// The consumer is header-only; this unit keeps the library's source list stable.
#include "services/notification/event_consumer.h"

// Preloaded into the ThreadSanitizer runs (scripts/sanitize.sh tsan). Debian's librdkafka
// starts its threads with C11 thrd_create, which glibc implements without calling
// pthread_create, so TSan's interceptor never sees those threads: their first malloc crashes
// inside TSan (SEGV in SizeClassAllocator64LocalCache::Allocate on an rdk:* thread). These
// wrappers start and join them through pthread_create and pthread_join, which TSan knows.
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

struct start {
  thrd_start_t fn;
  void* arg;
};

static void* trampoline(void* p) {
  struct start s = *(struct start*)p;
  free(p);
  return (void*)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t* thr, thrd_start_t fn, void* arg) {
  struct start* s = malloc(sizeof *s);
  if (s == NULL) return thrd_nomem;
  s->fn = fn;
  s->arg = arg;
  int rc = pthread_create(thr, NULL, trampoline, s);
  if (rc != 0) {
    free(s);
    return rc == EAGAIN ? thrd_nomem : thrd_error;
  }
  return thrd_success;
}

int thrd_join(thrd_t thr, int* res) {
  void* r;
  if (pthread_join(thr, &r) != 0) return thrd_error;
  if (res != NULL) *res = (int)(intptr_t)r;
  return thrd_success;
}

int thrd_detach(thrd_t thr) { return pthread_detach(thr) == 0 ? thrd_success : thrd_error; }

/*
 * Preloaded into a broker by the chaos harness (clock-jump): shifts the process's wall clock
 * (CLOCK_REALTIME, gettimeofday, time) by a number of nanoseconds read from an 8-byte file mapped
 * shared, so the harness steps a running process's clock by rewriting the file. The monotonic
 * clocks are left true, as a real NTP step leaves them. libfaketime does this too, but with its
 * monotonic clock left true it costs the JVM five times its CPU (measured), so this does only
 * the one thing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime;
static volatile const int64_t *shift_ns;

static clock_gettime_fn real(void) {
  if (real_clock_gettime == NULL) {
    real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
  }
  return real_clock_gettime;
}

__attribute__((constructor)) static void init(void) {
  real();
  const char *path = getenv("WALLCLOCK_SHIFT_FILE");
  if (path == NULL) {
    return;
  }
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    return;
  }
  void *p = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p != MAP_FAILED) {
    shift_ns = (volatile const int64_t *)p;
  }
}

static void shifted(struct timespec *ts) {
  int64_t shift = shift_ns == NULL ? 0 : *shift_ns;
  if (shift == 0) {
    return;
  }
  int64_t ns = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec + shift;
  ts->tv_sec = ns / 1000000000LL;
  ts->tv_nsec = ns % 1000000000LL;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
  int rc = real()(id, ts);
  if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
    shifted(ts);
  }
  return rc;
}

int gettimeofday(struct timeval *tv, void *tz) {
  (void)tz;
  struct timespec ts;
  int rc = clock_gettime(CLOCK_REALTIME, &ts);
  if (rc == 0) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return rc;
}

time_t time(time_t *out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out != NULL) {
    *out = ts.tv_sec;
  }
  return ts.tv_sec;
}

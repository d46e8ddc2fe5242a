/* clock.h - the one monotonic clock: durations, deadlines and latencies all read it. */
#ifndef ENOKI_CLOCK_H
#define ENOKI_CLOCK_H

#include <stdint.h>

/* Nanoseconds of CLOCK_MONOTONIC: only differences mean anything. */
uint64_t gw_now_ns(void);

#endif

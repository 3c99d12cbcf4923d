/*
 * clock.h — a monotonic nanosecond clock: the TSC, calibrated once against
 * PIT channel 2 (Intel 8254).  port_time_ns() is clock_ns().
 */
#ifndef VFS_BM_CLOCK_H
#define VFS_BM_CLOCK_H

#include <stdint.h>

/* Calibrate; 0, or -PORT_EIO when the PIT never counted down. */
int clock_init(void);
uint64_t clock_ns(void);
uint64_t clock_tsc_hz(void);
/* Busy-wait (interrupts untouched). */
void clock_delay_us(uint64_t us);

#endif

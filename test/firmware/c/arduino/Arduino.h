/* TEST DOUBLE of the Arduino core API the kerawasm sketch uses (Serial, delay, micros), so that
 * test/firmware/integrations.test.ts can compile and run the sketch on the host. With
 * KW_DOUBLE_ESP32 it also defines SET_LOOP_TASK_STACK_SIZE the way the ESP32 core does. */
#ifndef Arduino_h
#define Arduino_h
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

class SerialDouble {
 public:
  void begin(unsigned long baud) { (void)baud; }
  explicit operator bool() const { return true; }
  void print(const char *s) { fputs(s, stdout); }
  void print(unsigned long v) { printf("%lu", v); }
  void print(long v) { printf("%ld", v); }
  void print(int v) { printf("%d", v); }
  void print(double v, int digits = 2) { printf("%.*f", digits, v); }
  void println() { putchar('\n'); }
  void println(const char *s) { print(s); println(); }
  void println(unsigned long v) { print(v); println(); }
  void println(double v, int digits = 2) { print(v, digits); println(); }
};
extern SerialDouble Serial;

unsigned long micros(void);
void delay(unsigned long ms);
void setup(void);
void loop(void);

#ifdef KW_DOUBLE_ESP32
#define SET_LOOP_TASK_STACK_SIZE(sz) size_t getArduinoLoopTaskStackSize() { return sz; }
#endif
#endif

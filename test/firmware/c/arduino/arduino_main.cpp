/* TEST DOUBLE: the host side of Arduino.h; runs setup() and two passes of loop(). */
#include "Arduino.h"

SerialDouble Serial;
static unsigned long fake_us;

unsigned long micros(void) { return fake_us += 250; }
void delay(unsigned long ms) { fake_us += ms * 1000ul; }

int main() {
  setup();
  loop();
  loop();
  return 0;
}

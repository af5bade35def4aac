/* TEST DOUBLE: runs an ESP-IDF app_main() on the host, with a counting esp_timer_get_time(). */
#include <stdint.h>

#include "esp_timer.h"

void app_main(void);

int64_t esp_timer_get_time(void) {
  static int64_t us;
  return us += 250;
}

int main(void) {
  app_main();
  return 0;
}
